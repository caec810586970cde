/* A peer that stops must not wedge the other side, producer:
 * the producer stops signalling (a frame begun and never ended); the
 * consumer's ifd_vk_ring_wait_ready and ifd_vk_timeline_host_wait return
 * -ETIMEDOUT within the timeout. Needs exportable timelines (GPU); skips
 * where there are none.
 * IFD_TEST_BACKEND=cuda selects the CUDA backend; dead_peer_env.c holds
 * what the dead-peer tests share. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dead_peer_env.h"

static void producer_stops(ifd_context *ctx) {
  ifd_ring *ring = ring_with_timelines_or_skip(
      ctx, 64, 32,
      "it cannot export semaphore fds, so frames are handed over in the producer's process by "
      "ifd_ring_end_frame and a consumer has nothing to wait on");
  vkr consumer;
  char why[256];
  if (vkr_open(&consumer, NULL, why, sizeof(why)) != 0 || !consumer.timelines) {
    ifd_ring_destroy(ring);
    SKIP("no consumer device that imports semaphore fds: %s", why);
  }
  ifd_ring_desc desc;
  REQUIRE(ifd_ring_export(ring, &desc) == 0);
  ifd_vk_ring *vr = NULL;
  REQUIRE(ifd_vk_ring_import(consumer.importer, &desc, IFD_VK_PATH_COPY, &vr) == 0);
  ifd_ring_desc_close(&desc);

  test_watch("the first frame", 10);
  uint64_t k = 0;
  ifd_image *im = NULL;
  CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
  CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  CHECK_RC(ifd_vk_ring_wait_ready(vr, 1, 5000 * MS), 0);

  /* Frame 2 is begun and never ended: the producer stopped. */
  CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
  test_watch("ifd_vk_ring_wait_ready on a producer that stopped", 10);
  uint64_t t0 = test_now_ns();
  check_timed_out("ifd_vk_ring_wait_ready", ifd_vk_ring_wait_ready(vr, 2, TIMEOUT), t0, TIMEOUT);
  test_watch("ifd_vk_timeline_host_wait on a producer that stopped", 10);
  t0 = test_now_ns();
  check_timed_out("ifd_vk_timeline_host_wait",
                  ifd_vk_timeline_host_wait(ifd_vk_ring_ready(vr), 2, TIMEOUT), t0, TIMEOUT);
  CHECK(strstr(ifd_last_error(), "2") != NULL); /* names the value waited for */
  t0 = test_now_ns();
  check_timed_out("ifd_timeline_host_wait",
                  ifd_timeline_host_wait(ifd_ring_ready(ring), 2, TIMEOUT), t0, TIMEOUT);
  uint64_t v = 0;
  CHECK_RC(ifd_vk_timeline_value(ifd_vk_ring_ready(vr), &v), 0);
  CHECK(v == 1);

  /* The producer resumes: the consumer sees frame 2. */
  test_watch("the producer resuming", 10);
  CHECK_RC(ifd_ring_end_frame(ring, 2), 0);
  CHECK_RC(ifd_vk_ring_wait_ready(vr, 2, 5000 * MS), 0);
  test_unwatch();
  ifd_vk_ring_destroy(vr);
  ifd_ring_destroy(ring);
  vkr_close(&consumer);
}

int main(void) { return test_context_main("producer", producer_stops, false); }
