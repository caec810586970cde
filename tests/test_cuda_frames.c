/* The CUDA backend on a real NVIDIA GPU, frames:
 * 10,000 frames written and signalled through the seed's semaphore fd
 * functions; prints frames/s.
 * Skips (exit 77) with the reason where there is no CUDA device, and checks
 * that it leaves no fd behind (cuda_test_main). Kernels:
 * tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cuda_env.h"

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

  uint64_t t0 = test_now_ns();
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
  double secs = (double)(test_now_ns() - t0) / 1e9;
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
  test_failures += test_compare_bytes(back, W * 4, ref, W * 4, W, H, 4,
                                      "ifd_image_download", "last frame");
  free(ref);
  free(back);

  close(sem_fd); /* the semaphore itself lives until the context goes */
  ifd_timeline_destroy(watch);
  ifd_image_destroy(img);
  env_close(&e);
}

int main(void) { return cuda_test_main("frames", mode_frames, false); }
