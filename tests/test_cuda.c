/* The CUDA backend on a real NVIDIA GPU. One program, one mode per CTest test:
 *   test_cuda images    : kernels write every format into CUDA images; read back
 *                         by ifd_image_download and by a second Vulkan device
 *                         (imported buffer and linear image), every pixel.
 *   test_cuda roundtrip : timeline semaphores CUDA -> Vulkan -> CUDA with
 *                         device-side waits only; fd ownership of imports.
 *   test_cuda frames    : 10,000 frames written and signalled through the seed's
 *                         semaphore fd functions; prints frames/s.
 *   test_cuda dmabuf    : AsyncRT_DeviceBuffer_export_dmabuf layout and errors.
 *   test_cuda adopt     : ifd_context_create_cuda on the test's own context and
 *                         stream: work is ordered on that stream, which survives.
 *   test_cuda faults    : destroyed handles, foreign fds, then a sticky CUDA
 *                         error (trap) in the middle of a stream.
 *   test_cuda latency   : host wake-up latency of ifd_timeline_host_wait for a
 *                         CUDA-signalled value, against cuStreamSynchronize.
 * Every mode skips (exit 77) with the reason where there is no CUDA device, and
 * checks that it leaves no fd behind. Kernels: tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cuda_kernels.h"
#include "test_util.h"
#include "vk_consumer.h"

#define MS 1000000ull /* nanoseconds */
#define SEC 1000000000ull

static const cuda_kit *g_cu; /* the tools' CUDA table (cuda_kit.h), once a context exists */

