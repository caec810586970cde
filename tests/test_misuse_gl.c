/* misuse_gl: the GL consumer API used wrongly gets an error with a message,
 * never a crash, a silent success or a texture name of the wrong context.
 *   - a frame never produced (ring without timelines, producer in this
 *     process): ifd_gl_ring_acquire refuses it (-EAGAIN), and
 *     ifd_gl_ring_wait_ready ends with -ETIMEDOUT within its bound; once
 *     produced, the acquired texture shows exactly that frame's pixels; a
 *     producer gone before the frame: -EPIPE at once.
 *   - another GL context current, or none: -EINVAL, nothing issued, destroys
 *     refused (the handle stays valid).
 *   - ifd_gl_importer_destroy before its rings and frames: they answer
 *     -EINVAL "its importer was destroyed first" and their destroys are safe.
 *   - a description imported twice, or with its fds closed: -EBADF.
 * Runs on the CPU (llvmpipe, lavapipe producer: rings without timelines).
 * With timelines (GPU) the never-produced case is covered by the timeout of
 * ifd_gl_ring_wait_ready only. */
#include "gl_env.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "interop_fd/gl.h"
#include "test_util.h"

enum { W = 32, H = 16 };
static const MAX_Format FMT = MAX_FMT_RGBA8;

static ifd_gl_proc get_proc(const char *name) { return (ifd_gl_proc)eglGetProcAddress(name); }

/* Produces the next frame of ring with pattern `seed`; returns its number. */
static uint64_t produce(ifd_ring *ring, uint32_t seed) {
  uint64_t k = 0;
  ifd_image *img = NULL;
  REQUIRE(ifd_ring_begin_frame(ring, 5000000000ull, &k, &img) == 0);
  size_t pitch = (size_t)W * 4;
  void *host = malloc(pitch * H);
  REQUIRE(host);
  test_fill_pattern(host, pitch, W, H, FMT, seed);
  REQUIRE(ifd_image_upload(img, host, pitch) == 0);
  free(host);
  REQUIRE(ifd_ring_end_frame(ring, k) == 0);
  return k;
}

/* Draws texture tex and compares it with pattern seed. */
static void check_texture(GLuint prog, GLuint tex, uint32_t seed, const char *label) {
  float *px = malloc((size_t)W * H * 4 * sizeof(float));
  REQUIRE(px);
  CHECK(gle_draw(prog, tex, W, H, px) == GL_NO_ERROR);
  test_compare_image(label, px, FMT, W, H, seed);
  free(px);
}

/* A 2-frame ring of the test's size and format, exported into *d. */
static ifd_ring *open_exported_ring(ifd_context *ctx, ifd_ring_desc *d) {
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(ctx, 2, W, H, FMT, &ring) == 0);
  REQUIRE(ifd_ring_export(ring, d) == 0);
  return ring;
}

/* Leaves a known failure message behind. */
static void fail_marker(ifd_context *ctx) {
  ifd_ring *r = NULL;
  CHECK_RC(ifd_ring_create(ctx, 99, W, H, FMT, &r), -EINVAL);
}

