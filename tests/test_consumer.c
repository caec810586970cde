/* The consumer API (interop_fd/vulkan.h, interop_fd/gl.h) end to end: a
 * producer exports frames, a separate Vulkan device or GL context imports
 * them through the library, draws them into an offscreen framebuffer, and the
 * test checks what was drawn.
 *
 *   vk, gl           every format and awkward sizes through each path; the
 *                    producer is IFD_TEST_BACKEND (vulkan by default, so CI
 *                    runs it on lavapipe/llvmpipe) and writes with host uploads
 *   failures         bad descriptions, foreign devices, non-memory fds, waits
 *                    that never complete: errors, no leaks, fds untouched
 *   acceptance-vk,   the seed's acceptance test on CUDA: solid RGBA8 written
 *   acceptance-gl    by a kernel, R8 and RGBA16F values, all 11 formats, and
 *                    10,000 animated frames through a ring of frames in
 *                    flight, checked every frame, with the frame path's copy
 *                    calls interposed and counted, and open fds counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "selftest/copy_count.h"
#include "cuda_kernels.h"
#include "producer.h"
#include "gl_env.h"
#include "interop_fd/gl.h"
#include "interop_fd/vulkan.h"
#include "test_util.h"
#include "vk_render.h"

#define SECOND 1000000000ull
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *path_name(int p) {
  return p == 1 ? "copy" : p == 2 ? "linear" : "auto";
}

static bool fd_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) >= 0; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ producer */

typedef tp_producer producer; /* tests/producer.h */

/* ------------------------------------------------------------ consumers */

/* One consumer, Vulkan or GL, behind the same three calls. */
typedef struct {
  bool gl;
  vkr vk;
  ifd_gl_importer *gli;
  GLuint prog;
  float *px; /* GL read-back */
  size_t px_size;
} consumer;

static int consumer_open(consumer *c, bool gl, PFN_vkGetInstanceProcAddr vk_gipa,
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
  return 0;
}

static void consumer_close(consumer *c) {
  if (c->gl) {
    gle_program_free(c->prog);
    ifd_gl_importer_destroy(c->gli);
    free(c->px);
    gle_close();
  } else {
    vkr_close(&c->vk);
  }
  memset(c, 0, sizeof(*c));
}

/* Imports desc as a frame (Vulkan or GL), path 0/1/2 = auto/copy/linear. */
static int consumer_import(consumer *c, ifd_frame_desc *d, int path, void **out) {
  if (c->gl) return ifd_gl_frame_import(c->gli, d, (ifd_gl_path)path, (ifd_gl_frame **)out);
  return ifd_vk_frame_import(c->vk.importer, d, (ifd_vk_path)path, (ifd_vk_frame **)out);
}

static void consumer_destroy(consumer *c, void *frame) {
  if (c->gl) ifd_gl_frame_destroy(frame);
  else ifd_vk_frame_destroy(frame);
}

static int frame_path(consumer *c, void *frame) {
  if (c->gl) {
    ifd_gl_frame_native h;
    return ifd_gl_frame_native_handles(frame, &h) == 0 ? (int)h.path : -1;
  }
  ifd_vk_frame_native h;
  return ifd_vk_frame_native_handles(frame, &h) == 0 ? (int)h.path : -1;
}

/* Draws the frame (after ifd_gl_frame_update for GL) and returns the
 * read-back, w * h RGBA floats, or NULL. */
static const float *consumer_draw(consumer *c, void *frame, uint32_t w, uint32_t h) {
  if (!c->gl) return vkr_draw(&c->vk, frame, VK_NULL_HANDLE, 0, VK_NULL_HANDLE, 0) == 0
                         ? c->vk.mapped
                         : NULL;
  size_t need = (size_t)w * h * 4 * sizeof(float);
  if (need > c->px_size) {
    free(c->px);
    c->px = malloc(need);
    REQUIRE(c->px);
    c->px_size = need;
  }
  if (ifd_gl_frame_update(frame) != 0) {
    fprintf(stderr, "ifd_gl_frame_update: %s\n", ifd_last_error());
    return NULL;
  }
  GLenum e = gle_draw(c->prog, ifd_gl_frame_texture(frame), w, h, c->px);
  if (e != GL_NO_ERROR) {
    fprintf(stderr, "GL draw: error 0x%04x\n", e);
    return NULL;
  }
  return c->px;
}

