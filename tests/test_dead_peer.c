/* A peer that stops must not wedge the other side: every wait ends with a
 * clear error within its timeout, and destroying what is left neither hangs
 * nor leaks.
 *   test_dead_peer consumer : the consumer stops releasing frames; the
 *       producer's ifd_ring_begin_frame returns -ETIMEDOUT within its
 *       timeout, says why, and recovers once a frame is released.
 *   test_dead_peer producer : the producer stops signalling (a frame begun
 *       and never ended); the consumer's ifd_vk_ring_wait_ready and
 *       ifd_vk_timeline_host_wait return -ETIMEDOUT within the timeout.
 *       Needs exportable timelines (GPU); skips where there are none.
 *   test_dead_peer stalled-queue : with timelines, the consumer stops while
 *       the context's queue waits on the device for its releases; a call
 *       the header does not document as blocking (ifd_image_destroy of an
 *       unrelated image) still returns. Skips where there are no timelines.
 *   test_dead_peer context  : the context is destroyed while frames are in
 *       flight (begun and not ended, ended and not released, and, with
 *       timelines, device-side waits for releases that never come);
 *       ifd_context_destroy returns in bounded time, then the rings can be
 *       destroyed; no fd is left open.
 *   test_dead_peer ring-after-context : after that, calls on the orphaned
 *       rings return -EINVAL with a message saying the context was
 *       destroyed first (issue 12, point 6).
 * A watchdog (alarm) turns a hang into a failure with the step that hung.
 * IFD_TEST_BACKEND=cuda selects the CUDA backend. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "interop_fd/vulkan.h"
#include "test_util.h"
#include "vk_render.h"

#define MS 1000000ull
#define TIMEOUT (200 * MS)
/* How late a timed-out wait may return: polling steps are <= 250 us, the
 * rest is scheduling on a loaded 2-core CI machine under ASan. */
#define LATE (300 * MS)

/* ---- watchdog ---- */

static const char *volatile watched = "";

static void on_alarm(int sig) {
  (void)sig;
  static const char head[] = "dead_peer: HANG: no return within the watchdog's limit from: ";
  ssize_t r = write(2, head, sizeof(head) - 1);
  r = write(2, watched, strlen(watched));
  r = write(2, "\n", 1);
  (void)r;
  _exit(1);
}

static void watch(const char *what, unsigned seconds) {
  watched = what;
  alarm(seconds);
}
static void unwatch(void) { alarm(0); }

/* The call timed out: -ETIMEDOUT, not much later than timeout_ns, with a
 * message. */
static void check_timed_out(const char *what, int rc, uint64_t t0, uint64_t timeout_ns) {
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

/* ---- the consumer stops releasing ---- */

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
  watch("producing the frames the ring holds", 30);
  for (uint64_t i = 1; i <= ahead; i++) {
    CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
    CHECK(k == i);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  watch("ifd_ring_begin_frame with a consumer that stopped", 10);
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
  watch("recovering after a release", 10);
  CHECK_RC(ifd_ring_release_frame(ring, 1), 0);
  CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
  CHECK(k == ahead + 1);
  CHECK_RC(ifd_ring_end_frame(ring, k), 0);

  /* Destroying with the consumer still silent: the queue may wait for
   * releases that never come; ifd_ring_destroy must not wait for them. */
  watch("ifd_ring_destroy with unreleased frames", 10);
  t0 = test_now_ns();
  ifd_ring_destroy(ring);
  printf("ifd_ring_destroy: %.1f ms\n", (double)(test_now_ns() - t0) / 1e6);
  unwatch();
  ifd_vk_ring_destroy(vr);
  if (have_consumer) vkr_close(&consumer);
}

/* ---- the producer stops signalling ---- */

static void producer_stops(ifd_context *ctx) {
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(ctx, 2, 64, 32, MAX_FMT_RGBA8, &ring) == 0);
  if (!ifd_ring_ready(ring)) {
    ifd_ring_destroy(ring);
    SKIP("the ring has no timelines on this device (%s): frames are handed over in the "
         "producer's process by ifd_ring_end_frame, so a consumer has nothing to wait on",
         "it cannot export semaphore fds");
  }
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

  watch("the first frame", 10);
  uint64_t k = 0;
  ifd_image *im = NULL;
  CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
  CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  CHECK_RC(ifd_vk_ring_wait_ready(vr, 1, 5000 * MS), 0);

  /* Frame 2 is begun and never ended: the producer stopped. */
  CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
  watch("ifd_vk_ring_wait_ready on a producer that stopped", 10);
  uint64_t t0 = test_now_ns();
  check_timed_out("ifd_vk_ring_wait_ready", ifd_vk_ring_wait_ready(vr, 2, TIMEOUT), t0, TIMEOUT);
  watch("ifd_vk_timeline_host_wait on a producer that stopped", 10);
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
  watch("the producer resuming", 10);
  CHECK_RC(ifd_ring_end_frame(ring, 2), 0);
  CHECK_RC(ifd_vk_ring_wait_ready(vr, 2, 5000 * MS), 0);
  unwatch();
  ifd_vk_ring_destroy(vr);
  ifd_ring_destroy(ring);
  vkr_close(&consumer);
}

/* ---- a queue stalled by a dead consumer blocks no other call ---- */

