/* A randomized walk through the public API: the native ifd_ calls, the seed's
 * AsyncRT_ ABI and the Vulkan consumer API, in random order, with invalid
 * arguments (NULL, zero and overflowing sizes, unknown formats), closed and
 * foreign fds (a pipe, /dev/null, a memory fd where a semaphore fd is
 * expected), destroyed handles and out-of-order values.
 *
 * Checked at every step: the call returns 0 or a negative errno of the set
 * its header allows (exactly the one promised where the model knows it); a
 * failure leaves a new message in ifd_last_error(); a success gives sane
 * outputs (fds open and close-on-exec, sizes consistent). At the end, with
 * everything destroyed, the process has the fds it started with, and
 * LeakSanitizer (ASan builds) checks for leaks.
 *
 * The model keeps every queue able to drain: device-side waits are only
 * enqueued for values already signalled, and every semaphore is signalled
 * through one handle only, so signals land in order.
 *
 * Usage: test_api_random [seed [steps]]; IFD_TEST_SEED and IFD_TEST_STEPS
 * do the same. IFD_TEST_CONTEXT_FIRST=1 also destroys contexts before their
 * rings and expects later ring calls to be refused (issue 12, point 6: off
 * by default until rings are invalidated with their context). IFD_TEST_BACKEND=cuda selects the CUDA backend (GPU). On any
 * failure the seed, the step and the last operations are printed: rerun
 * with that seed to reproduce.
 *
 * One file on purpose: one behaviour (a walk) over one model. Every operation
 * below reads and writes the same slot tables, and the step table at the end
 * draws among all of them; split by area, each part would need the whole
 * model. A failure names the seed, the step and the operations that led to
 * it, so it points at the operation, not at the file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "interop_fd/vulkan.h"
#include "test_util.h"
#include "vk_render.h"

#define DEFAULT_SEED 0x1fd5eed2026ull
#define DEFAULT_STEPS 4000

/* ------------------------------------------------------------ PRNG (splitmix64) */

static uint64_t rng_state;

static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint32_t below(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
static bool chance(uint32_t percent) { return below(100) < percent; }

/* ------------------------------------------------------------ failure report */

#define LOG_LINES 20
static char op_log[LOG_LINES][256];
static uint64_t seed, step, nlogged;

static void logf_op(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *line = op_log[nlogged++ % LOG_LINES];
  int n = snprintf(line, sizeof(op_log[0]), "step %" PRIu64 ": ", step);
  vsnprintf(line + n, sizeof(op_log[0]) - (size_t)n, fmt, ap);
  va_end(ap);
}

static void fail(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "api_random: FAILED at step %" PRIu64 " (seed 0x%" PRIx64 "): ", step, seed);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  const char *msg = ifd_last_error();
  fprintf(stderr, "\n  last error: %s\n  last operations:\n",
          strstr(msg, "api-random-sentinel") ? "(none: the call left no message)" : msg);
  for (uint64_t i = nlogged > LOG_LINES ? nlogged - LOG_LINES : 0; i < nlogged; i++)
    fprintf(stderr, "    %s\n", op_log[i % LOG_LINES]);
  fprintf(stderr, "  reproduce: IFD_TEST_SEED=0x%" PRIx64 " (same step count)\n", seed);
  fflush(NULL);
  /* The objects of the failed run are still alive: skip exit-time leak
   * reports about them (and the consumer's driver) that would bury this one. */
  _exit(1);
}

/* Sets a message no library call writes, so a failure that leaves the old
 * message is seen. */
static void arm_error(void) {
  MAX_Format f;
  (void)ifd_format_from_name("api-random-sentinel", &f);
}

/* The errnos the library may return; `want` masks use bit i + 1 for API_ERRNOS[i]. */
static const int API_ERRNOS[] = {EINVAL, EBADF, ENOMEM, EOPNOTSUPP, ETIMEDOUT, EOVERFLOW,
                                 EIO, EMFILE, ENFILE, EXDEV, ENODEV, EPIPE, EAGAIN};
#define N_API_ERRNOS (sizeof(API_ERRNOS) / sizeof(API_ERRNOS[0]))

static uint64_t errno_bit(int e) {
  for (size_t i = 0; i < N_API_ERRNOS; i++)
    if (API_ERRNOS[i] == e) return 2ull << i;
  return 0;
}
#define M(x) errno_bit(x)
#define OK_ONLY 1ull /* bit 0: success */

/* Checks rc against `want` (bit 0 = success allowed, bit e = -e allowed) and
 * the message contract. Returns rc. */
static uint64_t calls_ok, calls_failed;

static int expect(int rc, uint64_t want, const char *call) {
  logf_op("%s -> %d", call, rc);
  if (rc == 0) calls_ok++;
  else calls_failed++;
  if (getenv("IFD_TEST_TRACE")) fprintf(stderr, "%s\n", op_log[(nlogged - 1) % LOG_LINES]);
  if (rc > 0) fail("%s returned %d (positive)", call, rc);
  if (rc == 0) {
    if (!(want & 1)) fail("%s succeeded where it must fail", call);
    return 0;
  }
  int e = -rc;
  if (!errno_bit(e)) fail("%s returned %d, not an errno of the API", call, rc);
  if (!(want & M(e))) fail("%s returned %d (%s), not what the header promises", call, rc, strerror(e));
  const char *msg = ifd_last_error();
  if (!msg || !msg[0]) fail("%s failed with %d and an empty message", call, rc);
  if (strstr(msg, "api-random-sentinel")) fail("%s failed with %d and left no message", call, rc);
  return rc;
}

#define CALL(want, expr) (arm_error(), expect((expr), (want), #expr))

static bool fd_ok(int fd) {
  int fl = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
  return fl >= 0 && (fl & FD_CLOEXEC);
}
static bool fd_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) >= 0; }

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* ------------------------------------------------------------ the model */

#define MAX_CTX 2
#define MAX_IMG 6
#define MAX_TL 4
#define MAX_SEMFD 3
#define MAX_RING 2
#define MAX_DESC 4
#define MAX_RDESC 2
#define MAX_VKF 4
#define MAX_VKT 3
#define MAX_VKR 2
#define MAX_GROUPS 8192

/* A semaphore, shared by every handle on it: `sig` is the highest value
 * signalled (through its one signalling handle). */
static uint64_t group_sig[MAX_GROUPS];
static uint32_t ngroups;

static int new_group(uint64_t v) {
  if (ngroups == MAX_GROUPS) return -1;
  group_sig[ngroups] = v;
  return (int)ngroups++;
}

typedef struct { ifd_image *h; int ctx; } image_slot;
typedef struct { ifd_timeline *h; int ctx; int group; bool signaller; } tl_slot;
typedef struct { int fd; int ctx; int group; } semfd_slot; /* ctx -1: its context is gone */
typedef struct {
  ifd_ring *h;
  int ctx;
  uint32_t count;
  bool timelines;
  uint64_t begun, ended, released;
  int ready_group, release_group;
} ring_slot;
typedef struct { ifd_frame_desc d; bool used; } desc_slot;
typedef struct { ifd_ring_desc d; bool used; bool timelines; int ready_group; } rdesc_slot;
typedef struct { ifd_vk_timeline *h; int group; } vkt_slot;
typedef struct { ifd_vk_ring *h; bool timelines; int ready_group; uint32_t count; } vkr_slot;

