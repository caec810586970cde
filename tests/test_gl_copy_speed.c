/* gl_copy_speed (GPU; the lead's measurement for issue 13): the GPU time of
 * the GL paths at 4K (3840x2160) for every format, measured with
 * GL_TIME_ELAPSED queries, the median of RUNS runs:
 *  - copy:        ifd_gl_frame_update on COPY (the compute copy);
 *  - upload:      ifd_gl_frame_update on COPY_UPLOAD (glTextureSubImage2D
 *                 from the buffer on the memory);
 *  - draw tex:    a full-screen draw sampling the COPY frame's texture into
 *                 an RGBA16F 4K framebuffer (what a consumer then pays);
 *  - draw buffer: the same draw reading the BUFFER frame through gl.h's
 *                 IFD_GL_BUFFER_GLSL (no copy at all).
 * Before timing, each route's frame is drawn and compared pixel by pixel.
 * The producer is IFD_TEST_BACKEND's (cuda in CTest). Skips where there is no
 * producer device, no GL context, or GL cannot make a buffer of imported
 * memory (llvmpipe): the table is meaningless on the CPU. Prints a table;
 * fails only on wrong pixels or errors. */
#include <errno.h>
#include <stdlib.h>

#include "consumer_env.h"

#define RUNS 50
#define W 3840
#define H 2160

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The draws: prog (uniforms 0, 1 for the buffer program) into fbo. */
static void draw_once(GLuint prog, GLuint tex, GLuint buffer, GLuint fbo) {
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glViewport(0, 0, W, H);
  glUseProgram(prog);
  if (tex) glBindTextureUnit(0, tex);
  if (buffer) glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, buffer);
  glDrawArrays(GL_TRIANGLES, 0, 3);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

/* Median GPU microseconds of RUNS runs of: update(frame) (what 0) or a draw
 * (what 1: texture, 2: buffer). -1 on failure. */
static double time_route(consumer *c, ifd_gl_frame *frame, int what, GLuint fbo) {
  ifd_gl_frame_native h;
  REQUIRE(ifd_gl_frame_native_handles(frame, &h) == 0);
  if (what == 2) {
    glProgramUniform1ui(c->buffer_prog, 0, (GLuint)h.max_format);
    glProgramUniform1ui(c->buffer_prog, 1, h.row_pitch);
  }
  GLuint q[RUNS];
  glGenQueries(RUNS, q);
  for (int i = 0; i < RUNS; i++) {
    glBeginQuery(GL_TIME_ELAPSED, q[i]);
    if (what == 0 && ifd_gl_frame_update(frame) != 0) {
      fprintf(stderr, "ifd_gl_frame_update: %s\n", ifd_last_error());
      glEndQuery(GL_TIME_ELAPSED);
      glDeleteQueries(RUNS, q);
      return -1;
    }
    if (what == 1) draw_once(c->prog, h.texture, 0, fbo);
    if (what == 2) draw_once(c->buffer_prog, 0, h.buffer, fbo);
    glEndQuery(GL_TIME_ELAPSED);
  }
  uint64_t ns[RUNS];
  for (int i = 0; i < RUNS; i++) glGetQueryObjectui64v(q[i], GL_QUERY_RESULT, &ns[i]);
  glDeleteQueries(RUNS, q);
  if (glGetError() != GL_NO_ERROR) return -1;
  qsort(ns, RUNS, sizeof(ns[0]), cmp_u64);
  return (double)ns[RUNS / 2] / 1000.0;
}

/* Imports img on `path`, checks the pixels it shows, returns the frame. */
static ifd_gl_frame *import_checked(consumer *c, ifd_image *img, MAX_Format fmt, ifd_gl_path path,
                                    uint32_t seed, const char *label) {
  ifd_frame_desc d = {.memory_fd = -1, .timeline_fd = -1};
  ifd_gl_frame *frame = NULL;
  CHECK_RC(ifd_image_describe(img, &d), 0);
  int rc = ifd_gl_frame_import(c->gli, &d, path, &frame);
  ifd_frame_desc_close(&d);
  if (rc == -EOPNOTSUPP) return NULL;
  CHECK_RC(rc, 0);
  if (rc != 0) return NULL;
  const float *px = consumer_draw(c, frame, W, H);
  CHECK(px != NULL);
  if (px) test_compare_image(label, px, fmt, W, H, seed);
  return frame;
}