#define CU_REQUIRE(call)                                                                \
  do {                                                                                  \
    CUresult r_ = (call);                                                               \
    if (r_ != CUDA_SUCCESS) {                                                           \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s: %s\n", __FILE__, __LINE__, #call,      \
              tk_error_name(g_cu, r_));                                                 \
      exit(1);                                                                          \
    }                                                                                   \
  } while (0)

#define CU_CHECK(call)                                                                  \
  do {                                                                                  \
    CUresult r_ = (call);                                                               \
    if (r_ != CUDA_SUCCESS) {                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s: %s\n", __FILE__, __LINE__, #call,        \
              tk_error_name(g_cu, r_));                                                 \
      test_failures++;                                                                  \
    }                                                                                   \
  } while (0)

/* ------------------------------------------------------------------ helpers */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / SEC), (long)(ns % SEC)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* A wait that never ends (a semaphore never signalled, a stream parked for
 * good) would otherwise only show up as CTest's timeout, with no hint. */
static void on_watchdog(int sig) {
  (void)sig;
  static const char msg[] = "watchdog: the test hung (a wait that never completes?)\n";
  if (write(2, msg, sizeof(msg) - 1) < 0) {
  }
  _exit(1);
}

static void start_watchdog(unsigned seconds) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_watchdog;
  sigaction(SIGALRM, &sa, NULL);
  alarm(seconds);
}

/* Open fds with what they point at, to name what leaked when the count differs. */
typedef struct {
  int n;
  struct {
    int fd;
    char target[160];
  } e[1024];
} fd_list;

static void fd_list_take(fd_list *l) {
  l->n = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return;
  int self = dirfd(dir);
  struct dirent *de;
  while ((de = readdir(dir)) && l->n < (int)(sizeof(l->e) / sizeof(l->e[0]))) {
    int fd = atoi(de->d_name);
    if (de->d_name[0] == '.' || fd == self) continue;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t len = readlink(path, l->e[l->n].target, sizeof(l->e[0].target) - 1);
    l->e[l->n].target[len > 0 ? len : 0] = '\0';
    l->e[l->n].fd = fd;
    l->n++;
  }
  closedir(dir);
}

static int fd_list_find(const fd_list *l, int fd, const char *target) {
  for (int i = 0; i < l->n; i++)
    if (l->e[i].fd == fd && strcmp(l->e[i].target, target) == 0) return 1;
  return 0;
}

/* Prints the fds that appeared or vanished since `before`. Returns how many of
 * them are errors: every vanished fd (someone closed an fd it did not own) and
 * every new fd, except, with `tolerate_driver_nodes`, NVIDIA device nodes. */
static int fd_list_diff(const fd_list *before, int tolerate_driver_nodes) {
  static fd_list after;
  fd_list_take(&after);
  int errors = 0;
  for (int i = 0; i < after.n; i++)
    if (!fd_list_find(before, after.e[i].fd, after.e[i].target)) {
      int tolerated = tolerate_driver_nodes && strncmp(after.e[i].target, "/dev/nvidia", 11) == 0;
      fprintf(stderr, "  fd %d -> %s: opened during the test and still open%s\n", after.e[i].fd,
              after.e[i].target, tolerated ? " (driver node, tolerated here)" : "");
      errors += !tolerated;
    }
  for (int i = 0; i < before->n; i++)
    if (!fd_list_find(&after, before->e[i].fd, before->e[i].target)) {
      fprintf(stderr, "  fd %d -> %s: was open before the test and is gone\n", before->e[i].fd,
              before->e[i].target);
      errors++;
    }
  return errors;
}

/* Compares image rows at `pitch` with the reference rows at `ref_pitch`;
 * prints the first wrong pixel with both byte strings. */
static int compare(const uint8_t *got, size_t pitch, const uint8_t *ref, size_t ref_pitch,
                   uint32_t w, uint32_t h, uint32_t bpp, const char *what, const char *label) {
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      const uint8_t *g = got + y * pitch + x * bpp, *r = ref + y * ref_pitch + x * bpp;
      if (memcmp(g, r, bpp) == 0) continue;
      fprintf(stderr, "%s via %s: first wrong pixel (%u,%u): got", label, what, x, y);
      for (uint32_t i = 0; i < bpp; i++) fprintf(stderr, " %02x", g[i]);
      fprintf(stderr, ", expected");
      for (uint32_t i = 0; i < bpp; i++) fprintf(stderr, " %02x", r[i]);
      fprintf(stderr, "\n");
      return 1;
    }
  return 0;
}

/* The bytes of the allocation outside the pixels (row padding, the tail) must
 * still hold `fill`: the kernel wrote inside each row only. */
static int check_outside_pixels(const uint8_t *mem, uint64_t size, uint32_t pitch, uint32_t w,
                                uint32_t h, uint32_t bpp, uint8_t fill, const char *label) {
  uint64_t end = size / 4 * 4; /* what the fill_u32 pre-fill covered */
  for (uint64_t off = 0; off < end; off++) {
    uint64_t y = off / pitch, x_byte = off % pitch;
    if (y < h && x_byte < (uint64_t)w * bpp) continue;
    if (mem[off] != fill) {
      fprintf(stderr, "%s: byte %llu (row %llu, byte %llu of the row) outside the pixels is %02x,"
              " expected the pre-fill %02x\n", label, (unsigned long long)off,
              (unsigned long long)y, (unsigned long long)x_byte, mem[off], fill);
      return 1;
    }
  }
  return 0;
}

static int uuid_is_zero(const uint8_t uuid[16]) {
  for (int i = 0; i < 16; i++)
    if (uuid[i]) return 0;
  return 1;
}

/* The library's own CUDA context, made current on this thread, with the test
 * kernels loaded into it. */
typedef struct {
  ifd_context *ctx;
  ifd_context_native nat;
  CUstream stream;
  tk_kernels k;
} cuda_env;

static ifd_context *create_cuda_or_skip(void) {
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(IFD_BACKEND_CUDA, 0, &ctx);
  if (rc == -ENODEV) SKIP("no CUDA device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  if (!g_cu) {
    REQUIRE(cuda_kit_load(&g_cu) == 0); /* a CUDA context exists, so the driver is loaded */
  }
  return ctx;
}

static void env_open(cuda_env *e) {
  memset(e, 0, sizeof(*e));
  e->ctx = create_cuda_or_skip();
  REQUIRE(ifd_context_native_handles(e->ctx, &e->nat) == 0);
  REQUIRE(e->nat.backend == IFD_BACKEND_CUDA && e->nat.cu_context != NULL);
  e->stream = (CUstream)e->nat.cu_stream;
  CU_REQUIRE(g_cu->cuCtxPushCurrent((CUcontext)e->nat.cu_context));
  CU_REQUIRE(tk_load(g_cu, &e->k));
}

static void env_close(cuda_env *e) {
  tk_unload(&e->k);
  CUcontext popped = NULL;
  g_cu->cuCtxPopCurrent(&popped);
  ifd_context_destroy(e->ctx);
  memset(e, 0, sizeof(*e));
}

/* A Vulkan ifd context on the same GPU as the CUDA one (matched by UUID), or a
 * skip where there is none. */
static ifd_context *create_vulkan_ctx_on(const ifd_context_native *cuda_nat) {
  for (int i = 0; i < 8; i++) {
    ifd_context *vk = NULL;
    int rc = ifd_context_create(IFD_BACKEND_VULKAN, i, &vk);
    if (rc == -ENODEV && i == 0) SKIP("no Vulkan device: %s", ifd_last_error());
    if (rc != 0) break;
    ifd_context_native nat;
    REQUIRE(ifd_context_native_handles(vk, &nat) == 0);
    if (uuid_is_zero(cuda_nat->device_uuid) ||
        memcmp(nat.device_uuid, cuda_nat->device_uuid, 16) == 0)
      return vk;
    ifd_context_destroy(vk);
  }
  SKIP("no Vulkan device has the CUDA device's UUID");
}

/* The consumer side: a second VkDevice on the CUDA device, as another process
 * would open it. */
static void open_consumer_on(vkc *c, const ifd_context_native *cuda_nat) {
  for (int i = 0; i < 8; i++) {
    if (vkc_open(c, i) != 0) {
      if (i == 0) SKIP("no Vulkan device to import into (vkc_open failed)");
      break;
    }
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &id};
    vkGetPhysicalDeviceProperties2(c->physical, &p2);
    if (uuid_is_zero(cuda_nat->device_uuid) ||
        memcmp(id.deviceUUID, cuda_nat->device_uuid, 16) == 0)
      return;
    vkc_close(c);
  }
  SKIP("no Vulkan device has the CUDA device's UUID");
}

/* The driver opens some fds once per process (cuInit, the first context, the
 * Vulkan ICD) and keeps them. One full cycle before counting makes the fd
 * check catch what leaks per object, not what the driver caches. Also the
 * skip check: no CUDA device, no test. */
static void warm_up(void) {
  cuda_env e;
  env_open(&e);
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  ifd_image_native in;
  REQUIRE(ifd_image_native_handles(img, &in) == 0);
  CU_REQUIRE(tk_fill_pattern(&e.k, e.stream, in.cu_device_ptr, in.row_pitch, 64, 64,
                             MAX_FMT_RGBA8, 1));
  uint8_t buf[64 * 64 * 4];
  REQUIRE(ifd_image_download(img, buf, 64 * 4) == 0);
  int fd = -1;
  uint64_t size;
  uint32_t pitch, w, h;
  MAX_Format f;
  if (AsyncRT_DeviceBuffer_export_fd(img, &fd, &size, &pitch, &w, &h, &f) == 0) close(fd);
  ifd_timeline *tl = NULL;
  if (ifd_timeline_create(e.ctx, 0, &tl) == 0) {
    ifd_timeline_signal(tl, 1);
    ifd_timeline_host_wait(tl, 1, 5 * SEC);
    ifd_timeline_destroy(tl);
  }
  ifd_image_destroy(img);
  ifd_context *vk = NULL;
  if (ifd_context_create(IFD_BACKEND_VULKAN, 0, &vk) == 0) ifd_context_destroy(vk);
  vkc c;
  if (vkc_open(&c, 0) == 0) vkc_close(&c);
  env_close(&e);
}

