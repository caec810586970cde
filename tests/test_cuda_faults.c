/* The CUDA backend on a real NVIDIA GPU, faults:
 * destroyed handles, foreign fds, then a sticky CUDA error (trap) in
 * the middle of a stream.
 * Skips (exit 77) with the reason where there is no CUDA device, and checks
 * that it leaves no fd behind (cuda_test_main). Kernels:
 * tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cuda_env.h"

static void mode_faults(void) {
  static test_fd_set before_trap;
  test_fd_snapshot(&before_trap);
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
  if (count != count_before) test_fds_changed_since(&before_trap, "faults", true, NULL);

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
  uint64_t t0 = test_now_ns();
  rc = ifd_timeline_host_wait(tl, 2, 100 * MS);
  uint64_t waited = test_now_ns() - t0;
  printf("host_wait after the trap: %d after %.1f ms (%s)\n", rc, waited / 1e6,
         rc ? ifd_last_error() : "");
  CHECK(waited < 5 * SEC); /* returns, with a timeout or an error, never hangs */
  ifd_image *late = NULL;
  rc = ifd_image_create(e.ctx, 16, 16, MAX_FMT_RGBA8, &late);
  printf("image create after the trap: %d (%s)\n", rc, rc ? ifd_last_error() : "");
  if (rc == 0) ifd_image_destroy(late);
  t0 = test_now_ns();
  env_close(&e); /* destroys img and tl with the context; must not hang or crash */
  printf("context destroy after the trap: %.1f ms\n", (test_now_ns() - t0) / 1e6);
  /* main checks the fds again, tolerating device nodes the driver keeps
   * around a poisoned context; the process must also exit cleanly. */
}

int main(void) { return cuda_test_main("faults", mode_faults, true); }