int main(void) {
  producer p;
  consumer c;
  consumer_env_open(&p, &c, true);
  GLuint target = 0, fbo = 0;
  glCreateTextures(GL_TEXTURE_2D, 1, &target);
  glTextureStorage2D(target, 1, GL_RGBA16F, W, H);
  glCreateFramebuffers(1, &fbo);
  glNamedFramebufferTexture(fbo, GL_COLOR_ATTACHMENT0, target, 0);
  REQUIRE(glCheckNamedFramebufferStatus(fbo, GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE);
  printf("GL at %dx%d, GPU us per frame (median of %d; GL_TIME_ELAPSED)\n", W, H, RUNS);
  printf("%-8s %10s %10s %10s %12s %10s\n", "format", "copy", "upload", "draw tex", "draw buffer",
         "copy GB/s");
  int measured = 0;
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++) {
    ifd_format_info fi;
    ifd_format_query((MAX_Format)f, &fi);
    ifd_image *img = NULL;
    uint32_t seed = (uint32_t)f;
    REQUIRE(ifd_image_create(p.ctx, W, H, (MAX_Format)f, &img) == 0);
    CHECK_RC(tp_fill(&p, img, seed), 0);
    tp_finish(&p);
    char label[64];
    snprintf(label, sizeof(label), "gl %s 4K copy", fi.name);
    ifd_gl_frame *copy = import_checked(&c, img, (MAX_Format)f, IFD_GL_PATH_COPY, seed, label);
    snprintf(label, sizeof(label), "gl %s 4K copy-upload", fi.name);
    ifd_gl_frame *upload =
        import_checked(&c, img, (MAX_Format)f, IFD_GL_PATH_COPY_UPLOAD, seed, label);
    snprintf(label, sizeof(label), "gl %s 4K buffer", fi.name);
    ifd_gl_frame *buffer = import_checked(&c, img, (MAX_Format)f, IFD_GL_PATH_BUFFER, seed, label);
    if (!copy || !upload || !buffer) {
      printf("%-8s n/a: %s\n", fi.name, ifd_last_error());
    } else {
      ifd_gl_frame_native h;
      REQUIRE(ifd_gl_frame_native_handles(copy, &h) == 0);
      double t_copy = time_route(&c, copy, 0, fbo), t_upload = time_route(&c, upload, 0, fbo);
      double t_tex = time_route(&c, copy, 1, fbo), t_buf = time_route(&c, buffer, 2, fbo);
      CHECK(t_copy >= 0 && t_upload >= 0 && t_tex >= 0 && t_buf >= 0);
      double bytes = (double)W * H * fi.bytes_per_pixel;
      printf("%-8s %10.1f %10.1f %10.1f %12.1f %10.1f%s\n", fi.name, t_copy, t_upload, t_tex,
             t_buf, t_copy > 0 ? bytes / (t_copy * 1e3) : 0.0,
             h.path == IFD_GL_PATH_COPY ? "" : "  (COPY took the upload!)");
      CHECK(h.path == IFD_GL_PATH_COPY);
      measured++;
    }
    if (copy) ifd_gl_frame_destroy(copy);
    if (upload) ifd_gl_frame_destroy(upload);
    if (buffer) ifd_gl_frame_destroy(buffer);
    ifd_image_destroy(img);
  }
  glDeleteFramebuffers(1, &fbo);
  glDeleteTextures(1, &target);
  consumer_close(&c);
  tp_close(&p);
  if (measured == 0) SKIP("GL could not make buffers of the imported memory: nothing to measure");
  return test_finish("gl_copy_speed");
}