static ifd_backend backend;
static ifd_context *ctxs[MAX_CTX];
static image_slot imgs[MAX_IMG];
static tl_slot tls[MAX_TL];
static semfd_slot semfds[MAX_SEMFD];
static ring_slot rings[MAX_RING];
static desc_slot descs[MAX_DESC];
static rdesc_slot rdescs[MAX_RDESC];
static ifd_vk_frame *vkfs[MAX_VKF];
static vkt_slot vkts[MAX_VKT];
static vkr_slot vkrs[MAX_VKR];
static vkr consumer;
static bool have_consumer;
static bool context_first; /* IFD_TEST_CONTEXT_FIRST: destroy contexts before their rings */
static int pipe_fds[2] = {-1, -1};
static int devnull = -1;

/* Destroyed handles, refused with -EINVAL while their address is not reused
 * by a new object of the same kind. Any creation (the library's own
 * included) may reuse one, so the list is emptied on every creation. */
typedef enum { K_CTX, K_IMG, K_TL, K_RING, K_VKF, K_VKT, K_VKR } kind;
typedef struct { void *p; kind k; } dead_handle;
static dead_handle dead[16];
static int ndead;

static void mark_dead(void *p, kind k) {
  if (ndead < 16) dead[ndead++] = (dead_handle){p, k};
}

/* Destroys the handle of slot `name`<s> with `destroy`: logged, remembered as
 * dead, destroyed a second time in 30% of the steps (refused quietly), and the
 * slot emptied. */
