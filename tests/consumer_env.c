/* Shared set-up of the consumer API tests: consumer_env.h says what. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "consumer_env.h"

const char *path_name(int p) {
  return p == 1 ? "copy" : p == 2 ? "linear" : p == 3 ? "copy-transfer" : "auto";
}

const char *consumer_path_name(const consumer *c, int p) {
  if (c->gl && p == IFD_GL_PATH_COPY_UPLOAD) return "copy-upload";
  if (c->gl && p == IFD_GL_PATH_BUFFER) return "buffer";
  return path_name(p);
}

int copies_by_compute;
int gl_copies_uploaded;

bool fd_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) >= 0; }

int consumer_open(consumer *c, bool gl, PFN_vkGetInstanceProcAddr vk_gipa,
                  ifd_gl_get_proc_address gl_get_proc, char *why, size_t n) {
  memset(c, 0, sizeof(*c));
  c->gl = gl;
  if (!gl) return vkr_open(&c->vk, vk_gipa, why, n);
  if (!gle_open(why, n)) return -1;
  int rc = ifd_gl_importer_create(gl_get_proc, &c->gli);
  if (rc != 0) {
    snprintf(why, n, "ifd_gl_importer_create: %s", ifd_last_error());
    gle_close();
    return -1;
  }
  c->prog = gle_program();
  REQUIRE(c->prog != 0);
  c->buffer_prog = gle_buffer_program();
  REQUIRE(c->buffer_prog != 0);
  return 0;
}

void consumer_env_open(producer *p, consumer *c, bool gl) {
  int rc = tp_open(p, test_backend_from_env());
  if (rc == -ENODEV) SKIP("no producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  char why[512];
  if (consumer_open(c, gl, NULL, NULL, why, sizeof(why)) != 0) {
    tp_close(p);
    SKIP("no %s consumer: %s", gl ? "GL" : "Vulkan", why);
  }
}

void consumer_close(consumer *c) {
  if (c->gl) {
    glDeleteProgram(c->buffer_prog);
    gle_program_free(c->prog);
    ifd_gl_importer_destroy(c->gli);
    free(c->px);
    gle_close();
  } else {
    vkr_close(&c->vk);
  }
  memset(c, 0, sizeof(*c));
}

int consumer_import(consumer *c, ifd_frame_desc *d, int path, void **out) {
  if (c->gl) return ifd_gl_frame_import(c->gli, d, (ifd_gl_path)path, (ifd_gl_frame **)out);
  return ifd_vk_frame_import(c->vk.importer, d, (ifd_vk_path)path, (ifd_vk_frame **)out);
}

void consumer_destroy(consumer *c, void *frame) {
  if (c->gl) ifd_gl_frame_destroy(frame);
  else ifd_vk_frame_destroy(frame);
}

int frame_path(consumer *c, void *frame) {
  if (c->gl) {
    ifd_gl_frame_native h;
    return ifd_gl_frame_native_handles(frame, &h) == 0 ? (int)h.path : -1;
  }
  ifd_vk_frame_native h;
  return ifd_vk_frame_native_handles(frame, &h) == 0 ? (int)h.path : -1;
}

float *consumer_gl_pixels(consumer *c, uint32_t w, uint32_t h) {
  size_t need = (size_t)w * h * 4 * sizeof(float);
  if (need > c->px_size) {
    free(c->px);
    c->px = malloc(need);
    REQUIRE(c->px);
    c->px_size = need;
  }
  return c->px;
}

const float *consumer_draw(consumer *c, void *frame, uint32_t w, uint32_t h) {
  if (!c->gl) return vkr_draw(&c->vk, frame, VK_NULL_HANDLE, 0, VK_NULL_HANDLE, 0) == 0
                         ? c->vk.mapped
                         : NULL;
  consumer_gl_pixels(c, w, h);
  if (ifd_gl_frame_update(frame) != 0) {
    fprintf(stderr, "ifd_gl_frame_update: %s\n", ifd_last_error());
    return NULL;
  }
  ifd_gl_frame_native fh;
  REQUIRE(ifd_gl_frame_native_handles(frame, &fh) == 0);
  GLenum e = fh.path == IFD_GL_PATH_BUFFER
                 ? gle_draw_buffer(c->buffer_prog, fh.buffer, (uint32_t)fh.max_format,
                                   fh.row_pitch, w, h, c->px)
                 : gle_draw(c->prog, ifd_gl_frame_texture(frame), w, h, c->px);
  if (e != GL_NO_ERROR) {
    fprintf(stderr, "GL draw: error 0x%04x\n", e);
    return NULL;
  }
  return c->px;
}

/* Export -> import (one path) -> draw -> compare. Returns 1 if an explicit
 * path was unavailable (-EOPNOTSUPP), else 0. */
