/* A peer that stops must not wedge the other side, context:
 * the context is destroyed while frames are in flight (begun and not ended,
 * ended and not released, and, with timelines, device-side waits for
 * releases that never come); ifd_context_destroy returns in bounded time,
 * then the rings can be destroyed; no fd is left open.
 * IFD_TEST_BACKEND=cuda selects the CUDA backend; dead_peer_env.c holds
 * what the dead-peer tests share. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dead_peer_env.h"

static void context_destroyed(ifd_context *ctx) {
  in_flight f;
  start_frames(ctx, &f);
  destroy_context_in_flight(ctx);
  /* The exported memory outlives the context. */
  CHECK(fcntl(f.memory_fd, F_GETFD) >= 0);
  close(f.memory_fd);
  test_watch("ifd_ring_destroy after ifd_context_destroy", 10);
  ifd_ring_destroy(f.open);
  ifd_ring_destroy(f.held);
  test_unwatch();
}

int main(void) { return test_context_main("context", context_destroyed, true); }