#define DESTROY_SLOT(destroy, handle, k, name, s) \
  do {                                            \
    logf_op(#destroy "(" name "%d)", s);          \
    destroy(handle);                              \
    mark_dead(handle, k);                         \
    if (chance(30)) destroy(handle);              \
    (handle) = NULL;                              \
  } while (0)
static void created(void) { ndead = 0; }

static int pick(void *const *slots, size_t stride, int n, bool want_used) {
  int start = (int)below((uint32_t)n);
  for (int i = 0; i < n; i++) {
    int j = (start + i) % n;
    void *h = *(void *const *)((const char *)slots + (size_t)j * stride);
    if ((h != NULL) == want_used) return j;
  }
  return -1;
}
#define PICK(arr, used) pick((void *const *)&(arr)[0], sizeof((arr)[0]), (int)(sizeof(arr) / sizeof((arr)[0])), used)

static int pick_desc(bool used) {
  int start = (int)below(MAX_DESC);
  for (int i = 0; i < MAX_DESC; i++)
    if (descs[(start + i) % MAX_DESC].used == used) return (start + i) % MAX_DESC;
  return -1;
}
static int pick_rdesc(bool used) {
  int start = (int)below(MAX_RDESC);
  for (int i = 0; i < MAX_RDESC; i++)
    if (rdescs[(start + i) % MAX_RDESC].used == used) return (start + i) % MAX_RDESC;
  return -1;
}

static MAX_Format random_format(bool valid) {
  if (valid) return (MAX_Format)(1 + below(11));
  static const int bad[] = {0, 12, 99, -1, 0x7fffffff};
  return (MAX_Format)bad[below(5)];
}

static uint32_t bpp_of(MAX_Format f) {
  ifd_format_info fi;
  return ifd_format_query(f, &fi) == 0 ? fi.bytes_per_pixel : 0;
}

/* A number that is not an open fd right now. */
static int closed_fd(void) {
  if (chance(30)) return -1 - (int)below(3);
  for (int fd = 900 + (int)below(50);; fd++)
    if (!fd_open(fd)) return fd;
}

/* A new fd of something that is not what the call wants: the caller owns it. */
/* An fd that is not what the call wants. A memory fd stands in for a
 * semaphore only where the driver can tell them apart: NVIDIA's opaque fds
 * all open /dev/nvidiactl, and its Vulkan and CUDA both import a CUDA memory
 * fd as a semaphore (H200, driver 580), which the library cannot see
 * (interop_fd.h, ifd_timeline_import_fd). */
static int foreign_fd(const char **what) {
  switch (below(backend == IFD_BACKEND_CUDA ? 2 : 3)) {
  case 0: *what = "pipe"; return fcntl(pipe_fds[below(2)], F_DUPFD_CLOEXEC, 0);
  case 1: *what = "/dev/null"; return fcntl(devnull, F_DUPFD_CLOEXEC, 0);
  default: {
    int d = pick_desc(true);
    if (d >= 0) {
      *what = "memory fd";
      return fcntl(descs[d].d.memory_fd, F_DUPFD_CLOEXEC, 0);
    }
    *what = "/dev/null";
    return fcntl(devnull, F_DUPFD_CLOEXEC, 0);
  }
  }
}

static int live_ctx(void) {
  int c = PICK(ctxs, true);
  return c;
}

/* ------------------------------------------------------------ operations */

static void op_context_create(void) {
  ifd_context *c = NULL;
  switch (below(6)) {
  case 0: CALL(M(EINVAL), ifd_context_create((ifd_backend)(3 + below(100)), 0, &c)); break;
  case 1: CALL(M(EINVAL), ifd_context_create(backend, -1 - (int)below(5), &c)); break;
  case 2: CALL(M(EINVAL), ifd_context_create(backend, 0, NULL)); break;
  case 3: CALL(M(ENODEV), ifd_context_create(backend, 999, &c)); break;
  default: {
    int s = PICK(ctxs, false);
    if (s < 0) return;
    if (CALL(OK_ONLY, ifd_context_create(backend, 0, &c)) == 0) {
      if (ifd_context_backend(c) != backend && backend != IFD_BACKEND_AUTO)
        fail("context backend %d, asked for %d", ifd_context_backend(c), backend);
      ctxs[s] = c;
      created();
      return;
    }
  }
  }
  if (c) fail("out-pointer written on failure");
}

static void destroy_ring_slot(int r);

static void op_context_destroy(void) {
  int c = live_ctx();
  if (c < 0) return;
  /* Rings first, as the header asks today. With IFD_TEST_CONTEXT_FIRST=1
   * they stay, orphaned, and every later call on them must be refused. */
  for (int r = 0; r < MAX_RING; r++)
    if (rings[r].h && rings[r].ctx == c) {
      if (context_first) rings[r].ctx = -1;
      else destroy_ring_slot(r);
    }
  logf_op("ifd_context_destroy(ctx%d)", c);
  ifd_context_destroy(ctxs[c]);
  mark_dead(ctxs[c], K_CTX);
  for (int i = 0; i < MAX_IMG; i++)
    if (imgs[i].h && imgs[i].ctx == c) {
      mark_dead(imgs[i].h, K_IMG);
      imgs[i].h = NULL;
    }
  for (int i = 0; i < MAX_TL; i++)
    if (tls[i].h && tls[i].ctx == c) {
      mark_dead(tls[i].h, K_TL);
      tls[i].h = NULL;
    }
  for (int i = 0; i < MAX_SEMFD; i++)
    if (semfds[i].fd >= 0 && semfds[i].ctx == c) semfds[i].ctx = -1;
  ctxs[c] = NULL;
}

/* A handle that is not a live one of kind k: a destroyed one of that kind,
 * a live image, or NULL. */
static void *dead_or_image(kind k) {
  for (int i = 0; i < ndead; i++)
    if (dead[i].k == k && chance(60)) return dead[i].p;
  int s = PICK(imgs, true);
  if (s >= 0 && chance(50)) return imgs[s].h;
  return NULL;
}

static ifd_context *not_a_context(void) { return dead_or_image(K_CTX); }

static void check_image(ifd_image *im, ifd_context *ctx, uint32_t w, uint32_t h, MAX_Format f) {
  uint32_t bpp = bpp_of(f);
  uint32_t pitch = ifd_image_row_pitch(im);
  if (ifd_image_width(im) != w || ifd_image_height(im) != h || ifd_image_format(im) != f ||
      ifd_image_context(im) != ctx)
    fail("image accessors disagree with the creation arguments");
  if (pitch < w * bpp || pitch % bpp != 0) fail("row pitch %u for %u x %u bpp", pitch, w, bpp);
  if (ifd_image_size(im) < (uint64_t)pitch * h) fail("size below pitch * height");
  ifd_image_native n;
  if (CALL(OK_ONLY, ifd_image_native_handles(im, &n)) == 0 &&
      (n.size != ifd_image_size(im) || n.row_pitch != pitch))
    fail("native handles disagree with the accessors");
}

static void op_image_create(void) {
  int c = live_ctx();
  ifd_image *im = NULL;
  ifd_context *ctx = c >= 0 ? ctxs[c] : NULL;
  uint32_t w = 1 + below(200), h = 1 + below(120);
  switch (below(8)) {
  case 0: CALL(M(EINVAL), ifd_image_create(not_a_context(), w, h, MAX_FMT_RGBA8, &im)); break;
  case 1:
    if (!ctx) return;
    if (chance(50)) w = 0;
    else h = 0;
    if (chance(20)) w = h = 0;
    CALL(M(EINVAL), ifd_image_create(ctx, w, h, random_format(true), &im));
    break;
  case 2:
    if (!ctx) return;
    CALL(M(EINVAL), ifd_image_create(ctx, w, h, random_format(false), &im));
    break;
  case 3:
    if (!ctx) return;
    if (chance(50)) CALL(M(EOVERFLOW), ifd_image_create(ctx, 70000, 70000, MAX_FMT_RGBA32F, &im));
    else CALL(M(EOVERFLOW), ifd_image_create(ctx, UINT32_MAX - below(4), 1 + below(3), random_format(true), &im));
    break;
  case 4:
    if (!ctx) return;
    CALL(M(EINVAL), ifd_image_create(ctx, w, h, random_format(true), NULL));
    break;
  default: {
    int s = PICK(imgs, false);
    if (!ctx || s < 0) return;
    MAX_Format f = random_format(true);
    if (CALL(OK_ONLY, ifd_image_create(ctx, w, h, f, &im)) == 0) {
      created();
      imgs[s] = (image_slot){im, c};
      check_image(im, ctx, w, h, f);
    }
    return;
  }
  }
  if (im) fail("ifd_image_create wrote its out-pointer on failure");
}

static void op_image_destroy(void) {
  int s = PICK(imgs, true);
  if (s < 0) return;
  DESTROY_SLOT(ifd_image_destroy, imgs[s].h, K_IMG, "img", s);
}

/* A handle that is not a live image: NULL, a destroyed one, or another kind. */
static const void *not_an_image(void) {
  for (int i = 0; i < ndead; i++)
    if (dead[i].k == K_IMG && chance(60)) return dead[i].p;
  int c = live_ctx();
  if (c >= 0 && chance(50)) return ctxs[c];
  int t = PICK(tls, true);
  if (t >= 0 && chance(50)) return tls[t].h;
  return NULL;
}

static void op_image_export(void) {
  int s = PICK(imgs, true);
  int fd = 77;
  uint64_t size = 0;
  uint32_t pitch = 0, w = 0, h = 0;
  MAX_Format f = 0;
  if (s < 0 || chance(20)) {
    CALL(M(EINVAL), AsyncRT_DeviceBuffer_export_fd(not_an_image(), &fd, &size, &pitch, &w, &h, &f));
    if (fd != -1) fail("out_fd not preset to -1");
    return;
  }
  ifd_image *im = imgs[s].h;
  if (chance(15)) {
    uint32_t *nul = NULL;
    CALL(M(EINVAL), AsyncRT_DeviceBuffer_export_fd(im, &fd, &size, chance(50) ? nul : &pitch, &w,
                                                   chance(50) ? nul : &h, NULL));
    if (fd != -1) fail("out_fd not preset to -1");
    return;
  }
  if (chance(15)) {
    uint32_t stride, fourcc;
    uint64_t mod;
    ifd_format_info fi;
    ifd_format_query(ifd_image_format(im), &fi);
    int rc = CALL(fi.drm_fourcc ? OK_ONLY | M(EOPNOTSUPP) : M(EINVAL),
                  AsyncRT_DeviceBuffer_export_dmabuf(im, &fd, &size, &stride, &w, &h, &fourcc, &mod));
    if (rc == 0) {
      if (!fd_ok(fd) || stride != ifd_image_row_pitch(im) || fourcc != fi.drm_fourcc || mod != 0)
        fail("dma-buf export outputs wrong");
      close_fd(&fd);
    } else if (fd != -1) {
      fail("dma-buf fd written on failure");
    }
    return;
  }
  if (CALL(OK_ONLY, AsyncRT_DeviceBuffer_export_fd(im, &fd, &size, &pitch, &w, &h, &f)) != 0) return;
  if (!fd_ok(fd) || size != ifd_image_size(im) || pitch != ifd_image_row_pitch(im) ||
      w != ifd_image_width(im) || h != ifd_image_height(im) || f != ifd_image_format(im))
    fail("AsyncRT_DeviceBuffer_export_fd outputs wrong (fd %d)", fd);
  int d = pick_desc(false);
  if (d < 0 || chance(30)) {
    close_fd(&fd);
    return;
  }
  /* Keep it as a frame description for the consumer. */
  ifd_frame_desc *desc = &descs[d].d;
  memset(desc, 0, sizeof(*desc));
  desc->memory_fd = fd;
  desc->timeline_fd = -1;
  desc->size = size;
  desc->row_pitch = pitch;
  desc->width = w;
  desc->height = h;
  desc->format = f;
  desc->exporter = ifd_context_backend(ifd_image_context(im));
  descs[d].used = true;
}

static void op_image_describe(void) {
  int s = PICK(imgs, true);
  int d = pick_desc(false);
  if (d < 0) return;
  ifd_frame_desc tmp;
  if (s < 0 || chance(15)) {
    CALL(M(EINVAL), ifd_image_describe((ifd_image *)not_an_image(), &tmp));
    return;
  }
  if (chance(10)) {
    CALL(M(EINVAL), ifd_image_describe(imgs[s].h, NULL));
    return;
  }
  if (CALL(OK_ONLY, ifd_image_describe(imgs[s].h, &tmp)) != 0) return;
  if (!fd_ok(tmp.memory_fd) || tmp.timeline_fd != -1 || tmp.size != ifd_image_size(imgs[s].h) ||
      tmp.format != ifd_image_format(imgs[s].h))
    fail("ifd_image_describe outputs wrong");
  descs[d].d = tmp;
  descs[d].used = true;
}

static void op_desc_close(void) {
  int d = pick_desc(true);
  if (d < 0) return;
  logf_op("ifd_frame_desc_close(desc%d)", d);
  ifd_frame_desc_close(&descs[d].d);
  if (descs[d].d.memory_fd != -1) fail("ifd_frame_desc_close left memory_fd");
  descs[d].used = false;
  ifd_frame_desc_close(NULL);
}

static void op_image_copy(void) {
  int s = PICK(imgs, true);
  if (s < 0) return;
  ifd_image *im = imgs[s].h;
  uint32_t w = ifd_image_width(im), h = ifd_image_height(im), bpp = bpp_of(ifd_image_format(im));
  size_t row = (size_t)w * bpp, pitch = row + below(3) * bpp;
  uint8_t *px = malloc(pitch * h);
  if (!px) fail("out of host memory");
  memset(px, (int)below(256), pitch * h);
  bool up = chance(50);
  switch (below(6)) {
  case 0:
    if (up) CALL(M(EINVAL), ifd_image_upload(im, NULL, pitch));
    else CALL(M(EINVAL), ifd_image_download(im, NULL, pitch));
    break;
  case 1:
    if (up) CALL(M(EINVAL), ifd_image_upload(im, px, row - 1 - below((uint32_t)row)));
    else CALL(M(EINVAL), ifd_image_download(im, px, row - 1 - below((uint32_t)row)));
    break;
  case 2:
    if (up) CALL(M(EINVAL), ifd_image_upload((ifd_image *)not_an_image(), px, pitch));
    else CALL(M(EINVAL), ifd_image_download((ifd_image *)not_an_image(), px, pitch));
    break;
  default: {
    /* Round trip: what goes up comes back down. */
    for (size_t i = 0; i < pitch * h; i++) px[i] = (uint8_t)(i * 31u + step);
    if (CALL(OK_ONLY, ifd_image_upload(im, px, pitch)) != 0) break;
    uint8_t *back = calloc(pitch * h, 1);
    if (!back) fail("out of host memory");
    if (CALL(OK_ONLY, ifd_image_download(im, back, pitch)) == 0)
      for (uint32_t y = 0; y < h; y++)
        if (memcmp(px + y * pitch, back + y * pitch, row) != 0) fail("download differs from upload in row %u", y);
    free(back);
  }
  }
  free(px);
}

/* ---- timelines ---- */

static void op_timeline_create(void) {
  int c = live_ctx();
  ifd_timeline *t = NULL;
  if (c < 0 || chance(10)) {
    CALL(M(EINVAL), ifd_timeline_create(not_a_context(), 0, &t));
    return;
  }
  if (chance(10)) {
    CALL(M(EINVAL), ifd_timeline_create(ctxs[c], 0, NULL));
    return;
  }
  int s = PICK(tls, false);
  if (s < 0) return;
  uint64_t init = chance(50) ? 0 : below(1000);
  /* A driver may fail to make one more semaphore (interop_fd.h). */
  if (CALL(OK_ONLY | M(EOPNOTSUPP) | M(ENOMEM) | M(EMFILE) | M(EIO),
           ifd_timeline_create(ctxs[c], init, &t)) != 0) {
    if (t) fail("out-pointer written on failure");
    return;
  }
  created();
  int g = new_group(init);
  if (g < 0) {
    ifd_timeline_destroy(t);
    return;
  }
  tls[s] = (tl_slot){t, c, g, true};
  uint64_t v = 0;
  if (CALL(OK_ONLY, ifd_timeline_value(t, &v)) == 0 && v != init) fail("new timeline at %" PRIu64, v);
}

static void op_timeline_destroy(void) {
  int s = PICK(tls, true);
  if (s < 0) return;
  DESTROY_SLOT(ifd_timeline_destroy, tls[s].h, K_TL, "tl", s);
}

static ifd_timeline *not_a_timeline(void) { return dead_or_image(K_TL); }

static void op_timeline_use(void) {
  int s = PICK(tls, true);
  uint64_t v = 0;
  if (s < 0 || chance(10)) {
    switch (below(4)) {
    case 0: CALL(M(EINVAL), ifd_timeline_signal(not_a_timeline(), 1)); break;
    case 1: CALL(M(EINVAL), ifd_timeline_wait(not_a_timeline(), 1)); break;
    case 2: CALL(M(EINVAL), ifd_timeline_host_wait(not_a_timeline(), 1, 1000)); break;
    default: CALL(M(EINVAL), ifd_timeline_value(not_a_timeline(), &v)); break;
    }
    return;
  }
  tl_slot *t = &tls[s];
  uint64_t sig = group_sig[t->group];
  switch (below(7)) {
  case 0: /* a value not above the last: refused */
    if (t->signaller) CALL(M(EINVAL), ifd_timeline_signal(t->h, sig - below((uint32_t)(sig < 5 ? sig + 1 : 5))));
    break;
  case 1: /* a value already reached, lower than the last */
    CALL(OK_ONLY, ifd_timeline_host_wait(t->h, sig - (sig ? below((uint32_t)(sig < 4 ? sig : 4)) : 0), 5000000000ull));
    break;
  case 2: /* device-side wait, only for a value that will come */
    CALL(OK_ONLY, ifd_timeline_wait(t->h, sig ? sig - below((uint32_t)(sig < 3 ? sig : 3)) : 0));
    break;
  case 3:
    CALL(OK_ONLY, ifd_timeline_host_wait(t->h, sig, 5000000000ull));
    break;
  case 4: /* never signalled: times out, promptly */
    CALL(M(ETIMEDOUT), ifd_timeline_host_wait(t->h, sig + 1 + below(100), below(2) * 1000000ull));
    break;
  case 5:
    if (CALL(OK_ONLY, ifd_timeline_value(t->h, &v)) == 0 && v > sig)
      fail("timeline value %" PRIu64 " above the highest signalled %" PRIu64, v, sig);
    break;
  default:
    CALL(M(EINVAL), ifd_timeline_value(t->h, NULL));
    break;
  }
}

/* Signals exactly one above the last value so the model needs no read-back. */
static void op_timeline_signal_next(void) {
  int s = PICK(tls, true);
  if (s < 0 || !tls[s].signaller) return;
  uint64_t v = group_sig[tls[s].group] + 1 + below(3);
  if (CALL(OK_ONLY, ifd_timeline_signal(tls[s].h, v)) == 0) group_sig[tls[s].group] = v;
}

static void op_timeline_export_import(void) {
  int s = PICK(tls, true);
  int c = live_ctx();
  int fd = 55;
  if (s < 0 || chance(10)) {
    CALL(M(EINVAL), ifd_timeline_export_fd(not_a_timeline(), &fd));
    if (fd != -1) fail("out_fd not preset to -1");
    return;
  }
  ifd_timeline *t = NULL;
  if (c >= 0 && chance(25)) {
    int bad = closed_fd();
    CALL(M(EBADF), ifd_timeline_import_fd(ctxs[c], bad, &t));
    return;
  }
  if (c >= 0 && chance(25)) {
    const char *what;
    int ff = foreign_fd(&what);
    logf_op("foreign fd %d (%s) to ifd_timeline_import_fd", ff, what);
    if (CALL(M(EIO) | M(EOPNOTSUPP) | M(EINVAL), ifd_timeline_import_fd(ctxs[c], ff, &t)) == 0)
      fail("ifd_timeline_import_fd accepted a %s", what);
    if (!fd_open(ff)) fail("ifd_timeline_import_fd closed the caller's fd on failure");
    close(ff);
    return;
  }
  if (CALL(OK_ONLY, ifd_timeline_export_fd(tls[s].h, &fd)) != 0) return;
  if (!fd_ok(fd)) fail("exported timeline fd %d not open/cloexec", fd);
  int slot = PICK(tls, false);
  if (c < 0 || slot < 0 || chance(20)) {
    /* Not ours through the seed's map: refused. */
    CALL(M(EINVAL), AsyncRT_Signal_timeline_semaphore_fd(fd, group_sig[tls[s].group] + 1));
    close(fd);
    return;
  }
  if (CALL(OK_ONLY | M(EOPNOTSUPP), ifd_timeline_import_fd(ctxs[c], fd, &t)) != 0) {
    close(fd);
    return;
  }
  created();
  tls[slot] = (tl_slot){t, c, tls[s].group, false};
}

/* ---- the seed's semaphore fds ---- */

static void op_semfd_create(void) {
  int c = live_ctx();
  int fd = 66;
  if (c < 0 || chance(10)) {
    CALL(M(EINVAL), AsyncRT_Create_timeline_semaphore_fd(not_a_context(), 0, &fd));
    if (fd != -1) fail("out_fd not preset to -1");
    return;
  }
  if (chance(10)) {
    CALL(M(EINVAL), AsyncRT_Create_timeline_semaphore_fd(ctxs[c], 0, NULL));
    return;
  }
  int s = -1;
  for (int i = 0; i < MAX_SEMFD && s < 0; i++)
    if (semfds[i].fd < 0) s = i;
  if (s < 0) return;
  uint64_t init = below(50);
  /* Each lives until its context goes: a driver may run out (asyncrt.h). */
  if (CALL(OK_ONLY | M(EOPNOTSUPP) | M(ENOMEM) | M(EMFILE) | M(EIO),
           AsyncRT_Create_timeline_semaphore_fd(ctxs[c], init, &fd)) != 0) {
    if (fd != -1) fail("out_fd written on failure");
    return;
  }
  created();
  if (!fd_ok(fd)) fail("semaphore fd %d not open/cloexec", fd);
  int g = new_group(init);
  semfds[s] = (semfd_slot){fd, c, g};
}

static void op_semfd_use(void) {
  int s = -1, start = (int)below(MAX_SEMFD);
  for (int i = 0; i < MAX_SEMFD && s < 0; i++)
    if (semfds[(start + i) % MAX_SEMFD].fd >= 0) s = (start + i) % MAX_SEMFD;
  switch (below(6)) {
  case 0: CALL(M(EBADF), AsyncRT_Signal_timeline_semaphore_fd(closed_fd(), 1)); return;
  case 1: {
    const char *what;
    int ff = foreign_fd(&what);
    logf_op("foreign fd %d (%s) to AsyncRT_Signal_timeline_semaphore_fd", ff, what);
    CALL(M(EINVAL), AsyncRT_Signal_timeline_semaphore_fd(ff, 1 + below(10)));
    close(ff);
    return;
  }
  default: break;
  }
  if (s < 0) return;
  semfd_slot *sf = &semfds[s];
  uint64_t sig = group_sig[sf->group];
  if (sf->ctx < 0) { /* its context was destroyed, and the semaphore with it */
    CALL(M(EINVAL), AsyncRT_Signal_timeline_semaphore_fd(sf->fd, sig + 1));
  } else if (chance(30)) {
    CALL(M(EINVAL), AsyncRT_Signal_timeline_semaphore_fd(sf->fd, sig - below((uint32_t)(sig < 3 ? sig + 1 : 3))));
  } else if (chance(20)) {
    /* A dup() of the returned fd is accepted where kcmp exists, refused
     * otherwise: either way nothing else. */
    int d = fcntl(sf->fd, F_DUPFD_CLOEXEC, 0);
    if (CALL(OK_ONLY | M(EINVAL), AsyncRT_Signal_timeline_semaphore_fd(d, sig + 1)) == 0)
      group_sig[sf->group] = sig + 1;
    close(d);
  } else if (chance(25)) {
    /* Closed: -EBADF; its number reused by another file: -EINVAL. */
    int fd = sf->fd;
    close(fd);
    sf->fd = -1;
    CALL(M(EBADF), AsyncRT_Signal_timeline_semaphore_fd(fd, sig + 1));
    int again = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (again == fd) CALL(M(EINVAL), AsyncRT_Signal_timeline_semaphore_fd(again, sig + 1));
    if (again >= 0) close(again);
  } else {
    uint64_t v = sig + 1 + below(4);
    if (CALL(OK_ONLY, AsyncRT_Signal_timeline_semaphore_fd(sf->fd, v)) == 0) group_sig[sf->group] = v;
  }
}

/* ---- rings ---- */

static void destroy_ring_slot(int r) {
  logf_op("ifd_ring_destroy(ring%d)", r);
  ifd_ring_destroy(rings[r].h);
  mark_dead(rings[r].h, K_RING);
  rings[r].h = NULL;
}

static void op_ring_create(void) {
  int c = live_ctx();
  ifd_ring *r = NULL;
  int s = PICK(rings, false);
  if (c < 0 || chance(10)) {
    CALL(M(EINVAL), ifd_ring_create(not_a_context(), 2, 8, 8, MAX_FMT_RGBA8, &r));
    return;
  }
  if (chance(20)) {
    uint32_t count = chance(50) ? 0 : IFD_RING_MAX_FRAMES + 1 + below(100);
    CALL(M(EINVAL), ifd_ring_create(ctxs[c], count, 8, 8, MAX_FMT_RGBA8, &r));
    return;
  }
  if (chance(10)) {
    CALL(M(EINVAL), ifd_ring_create(ctxs[c], 2, 8, 0, random_format(true), &r));
    return;
  }
  if (chance(5)) {
    CALL(M(EOVERFLOW), ifd_ring_create(ctxs[c], 1 + below(8), UINT32_MAX, 2, random_format(true), &r));
    return;
  }
  if (chance(10)) {
    CALL(M(EINVAL), ifd_ring_create(ctxs[c], 2, 8, 8, random_format(false), &r));
    return;
  }
  if (s < 0) return;
  uint32_t count = 1 + below(4);
  if (CALL(OK_ONLY | M(ENOMEM) | M(EMFILE) | M(EIO),
           ifd_ring_create(ctxs[c], count, 1 + below(64), 1 + below(64), random_format(true), &r)) != 0) {
    if (r) fail("out-pointer written on failure");
    return;
  }
  created();
  if (ifd_ring_count(r) != count) fail("ifd_ring_count %u, created with %u", ifd_ring_count(r), count);
  bool tl = ifd_ring_ready(r) != NULL;
  if (tl != (ifd_ring_release(r) != NULL)) fail("a ring with one timeline only");
  if (ifd_ring_image(r, count) != NULL) fail("ifd_ring_image past the count");
  rings[s] = (ring_slot){r, c, count, tl, 0, 0, 0, new_group(0), new_group(0)};
}

static void op_ring_frame(void) {
  int s = PICK(rings, true);
  uint64_t k = 0;
  ifd_image *im = NULL;
  if (s < 0) {
    for (int i = 0; i < ndead; i++)
      if (dead[i].k == K_RING) CALL(M(EINVAL), ifd_ring_end_frame(dead[i].p, 1));
    CALL(M(EINVAL), ifd_ring_begin_frame(NULL, 0, &k, &im));
    return;
  }
  ring_slot *r = &rings[s];
  if (r->ctx < 0) { /* its context was destroyed first */
    ifd_ring_desc desc;
    CALL(M(EINVAL), ifd_ring_begin_frame(r->h, 0, &k, &im));
    CALL(M(EINVAL), ifd_ring_end_frame(r->h, r->begun));
    CALL(M(EINVAL), ifd_ring_release_frame(r->h, r->ended));
    CALL(M(EINVAL), ifd_ring_export(r->h, &desc));
    if (ifd_ring_image(r->h, 0) != NULL) fail("ifd_ring_image of a ring whose context is gone");
    return;
  }
  bool open = r->begun != r->ended;
  bool full = r->begun >= r->released + r->count;
  switch (below(8)) {
  case 0:
    CALL(M(EINVAL), ifd_ring_begin_frame(r->h, 0, NULL, &im));
    return;
  case 1: { /* end a frame that is not the open one */
    uint64_t wrong = open ? r->begun + 1 + below(3) : r->begun + below(3);
    CALL(M(EINVAL), ifd_ring_end_frame(r->h, chance(20) ? 0 : wrong));
    return;
  }
  case 2: { /* release out of order: 0, not yet ended, or already released */
    uint64_t bad = chance(30) ? 0 : chance(50) ? r->ended + 1 + below(3) : r->released - (r->released ? below((uint32_t)r->released) : 0);
    if (bad > r->released && bad <= r->ended) return;
    CALL(M(EINVAL), ifd_ring_release_frame(r->h, bad));
    return;
  }
  case 3:
  case 4:
    if (open) {
      CALL(M(EINVAL), ifd_ring_begin_frame(r->h, 1000, &k, &im));
      return;
    }
    if (full) {
      /* The consumer holds every frame. With timelines the host does not
       * block here (the queue waits on the device), so the model does not
       * go there: no queue may wait for a value nobody will signal. */
      if (!r->timelines)
        CALL(M(ETIMEDOUT), ifd_ring_begin_frame(r->h, below(2) * 1000000ull, &k, &im));
      return;
    }
    if (CALL(OK_ONLY, ifd_ring_begin_frame(r->h, 5000000000ull, &k, &im)) != 0) return;
    if (k != r->begun + 1 || im != ifd_ring_image(r->h, (uint32_t)((k - 1) % r->count)))
      fail("ifd_ring_begin_frame gave frame %" PRIu64 " image %p", k, (void *)im);
    r->begun = k;
    return;
  case 5:
  case 6:
    if (!open) return;
    if (CALL(OK_ONLY, ifd_ring_end_frame(r->h, r->begun)) == 0) {
      r->ended = r->begun;
      if (r->timelines) group_sig[r->ready_group] = r->ended;
    }
    return;
  default:
    if (r->released >= r->ended) return;
    k = r->released + 1 + below((uint32_t)(r->ended - r->released));
    if (CALL(OK_ONLY, ifd_ring_release_frame(r->h, k)) == 0) {
      r->released = k;
      if (r->timelines) group_sig[r->release_group] = k;
    }
    return;
  }
}

static void op_ring_destroy(void) {
  int s = PICK(rings, true);
  if (s >= 0) destroy_ring_slot(s);
}

static void op_ring_export(void) {
  int s = PICK(rings, true);
  int d = pick_rdesc(false);
  ifd_ring_desc tmp;
  if (s < 0 || chance(10)) {
    CALL(M(EINVAL), ifd_ring_export(NULL, &tmp));
    return;
  }
  if (chance(10)) {
    CALL(M(EINVAL), ifd_ring_export(rings[s].h, NULL));
    return;
  }
  if (d < 0 || rings[s].ctx < 0) return;
  if (CALL(OK_ONLY, ifd_ring_export(rings[s].h, &tmp)) != 0) return;
  if (tmp.count != rings[s].count || (tmp.ready_fd >= 0) != rings[s].timelines ||
      (tmp.release_fd >= 0) != rings[s].timelines)
    fail("ifd_ring_export description disagrees with the ring");
  for (uint32_t i = 0; i < tmp.count; i++)
    if (!fd_ok(tmp.frames[i].memory_fd)) fail("ring frame %u fd not open", i);
  if (rings[s].timelines && (!fd_ok(tmp.ready_fd) || !fd_ok(tmp.release_fd))) fail("ring timeline fds not open");
  rdescs[d] = (rdesc_slot){tmp, true, rings[s].timelines, rings[s].ready_group};
}

static void op_rdesc_close(void) {
  int d = pick_rdesc(true);
  if (d < 0) return;
  logf_op("ifd_ring_desc_close(rdesc%d)", d);
  ifd_ring_desc_close(&rdescs[d].d);
  if (rdescs[d].d.ready_fd != -1 || rdescs[d].d.frames[0].memory_fd != -1) fail("ifd_ring_desc_close left an fd");
  rdescs[d].used = false;
}

/* ---- the Vulkan consumer ---- */

static ifd_vk_path random_path(void) { return (ifd_vk_path)below(3); }

static void op_vk_frame_import(void) {
  if (!have_consumer) return;
  ifd_vk_importer *imp = consumer.importer;
  int d = pick_desc(true);
  int s = PICK(vkfs, false);
  ifd_vk_frame *f = NULL;
  if (d < 0 || s < 0) {
    if (chance(20)) CALL(M(EINVAL), ifd_vk_frame_import(imp, NULL, IFD_VK_PATH_AUTO, &f));
    return;
  }
  ifd_frame_desc bad = descs[d].d;
  int keep = bad.memory_fd;
  uint32_t bpp = bpp_of(bad.format);
  switch (below(11)) {
  case 0: bad.format = random_format(false); CALL(M(EINVAL), ifd_vk_frame_import(imp, &bad, random_path(), &f)); break;
  case 1: bad.size = (uint64_t)bad.row_pitch * bad.height - 1 - below(10); CALL(M(EINVAL), ifd_vk_frame_import(imp, &bad, random_path(), &f)); break;
  case 2: bad.row_pitch = bad.width * bpp - 1; CALL(M(EINVAL), ifd_vk_frame_import(imp, &bad, random_path(), &f)); break;
  case 3: bad.device_uuid[below(16)] ^= 0x5a; bad.device_uuid[0] |= 1; {
      uint8_t real[16];
      CALL(OK_ONLY, ifd_vk_importer_device_uuid(imp, real));
      if (memcmp(real, bad.device_uuid, 16) == 0) break;
      CALL(M(EXDEV), ifd_vk_frame_import(imp, &bad, random_path(), &f));
    }
    break;
  case 4: bad.memory_fd = closed_fd(); CALL(M(EBADF), ifd_vk_frame_import(imp, &bad, random_path(), &f)); break;
  case 5: {
    const char *what;
    bad.memory_fd = foreign_fd(&what);
    if (bad.memory_fd >= 0 && bad.memory_fd != keep) {
      int ff = bad.memory_fd;
      logf_op("foreign fd %d (%s) to ifd_vk_frame_import", ff, what);
      /* A dup of a memory fd of ours may import, or (when it is smaller
       * than the description says) be refused: lavapipe then reports
       * VK_ERROR_OUT_OF_DEVICE_MEMORY, which the header's -ENOMEM covers. */
      int rc = CALL(M(EIO) | M(EINVAL) |
                        (strcmp(what, "memory fd") == 0 ? OK_ONLY | M(EOPNOTSUPP) | M(ENOMEM) : 0),
                    ifd_vk_frame_import(imp, &bad, random_path(), &f));
      if (rc == 0) {
        if (bad.memory_fd != -1) fail("imported fd not set to -1");
        created();
        vkfs[s] = f;
        f = NULL;
      } else {
        if (bad.memory_fd != ff || !fd_open(ff)) fail("import failure touched the caller's fd");
        close(ff);
      }
    }
    break;
  }
  case 6: CALL(M(EINVAL), ifd_vk_frame_import(imp, &bad, random_path(), NULL)); break;
  case 8:
    if (chance(50)) {
      /* Consistent in itself, but far larger than the memory behind the fd
       * (or than any image the device can make). */
      bad.width = 4096 + below(40000);
      bad.height = 4096 + below(40000);
      bad.row_pitch = bad.width * bpp;
      bad.size = (uint64_t)bad.row_pitch * bad.height;
      CALL(M(EINVAL) | M(ENOMEM) | M(EIO) | M(EOPNOTSUPP) | M(EOVERFLOW),
           ifd_vk_frame_import(imp, &bad, random_path(), &f));
    } else {
      bad.width = chance(50) ? 0 : bad.width;
      bad.height = bad.width ? 0 : bad.height;
      CALL(M(EINVAL), ifd_vk_frame_import(imp, &bad, random_path(), &f));
    }
    break;
  case 7: CALL(M(EINVAL), ifd_vk_frame_import(NULL, &bad, random_path(), &f)); break;
  default: {
    int rc = CALL(OK_ONLY | M(EOPNOTSUPP), ifd_vk_frame_import(imp, &descs[d].d, random_path(), &f));
    if (rc == 0) {
      if (descs[d].d.memory_fd != -1) fail("imported fd not set to -1");
      descs[d].used = false;
      created();
      vkfs[s] = f;
      ifd_vk_frame_native n;
      if (CALL(OK_ONLY, ifd_vk_frame_native_handles(f, &n)) == 0 &&
          (n.width != descs[d].d.width || n.height != descs[d].d.height || n.path == IFD_VK_PATH_AUTO ||
           n.max_format != descs[d].d.format))
        fail("vk frame native handles disagree with the description");
      return;
    }
    if (descs[d].d.memory_fd != keep) fail("failed import touched memory_fd");
    return;
  }
  }
  if (f) fail("out-pointer written on failure");
  if (descs[d].d.memory_fd != keep || !fd_open(keep)) fail("a refused import touched the description's fd");
}

static void op_vk_frame_destroy(void) {
  int s = PICK(vkfs, true);
  if (s < 0) return;
  DESTROY_SLOT(ifd_vk_frame_destroy, vkfs[s], K_VKF, "vkf", s);
  for (int i = 0; i < ndead; i++)
    if (dead[i].k == K_VKF) {
      ifd_vk_frame_native n;
      CALL(M(EINVAL), ifd_vk_frame_native_handles(dead[i].p, &n));
      CALL(M(EINVAL), ifd_vk_frame_cmd_acquire(dead[i].p, VK_NULL_HANDLE, 0, 0));
    }
}

/* Samples a frame on the consumer's device (acquire, draw, release, read
 * back): recording and submitting what the importer records must work on
 * whatever path the import took. */
static void op_vk_frame_draw(void) {
  if (!have_consumer) return;
  ifd_vk_frame *f = NULL;
  int s = PICK(vkfs, true);
  if (s >= 0) f = vkfs[s];
  int r = PICK(vkrs, true);
  if (r >= 0 && (!f || chance(50))) {
    uint64_t ready = group_sig[vkrs[r].ready_group];
    f = ifd_vk_ring_frame(vkrs[r].h, ready ? ready : 1);
    if (!f) fail("ifd_vk_ring_frame returned NULL for a live ring");
  }
  if (!f) {
    CALL(M(EINVAL), ifd_vk_frame_cmd_release(NULL, VK_NULL_HANDLE, 0));
    return;
  }
  CALL(M(EINVAL), ifd_vk_frame_cmd_acquire(f, VK_NULL_HANDLE, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                                           VK_ACCESS_SHADER_READ_BIT));
  logf_op("vkr_draw(frame %p)", (void *)f);
  if (vkr_draw(&consumer, f, VK_NULL_HANDLE, 0, VK_NULL_HANDLE, 0) != 0) fail("drawing an imported frame failed");
}

static void op_vk_timeline(void) {
  if (!have_consumer) return;
  ifd_vk_importer *imp = consumer.importer;
  ifd_vk_timeline *t = NULL;
  int s = PICK(vkts, true);
  uint64_t v;
  if (s >= 0 && chance(60)) {
    vkt_slot *vt = &vkts[s];
    uint64_t sig = group_sig[vt->group];
    switch (below(5)) {
    case 0: CALL(OK_ONLY, ifd_vk_timeline_host_wait(vt->h, sig, 5000000000ull)); break;
    case 1: CALL(M(ETIMEDOUT), ifd_vk_timeline_host_wait(vt->h, sig + 1 + below(50), below(2) * 1000000ull)); break;
    case 2: /* not above the value reached (a pending signal may be higher still) */
      if (CALL(OK_ONLY, ifd_vk_timeline_value(vt->h, &v)) == 0)
        CALL(M(EINVAL), ifd_vk_timeline_host_signal(vt->h, v - (v ? below((uint32_t)(v < 3 ? v : 3)) : 0)));
      break;
    case 3:
      if (CALL(OK_ONLY, ifd_vk_timeline_value(vt->h, &v)) == 0 && v > sig) fail("vk timeline value above any signal");
      break;
    default:
      DESTROY_SLOT(ifd_vk_timeline_destroy, vt->h, K_VKT, "vkt", s);
    }
    return;
  }
  int fd;
  switch (below(4)) {
  case 0:
    fd = closed_fd();
    CALL(M(EBADF), ifd_vk_timeline_import(imp, &fd, &t));
    return;
  case 1: {
    const char *what;
    fd = foreign_fd(&what);
    int ff = fd;
    logf_op("foreign fd %d (%s) to ifd_vk_timeline_import", ff, what);
    if (CALL(M(EIO) | M(EOPNOTSUPP) | M(EINVAL), ifd_vk_timeline_import(imp, &fd, &t)) == 0) fail("imported a %s as a timeline", what);
    if (fd != ff || !fd_open(ff)) fail("a refused import touched the fd");
    close(ff);
    return;
  }
  case 2:
    for (int i = 0; i < ndead; i++)
      if (dead[i].k == K_VKT) CALL(M(EINVAL), ifd_vk_timeline_value(dead[i].p, &v));
    CALL(M(EINVAL), ifd_vk_timeline_import(imp, NULL, &t));
    return;
  default: {
    int src = PICK(tls, true);
    int slot = PICK(vkts, false);
    if (src < 0 || slot < 0) return;
    if (CALL(OK_ONLY, ifd_timeline_export_fd(tls[src].h, &fd)) != 0) return;
    if (!consumer.timelines) {
      int ff = fd;
      CALL(M(EOPNOTSUPP), ifd_vk_timeline_import(imp, &fd, &t));
      if (fd != ff) fail("a refused import touched the fd");
      close(ff);
      return;
    }
    if (CALL(OK_ONLY, ifd_vk_timeline_import(imp, &fd, &t)) != 0) {
      close(fd);
      return;
    }
    if (fd != -1) fail("imported timeline fd not set to -1");
    created();
    vkts[slot] = (vkt_slot){t, tls[src].group};
  }
  }
}

static void op_vk_ring(void) {
  if (!have_consumer) return;
  int s = PICK(vkrs, true);
  if (s >= 0 && chance(60)) {
    vkr_slot *vr = &vkrs[s];
    uint64_t ready = group_sig[vr->ready_group];
    switch (below(4)) {
    case 0: CALL(M(EINVAL), ifd_vk_ring_wait_ready(vr->h, 0, 1000)); break;
    case 1:
      if (ready) CALL(OK_ONLY, ifd_vk_ring_wait_ready(vr->h, 1 + below((uint32_t)ready), 5000000000ull));
      break;
    case 2: /* a frame never produced: times out where timelines exist */
      /* Without timelines it waits for a producer ring of this process
       * (-ETIMEDOUT, -EPIPE once that ring is gone) and returns at once for
       * a ring whose producer it cannot know (interop_fd/vulkan.h). */
      CALL(vr->timelines ? M(ETIMEDOUT) | M(EPIPE) : OK_ONLY | M(ETIMEDOUT) | M(EPIPE),
           ifd_vk_ring_wait_ready(vr->h, ready + 1 + below(5), below(2) * 1000000ull));
      break;
    default:
      if (ifd_vk_ring_count(vr->h) != vr->count) fail("ifd_vk_ring_count");
      if (ifd_vk_ring_frame(vr->h, 0) != NULL) fail("ifd_vk_ring_frame(0) not NULL");
      DESTROY_SLOT(ifd_vk_ring_destroy, vr->h, K_VKR, "vkr", s);
    }
    return;
  }
  int d = pick_rdesc(true);
  int slot = PICK(vkrs, false);
  ifd_vk_ring *r = NULL;
  if (d < 0 || slot < 0) {
    for (int i = 0; i < ndead; i++)
      if (dead[i].k == K_VKR) CALL(M(EINVAL), ifd_vk_ring_wait_ready(dead[i].p, 1, 0));
    return;
  }
  rdesc_slot *rd = &rdescs[d];
  if (chance(20)) {
    ifd_ring_desc bad = rd->d;
    bad.count = chance(50) ? 0 : IFD_RING_MAX_FRAMES + 1;
    CALL(M(EINVAL), ifd_vk_ring_import(consumer.importer, &bad, random_path(), &r));
    return;
  }
  if (chance(15) && rd->timelines) {
    ifd_ring_desc bad = rd->d;
    bad.release_fd = -1; /* only one timeline */
    CALL(M(EINVAL), ifd_vk_ring_import(consumer.importer, &bad, random_path(), &r));
    return;
  }
  int rc = CALL(OK_ONLY | M(EOPNOTSUPP), ifd_vk_ring_import(consumer.importer, &rd->d, random_path(), &r));
  if (rc != 0) {
    if (rd->d.frames[0].memory_fd < 0) fail("a refused ring import consumed an fd");
    return;
  }
  created();
  if (rd->d.frames[0].memory_fd != -1 || rd->d.ready_fd != -1) fail("ring import left fds in the description");
  vkrs[slot] = (vkr_slot){r, rd->timelines, rd->ready_group, rd->d.count};
  if ((ifd_vk_ring_ready(r) != NULL) != rd->timelines) fail("vk ring timelines disagree with the description");
  rd->used = false;
}

/* ------------------------------------------------------------ driver */

typedef struct {
  void (*fn)(void);
  uint32_t weight;
} op;

static const op ops[] = {
  {op_context_create, 3},  {op_context_destroy, 1}, {op_image_create, 10},
  {op_image_destroy, 5},   {op_image_export, 8},    {op_image_describe, 4},
  {op_desc_close, 3},      {op_image_copy, 3},      {op_timeline_create, 4},
  {op_timeline_destroy, 2}, {op_timeline_use, 8},   {op_timeline_signal_next, 3},
  {op_timeline_export_import, 4}, {op_semfd_create, 3}, {op_semfd_use, 6},
  {op_ring_create, 3},     {op_ring_frame, 14},     {op_ring_destroy, 1},
  {op_ring_export, 3},     {op_rdesc_close, 2},     {op_vk_frame_import, 6},
  {op_vk_frame_destroy, 4}, {op_vk_frame_draw, 2}, {op_vk_timeline, 4},    {op_vk_ring, 5},
};

static void run_step(void) {
  uint32_t total = 0;
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) total += ops[i].weight;
  uint32_t r = below(total);
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    if (r < ops[i].weight) {
      ops[i].fn();
      return;
    }
    r -= ops[i].weight;
  }
}