/* ------------------------------------------------------------------ images */

static void check_cuda_image(cuda_env *e, vkc *consumer, MAX_Format format, uint32_t w,
                             uint32_t h, uint32_t seed) {
  ifd_format_info fi;
  REQUIRE(ifd_format_query(format, &fi) == 0);
  char label[64];
  snprintf(label, sizeof(label), "%s %ux%u", fi.name, w, h);
  int before = test_failures;
  const uint32_t bpp = fi.bytes_per_pixel;
  const uint8_t prefill = 0xA5;

  ifd_image *image = NULL;
  CHECK_RC(ifd_image_create(e->ctx, w, h, format, &image), 0);
  if (!image) return;
  ifd_image_native in;
  CHECK_RC(ifd_image_native_handles(image, &in), 0);
  const uint32_t pitch = ifd_image_row_pitch(image);
  const uint64_t size = ifd_image_size(image);
  CHECK(in.backend == IFD_BACKEND_CUDA && in.cu_device_ptr != 0);
  CHECK(in.row_pitch == pitch && in.size == size);
  CHECK(pitch >= w * bpp && pitch % bpp == 0 && size >= (uint64_t)pitch * h);

  /* Pre-fill the whole allocation so that the pattern must come from the
   * kernel and the bytes around the pixels can be checked. */
  CU_CHECK(tk_fill_u32(&e->k, e->stream, in.cu_device_ptr, (unsigned)(size / 4),
                       0x01010101u * prefill));
  CU_CHECK(tk_fill_pattern(&e->k, e->stream, in.cu_device_ptr, pitch, w, h, format, seed));

  size_t ref_pitch = (size_t)w * bpp;
  uint8_t *ref = malloc(ref_pitch * h), *back = malloc(ref_pitch * h), *imported = malloc(size);
  REQUIRE(ref && back && imported);
  test_fill_pattern(ref, ref_pitch, w, h, format, seed);
  /* No timeline: the download is ordered after the stream's kernels. */
  CHECK_RC(ifd_image_download(image, back, ref_pitch), 0);
  test_failures += compare(back, ref_pitch, ref, ref_pitch, w, h, bpp, "ifd_image_download", label);

  int fd = -1;
  uint64_t esize = 0;
  uint32_t epitch = 0, ow = 0, oh = 0;
  MAX_Format of = 0;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &esize, &epitch, &ow, &oh, &of), 0);
  CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(ow == w && oh == h && of == format && epitch == pitch && esize == size);
  if (fd >= 0 && vkc_read_via_buffer(consumer, fd, size, imported) == 0) {
    test_failures += compare(imported, pitch, ref, ref_pitch, w, h, bpp, "imported buffer", label);
    test_failures += check_outside_pixels(imported, size, pitch, w, h, bpp, prefill, label);
  } else {
    fprintf(stderr, "%s: buffer import failed\n", label);
    test_failures++;
    if (fd >= 0) close(fd);
  }

  /* A linear VkImage on the consumer side sees the same pixels only if the
   * exporter's pitch is the device's own linear layout; it comes back tightly
   * packed. */
  fd = -1;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &esize, &epitch, &ow, &oh, &of), 0);
  if (fd >= 0 && vkc_read_via_linear_image(consumer, fd, size, w, h, (VkFormat)fi.vk_format, bpp,
                                           imported) == 0) {
    test_failures += compare(imported, ref_pitch, ref, ref_pitch, w, h, bpp,
                             "imported linear image", label);
  } else {
    fprintf(stderr, "%s: linear image import failed\n", label);
    test_failures++;
    if (fd >= 0) close(fd);
  }

  /* The host path of the CUDA backend too: upload another pattern, read it back. */
  test_fill_pattern(ref, ref_pitch, w, h, format, seed + 1);
  CHECK_RC(ifd_image_upload(image, ref, ref_pitch), 0);
  CHECK_RC(ifd_image_download(image, back, ref_pitch), 0);
  test_failures += compare(back, ref_pitch, ref, ref_pitch, w, h, bpp, "upload + download", label);

  printf("%-6s %-18s pitch %-6u size %-9llu\n", test_failures == before ? "PASS" : "FAIL", label,
         pitch, (unsigned long long)size);
  free(imported);
  free(ref);
  free(back);
  ifd_image_destroy(image);
}

static void mode_images(void) {
  static const struct {
    MAX_Format format;
    uint32_t w, h;
  } cases[] = {
      {MAX_FMT_RGBA8, 64, 64},   {MAX_FMT_RGBA8, 61, 37},   {MAX_FMT_RGBA8, 1920, 1080},
      {MAX_FMT_R8, 64, 64},      {MAX_FMT_R8, 61, 37},      {MAX_FMT_RGBA16F, 64, 64},
      {MAX_FMT_RGBA16F, 61, 37}, {MAX_FMT_RG8, 29, 13},     {MAX_FMT_BGRA8, 29, 13},
      {MAX_FMT_SRGBA8, 29, 13},  {MAX_FMT_R16F, 29, 13},    {MAX_FMT_RG16F, 29, 13},
      {MAX_FMT_R32F, 29, 13},    {MAX_FMT_RG32F, 29, 13},   {MAX_FMT_RGBA32F, 29, 13},
  };
  cuda_env e;
  env_open(&e);
  vkc consumer;
  open_consumer_on(&consumer, &e.nat);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    check_cuda_image(&e, &consumer, cases[i].format, cases[i].w, cases[i].h,
                     (uint32_t)(i * 10 + 3));
  vkc_close(&consumer);
  env_close(&e);
}

