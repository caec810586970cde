/* Shared set-up of the dead-peer tests: dead_peer_env.h says what. */
#include "dead_peer_env.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

void check_timed_out(const char *what, int rc, uint64_t t0, uint64_t timeout_ns) {
  uint64_t waited = test_now_ns() - t0;
  printf("%s: %d after %.1f ms (timeout %.1f ms): %s\n", what, rc, (double)waited / 1e6,
         (double)timeout_ns / 1e6, ifd_last_error());
  if (rc != -ETIMEDOUT) {
    fprintf(stderr, "%s returned %d, expected -ETIMEDOUT (%s)\n", what, rc, ifd_last_error());
    test_failures++;
  }
  CHECK(ifd_last_error()[0] != '\0');
  CHECK(waited + 2 * MS >= timeout_ns); /* clock granularity */
  CHECK(waited <= timeout_ns + LATE);
}

ifd_ring *ring_with_timelines_or_skip(ifd_context *ctx, uint32_t w, uint32_t h,
                                      const char *why_needed) {
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(ctx, 2, w, h, MAX_FMT_RGBA8, &ring) == 0);
  if (!ifd_ring_ready(ring)) {
    ifd_ring_destroy(ring);
    SKIP("the ring has no timelines on this device: %s", why_needed);
  }
  return ring;
}

void start_frames(ifd_context *ctx, in_flight *f) {
  uint64_t k;
  ifd_image *im;
  REQUIRE(ifd_ring_create(ctx, 2, 32, 32, MAX_FMT_RGBA8, &f->open) == 0);
  REQUIRE(ifd_ring_create(ctx, 2, 32, 32, MAX_FMT_R8, &f->held) == 0);
  test_watch("starting frames", 30);
  CHECK_RC(ifd_ring_begin_frame(f->open, 1000 * MS, &k, &im), 0);
  bool timelines = ifd_ring_ready(f->held) != NULL;
  uint64_t ended = timelines ? 3 : 2;
  for (uint64_t i = 1; i <= ended; i++) {
    CHECK_RC(ifd_ring_begin_frame(f->held, 1000 * MS, &k, &im), 0);
    CHECK_RC(ifd_ring_end_frame(f->held, k), 0);
  }
  /* With timelines frame 4 is begun too: the queue now waits on the device
   * for releases 1 and 2, which the (dead) consumer never sends. */
  if (timelines) CHECK_RC(ifd_ring_begin_frame(f->held, 1000 * MS, &k, &im), 0);
  test_unwatch();
  ifd_image *image = ifd_ring_image(f->held, 0);
  ifd_frame_desc d;
  REQUIRE(ifd_image_describe(image, &d) == 0);
  f->memory_fd = d.memory_fd;
  printf("in flight: ring A frame 1 begun; ring B frames 1..%llu ended, none released%s\n",
         (unsigned long long)ended, timelines ? ", frame 4 begun (device waits enqueued)" : "");
}

void destroy_context_in_flight(ifd_context *ctx) {
  test_watch("ifd_context_destroy with frames in flight", 20);
  uint64_t t0 = test_now_ns();
  ifd_context_destroy(ctx);
  uint64_t took = test_now_ns() - t0;
  test_unwatch();
  printf("ifd_context_destroy: %.1f ms\n", (double)took / 1e6);
  CHECK(took < 10000 * MS);
}