static void never_produced(ifd_context *ctx, ifd_gl_importer *imp, GLuint prog) {
  ifd_ring_desc d;
  ifd_ring *ring = open_exported_ring(ctx, &d);
  ifd_gl_ring *gr = NULL;
  fail_marker(ctx);
  REQUIRE(ifd_gl_ring_import(imp, &d, IFD_GL_PATH_AUTO, &gr) == 0);
  /* A success (even through AUTO's fallback from COPY to LINEAR, as on
   * llvmpipe) leaves the last failure's message as it was. */
  CHECK(strstr(ifd_last_error(), "count 99") != NULL);
  bool timelines = ifd_ring_ready(ring) != NULL;
  printf("never_produced: ring %s timelines\n", timelines ? "with" : "without");

  uint32_t tex = 12345;
  if (!timelines) {
    CHECK_RC(ifd_gl_ring_acquire(gr, 1, &tex), -EAGAIN);
    test_check_message("ifd_gl_ring_acquire", "not produced yet");
    CHECK(tex == 12345);
  }
  uint64_t t0 = test_now_ns();
  CHECK_RC(ifd_gl_ring_wait_ready(gr, 1, 20000000ull), -ETIMEDOUT);
  uint64_t waited = test_now_ns() - t0;
  CHECK(waited >= 20000000ull && waited < 2000000000ull);
  printf("never_produced: %s\n", ifd_last_error());

  uint64_t k = produce(ring, 7);
  CHECK(k == 1);
  CHECK_RC(ifd_gl_ring_wait_ready(gr, 1, 5000000000ull), 0);
  CHECK_RC(ifd_gl_ring_acquire(gr, 1, &tex), 0);
  CHECK(tex != 12345 && tex != 0);
  check_texture(prog, tex, 7, "frame 1");
  CHECK_RC(ifd_gl_ring_release(gr, 1), 0); /* with timelines: release = 1 from GL */
  if (!timelines) CHECK_RC(ifd_ring_release_frame(ring, 1), 0); /* without: told in-process */
  if (!timelines) {
    CHECK_RC(ifd_gl_ring_acquire(gr, 2, &tex), -EAGAIN); /* frame 2: not yet */
    CHECK_RC(ifd_gl_ring_wait_ready(gr, 2, 0), -ETIMEDOUT);
  }

  /* The producer goes away before frame 2: no wait can succeed, none lasts. */
  ifd_ring_destroy(ring);
  if (!timelines) {
    t0 = test_now_ns();
    CHECK_RC(ifd_gl_ring_wait_ready(gr, 2, 10000000000ull), -EPIPE);
    test_check_message("ifd_gl_ring_wait_ready", "destroyed after frame 1");
    CHECK(test_now_ns() - t0 < 1000000000ull);
    CHECK_RC(ifd_gl_ring_acquire(gr, 2, &tex), -EPIPE);
    test_check_message("ifd_gl_ring_acquire", "never be produced");
  }
  ifd_gl_ring_destroy(gr);
}