/* ------------------------------------------------------------------ roundtrip */

static void check_import_consumes(ifd_context *into, ifd_timeline *from, const char *label) {
  int before = test_count_fds();
  int fd = -1;
  CHECK_RC(ifd_timeline_export_fd(from, &fd), 0);
  if (fd < 0) return;
  ifd_timeline *t = NULL;
  CHECK_RC(ifd_timeline_import_fd(into, fd, &t), 0);
  /* The fd was closed, or handed to the driver: either way not ours to close,
   * and it does not stay open on the side. */
  int closed = fcntl(fd, F_GETFD) == -1;
  int count = test_count_fds();
  printf("import into %s: fd %s, open fds %d -> %d\n", label, closed ? "closed" : "still open",
         before, count);
  CHECK(closed || count <= before);
  ifd_timeline_destroy(t);
}

static void check_import_refuses(ifd_context *into, int fd, int want, const char *what,
                                 const char *label) {
  ifd_timeline *t = NULL;
  int rc = ifd_timeline_import_fd(into, fd, &t);
  printf("import %s into %s: %d (%s)\n", what, label, rc, ifd_last_error());
  CHECK_RC(rc, want);
  CHECK(rc < 0 && t == NULL);
  if (fd >= 0 && want != -EBADF) CHECK(fcntl(fd, F_GETFD) != -1); /* still the caller's */
  if (rc == 0) ifd_timeline_destroy(t);
}

static void mode_roundtrip(void) {
  cuda_env e;
  env_open(&e);
  ifd_context *vk = create_vulkan_ctx_on(&e.nat);

  /* A: CUDA -> Vulkan; B: Vulkan -> CUDA. */
  ifd_timeline *a = NULL, *a_vk = NULL, *b = NULL, *b_cu = NULL;
  REQUIRE(ifd_timeline_create(e.ctx, 0, &a) == 0);
  int fd = -1;
  REQUIRE(ifd_timeline_export_fd(a, &fd) == 0);
  int rc = ifd_timeline_import_fd(vk, fd, &a_vk);
  if (rc == -EOPNOTSUPP) SKIP("the Vulkan device cannot import semaphores: %s", ifd_last_error());
  REQUIRE(rc == 0);
  rc = ifd_timeline_create(vk, 0, &b);
  if (rc == -EOPNOTSUPP) SKIP("the Vulkan device cannot export semaphores: %s", ifd_last_error());
  REQUIRE(rc == 0);
  fd = -1;
  REQUIRE(ifd_timeline_export_fd(b, &fd) == 0);
  REQUIRE(ifd_timeline_import_fd(e.ctx, fd, &b_cu) == 0);

  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  ifd_image_native in;
  REQUIRE(ifd_image_native_handles(img, &in) == 0);
  unsigned words = (unsigned)(in.size / 4);

  /* Round 1: the CUDA stream waits for B=1 on the device, writes, signals A=1. */
  CU_CHECK(tk_fill_u32(&e.k, e.stream, in.cu_device_ptr, words, 0));
  CHECK_RC(ifd_timeline_wait(b_cu, 1), 0);
  CU_CHECK(tk_fill_u32(&e.k, e.stream, in.cu_device_ptr, words, 0x5A5A5A5Au));
  CHECK_RC(ifd_timeline_signal(a, 1), 0);
  sleep_ns(50 * MS);
  uint64_t v = 99;
  CHECK_RC(ifd_timeline_value(a, &v), 0);
  CHECK(v == 0); /* the stream is parked on B */
  v = 99;
  CHECK_RC(ifd_timeline_value(a_vk, &v), 0);
  CHECK(v == 0);
  CHECK_RC(ifd_timeline_signal(b, 1), 0); /* Vulkan queue releases the CUDA stream */
  CHECK_RC(ifd_timeline_host_wait(a, 1, 5 * SEC), 0);
  CHECK_RC(ifd_timeline_host_wait(a_vk, 1, 5 * SEC), 0);
  uint8_t *pix = malloc(64 * 64 * 4);
  REQUIRE(pix);
  CHECK_RC(ifd_image_download(img, pix, 64 * 4), 0);
  int bad = 0;
  for (size_t i = 0; i < 64 * 64 * 4; i++) bad += pix[i] != 0x5A;
  if (bad) fprintf(stderr, "round 1: %d bytes are not 0x5A (first: %02x)\n", bad, pix[0]);
  CHECK(bad == 0);
  free(pix);

  /* Round 2: the Vulkan queue waits for A=2 on the device, then signals B=2. */
  CHECK_RC(ifd_timeline_wait(a_vk, 2), 0);
  CHECK_RC(ifd_timeline_signal(b, 2), 0);
  sleep_ns(50 * MS);
  v = 99;
  CHECK_RC(ifd_timeline_value(b_cu, &v), 0);
  CHECK(v == 1); /* the Vulkan queue is parked on A */
  CHECK_RC(ifd_timeline_signal(a, 2), 0);
  CHECK_RC(ifd_timeline_host_wait(b_cu, 2, 5 * SEC), 0);
  v = 0;
  CHECK_RC(ifd_timeline_value(b, &v), 0);
  CHECK(v == 2);

  /* Import ownership: consumed on success, still the caller's on failure. */
  check_import_consumes(vk, a, "the Vulkan context");
  check_import_consumes(e.ctx, b, "the CUDA context");
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  REQUIRE(devnull >= 0);
  /* interop_fd.h: "-EIO the driver refused the fd" */
  check_import_refuses(e.ctx, devnull, -EIO, "/dev/null", "the CUDA context");
  check_import_refuses(vk, devnull, -EIO, "/dev/null", "the Vulkan context");
  close(devnull);
  check_import_refuses(e.ctx, devnull, -EBADF, "a closed fd", "the CUDA context");

  ifd_image_destroy(img);
  ifd_timeline_destroy(b_cu);
  ifd_timeline_destroy(a_vk);
  ifd_timeline_destroy(b);
  ifd_timeline_destroy(a);
  ifd_context_destroy(vk);
  env_close(&e);
}