/* ------------------------------------------------------------ memory path */

/* Export -> import (one path) -> draw -> compare. Returns 1 if an explicit
 * path was unavailable (-EOPNOTSUPP), else 0. */
static int run_case(producer *p, consumer *c, MAX_Format fmt, uint32_t w, uint32_t h, int path,
                    uint32_t seed, bool quiet) {
  int failures_before = test_failures, unavailable = 0;
  ifd_format_info fi;
  ifd_format_query(fmt, &fi);
  char label[96];
  snprintf(label, sizeof(label), "%s %s %ux%u %s", c->gl ? "gl" : "vk", fi.name, w, h,
           path_name(path));
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
  CHECK(actual == (path == 0 ? actual : path) && actual != 0);
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

static int mode_memory(bool gl) {
  producer p;
  int rc = tp_open(&p, test_backend_from_env());
  if (rc == -ENODEV) SKIP("no producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  consumer c;
  char why[512];
  if (consumer_open(&c, gl, NULL, NULL, why, sizeof(why)) != 0) {
    tp_close(&p);
    SKIP("no %s consumer: %s", gl ? "GL" : "Vulkan", why);
  }
  const int fds_start = test_count_fds();
  static const uint32_t sizes[][2] = {{64, 64}, {61, 37}, {1, 1}, {7, 300}};
  int unavailable = 0, cases = 0;
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++)
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++)
      for (int path = 0; path <= 2; path++, cases++)
        unavailable += run_case(&p, &c, (MAX_Format)f, sizes[s][0], sizes[s][1], path,
                                (uint32_t)(f * 10 + s), false);
  for (int path = 0; path <= 2; path++, cases++)
    unavailable += run_case(&p, &c, MAX_FMT_RGBA8, 1920, 1080, path, 7, false);
  printf("%d cases, %d with an explicit path unavailable\n", cases, unavailable);
  const int fds_end = test_count_fds();
  if (fds_end != fds_start) {
    fprintf(stderr, "open fds: %d at start, %d at the end\n", fds_start, fds_end);
    test_failures++;
  }
  consumer_close(&c);
  tp_close(&p);
  return test_finish(gl ? "consumer_gl" : "consumer_vk");
}

/* ------------------------------------------------------------ failures */

/* Imports `d` and expects error `want`, with the fd untouched and no fd leaked. */
static void expect_import_error(consumer *c, ifd_frame_desc *d, int want, const char *what) {
  int fd = d ? d->memory_fd : -1, fds = test_count_fds();
  void *frame = NULL;
  int rc = consumer_import(c, d, 0, &frame);
  const char *msg = ifd_last_error();
  printf("%-3s %-40s -> %d (%s)\n", c->gl ? "gl" : "vk", what, rc, msg);
  if (rc != want) {
    fprintf(stderr, "%s: got %d, expected %d\n", what, rc, want);
    test_failures++;
  }
  CHECK(frame == NULL);
  CHECK(msg[0] != '\0');
  CHECK(!d || d->memory_fd == fd);
  if (fd >= 0 && fcntl(fd, F_GETFD) < 0 && want != -EBADF) {
    fprintf(stderr, "%s: the failed import closed the caller's fd\n", what);
    test_failures++;
  }
  if (rc == 0) consumer_destroy(c, frame);
  CHECK(test_count_fds() == fds);
}

