/* The seed's acceptance test on CUDA through one importer: test_acceptance_vk
 * and test_acceptance_gl are this file built with IFD_TEST_CONSUMER_GL 0 and 1.
 * Solid RGBA8 written by a kernel, R8 and RGBA16F values, all 11 formats, and
 * 10,000 animated frames (IFD_TEST_FRAMES) through a ring of frames in flight,
 * checked every frame, with the frame path's copy calls interposed and
 * counted, and open fds counted. */
#include <math.h>
#include <pthread.h>

#include "selftest/copy_count.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "consumer_env.h"


/* Every copy-capable call the frame path could make through CUDA (the
 * library's own dlopen()ed table), the Vulkan importer (its
 * vkGetInstanceProcAddr) and the GL importer (its get_proc) is counted by the
 * interop-fd tool's copy counter (tools/selftest/copy_count.h), which its selftest
 * uses too. */

/* (a) solid colour from a kernel: fill_u32 with 0xff336699 is RGBA (0x99, 0x66, 0x33, 0xff). */
static void acceptance_solid(producer *p, consumer *c) {
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(p->ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  ifd_image_native n;
  REQUIRE(ifd_image_native_handles(img, &n) == 0);
  REQUIRE(p->cu->cuCtxPushCurrent(p->cu_ctx) == CUDA_SUCCESS);
  CHECK(tk_fill_u32(&p->k, p->stream, n.cu_device_ptr, (unsigned)(n.size / 4), 0xff336699u) ==
        CUDA_SUCCESS);
  CUcontext dummy;
  p->cu->cuCtxPopCurrent(&dummy);
  tp_finish(p);
  for (int path = 1; path <= 2; path++) {
    ifd_frame_desc d;
    REQUIRE(ifd_image_describe(img, &d) == 0);
    void *frame = NULL;
    int rc = consumer_import(c, &d, path, &frame);
    if (rc == -EOPNOTSUPP && path == 2) {
      printf("n/a  solid rgba8 64x64 linear: %s\n", ifd_last_error());
      ifd_frame_desc_close(&d);
      continue;
    }
    CHECK_RC(rc, 0);
    const float *px = rc == 0 ? consumer_draw(c, frame, 64, 64) : NULL;
    CHECK(px != NULL);
    uint64_t bad = 0;
    const float want[4] = {0x99 / 255.0f, 0x66 / 255.0f, 0x33 / 255.0f, 1.0f};
    for (int i = 0; px && i < 64 * 64; i++)
      for (int ch = 0; ch < 4; ch++) bad += fabsf(px[i * 4 + ch] - want[ch]) > 0.5f / 255.0f;
    if (bad) {
      fprintf(stderr, "solid rgba8 %s: %llu channel values wrong (first pixel %g %g %g %g)\n",
              path_name(path), (unsigned long long)bad, px[0], px[1], px[2], px[3]);
      test_failures++;
    }
    printf("%s solid rgba8 64x64 %s, every pixel (0.6, 0.4, 0.2, 1.0)\n", bad || !px ? "FAIL" : "PASS",
           path_name(path));
    consumer_destroy(c, frame);
    ifd_frame_desc_close(&d);
  }
  ifd_image_destroy(img);
}

/* Checks 16 pixels of frame k's read-back against seed k. */
static uint64_t check_sampled(const float *px, MAX_Format fmt, uint32_t w, uint32_t h,
                              uint64_t k) {
  uint64_t bad = 0;
  float tol = test_tolerance(fmt);
  for (uint32_t i = 0; i < 16; i++) {
    uint32_t x = i < 4 ? (i & 1) * (w - 1) : (uint32_t)(k * 31 + i * 97) % w;
    uint32_t y = i < 4 ? (i >> 1) * (h - 1) : (uint32_t)(k * 17 + i * 53) % h;
    float want[4];
    test_expected_rgba(fmt, x, y, (uint32_t)k, want);
    const float *got = px + ((size_t)y * w + x) * 4;
    for (int c = 0; c < 4; c++) bad += !test_channel_ok(fmt, c, got[c], want[c], tol);
  }
  return bad;
}

static void acceptance_animated(producer *p, consumer *c, uint64_t frames) {
  const uint32_t w = 256, h = 256, count = 3;
  const MAX_Format fmt = MAX_FMT_RGBA8;
  const int fds_start = test_count_fds();
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(p->ctx, count, w, h, fmt, &ring) == 0);
  REQUIRE(ifd_ring_ready(ring) && ifd_ring_release(ring));
  ifd_ring_desc d;
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  ifd_vk_ring *vr = NULL;
  ifd_gl_ring *gr = NULL;
  if (c->gl) REQUIRE(ifd_gl_ring_import(c->gli, &d, IFD_GL_PATH_AUTO, &gr) == 0);
  else REQUIRE(ifd_vk_ring_import(c->vk.importer, &d, IFD_VK_PATH_AUTO, &vr) == 0);
  CHECK(d.ready_fd == -1 && d.release_fd == -1 && d.frames[0].memory_fd == -1);

  long cpu0 = copy_count_host(), gpu0 = copy_count_device();
  tp_ring_thread arg = {.p = p, .ring = ring, .frames = frames};
  pthread_t thread;
  REQUIRE(pthread_create(&thread, NULL, tp_ring_thread_main, &arg) == 0);
  uint64_t bad_frames = 0, bad_values = 0;
  float *px = c->gl ? malloc((size_t)w * h * 16) : NULL;
  double t0 = test_now_s();
  for (uint64_t k = 1; k <= frames; k++) {
    const float *out = NULL;
    if (c->gl) {
      uint32_t tex = 0;
      if (ifd_gl_ring_acquire(gr, k, &tex) == 0 && gle_draw(c->prog, tex, w, h, px) == GL_NO_ERROR)
        out = px;
      if (ifd_gl_ring_release(gr, k) != 0) out = NULL;
    } else {
      if (vkr_draw(&c->vk, ifd_vk_ring_frame(vr, k),
                   ifd_vk_timeline_semaphore(ifd_vk_ring_ready(vr)), k,
                   ifd_vk_timeline_semaphore(ifd_vk_ring_release(vr)), k) == 0)
        out = c->vk.mapped;
    }
    if (!out) {
      fprintf(stderr, "frame %llu: consumer failed: %s\n", (unsigned long long)k, ifd_last_error());
      bad_frames++;
      break;
    }
    uint64_t b = check_sampled(out, fmt, w, h, k);
    if (b && bad_frames++ < 3)
      fprintf(stderr, "frame %llu: %llu sampled values wrong\n", (unsigned long long)k,
              (unsigned long long)b);
    bad_values += b;
  }
  double dt = test_now_s() - t0;
  pthread_join(thread, NULL);
  long cpu = copy_count_host() - cpu0, gpu = copy_count_device() - gpu0;
  if (arg.rc != 0) {
    fprintf(stderr, "producer: %d (%s)\n", arg.rc, arg.error);
    test_failures++;
  }
  if (bad_frames) {
    fprintf(stderr, "%llu of %llu frames wrong (%llu values)\n", (unsigned long long)bad_frames,
            (unsigned long long)frames, (unsigned long long)bad_values);
    test_failures++;
  }
  const char *path = "?";
  if (c->gl) {
    ifd_gl_frame_native h2;
    ifd_gl_frame_native_handles(ifd_gl_ring_frame(gr, 1), &h2);
    path = path_name(h2.path);
  } else {
    ifd_vk_frame_native h2;
    ifd_vk_frame_native_handles(ifd_vk_ring_frame(vr, 1), &h2);
    path = path_name(h2.path);
  }
  printf("%s %llu animated frames %ux%u rgba8, ring of %u, %s path: %.0f frames/s with a "
         "read-back per frame; every frame's 16 sampled pixels checked\n",
         bad_frames || arg.rc ? "FAIL" : "PASS", (unsigned long long)frames, w, h, count, path,
         (double)frames / dt);
  printf("frame path copy calls: %ld host<->device copies or mappings, %ld device-side copies "
         "(%.2f per frame)\n", cpu, gpu, (double)gpu / (double)frames);
  CHECK(cpu == 0);
  if (strcmp(path, "copy") == 0) CHECK(gpu == (long)frames);
  else CHECK(gpu == 0);
  ifd_gl_ring_destroy(gr);
  ifd_vk_ring_destroy(vr);
  free(px);
  ifd_ring_destroy(ring);
  const int fds_end = test_count_fds();
  printf("open fds: %d before the ring, %d after\n", fds_start, fds_end);
  CHECK(fds_end == fds_start);
}