/* ------------------------------------------------------------------ frames */

static void mode_frames(void) {
  enum { FRAMES = 10000, W = 256, H = 256, BOUND = 100 };
  cuda_env e;
  env_open(&e);
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(e.ctx, W, H, MAX_FMT_RGBA8, &img) == 0);
  ifd_image_native in;
  REQUIRE(ifd_image_native_handles(img, &in) == 0);
  int sem_fd = -1;
  int rc = AsyncRT_Create_timeline_semaphore_fd(e.ctx, 0, &sem_fd);
  REQUIRE(rc == 0 && sem_fd >= 0);
  /* A second handle on the same semaphore to wait on: importers consume the
   * fd they get, so give it a dup. */
  int dup_fd = dup(sem_fd);
  REQUIRE(dup_fd >= 0);
  ifd_timeline *watch = NULL;
  rc = ifd_timeline_import_fd(e.ctx, dup_fd, &watch);
  if (rc != 0) close(dup_fd);
  REQUIRE(rc == 0);

  uint64_t t0 = now_ns();
  uint32_t n = 0;
  for (n = 1; n <= FRAMES; n++) {
    if (tk_fill_pattern(&e.k, e.stream, in.cu_device_ptr, in.row_pitch, W, H, MAX_FMT_RGBA8, n)) {
      test_failures++;
      break;
    }
    rc = AsyncRT_Signal_timeline_semaphore_fd(sem_fd, n);
    if (rc != 0) {
      fprintf(stderr, "frame %u: AsyncRT_Signal_timeline_semaphore_fd: %d (%s)\n", n, rc,
              ifd_last_error());
      test_failures++;
      break;
    }
    /* Bound the queue: at most about 2 * BOUND frames in flight. */
    if (n % BOUND == 0 && n > BOUND) {
      rc = ifd_timeline_host_wait(watch, n - BOUND, 5 * SEC);
      if (rc != 0) {
        fprintf(stderr, "frame %u: host_wait(%u): %d (%s)\n", n, n - BOUND, rc, ifd_last_error());
        test_failures++;
        break;
      }
    }
  }
  CHECK(n == FRAMES + 1);
  CHECK_RC(ifd_timeline_host_wait(watch, FRAMES, 10 * SEC), 0);
  double secs = (double)(now_ns() - t0) / 1e9;
  uint64_t v = 0;
  CHECK_RC(ifd_timeline_value(watch, &v), 0);
  CHECK(v == FRAMES);
  printf("frames: %u frames of %ux%u rgba8 in %.3f s: %.0f frames/s\n", FRAMES, W, H, secs,
         FRAMES / secs);

  /* The last frame is the one seen. */
  uint8_t *ref = malloc(W * H * 4), *back = malloc(W * H * 4);
  REQUIRE(ref && back);
  test_fill_pattern(ref, W * 4, W, H, MAX_FMT_RGBA8, FRAMES);
  CHECK_RC(ifd_image_download(img, back, W * 4), 0);
  test_failures += compare(back, W * 4, ref, W * 4, W, H, 4, "ifd_image_download", "last frame");
  free(ref);
  free(back);

  close(sem_fd); /* the semaphore itself lives until the context goes */
  ifd_timeline_destroy(watch);
  ifd_image_destroy(img);
  env_close(&e);
}

/* ------------------------------------------------------------------ dmabuf */

static void mode_dmabuf(void) {
  cuda_env e;
  env_open(&e);
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 1920, 1080, MAX_FMT_RGBA8, &img) == 0);
  ifd_format_info fi;
  REQUIRE(ifd_format_query(MAX_FMT_RGBA8, &fi) == 0);
  int fd = -1;
  uint64_t size = 0, modifier = 99;
  uint32_t stride = 0, w = 0, h = 0, fourcc = 0;
  CHECK_RC(AsyncRT_DeviceBuffer_export_dmabuf(img, &fd, &size, &stride, &w, &h, &fourcc, &modifier),
           0);
  CHECK(fd >= 0);
  if (fd >= 0) {
    off_t end = lseek(fd, 0, SEEK_END);
    printf("dmabuf rgba8 1920x1080: size %llu, dma-buf %lld bytes, stride %u, fourcc %.4s\n",
           (unsigned long long)size, (long long)end, stride, (const char *)&fourcc);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(end >= (off_t)stride * 1080);
    CHECK(end >= (off_t)size); /* an importer may import all `size` bytes */
    close(fd);
  }
  CHECK(fourcc == fi.drm_fourcc && modifier == 0);
  CHECK(stride == ifd_image_row_pitch(img) && size == ifd_image_size(img));
  CHECK(w == 1920 && h == 1080);
  ifd_image_destroy(img);

  /* Every format: those with a fourcc export, the others are -EINVAL. */
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++) {
    REQUIRE(ifd_format_query((MAX_Format)f, &fi) == 0);
    img = NULL;
    CHECK_RC(ifd_image_create(e.ctx, 64, 64, (MAX_Format)f, &img), 0);
    if (!img) continue;
    fd = 42;
    fourcc = 0;
    int rc =
        AsyncRT_DeviceBuffer_export_dmabuf(img, &fd, &size, &stride, &w, &h, &fourcc, &modifier);
    if (fi.drm_fourcc == 0) {
      CHECK_RC(rc, -EINVAL);
      CHECK(fd == -1);
    } else {
      CHECK_RC(rc, 0);
      CHECK(fd >= 0 && fourcc == fi.drm_fourcc && stride == ifd_image_row_pitch(img));
    }
    if (fd >= 0) close(fd);
    ifd_image_destroy(img);
  }
  img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 64, 64, MAX_FMT_R16F, &img) == 0);
  fd = 42;
  CHECK_RC(AsyncRT_DeviceBuffer_export_dmabuf(img, &fd, &size, &stride, &w, &h, &fourcc, &modifier),
           -EINVAL);
  CHECK(fd == -1);
  ifd_image_destroy(img);
  env_close(&e);
}