static void wrong_context(ifd_context *ctx, ifd_gl_importer *imp, GLuint prog) {
  bool timelines = ifd_gl_importer_has_timelines(imp);
  EGLDisplay dpy = eglGetCurrentDisplay();
  EGLContext mine = eglGetCurrentContext();
  REQUIRE(dpy != EGL_NO_DISPLAY && mine != EGL_NO_CONTEXT);
  if (!gle_has_ext(eglQueryString(dpy, EGL_EXTENSIONS), "EGL_KHR_no_config_context")) {
    printf("wrong_context: not run: no EGL_KHR_no_config_context for a second context\n");
    return;
  }
  const EGLint attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 4, EGL_CONTEXT_MINOR_VERSION, 5,
                          EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                          EGL_NONE};
  EGLContext other = eglCreateContext(dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attrs);
  REQUIRE(other != EGL_NO_CONTEXT);

  ifd_ring_desc d;
  ifd_ring *ring = open_exported_ring(ctx, &d);
  ifd_gl_ring *gr = NULL;
  REQUIRE(ifd_gl_ring_import(imp, &d, IFD_GL_PATH_AUTO, &gr) == 0);
  produce(ring, 3);
  ifd_frame_desc fd;
  REQUIRE(ifd_image_describe(ifd_ring_image(ring, 1), &fd) == 0);
  int rc;

  for (int round = 0; round < 2; round++) {
    const char *who = round == 0 ? "another context" : "no context";
    REQUIRE(eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE,
                           round == 0 ? other : EGL_NO_CONTEXT));
    uint32_t tex = 12345;
    CHECK_RC(ifd_gl_ring_acquire(gr, 1, &tex), -EINVAL);
    test_check_message("ifd_gl_ring_acquire", who);
    CHECK(tex == 12345);
    CHECK_RC(ifd_gl_frame_update(ifd_gl_ring_frame(gr, 1)), -EINVAL);
    test_check_message("ifd_gl_frame_update", "not current");
    CHECK_RC(ifd_gl_ring_release(gr, 1), -EINVAL);
    test_check_message("ifd_gl_ring_release", "not current");
    ifd_gl_frame *f = NULL;
    CHECK_RC(ifd_gl_frame_import(imp, &fd, IFD_GL_PATH_AUTO, &f), -EINVAL);
    test_check_message("ifd_gl_frame_import", "not current");
    CHECK(f == NULL && fd.memory_fd >= 0); /* the fd is still the caller's */
    ifd_gl_ring_destroy(gr); /* refused: the ring stays valid */
    test_check_message("ifd_gl_ring_destroy", "not current");
    CHECK(ifd_gl_ring_count(gr) == 2);
    ifd_gl_importer_destroy(imp); /* refused too: it has a ring */
    test_check_message("ifd_gl_importer_destroy", "nothing was destroyed");
    /* Waiting on the producer's ring issues no GL: any thread may. With
     * timelines it may take the GL path instead (the producer's memory fds
     * need not identify its ring), which needs the context. */
    rc = ifd_gl_ring_wait_ready(gr, 1, 0);
    CHECK(rc == 0 || (timelines && rc == -EINVAL));
  }
  REQUIRE(eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, mine));
  eglDestroyContext(dpy, other);
  uint32_t tex = 0;
  CHECK_RC(ifd_gl_ring_acquire(gr, 1, &tex), 0);
  check_texture(prog, tex, 3, "frame 1 after the context is back");
  CHECK_RC(ifd_gl_ring_release(gr, 1), 0);
  ifd_gl_ring_destroy(gr);
  CHECK(ifd_gl_ring_count(gr) == 0);
  ifd_frame_desc_close(&fd);
  ifd_ring_destroy(ring);
}

static void stale_descriptions(ifd_context *ctx, ifd_gl_importer *imp) {
  ifd_ring_desc d;
  ifd_ring *ring = open_exported_ring(ctx, &d);
  ifd_gl_ring *gr = NULL, *again = NULL;
  REQUIRE(ifd_gl_ring_import(imp, &d, IFD_GL_PATH_AUTO, &gr) == 0);
  CHECK_RC(ifd_gl_ring_import(imp, &d, IFD_GL_PATH_AUTO, &again), -EBADF);
  test_check_message("ifd_gl_ring_import", "memory_fd -1 is not an open fd");
  CHECK(again == NULL);
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  ifd_ring_desc stale = d;
  ifd_ring_desc_close(&d);
  CHECK_RC(ifd_gl_ring_import(imp, &stale, IFD_GL_PATH_AUTO, &again), -EBADF);
  test_check_message("ifd_gl_ring_import", "is not an open fd");
  CHECK(again == NULL);
  ifd_frame_desc f;
  REQUIRE(ifd_image_describe(ifd_ring_image(ring, 0), &f) == 0);
  ifd_gl_frame *frame = NULL, *frame2 = NULL;
  CHECK_RC(ifd_gl_frame_import(imp, &f, IFD_GL_PATH_AUTO, &frame), 0);
  CHECK_RC(ifd_gl_frame_import(imp, &f, IFD_GL_PATH_AUTO, &frame2), -EBADF);
  test_check_message("ifd_gl_frame_import", "not an open fd");
  CHECK(frame2 == NULL);
  ifd_gl_frame_destroy(frame);
  ifd_gl_ring_destroy(gr);
  ifd_ring_destroy(ring);
}

