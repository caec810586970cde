/* A peer that stops must not wedge the other side, stalled-queue:
 * with timelines, the consumer stops while the context's queue waits on the
 * device for its releases; a call the header does not document as blocking
 * (ifd_image_destroy of an unrelated image) still returns. Skips where
 * there are no timelines.
 * IFD_TEST_BACKEND=cuda selects the CUDA backend; dead_peer_env.c holds
 * what the dead-peer tests share. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dead_peer_env.h"

/* With timelines, frames beyond `count` make the context's queue/stream wait
 * on the device for releases; a consumer that stopped leaves those waits
 * pending. Calls that the header does not document as blocking must still
 * return: here ifd_image_destroy of an image the ring does not use. */
static void stalled_queue(ifd_context *ctx) {
  ifd_ring *ring = ring_with_timelines_or_skip(
      ctx, 32, 32,
      "the producer waits for releases on the host, so no queue ever waits on the device for "
      "a consumer");
  ifd_image *other = NULL;
  REQUIRE(ifd_image_create(ctx, 16, 16, MAX_FMT_R8, &other) == 0);
  uint64_t k;
  ifd_image *im;
  test_watch("producing 4 frames on a ring of 2", 30);
  for (int i = 0; i < 4; i++) {
    CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  /* The queue now waits for releases 1 and 2, which never come. */
  test_watch("ifd_image_destroy while the queue waits for a dead consumer", 10);
  uint64_t t0 = test_now_ns();
  ifd_image_destroy(other);
  printf("ifd_image_destroy: %.1f ms\n", (double)(test_now_ns() - t0) / 1e6);
  CHECK(test_now_ns() - t0 < 5000 * MS);
  test_watch("ifd_ring_destroy", 10);
  ifd_ring_destroy(ring);
  test_unwatch();
}

int main(void) { return test_context_main("stalled-queue", stalled_queue, false); }