/* ------------------------------------------------------------------ adopt */

static void mode_adopt(void) {
  /* The library's own context only to get the driver table; then our own. */
  ifd_context_destroy(create_cuda_or_skip());
  const cuda_kit *cu = g_cu;
  CUdevice dev = 0;
  CUcontext pctx = NULL;
  CUstream stream = NULL;
  CU_REQUIRE(cu->cuDeviceGet(&dev, 0));
  CU_REQUIRE(cu->cuDevicePrimaryCtxRetain(&pctx, dev));
  CU_REQUIRE(cu->cuCtxPushCurrent(pctx));
  CU_REQUIRE(cu->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  tk_kernels k;
  CU_REQUIRE(tk_load(cu, &k));

  ifd_context *bad = (ifd_context *)(uintptr_t)0x1;
  CHECK_RC(ifd_context_create_cuda(NULL, stream, &bad), -EINVAL);
  CHECK(bad == (ifd_context *)(uintptr_t)0x1); /* untouched on failure */

  ifd_context *ictx = NULL;
  REQUIRE(ifd_context_create_cuda(pctx, stream, &ictx) == 0);
  ifd_context_native nat;
  CHECK_RC(ifd_context_native_handles(ictx, &nat), 0);
  CHECK(nat.backend == IFD_BACKEND_CUDA && ifd_context_backend(ictx) == IFD_BACKEND_CUDA);
  CHECK(nat.cu_context == (void *)pctx && nat.cu_stream == (void *)stream && nat.cu_device == dev);

  /* Objects first: creating them may wait for the stream, which is about to
   * be parked. */
  enum { W = 61, H = 37 };
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(ictx, W, H, MAX_FMT_RGBA16F, &img) == 0);
  ifd_image_native in;
  REQUIRE(ifd_image_native_handles(img, &in) == 0);
  ifd_timeline *tl = NULL;
  REQUIRE(ifd_timeline_create(ictx, 0, &tl) == 0);

  /* Park our stream behind a host-controlled gate, then write and signal: if
   * the signal were on any other stream, it would land before the gate opens. */
  uint32_t *word = NULL;
  CUdeviceptr word_dev = 0;
  CU_REQUIRE(cu->cuMemAllocHost((void **)&word, sizeof(*word)));
  __atomic_store_n(word, 0u, __ATOMIC_SEQ_CST);
  CU_REQUIRE(cu->cuMemHostGetDevicePointer(&word_dev, word, 0));
  CU_CHECK(cu->cuStreamWaitValue32(stream, word_dev, 1, CU_STREAM_WAIT_VALUE_GEQ));
  CU_CHECK(tk_fill_pattern(&k, stream, in.cu_device_ptr, in.row_pitch, W, H, MAX_FMT_RGBA16F, 7));
  CHECK_RC(ifd_timeline_signal(tl, 1), 0);
  sleep_ns(50 * MS);
  uint64_t v = 99;
  CHECK_RC(ifd_timeline_value(tl, &v), 0);
  CHECK(v == 0); /* behind the gate on our stream */
  __atomic_store_n(word, 1u, __ATOMIC_SEQ_CST);
  CHECK_RC(ifd_timeline_host_wait(tl, 1, 5 * SEC), 0);
  uint8_t ref[W * H * 8], back[W * H * 8];
  test_fill_pattern(ref, W * 8, W, H, MAX_FMT_RGBA16F, 7);
  CHECK_RC(ifd_image_download(img, back, W * 8), 0);
  test_failures += compare(back, W * 8, ref, W * 8, W, H, 8, "ifd_image_download", "adopted");

  /* Destroying the ifd context leaves our context and stream alive. */
  ifd_context_destroy(ictx);
  CU_CHECK(cu->cuStreamQuery(stream));
  /* ... and usable: a kernel on it writes the pinned word (the image's memory
   * went with the ifd context, so it must not be touched any more). */
  CU_CHECK(tk_fill_u32(&k, stream, word_dev, 1, 0xC0FFEEu));
  CU_CHECK(cu->cuStreamSynchronize(stream));
  CHECK(__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0xC0FFEEu);

  /* The legacy default stream (NULL) is accepted too. */
  ifd_context *dflt = NULL;
  CHECK_RC(ifd_context_create_cuda(pctx, NULL, &dflt), 0);
  if (dflt) {
    CHECK_RC(ifd_context_native_handles(dflt, &nat), 0);
    CHECK(nat.cu_context == (void *)pctx && nat.cu_stream == NULL);
    ifd_context_destroy(dflt);
  }
  CU_CHECK(cu->cuCtxSynchronize());

  tk_unload(&k);
  CU_CHECK(cu->cuMemFreeHost(word));
  CU_CHECK(cu->cuStreamDestroy(stream));
  CUcontext popped = NULL;
  CU_CHECK(cu->cuCtxPopCurrent(&popped));
  CHECK(popped == pctx);
  CU_CHECK(cu->cuDevicePrimaryCtxRelease(dev));
}