static void importer_destroyed_first(ifd_context *ctx) {
  ifd_gl_importer *imp = NULL;
  REQUIRE(ifd_gl_importer_create(get_proc, &imp) == 0);
  ifd_ring_desc d;
  ifd_ring *ring = open_exported_ring(ctx, &d);
  ifd_gl_ring *gr = NULL;
  REQUIRE(ifd_gl_ring_import(imp, &d, IFD_GL_PATH_AUTO, &gr) == 0);
  ifd_frame_desc fd;
  REQUIRE(ifd_image_describe(ifd_ring_image(ring, 0), &fd) == 0);
  ifd_gl_frame *frame = NULL;
  REQUIRE(ifd_gl_frame_import(imp, &fd, IFD_GL_PATH_AUTO, &frame) == 0);
  ifd_gl_frame *ring_frame = ifd_gl_ring_frame(gr, 1);
  produce(ring, 1);

  ifd_gl_importer_destroy(imp); /* the wrong order */

  uint32_t tex = 12345;
  CHECK_RC(ifd_gl_ring_acquire(gr, 1, &tex), -EINVAL);
  test_check_message("ifd_gl_ring_acquire", "importer was destroyed first");
  CHECK(tex == 12345);
  CHECK_RC(ifd_gl_ring_wait_ready(gr, 1, 0), -EINVAL);
  test_check_message("ifd_gl_ring_wait_ready", "importer was destroyed first");
  CHECK_RC(ifd_gl_frame_update(frame), -EINVAL);
  test_check_message("ifd_gl_frame_update", "importer was destroyed first");
  CHECK_RC(ifd_gl_frame_update(ring_frame), -EINVAL);
  CHECK(ifd_gl_frame_texture(frame) == 0 && ifd_gl_ring_count(gr) == 0);
  CHECK(ifd_gl_ring_frame(gr, 1) == NULL);
  ifd_gl_ring_destroy(gr);
  ifd_gl_frame_destroy(frame);
  ifd_gl_ring_destroy(gr); /* a second time: refused, harmless */
  CHECK_RC(ifd_gl_ring_acquire(gr, 1, &tex), -EINVAL);
  test_check_message("ifd_gl_ring_acquire", "not a live handle");
  ifd_frame_desc_close(&fd);
  ifd_ring_destroy(ring);
}

int main(void) {
  char why[256];
  /* Count fds from after one context: the CUDA driver keeps the fds it opens
   * for the first context (/dev/nvidia*) until the process exits. Done before
   * the GL context exists: on the H200 the EGL context made current by
   * gle_open was no longer current after a CUDA context was created and
   * destroyed (not diagnosed yet). */
  ifd_context *warm = NULL;
  if (ifd_context_create(test_backend_from_env(), 0, &warm) == 0) ifd_context_destroy(warm);
  if (!gle_open(why, sizeof(why))) SKIP("%s", why);
  /* The program is compiled first: NVIDIA's GL driver keeps its shader cache
   * files open from then on (two fds on the H200), and may close one of them
   * later, so the check counts the fds that are new at the end. */
  GLuint prog = gle_program();
  REQUIRE(prog != 0);
  static test_fd_set fds_before;
  test_fd_snapshot(&fds_before);
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(test_backend_from_env(), 0, &ctx);
  if (rc == -ENODEV || rc == -EOPNOTSUPP) {
    gle_program_free(prog);
    gle_close();
    SKIP("no producer device: %s", ifd_last_error());
  }
  REQUIRE(rc == 0);
  ifd_gl_importer *imp = NULL;
  rc = ifd_gl_importer_create(get_proc, &imp);
  if (rc == -EOPNOTSUPP) {
    ifd_context_destroy(ctx);
    gle_program_free(prog);
    gle_close();
    SKIP("%s", ifd_last_error());
  }
  REQUIRE(rc == 0);

  never_produced(ctx, imp, prog);
  wrong_context(ctx, imp, prog);
  stale_descriptions(ctx, imp);
  importer_destroyed_first(ctx);

  ifd_gl_importer_destroy(imp);
  gle_program_free(prog);
  ifd_context_destroy(ctx);
  CHECK(test_fds_new_since(&fds_before, "misuse_gl") == 0);
  gle_close();
  return test_finish("misuse_gl");
}