int main(void) {
  const bool gl = IFD_TEST_CONSUMER_GL;
  producer p;
  int rc = tp_open(&p, IFD_BACKEND_CUDA);
  if (rc != 0) SKIP("no CUDA producer: %s", ifd_last_error());
  copy_count_interpose_cuda();
  consumer c;
  char why[512];
  if (consumer_open(&c, gl, copy_count_gipa, copy_count_get_proc, why, sizeof(why)) != 0) {
    tp_close(&p);
    SKIP("no %s consumer: %s", gl ? "GL" : "Vulkan", why);
  }
  if (gl && !ifd_gl_importer_has_timelines(c.gli)) {
    consumer_close(&c);
    tp_close(&p);
    SKIP("the GL context has no GL_EXT_semaphore_fd + GL_NV_timeline_semaphore");
  }
  const int fds_start = test_count_fds();
  acceptance_solid(&p, &c);
  /* (b) R8 (with its swizzle) and RGBA16F, then every format, both paths. */
  static const MAX_Format first[] = {MAX_FMT_R8, MAX_FMT_RGBA16F};
  for (size_t i = 0; i < 2; i++)
    for (int path = 1; path <= 2; path++) run_case(&p, &c, first[i], 64, 64, path, 3, false);
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++)
    for (int path = 1; path <= 2; path++) run_case(&p, &c, (MAX_Format)f, 61, 37, path, 5, false);
  /* (c) */
  const char *n_env = getenv("IFD_TEST_FRAMES");
  acceptance_animated(&p, &c, n_env ? strtoull(n_env, NULL, 10) : 10000);
  const int fds_end = test_count_fds();
  printf("open fds: %d at start, %d at the end\n", fds_start, fds_end);
  CHECK(fds_end == fds_start);
  consumer_close(&c);
  tp_close(&p);
  return test_finish(gl ? "acceptance_gl" : "acceptance_vk");
}