static void teardown(void) {
  for (int i = 0; i < MAX_VKR; i++) ifd_vk_ring_destroy(vkrs[i].h), vkrs[i].h = NULL;
  for (int i = 0; i < MAX_VKT; i++) ifd_vk_timeline_destroy(vkts[i].h), vkts[i].h = NULL;
  for (int i = 0; i < MAX_VKF; i++) ifd_vk_frame_destroy(vkfs[i]), vkfs[i] = NULL;
  for (int i = 0; i < MAX_RDESC; i++)
    if (rdescs[i].used) ifd_ring_desc_close(&rdescs[i].d), rdescs[i].used = false;
  for (int i = 0; i < MAX_DESC; i++)
    if (descs[i].used) ifd_frame_desc_close(&descs[i].d), descs[i].used = false;
  for (int i = 0; i < MAX_SEMFD; i++) close_fd(&semfds[i].fd);
  /* Half the time objects first, half the time the context takes them. */
  if (chance(50)) {
    for (int i = 0; i < MAX_RING; i++) ifd_ring_destroy(rings[i].h), rings[i].h = NULL;
    for (int i = 0; i < MAX_TL; i++) ifd_timeline_destroy(tls[i].h), tls[i].h = NULL;
    for (int i = 0; i < MAX_IMG; i++) ifd_image_destroy(imgs[i].h), imgs[i].h = NULL;
  }
  for (int c = 0; c < MAX_CTX; c++)
    if (ctxs[c]) {
      for (int r = 0; r < MAX_RING; r++)
        if (rings[r].h && rings[r].ctx == c && !context_first) destroy_ring_slot(r);
      ifd_context_destroy(ctxs[c]);
      ctxs[c] = NULL;
    }
  for (int r = 0; r < MAX_RING; r++)
    if (rings[r].h) destroy_ring_slot(r);
}