/* ------------------------------------------------------------------ faults */

static void mode_faults(void) {
  static fd_list before_trap;
  fd_list_take(&before_trap);
  int count_before = test_count_fds();
  cuda_env e;
  env_open(&e);
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  int fd = 42;
  uint64_t size;
  uint32_t pitch, w, h, fourcc;
  uint64_t modifier;
  MAX_Format f;

  /* A destroyed image. */
  ifd_image_destroy(img);
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(img, &fd, &size, &pitch, &w, &h, &f), -EINVAL);
  CHECK(fd == -1);
  fd = 42;
  CHECK_RC(AsyncRT_DeviceBuffer_export_dmabuf(img, &fd, &size, &pitch, &w, &h, &fourcc, &modifier),
           -EINVAL);
  CHECK(fd == -1);
  uint8_t pix[64 * 64 * 4];
  CHECK_RC(ifd_image_download(img, pix, 64 * 4), -EINVAL);

  /* fds that are not our semaphores. */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int p[2];
  REQUIRE(devnull >= 0 && pipe2(p, O_CLOEXEC) == 0);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(devnull, 1), -EINVAL);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(p[0], 1), -EINVAL);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(p[1], 1), -EINVAL);
  close(devnull);
  close(p[0]);
  close(p[1]);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(p[0], 1), -EBADF);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(-1, 1), -EBADF);

  /* Objects of a destroyed context: its images are gone, and so is the
   * semaphore behind an fd the caller still holds. */
  ifd_context *other = create_cuda_or_skip();
  ifd_image *orphan = NULL;
  REQUIRE(ifd_image_create(other, 64, 64, MAX_FMT_RGBA8, &orphan) == 0);
  int sem_fd = -1;
  CHECK_RC(AsyncRT_Create_timeline_semaphore_fd(other, 0, &sem_fd), 0);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(sem_fd, 1), 0);
  ifd_context_destroy(other);
  fd = 42;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(orphan, &fd, &size, &pitch, &w, &h, &f), -EINVAL);
  CHECK(fd == -1);
  if (sem_fd >= 0) {
    CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(sem_fd, 2), -EINVAL);
    close(sem_fd);
  }
  CHECK_RC(ifd_context_create_cuda(NULL, NULL, &other), -EINVAL);

  /* Everything so far must have given its fds back, before the trap makes
   * the driver's state unpredictable. */
  env_close(&e);
  int count = test_count_fds();
  CHECK(count == count_before);
  if (count != count_before) fd_list_diff(&before_trap, 0);

  /* A sticky error in the middle of the stream. Last: it poisons the CUDA
   * context, for the whole process if the backend uses the primary context. */
  env_open(&e);
  img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  ifd_timeline *tl = NULL;
  REQUIRE(ifd_timeline_create(e.ctx, 0, &tl) == 0);
  CHECK_RC(ifd_timeline_signal(tl, 1), 0);
  CHECK_RC(ifd_timeline_host_wait(tl, 1, 5 * SEC), 0);
  CHECK_RC(ifd_image_download(img, pix, 64 * 4), 0);

  CUresult tr = (CUresult)tk_trap(&e.k, e.stream);
  printf("trap launch: %s\n", tk_error_name(g_cu, tr)); /* usually success: it fails later */
  int rc = ifd_image_download(img, pix, 64 * 4);
  const char *msg = ifd_last_error();
  printf("download after the trap: %d (%s)\n", rc, msg);
  CHECK(rc < 0);
  CHECK(msg[0] != '\0' && strstr(msg, "CUDA") != NULL);
  rc = ifd_image_upload(img, pix, 64 * 4);
  printf("upload after the trap: %d (%s)\n", rc, ifd_last_error());
  CHECK(rc < 0);
  rc = ifd_timeline_signal(tl, 2);
  printf("signal after the trap: %d (%s)\n", rc, rc ? ifd_last_error() : "");
  CHECK(rc <= 0);
  uint64_t t0 = now_ns();
  rc = ifd_timeline_host_wait(tl, 2, 100 * MS);
  uint64_t waited = now_ns() - t0;
  printf("host_wait after the trap: %d after %.1f ms (%s)\n", rc, waited / 1e6,
         rc ? ifd_last_error() : "");
  CHECK(waited < 5 * SEC); /* returns, with a timeout or an error, never hangs */
  ifd_image *late = NULL;
  rc = ifd_image_create(e.ctx, 16, 16, MAX_FMT_RGBA8, &late);
  printf("image create after the trap: %d (%s)\n", rc, rc ? ifd_last_error() : "");
  if (rc == 0) ifd_image_destroy(late);
  t0 = now_ns();
  env_close(&e); /* destroys img and tl with the context; must not hang or crash */
  printf("context destroy after the trap: %.1f ms\n", (now_ns() - t0) / 1e6);
  /* main checks the fds again, tolerating device nodes the driver keeps
   * around a poisoned context; the process must also exit cleanly. */
}

/* ------------------------------------------------------------------ latency */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void percentiles(double *v, int n, double *p50, double *p99) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  *p50 = v[n / 2];
  int i99 = n * 99 / 100;
  *p99 = v[i99 < n ? i99 : n - 1];
}