static void failures_for(producer *p, consumer *c) {
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(p->ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  ifd_frame_desc good;
  REQUIRE(ifd_image_describe(img, &good) == 0);
  ifd_frame_desc d = good;

  d.device_uuid[0] ^= 0xff;
  d.device_uuid[15] ^= 0x5a;
  expect_import_error(c, &d, -EXDEV, "device UUID of another device");
  d = good;
  d.size = (uint64_t)d.row_pitch * d.height - 1;
  expect_import_error(c, &d, -EINVAL, "size below row_pitch x height");
  d = good;
  d.row_pitch = 64 * 4 - 4;
  expect_import_error(c, &d, -EINVAL, "row pitch shorter than a row");
  d = good;
  d.format = (MAX_Format)0;
  expect_import_error(c, &d, -EINVAL, "format 0");
  d.format = (MAX_Format)12;
  expect_import_error(c, &d, -EINVAL, "format 12");
  d = good;
  d.width = 0;
  expect_import_error(c, &d, -EINVAL, "width 0");
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  d = good;
  d.memory_fd = pipefd[0];
  expect_import_error(c, &d, -EINVAL, "a pipe as memory fd");
  close(pipefd[0]);
  close(pipefd[1]);
  d = good;
  d.memory_fd = pipefd[0]; /* closed now */
  expect_import_error(c, &d, -EBADF, "a closed fd");
  d = good;
  d.memory_fd = -1;
  expect_import_error(c, &d, -EBADF, "fd -1");
  d = good;
  expect_import_error(c, NULL, -EINVAL, "NULL description");
  /* The good description still imports, and only now is its fd consumed. */
  void *frame = NULL;
  CHECK_RC(consumer_import(c, &good, 0, &frame), 0);
  CHECK(good.memory_fd == -1);
  consumer_destroy(c, frame);
  ifd_frame_desc_close(&good);
  ifd_image_destroy(img);
}

/* Ring ownership: a ring import that fails on its last frame consumes nothing. */
static void ring_ownership(producer *p, consumer *c) {
  if (c->gl) return; /* the same code path is shared; Vulkan is enough */
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(p->ctx, 3, 32, 32, MAX_FMT_RGBA8, &ring) == 0);
  ifd_ring_desc d;
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  ifd_ring_desc saved = d;
  d.frames[2].device_uuid[3] ^= 1;
  ifd_vk_ring *vr = NULL;
  int fds = test_count_fds();
  CHECK_RC(ifd_vk_ring_import(c->vk.importer, &d, IFD_VK_PATH_AUTO, &vr), -EXDEV);
  CHECK(test_count_fds() == fds);
  for (uint32_t i = 0; i < 3; i++) CHECK(d.frames[i].memory_fd == saved.frames[i].memory_fd &&
                                         fd_open(d.frames[i].memory_fd));
  CHECK(d.ready_fd == saved.ready_fd && d.release_fd == saved.release_fd);
  d.frames[2].device_uuid[3] ^= 1;
  CHECK_RC(ifd_vk_ring_import(c->vk.importer, &d, IFD_VK_PATH_AUTO, &vr), 0);
  for (uint32_t i = 0; i < 3; i++) CHECK(d.frames[i].memory_fd == -1);
  CHECK(d.ready_fd == -1 && d.release_fd == -1);
  ifd_vk_ring_destroy(vr);
  ifd_ring_desc_close(&d);

  /* The producer's wait for a release that never comes times out: at once
   * without timelines; with them, frames 4..6 only enqueue device-side waits
   * and the host blocks at frame 7. */
  uint64_t k = 0;
  ifd_image *img = NULL;
  bool timelines = ifd_ring_release(ring) != NULL;
  uint64_t free_frames = timelines ? 6 : 3;
  for (uint64_t i = 0; i < free_frames; i++) {
    CHECK_RC(ifd_ring_begin_frame(ring, SECOND, &k, &img), 0);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  double t0 = now_s();
  int rc = ifd_ring_begin_frame(ring, 50 * 1000 * 1000, &k, &img);
  double dt = now_s() - t0;
  printf("ring full, no release: %d after %.0f ms (%s)\n", rc, dt * 1e3, ifd_last_error());
  CHECK(rc == -ETIMEDOUT && dt >= 0.045 && dt < 1.0);
  CHECK(strstr(ifd_last_error(), "did not release frame 1") != NULL);
  uint64_t next = free_frames + 1;
  CHECK_RC(ifd_ring_end_frame(ring, next), -EINVAL);     /* never began */
  CHECK_RC(ifd_ring_release_frame(ring, next + 1), -EINVAL); /* not ended */
  /* With timelines the stream already waits for release 1: it is signalled
   * from the host, or the stream would never get past its wait. */
  CHECK_RC(ifd_ring_release_frame(ring, 1), 0);
  CHECK_RC(ifd_ring_release_frame(ring, 1), -EINVAL);  /* values only grow */
  if (timelines) CHECK_RC(ifd_timeline_host_wait(ifd_ring_release(ring), 1, SECOND), 0);
  CHECK_RC(ifd_ring_begin_frame(ring, SECOND, &k, &img), 0);
  CHECK(k == next && img == ifd_ring_image(ring, 0));
  CHECK_RC(ifd_ring_begin_frame(ring, SECOND, &k, &img), -EINVAL); /* still open */
  /* Destroying the ring releases the stream's waits (frames 4..7 wait for
   * releases 1..4 that never come); the context then goes idle. */
  CHECK_RC(ifd_ring_end_frame(ring, next), 0);
  ifd_ring_destroy(ring);
}

/* A timeline that never reaches the value: the host wait times out cleanly. */
static void timeline_timeout(producer *p, consumer *c, bool count_fds) {
  ifd_timeline *tl = NULL;
  int fds = test_count_fds(); /* before: drivers may hold an fd per exportable semaphore */
  int rc = ifd_timeline_create(p->ctx, 0, &tl);
  if (rc == -EOPNOTSUPP) {
    printf("timeline timeout: not run, the producer cannot export timelines (%s)\n",
           ifd_last_error());
    return;
  }
  REQUIRE(rc == 0);
  int fd = -1;
  REQUIRE(ifd_timeline_export_fd(tl, &fd) == 0);
  if (c->gl) {
    ifd_gl_timeline *gt = NULL;
    if (ifd_gl_importer_has_timelines(c->gli)) {
      CHECK_RC(ifd_gl_timeline_import(c->gli, &fd, &gt), 0);
      CHECK(fd == -1);
      ifd_gl_timeline_destroy(gt);
      gt = NULL;
    }
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    int bad = pipefd[0];
    rc = ifd_gl_timeline_import(c->gli, &bad, &gt);
    printf("gl  timeline import of a pipe -> %d (%s)\n", rc, ifd_last_error());
    CHECK(rc != 0 && gt == NULL && bad == pipefd[0] && fd_open(bad));
    close(pipefd[0]);
    close(pipefd[1]);
  } else {
    ifd_vk_timeline *vt = NULL;
    CHECK_RC(ifd_vk_timeline_import(c->vk.importer, &fd, &vt), 0);
    CHECK(fd == -1);
    double t0 = now_s();
    rc = ifd_vk_timeline_host_wait(vt, 5, 50 * 1000 * 1000);
    double dt = now_s() - t0;
    printf("vk  host wait for 5 on a timeline at 0 -> %d after %.0f ms (%s)\n", rc, dt * 1e3,
           ifd_last_error());
    CHECK(rc == -ETIMEDOUT && dt >= 0.045 && dt < 1.0);
    CHECK(strstr(ifd_last_error(), "not 5") != NULL);
    CHECK_RC(ifd_vk_timeline_host_signal(vt, 0), -EINVAL); /* not above the current value */
    CHECK_RC(ifd_vk_timeline_host_signal(vt, 5), 0);
    CHECK_RC(ifd_vk_timeline_host_wait(vt, 5, SECOND), 0);
    CHECK_RC(ifd_timeline_host_wait(tl, 5, SECOND), 0); /* the producer sees it too */
    ifd_vk_timeline_destroy(vt);
  }
  if (fd >= 0) close(fd);
  ifd_timeline_destroy(tl);
  if (count_fds && test_count_fds() != fds) {
    fprintf(stderr, "timeline round: %d fds before, %d after\n", fds, test_count_fds());
    test_failures++;
  }
}

static int mode_failures(void) {
  producer p;
  int rc = tp_open(&p, test_backend_from_env());
  if (rc == -ENODEV) SKIP("no producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  int ran = 0;
  for (int gl = 0; gl <= 1; gl++) {
    consumer c;
    char why[512];
    if (consumer_open(&c, gl, NULL, NULL, why, sizeof(why)) != 0) {
      printf("%s consumer not run: %s\n", gl ? "GL" : "Vulkan", why);
      continue;
    }
    /* Two rounds: drivers open fds of their own on first use of semaphores
     * and keep them; the second round must leave the count unchanged. */
    for (int round = 0; round < 2; round++) {
      const int fds = test_count_fds();
      failures_for(&p, &c);
      ring_ownership(&p, &c);
      timeline_timeout(&p, &c, round == 1);
      if (round == 1 && test_count_fds() != fds) {
        fprintf(stderr, "open fds: %d before, %d after\n", fds, test_count_fds());
        test_failures++;
      }
    }
    consumer_close(&c);
    ran++;
  }
  /* Calls on destroyed or NULL handles are refused, not dereferenced. */
  CHECK_RC(ifd_vk_frame_cmd_acquire(NULL, VK_NULL_HANDLE, 0, 0), -EINVAL);
  CHECK_RC(ifd_gl_frame_update(NULL), -EINVAL);
  CHECK_RC(ifd_vk_importer_create(NULL, NULL), -EINVAL);
  tp_close(&p);
  if (!ran) SKIP("neither a Vulkan nor a GL consumer could be opened");
  return test_finish("consumer_failures");
}

/* ------------------------------------------------------------ acceptance */

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

typedef struct {
  producer *p;
  ifd_ring *ring;
  uint64_t frames;
  int rc;
  char error[512];
} producer_thread_arg;

/* The producer: a kernel writes frame k's pattern (seed k) into the ring's
 * next image, then ready = k is signalled on the stream. */
static void *producer_thread(void *v) {
  producer_thread_arg *a = v;
  for (uint64_t i = 0; i < a->frames && a->rc == 0; i++) {
    uint64_t k = 0;
    ifd_image *img = NULL;
    a->rc = ifd_ring_begin_frame(a->ring, 10 * SECOND, &k, &img);
    if (a->rc == 0) a->rc = tp_fill(a->p, img, (uint32_t)k);
    if (a->rc == 0) a->rc = ifd_ring_end_frame(a->ring, k);
    if (a->rc != 0) snprintf(a->error, sizeof(a->error), "frame %llu: %s",
                             (unsigned long long)k, ifd_last_error());
  }
  return NULL;
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
  producer_thread_arg arg = {.p = p, .ring = ring, .frames = frames};
  pthread_t thread;
  REQUIRE(pthread_create(&thread, NULL, producer_thread, &arg) == 0);
  uint64_t bad_frames = 0, bad_values = 0;
  float *px = c->gl ? malloc((size_t)w * h * 16) : NULL;
  double t0 = now_s();
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
  double dt = now_s() - t0;
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

static int mode_acceptance(bool gl) {
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

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "vk") == 0) return mode_memory(false);
  if (strcmp(mode, "gl") == 0) return mode_memory(true);
  if (strcmp(mode, "failures") == 0) return mode_failures();
  if (strcmp(mode, "acceptance-vk") == 0) return mode_acceptance(false);
  if (strcmp(mode, "acceptance-gl") == 0) return mode_acceptance(true);
  fprintf(stderr, "usage: %s vk|gl|failures|acceptance-vk|acceptance-gl\n", argv[0]);
  return 2;
}
