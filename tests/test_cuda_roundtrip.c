/* The CUDA backend on a real NVIDIA GPU, roundtrip:
 * timeline semaphores CUDA -> Vulkan -> CUDA with device-side
 * waits only; fd ownership of imports.
 * Skips (exit 77) with the reason where there is no CUDA device, and checks
 * that it leaves no fd behind (cuda_test_main). Kernels:
 * tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cuda_env.h"

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
  test_sleep_ns(50 * MS);
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
  test_sleep_ns(50 * MS);
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

int main(void) { return cuda_test_main("roundtrip", mode_roundtrip, false); }