static void mode_latency(void) {
  enum { ITER = 2000, WARM = 20 };
  cuda_env e;
  env_open(&e);
  const cuda_kit *cu = g_cu;
  /* A pinned host word the stream waits on: the host opens the gate at t0. */
  uint32_t *word = NULL;
  CUdeviceptr word_dev = 0;
  CU_REQUIRE(cu->cuMemAllocHost((void **)&word, sizeof(*word)));
  __atomic_store_n(word, 0u, __ATOMIC_SEQ_CST);
  CU_REQUIRE(cu->cuMemHostGetDevicePointer(&word_dev, word, 0));
  ifd_timeline *tl = NULL;
  REQUIRE(ifd_timeline_create(e.ctx, 0, &tl) == 0);

  static double wait_us[ITER], sync_us[ITER];
  int n_wait = 0, n_sync = 0, timeouts = 0, early = 0, errors = 0;
  uint32_t gate = 0;
  for (int i = 0; i < WARM + ITER; i++) {
    gate++;
    CUresult r = cu->cuStreamWaitValue32(e.stream, word_dev, gate, CU_STREAM_WAIT_VALUE_GEQ);
    int rc = ifd_timeline_signal(tl, gate);
    if (r != CUDA_SUCCESS || rc != 0) {
      fprintf(stderr, "iteration %d: cuStreamWaitValue32 %s, ifd_timeline_signal %d (%s)\n", i,
              tk_error_name(cu, r), rc, ifd_last_error());
      __atomic_store_n(word, gate, __ATOMIC_SEQ_CST);
      errors++;
      break;
    }
    sleep_ns(200000); /* let the stream park on the gate */
    uint64_t v = 0;
    if (ifd_timeline_value(tl, &v) == 0 && v >= gate) early++; /* the gate did not hold */
    uint64_t t0 = now_ns();
    __atomic_store_n(word, gate, __ATOMIC_SEQ_CST);
    rc = ifd_timeline_host_wait(tl, gate, SEC);
    uint64_t t1 = now_ns();
    if (rc == -ETIMEDOUT) timeouts++;
    else if (rc != 0) errors++;
    if (timeouts + errors > 5) { /* 2,000 one-second timeouts would outlast CTest */
      fprintf(stderr, "iteration %d: host_wait keeps failing: %d (%s)\n", i, rc,
              ifd_last_error());
      break;
    }
    if (i >= WARM) wait_us[n_wait++] = (double)(t1 - t0) / 1e3;
  }
  /* Reference: the same gate, the host waiting with cuStreamSynchronize. */
  for (int i = 0; i < WARM + ITER; i++) {
    gate++;
    CUresult r = cu->cuStreamWaitValue32(e.stream, word_dev, gate, CU_STREAM_WAIT_VALUE_GEQ);
    if (r != CUDA_SUCCESS) {
      fprintf(stderr, "reference %d: cuStreamWaitValue32: %s\n", i, tk_error_name(cu, r));
      errors++;
      break;
    }
    sleep_ns(200000);
    uint64_t t0 = now_ns();
    __atomic_store_n(word, gate, __ATOMIC_SEQ_CST);
    r = cu->cuStreamSynchronize(e.stream);
    uint64_t t1 = now_ns();
    if (r != CUDA_SUCCESS) {
      fprintf(stderr, "reference %d: cuStreamSynchronize: %s\n", i, tk_error_name(cu, r));
      errors++;
      break;
    }
    if (i >= WARM) sync_us[n_sync++] = (double)(t1 - t0) / 1e3;
  }
  __atomic_store_n(word, gate, __ATOMIC_SEQ_CST); /* no gate stays closed */
  CHECK(errors == 0);
  CHECK(timeouts == 0);
  CHECK(early == 0);
  CHECK(n_wait == ITER && n_sync == ITER);
  if (n_wait > 0 && n_sync > 0) {
    double w50, w99, s50, s99;
    percentiles(wait_us, n_wait, &w50, &w99);
    percentiles(sync_us, n_sync, &s50, &s99);
    printf("latency host_wait p50=%.1f p99=%.1f us; reference cuStreamSynchronize p50=%.1f "
           "p99=%.1f us\n", w50, w99, s50, s99);
    printf("(%d + %d samples; %d host waits timed out; %d gates opened early)\n", n_wait, n_sync,
           timeouts, early);
    const char *assert_env = getenv("IFD_LATENCY_ASSERT");
    if (assert_env && strcmp(assert_env, "1") == 0) CHECK(w50 < 200.0);
  }
  CU_CHECK(cu->cuStreamSynchronize(e.stream));
  CU_CHECK(cu->cuMemFreeHost(word));
  ifd_timeline_destroy(tl);
  env_close(&e);
}

/* ------------------------------------------------------------------ main */

static const struct {
  const char *name;
  void (*run)(void);
} modes[] = {
    {"images", mode_images}, {"roundtrip", mode_roundtrip}, {"frames", mode_frames},
    {"dmabuf", mode_dmabuf}, {"adopt", mode_adopt},         {"faults", mode_faults},
    {"latency", mode_latency},
};

int main(int argc, char **argv) {
  int m = -1;
  for (int i = 0; argc == 2 && i < (int)(sizeof(modes) / sizeof(modes[0])); i++)
    if (strcmp(argv[1], modes[i].name) == 0) m = i;
  if (m < 0) {
    fprintf(stderr, "usage: %s images|roundtrip|frames|dmabuf|adopt|faults|latency\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr in order in CTest's log */
  start_watchdog(240);              /* CTest's TIMEOUT is 300 s */
  warm_up();                        /* skips here where there is no CUDA device */

  static fd_list before;
  fd_list_take(&before);
  int fds = test_count_fds();
  modes[m].run();
  int now = test_count_fds();
  if (strcmp(modes[m].name, "faults") == 0) {
    int leaks = now != fds ? fd_list_diff(&before, 1) : 0;
    CHECK(leaks == 0);
  } else {
    CHECK(now == fds);
    if (now != fds) fd_list_diff(&before, 0);
  }
  return test_finish(modes[m].name);
}