int run_case(producer *p, consumer *c, MAX_Format fmt, uint32_t w, uint32_t h, int path,
             uint32_t seed, bool quiet) {
  int failures_before = test_failures, unavailable = 0;
  ifd_format_info fi;
  ifd_format_query(fmt, &fi);
  char label[96];
  snprintf(label, sizeof(label), "%s %s %ux%u %s", c->gl ? "gl" : "vk", fi.name, w, h,
           consumer_path_name(c, path));
  ifd_image *img = NULL;
  void *frame = NULL;
  ifd_frame_desc d = {.memory_fd = -1, .timeline_fd = -1};
  int rc = ifd_image_create(p->ctx, w, h, fmt, &img);
  CHECK_RC(rc, 0);
  if (rc != 0) goto done;
  CHECK_RC(tp_fill(p, img, seed), 0);
  tp_finish(p);
  CHECK_RC(ifd_image_describe(img, &d), 0);
  CHECK(fd_open(d.memory_fd) && (fcntl(d.memory_fd, F_GETFD) & FD_CLOEXEC));
  int fd_before = d.memory_fd;
  rc = consumer_import(c, &d, path, &frame);
  if (rc == -EOPNOTSUPP && path != 0) {
    /* Allowed for an explicit path the driver cannot take (linear aliasing
     * refused, or GL buffers of imported memory on llvmpipe); AUTO must always
     * find one. The fd must be untouched. */
    CHECK(d.memory_fd == fd_before && fd_open(fd_before));
    printf("n/a  %-28s %s\n", label, ifd_last_error());
    unavailable = 1;
    goto done;
  }
  if (rc != 0) {
    fprintf(stderr, "%s: import: %d (%s)\n", label, rc, ifd_last_error());
    test_failures++;
    CHECK(d.memory_fd == fd_before && fd_open(fd_before)); /* still the caller's */
    goto done;
  }
  CHECK(d.memory_fd == -1); /* consumed */
  int actual = frame_path(c, frame);
  /* COPY copies by compute where the device or context can, else by
   * transfer (Vulkan) or upload (GL); AUTO never takes GL's BUFFER. */
  int slow_copy = c->gl ? IFD_GL_PATH_COPY_UPLOAD : IFD_VK_PATH_COPY_TRANSFER;
  bool copy_route = path == 1 && actual == slow_copy;
  CHECK((actual == path || path == 0 || copy_route) && actual > 0);
  CHECK(!(c->gl && path == 0 && actual == IFD_GL_PATH_BUFFER));
  if (actual == 1) copies_by_compute++;
  if (c->gl && path == IFD_GL_PATH_COPY && actual == IFD_GL_PATH_COPY_UPLOAD) gl_copies_uploaded++;
  const float *px = consumer_draw(c, frame, w, h);
  CHECK(px != NULL);
  if (px) test_compare_image(label, px, fmt, w, h, seed);
done:
  consumer_destroy(c, frame);
  ifd_frame_desc_close(&d);
  ifd_image_destroy(img);
  if ((!quiet && !unavailable) || test_failures != failures_before)
    printf("%s %-28s (pitch %u)\n", test_failures == failures_before ? "PASS" : "FAIL", label,
           ifd_image_row_pitch(img) ? ifd_image_row_pitch(img) : d.row_pitch);
  return unavailable;
}
