/* A peer that stops must not wedge the other side, ring-after-context:
 * after that, calls on the orphaned rings return -EINVAL with a message
 * saying the context was destroyed first (issue 12, point 6).
 * IFD_TEST_BACKEND=cuda selects the CUDA backend; dead_peer_env.c holds
 * what the dead-peer tests share. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dead_peer_env.h"

static void ring_after_context(ifd_context *ctx) {
  in_flight f;
  start_frames(ctx, &f);
  destroy_context_in_flight(ctx);
  close(f.memory_fd);
  test_watch("ring calls after ifd_context_destroy", 10);
  uint64_t k = 0;
  ifd_image *im = NULL;
  ifd_ring_desc desc;
  CHECK_RC(ifd_ring_end_frame(f.open, 1), -EINVAL);
  CHECK(strstr(ifd_last_error(), "context") != NULL);
  CHECK_RC(ifd_ring_begin_frame(f.held, 0, &k, &im), -EINVAL);
  CHECK(strstr(ifd_last_error(), "context") != NULL);
  CHECK_RC(ifd_ring_release_frame(f.held, 1), -EINVAL);
  CHECK_RC(ifd_ring_export(f.held, &desc), -EINVAL);
  CHECK(desc.frames[0].memory_fd == -1 && desc.ready_fd == -1);
  CHECK(ifd_ring_image(f.held, 0) == NULL);
  ifd_ring_destroy(f.open);
  ifd_ring_destroy(f.held);
  test_unwatch();
}

int main(void) { return test_context_main("ring-after-context", ring_after_context, true); }
