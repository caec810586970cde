/* Timeline semaphores where the device cannot export them (lavapipe): every
 * way of creating one fails with -EOPNOTSUPP and says why; skips where the
 * device can (test_timeline_roundtrip.c covers that). */
#include <errno.h>

#include "test_util.h"

static void unsupported(ifd_context *ctx) {
  ifd_timeline *tl = NULL;
  int rc = ifd_timeline_create(ctx, 0, &tl);
  if (rc == 0) {
    ifd_timeline_destroy(tl);
    SKIP("this device can export timeline semaphores; see the roundtrip test");
  }
  CHECK_RC(rc, -EOPNOTSUPP);
  printf("ifd_timeline_create: %s\n", ifd_last_error());
  CHECK(strstr(ifd_last_error(), "semaphore") != NULL);
  int fd = 42;
  CHECK_RC(AsyncRT_Create_timeline_semaphore_fd(ctx, 0, &fd), -EOPNOTSUPP);
  CHECK(fd == -1);
  CHECK(strstr(ifd_last_error(), "AsyncRT_Create_timeline_semaphore_fd") != NULL);
  CHECK(tl == NULL);
}

int main(void) { return test_context_main("unsupported", unsupported, false); }
