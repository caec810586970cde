/* Timeline semaphores where the device can export them (GPU): signal, device
 * and host waits, values, export and import into a second context, timeouts;
 * skips where it cannot (test_timeline_unsupported.c covers that). With
 * IFD_TEST_BACKEND=auto and IFD_TEST_EXPECT_BACKEND, checks which backend
 * AUTO chose. */
#include <errno.h>
#include <unistd.h>

#include "test_util.h"

static void roundtrip(ifd_context *ctx) {
  /* IFD_BACKEND_AUTO must prefer CUDA where it works: the GPU run sets
   * IFD_TEST_EXPECT_BACKEND=cuda to check that. */
  const char *expect = getenv("IFD_TEST_EXPECT_BACKEND");
  printf("backend: %s\n", ifd_context_backend(ctx) == IFD_BACKEND_CUDA ? "cuda" : "vulkan");
  if (expect && test_backend_from_env() == IFD_BACKEND_AUTO)
    CHECK(ifd_context_backend(ctx) ==
          (strcmp(expect, "cuda") == 0 ? IFD_BACKEND_CUDA : IFD_BACKEND_VULKAN));
  ifd_timeline *tl = NULL;
  int rc = ifd_timeline_create(ctx, 5, &tl);
  if (rc == -EOPNOTSUPP) SKIP("%s", ifd_last_error());
  REQUIRE(rc == 0);
  uint64_t v = 0;
  CHECK_RC(ifd_timeline_value(tl, &v), 0);
  CHECK(v == 5);
  CHECK_RC(ifd_timeline_signal(tl, 5), -EINVAL); /* must increase */
  CHECK_RC(ifd_timeline_signal(tl, 6), 0);
  CHECK_RC(ifd_timeline_host_wait(tl, 6, 5000000000ull), 0);
  CHECK_RC(ifd_timeline_value(tl, &v), 0);
  CHECK(v == 6);

  /* A wait that can never complete times out, promptly. */
  uint64_t t0 = test_now_ns();
  CHECK_RC(ifd_timeline_host_wait(tl, 100, 20000000ull), -ETIMEDOUT);
  uint64_t waited = test_now_ns() - t0;
  CHECK(waited >= 15000000ull && waited < 2000000000ull);

  /* A second context imports the exported fd and sees the same values. */
  int fd = -1;
  CHECK_RC(ifd_timeline_export_fd(tl, &fd), 0);
  ifd_context *other = NULL;
  REQUIRE(ifd_context_create(ifd_context_backend(ctx), 0, &other) == 0);
  ifd_timeline *imported = NULL;
  CHECK_RC(ifd_timeline_import_fd(other, fd, &imported), 0); /* fd consumed */
  if (imported) {
    CHECK_RC(ifd_timeline_value(imported, &v), 0);
    CHECK(v == 6);
    /* other waits on the device for 7, then signals 100 on its own queue */
    CHECK_RC(ifd_timeline_wait(imported, 7), 0);
    ifd_timeline *done = NULL;
    REQUIRE(ifd_timeline_create(other, 0, &done) == 0);
    CHECK_RC(ifd_timeline_signal(done, 1), 0);
    CHECK_RC(ifd_timeline_host_wait(done, 1, 50000000ull), -ETIMEDOUT); /* still blocked on 7 */
    CHECK_RC(ifd_timeline_signal(tl, 7), 0);
    CHECK_RC(ifd_timeline_host_wait(done, 1, 5000000000ull), 0);
    CHECK_RC(ifd_timeline_host_wait(imported, 7, 5000000000ull), 0);
  }

  /* The seed's functions: create, signal through the fd, observe the value. */
  int sem_fd = -1;
  CHECK_RC(AsyncRT_Create_timeline_semaphore_fd(ctx, 10, &sem_fd), 0);
  int dup_fd = dup(sem_fd);
  ifd_timeline *seen = NULL;
  CHECK_RC(ifd_timeline_import_fd(other, dup_fd, &seen), 0);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(sem_fd, 11), 0);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(sem_fd, 11), -EINVAL);
  if (seen) CHECK_RC(ifd_timeline_host_wait(seen, 11, 5000000000ull), 0);
  close(sem_fd);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(sem_fd, 12), -EBADF);

  ifd_context_destroy(other);
  ifd_timeline_destroy(tl);
}

int main(void) { return test_context_main("roundtrip", roundtrip, false); }
