/* A peer that stops must not wedge the other side, consumer:
 * the consumer stops releasing frames; the producer's ifd_ring_begin_frame
 * returns -ETIMEDOUT within its timeout, says why, and recovers once a
 * frame is released.
 * IFD_TEST_BACKEND=cuda selects the CUDA backend; dead_peer_env.c holds
 * what the dead-peer tests share. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dead_peer_env.h"

static void consumer_stops(ifd_context *ctx) {
  const uint32_t count = 2;
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(ctx, count, 64, 32, MAX_FMT_RGBA8, &ring) == 0);
  bool timelines = ifd_ring_ready(ring) != NULL;
  /* The consumer: another device that imports the ring, then goes silent. */
  vkr consumer;
  char why[256];
  bool have_consumer = vkr_open(&consumer, NULL, why, sizeof(why)) == 0;
  ifd_vk_ring *vr = NULL;
  if (have_consumer && (!timelines || consumer.timelines)) {
    ifd_ring_desc desc;
    REQUIRE(ifd_ring_export(ring, &desc) == 0);
    CHECK_RC(ifd_vk_ring_import(consumer.importer, &desc, IFD_VK_PATH_COPY, &vr), 0);
    ifd_ring_desc_close(&desc);
  } else {
    printf("note: no consumer device imports the ring (%s)\n",
           have_consumer ? "it cannot import semaphore fds" : why);
  }

  /* With timelines the host runs up to 2 * count frames ahead (the queue
   * waits for the releases); without, up to count. */
  uint64_t ahead = timelines ? 2ull * count : count, k = 0;
  ifd_image *im = NULL;
  test_watch("producing the frames the ring holds", 30);
  for (uint64_t i = 1; i <= ahead; i++) {
    CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
    CHECK(k == i);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  test_watch("ifd_ring_begin_frame with a consumer that stopped", 10);
  uint64_t t0 = test_now_ns();
  k = 0;
  im = NULL;
  int rc = ifd_ring_begin_frame(ring, TIMEOUT, &k, &im);
  check_timed_out("ifd_ring_begin_frame", rc, t0, TIMEOUT);
  CHECK(strstr(ifd_last_error(), "release") != NULL);
  CHECK(k == 0 && im == NULL); /* out-pointers untouched */
  /* The frame was not started: nothing to end, and asking again with no
   * time to wait fails at once. */
  CHECK_RC(ifd_ring_end_frame(ring, ahead + 1), -EINVAL);
  t0 = test_now_ns();
  CHECK_RC(ifd_ring_begin_frame(ring, 0, &k, &im), -ETIMEDOUT);
  CHECK(test_now_ns() - t0 < 50 * MS);

  /* The consumer comes back and releases the oldest frame: work resumes. */
  test_watch("recovering after a release", 10);
  CHECK_RC(ifd_ring_release_frame(ring, 1), 0);
  CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
  CHECK(k == ahead + 1);
  CHECK_RC(ifd_ring_end_frame(ring, k), 0);

  /* Destroying with the consumer still silent: the queue may wait for
   * releases that never come; ifd_ring_destroy must not wait for them. */
  test_watch("ifd_ring_destroy with unreleased frames", 10);
  t0 = test_now_ns();
  ifd_ring_destroy(ring);
  printf("ifd_ring_destroy: %.1f ms\n", (double)(test_now_ns() - t0) / 1e6);
  test_unwatch();
  ifd_vk_ring_destroy(vr);
  if (have_consumer) vkr_close(&consumer);
}

int main(void) { return test_context_main("consumer", consumer_stops, false); }