static uint64_t parse_u64(const char *s, const char *what) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || !end || *end) {
    fprintf(stderr, "api_random: bad %s '%s'\n", what, s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* in order with the failure report on stderr */
  seed = DEFAULT_SEED;
  uint64_t steps = DEFAULT_STEPS;
  if (getenv("IFD_TEST_SEED")) seed = parse_u64(getenv("IFD_TEST_SEED"), "seed");
  if (getenv("IFD_TEST_STEPS")) steps = parse_u64(getenv("IFD_TEST_STEPS"), "step count");
  if (argc > 1) seed = parse_u64(argv[1], "seed");
  if (argc > 2) steps = parse_u64(argv[2], "step count");
  rng_state = seed;
  context_first = getenv("IFD_TEST_CONTEXT_FIRST") && strcmp(getenv("IFD_TEST_CONTEXT_FIRST"), "1") == 0;
  backend = test_backend_from_env();
  printf("api_random: seed 0x%" PRIx64 ", %" PRIu64 " steps, backend %s\n", seed, steps,
         backend == IFD_BACKEND_CUDA ? "cuda" : backend == IFD_BACKEND_AUTO ? "auto" : "vulkan");

  /* Drivers keep fds from their first initialisation to exit (CUDA's cuInit,
   * the consumer's device): count once both exist and a context came and went. */
  ifd_context *first = test_context_or_skip(backend);
  char why[256] = "";
  have_consumer = vkr_open(&consumer, NULL, why, sizeof(why)) == 0;
  if (!have_consumer) printf("note: no Vulkan consumer, its calls are left out: %s\n", why);
  ifd_context_destroy(first);
  for (int i = 0; i < MAX_SEMFD; i++) semfds[i].fd = -1;
  for (int i = 0; i < MAX_DESC; i++) descs[i].d.memory_fd = descs[i].d.timeline_fd = -1;
  int fds_start = test_count_fds();
  if (getenv("IFD_TEST_SHOW_FDS")) system("ls -l /proc/$PPID/fd >&2");
  REQUIRE(pipe2(pipe_fds, O_CLOEXEC) == 0);
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(devnull >= 0);
  REQUIRE(ifd_context_create(backend, 0, &ctxs[0]) == 0);

  uint64_t t0 = test_now_ns();
  for (step = 0; step < steps; step++) run_step();
  step = steps;
  logf_op("teardown");
  teardown();
  close_fd(&pipe_fds[0]);
  close_fd(&pipe_fds[1]);
  close_fd(&devnull);
  int fds_end = test_count_fds();
  if (fds_end != fds_start && getenv("IFD_TEST_SHOW_FDS")) system("ls -l /proc/$PPID/fd >&2");
  if (fds_end != fds_start) fail("%d fds open at the end, %d at the start", fds_end, fds_start);
  if (have_consumer) vkr_close(&consumer);
  printf("api_random: %" PRIu64 " steps in %.1f s: %" PRIu64 " calls succeeded, %" PRIu64
         " failed as expected; all checks passed\n",
         steps, (double)(test_now_ns() - t0) / 1e9, calls_ok, calls_failed);
  return 0;
}