/* With timelines, frames beyond `count` make the context's queue/stream wait
 * on the device for releases; a consumer that stopped leaves those waits
 * pending. Calls that the header does not document as blocking must still
 * return: here ifd_image_destroy of an image the ring does not use. */
static void stalled_queue(ifd_context *ctx) {
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(ctx, 2, 32, 32, MAX_FMT_RGBA8, &ring) == 0);
  if (!ifd_ring_ready(ring)) {
    ifd_ring_destroy(ring);
    SKIP("the ring has no timelines on this device: the producer waits for releases on the "
         "host, so no queue ever waits on the device for a consumer");
  }
  ifd_image *other = NULL;
  REQUIRE(ifd_image_create(ctx, 16, 16, MAX_FMT_R8, &other) == 0);
  uint64_t k;
  ifd_image *im;
  watch("producing 4 frames on a ring of 2", 30);
  for (int i = 0; i < 4; i++) {
    CHECK_RC(ifd_ring_begin_frame(ring, 1000 * MS, &k, &im), 0);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  /* The queue now waits for releases 1 and 2, which never come. */
  watch("ifd_image_destroy while the queue waits for a dead consumer", 10);
  uint64_t t0 = test_now_ns();
  ifd_image_destroy(other);
  printf("ifd_image_destroy: %.1f ms\n", (double)(test_now_ns() - t0) / 1e6);
  CHECK(test_now_ns() - t0 < 5000 * MS);
  watch("ifd_ring_destroy", 10);
  ifd_ring_destroy(ring);
  unwatch();
}

/* ---- the context goes while frames are in flight ---- */

typedef struct {
  ifd_ring *open;     /* frame 1 begun, not ended */
  ifd_ring *held;     /* frames ended, never released (and, with timelines,
                         device-side waits for those releases enqueued) */
  int memory_fd;      /* an exported image, still held by the "consumer" */
} in_flight;

static void start_frames(ifd_context *ctx, in_flight *f) {
  uint64_t k;
  ifd_image *im;
  REQUIRE(ifd_ring_create(ctx, 2, 32, 32, MAX_FMT_RGBA8, &f->open) == 0);
  REQUIRE(ifd_ring_create(ctx, 2, 32, 32, MAX_FMT_R8, &f->held) == 0);
  watch("starting frames", 30);
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
  unwatch();
  ifd_image *image = ifd_ring_image(f->held, 0);
  ifd_frame_desc d;
  REQUIRE(ifd_image_describe(image, &d) == 0);
  f->memory_fd = d.memory_fd;
  printf("in flight: ring A frame 1 begun; ring B frames 1..%llu ended, none released%s\n",
         (unsigned long long)ended, timelines ? ", frame 4 begun (device waits enqueued)" : "");
}

static void destroy_context_in_flight(ifd_context *ctx) {
  watch("ifd_context_destroy with frames in flight", 20);
  uint64_t t0 = test_now_ns();
  ifd_context_destroy(ctx);
  uint64_t took = test_now_ns() - t0;
  unwatch();
  printf("ifd_context_destroy: %.1f ms\n", (double)took / 1e6);
  CHECK(took < 10000 * MS);
}

static void context_destroyed(ifd_context *ctx) {
  in_flight f;
  start_frames(ctx, &f);
  destroy_context_in_flight(ctx);
  /* The exported memory outlives the context. */
  CHECK(fcntl(f.memory_fd, F_GETFD) >= 0);
  close(f.memory_fd);
  watch("ifd_ring_destroy after ifd_context_destroy", 10);
  ifd_ring_destroy(f.open);
  ifd_ring_destroy(f.held);
  unwatch();
}

static void ring_after_context(ifd_context *ctx) {
  in_flight f;
  start_frames(ctx, &f);
  destroy_context_in_flight(ctx);
  close(f.memory_fd);
  watch("ring calls after ifd_context_destroy", 10);
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
  unwatch();
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s consumer|producer|stalled-queue|context|ring-after-context\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* in order with stderr, and kept if the watchdog fires */
  signal(SIGALRM, on_alarm);
  ifd_backend backend = test_backend_from_env();
  /* Drivers keep fds open from their first initialisation to exit: count
   * after one context has come and gone. */
  watch("creating and destroying a first context", 60);
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(backend, 0, &ctx);
  if (rc == -ENODEV) SKIP("no device for this backend: %s", ifd_last_error());
  REQUIRE(rc == 0);
  ifd_context_destroy(ctx);
  int fds = test_count_fds();
  REQUIRE(ifd_context_create(backend, 0, &ctx) == 0);
  unwatch();
  const char *mode = argv[1];
  if (strcmp(mode, "consumer") == 0) {
    consumer_stops(ctx);
  } else if (strcmp(mode, "producer") == 0) {
    producer_stops(ctx);
  } else if (strcmp(mode, "stalled-queue") == 0) {
    stalled_queue(ctx);
  } else if (strcmp(mode, "context") == 0) {
    context_destroyed(ctx);
    ctx = NULL;
  } else if (strcmp(mode, "ring-after-context") == 0) {
    ring_after_context(ctx);
    ctx = NULL;
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  if (ctx) {
    watch("ifd_context_destroy", 20);
    ifd_context_destroy(ctx);
    unwatch();
  }
  int now = test_count_fds();
  if (now != fds) fprintf(stderr, "%d fds open, %d at the start\n", now, fds);
  CHECK(now == fds);
  return test_finish(mode);
}
