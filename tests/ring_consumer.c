/* One imported ring, Vulkan or GL (ring_consumer.h). */
#include "ring_consumer.h"

#define SECOND (1000ull * 1000 * 1000)

int cring_import(consumer *c, ifd_ring_desc *d, cring *out) {
  out->c = c;
  out->ring = NULL;
  if (c->gl) return ifd_gl_ring_import(c->gli, d, IFD_GL_PATH_AUTO, (ifd_gl_ring **)&out->ring);
  return ifd_vk_ring_import(c->vk.importer, d, IFD_VK_PATH_AUTO, (ifd_vk_ring **)&out->ring);
}

void cring_destroy(cring *r) {
  if (r->c->gl) ifd_gl_ring_destroy(r->ring);
  else ifd_vk_ring_destroy(r->ring);
  r->ring = NULL;
}

int cring_take(cring *r, uint64_t timeout_ns, uint64_t *k) {
  if (r->c->gl) return ifd_gl_ring_take_latest(r->ring, timeout_ns, k);
  return ifd_vk_ring_take_latest(r->ring, timeout_ns, k);
}

bool cring_has_frame(cring *r, uint64_t k) {
  if (r->c->gl) return ifd_gl_ring_frame(r->ring, k) != NULL;
  return ifd_vk_ring_frame(r->ring, k) != NULL;
}

void cring_draw(cring *r, uint64_t k, uint32_t w, uint32_t h, MAX_Format fmt) {
  consumer *c = r->c;
  const float *px = NULL;
  if (c->gl) {
    uint32_t tex = 0;
    CHECK_RC(ifd_gl_ring_acquire(r->ring, k, &tex), 0);
    ifd_gl_frame *f = ifd_gl_ring_frame(r->ring, k);
    REQUIRE(f != NULL && ifd_gl_frame_texture(f) == tex);
    float *out = consumer_gl_pixels(c, w, h);
    GLenum e = gle_draw(c->prog, tex, w, h, out);
    CHECK(e == GL_NO_ERROR);
    px = e == GL_NO_ERROR ? out : NULL;
    CHECK_RC(ifd_gl_ring_release(r->ring, k), 0);
  } else {
    ifd_vk_frame *f = ifd_vk_ring_frame(r->ring, k);
    REQUIRE(f != NULL);
    ifd_vk_timeline *ready = ifd_vk_ring_ready(r->ring), *release = ifd_vk_ring_release(r->ring);
    if (!ready) CHECK_RC(ifd_vk_ring_wait_ready(r->ring, k, 5 * SECOND), 0);
    int rc = ready ? vkr_draw(&c->vk, f, ifd_vk_timeline_semaphore(ready), k,
                              ifd_vk_timeline_semaphore(release), k)
                   : vkr_draw(&c->vk, f, VK_NULL_HANDLE, 0, VK_NULL_HANDLE, 0);
    CHECK(rc == 0);
    px = rc == 0 ? c->vk.mapped : NULL;
  }
  char label[64];
  snprintf(label, sizeof(label), "%s frame %llu", c->gl ? "GL" : "Vulkan", (unsigned long long)k);
  CHECK(px != NULL); /* a frame not read back is a failure, never a pass */
  if (px) test_compare_image(label, px, fmt, w, h, (uint32_t)k);
}
