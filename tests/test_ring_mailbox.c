/* MAILBOX (latest-frame) rings, the invariants of interop_fd.h's
 * "Latest-frame rings" held to their word, with a Vulkan and a GL consumer:
 *  - a consumer taking at a slow rate while the producer runs free: the
 *    producer never waits (begin_frame with timeout 0 never times out),
 *    takes strictly increase, and every pixel of every frame taken is the
 *    pattern of its own frame number (a torn, stale or wrong-slot frame
 *    fails);
 *  - a take returns the newest frame ended, nothing newer is -EAGAIN /
 *    -ETIMEDOUT, and once the producer's ring is gone -EPIPE;
 *  - a consumer that holds a frame unreleased: with count 4 the producer
 *    goes on at once; with count 3 it waits for that release (host-side
 *    without timelines, device-side with them) and no longer;
 *  - refusals: MAILBOX with count < 3, take on a FIFO ring, and control_fd
 *    that is not a ring's shared state (wrong size, wrong magic, unsealed, a
 *    pipe, missing), each with a message and no fd consumed or leaked; a
 *    FIFO description's control_fd is neither read nor closed;
 *  - a peer that scribbles over the shared page: -EIO on both sides;
 *  - both destroy orders, and open fds counted over a second round.
 * The producer is tests/producer.h (IFD_TEST_BACKEND); with
 * IFD_TEST_NEEDS_TIMELINES=1 a producer without timelines is a skip. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring_consumer.h"

#define W 48
#define H 32
#define FMT MAX_FMT_RGBA8
#define SECOND (1000ull * 1000 * 1000)

static bool timelines; /* the producer's rings have them */

/* The consumer's use of frame k, taken: draws it, compares every pixel with
 * the pattern of seed k and releases it (on the device with timelines, else
 * through the producer's ring). */
static void use_frame(ifd_ring *ring, cring *r, uint64_t k) {
  cring_draw(r, k, W, H, FMT);
  if (!timelines) CHECK_RC(ifd_ring_release_frame(ring, k), 0);
}

/* Begins, writes the pattern of its number into, and ends one frame. */
static int produce(producer *p, ifd_ring *ring, uint64_t timeout_ns, uint64_t *k) {
  ifd_image *img = NULL;
  int rc = ifd_ring_begin_frame(ring, timeout_ns, k, &img);
  if (rc != 0) return rc;
  REQUIRE(tp_fill(p, img, (uint32_t)*k) == 0);
  return ifd_ring_end_frame(ring, *k);
}

static ifd_ring *mailbox_ring(producer *p, uint32_t count, cring *r, consumer *c) {
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create_mode(p->ctx, count, W, H, FMT, IFD_RING_MAILBOX, &ring) == 0);
  CHECK(ifd_ring_get_mode(ring) == IFD_RING_MAILBOX);
  ifd_ring_desc d;
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  CHECK(d.mode == IFD_RING_MAILBOX && d.control_fd >= 0);
  REQUIRE(cring_import(c, &d, r) == 0);
  CHECK(d.control_fd == -1); /* consumed */
  ifd_ring_desc_close(&d);
  return ring;
}

/* ------------------------------------------------------------ refusals */

static void refusals(producer *p, consumer *c) {
  ifd_ring *ring = NULL;
  CHECK_FAILS(ifd_ring_create_mode(p->ctx, 2, W, H, FMT, IFD_RING_MAILBOX, &ring), -EINVAL);
  test_check_message("ifd_ring_create_mode", "count >= 3");
  CHECK(ring == NULL);
  CHECK_FAILS(ifd_ring_create_mode(p->ctx, 3, W, H, FMT, (ifd_ring_mode)7, &ring), -EINVAL);
  CHECK(ifd_ring_get_mode(NULL) == IFD_RING_FIFO);

  /* A FIFO ring: no control_fd, and no take. */
  REQUIRE(ifd_ring_create(p->ctx, 3, W, H, FMT, &ring) == 0);
  CHECK(ifd_ring_get_mode(ring) == IFD_RING_FIFO);
  ifd_ring_desc d;
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  CHECK(d.mode == IFD_RING_FIFO && d.control_fd == -1);
  int pipe_fds[2];
  REQUIRE(pipe2(pipe_fds, O_CLOEXEC) == 0);
  d.control_fd = pipe_fds[0]; /* a FIFO description's control_fd is never read */
  cring r;
  REQUIRE(cring_import(c, &d, &r) == 0);
  CHECK(d.control_fd == pipe_fds[0] && fd_open(pipe_fds[0]));
  uint64_t k = 0;
  CHECK_FAILS(cring_take(&r, 0, &k), -EINVAL);
  test_check_message(c->gl ? "ifd_gl_ring_take_latest" : "ifd_vk_ring_take_latest", "FIFO");
  cring_destroy(&r);
  ifd_ring_desc_close(&d);
  CHECK(d.control_fd == pipe_fds[0] && fd_open(pipe_fds[0])); /* nor closed */
  ifd_ring_destroy(ring);

  /* A MAILBOX description whose control_fd is not a ring's shared state. */
  REQUIRE(ifd_ring_create_mode(p->ctx, 3, W, H, FMT, IFD_RING_MAILBOX, &ring) == 0);
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  const int good = d.control_fd;
  long page = sysconf(_SC_PAGESIZE);
  char *bytes = calloc(1, (size_t)page);
  REQUIRE(bytes && pread(good, bytes, (size_t)page, 0) == page);
  struct {
    const char *what, *needle;
    off_t size;
    bool copy, seal;
  } bad[] = {{"too small", "bytes", page / 2, true, true},
             {"too large", "bytes", page * 2, true, true},
             {"wrong magic", "magic", page, false, true},
             {"unsealed", "sealed", page, true, false}};
  for (size_t i = 0; i < ARRAY_LEN(bad) + 2; i++) {
    int fd = -1;
    const char *what = i < ARRAY_LEN(bad) ? bad[i].what : i == ARRAY_LEN(bad) ? "a pipe" : "none";
    if (i < ARRAY_LEN(bad)) {
      fd = memfd_create("not-a-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
      REQUIRE(fd >= 0 && ftruncate(fd, bad[i].size) == 0);
      if (bad[i].copy) REQUIRE(pwrite(fd, bytes, (size_t)(bad[i].size < page ? bad[i].size : page), 0) > 0);
      if (bad[i].seal) REQUIRE(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
    } else if (i == ARRAY_LEN(bad)) {
      fd = pipe_fds[1];
    }
    d.control_fd = fd;
    int fds = test_count_fds();
    int rc = cring_import(c, &d, &r);
    if (rc != -EINVAL || strstr(ifd_last_error(), "control_fd") == NULL ||
        (i < ARRAY_LEN(bad) && strstr(ifd_last_error(), bad[i].needle) == NULL)) {
      fprintf(stderr, "control_fd %s: import returned %d: %s\n", what, rc, ifd_last_error());
      test_failures++;
    }
    CHECK(test_count_fds() == fds);
    CHECK(d.control_fd == fd && (fd < 0 || fd_open(fd)));
    for (uint32_t f = 0; f < d.count; f++) CHECK(fd_open(d.frames[f].memory_fd));
    if (i < ARRAY_LEN(bad)) close(fd);
  }
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  free(bytes);
  d.control_fd = good;
  REQUIRE(cring_import(c, &d, &r) == 0);
  CHECK(d.control_fd == -1);
  CHECK_FAILS(cring_take(&r, 0, &k), -EAGAIN); /* nothing ended yet */
  CHECK(!cring_has_frame(&r, 1));
  cring_destroy(&r);
  ifd_ring_desc_close(&d);
  ifd_ring_destroy(ring);
}

/* A peer that scribbles over the shared page (a broken or hostile process):
 * the consumer's take and the producer's end_frame refuse with -EIO, and
 * nothing crashes or leaks. */
static void hostile(producer *p, consumer *c) {
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create_mode(p->ctx, 3, W, H, FMT, IFD_RING_MAILBOX, &ring) == 0);
  ifd_ring_desc d;
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void *shared = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, d.control_fd, 0);
  REQUIRE(shared != MAP_FAILED);
  cring r;
  REQUIRE(cring_import(c, &d, &r) == 0);
  ifd_ring_desc_close(&d);
  uint64_t k = 0;
  CHECK_RC(produce(p, ring, 0, &k), 0);
  memset(shared, 0xff, page);
  CHECK_FAILS(cring_take(&r, 0, &k), -EIO);
  CHECK_FAILS(produce(p, ring, 0, &k), -EIO);
  munmap(shared, page);
  cring_destroy(&r);
  ifd_ring_destroy(ring);
}

/* ------------------------------------------------------------ newest */

/* A take returns the newest frame ended; nothing newer is refused; the
 * producer never waits for a consumer that does not take; and the ring
 * destroyed first (the consumer still holding a frame) leaves -EPIPE. */
static void newest(producer *p, consumer *c) {
  cring r;
  ifd_ring *ring = mailbox_ring(p, 3, &r, c);
  uint64_t k = 0, taken = 0;
  for (int i = 0; i < 5; i++) CHECK_RC(produce(p, ring, 0, &k), 0);
  CHECK_RC(cring_take(&r, 0, &taken), 0);
  CHECK(taken == 5);
  use_frame(ring, &r, taken);
  CHECK_FAILS(cring_take(&r, 0, &k), -EAGAIN);
  CHECK_FAILS(cring_take(&r, SECOND / 1000, &k), -ETIMEDOUT);
  for (int i = 0; i < 2; i++) CHECK_RC(produce(p, ring, 0, &k), 0);
  CHECK_RC(cring_take(&r, 0, &taken), 0);
  CHECK(taken == 7);
  CHECK(cring_has_frame(&r, 7) && cring_has_frame(&r, 5) && !cring_has_frame(&r, 6) && !cring_has_frame(&r, 8));
  use_frame(ring, &r, taken);
  /* A consumer that stops taking: 50 frames, none waits. */
  int timeouts = 0;
  for (int i = 0; i < 50; i++) timeouts += produce(p, ring, 0, &k) == -ETIMEDOUT;
  CHECK(timeouts == 0);
  CHECK_RC(cring_take(&r, 0, &taken), 0);
  CHECK(taken == k);
  use_frame(ring, &r, taken);
  CHECK_RC(produce(p, ring, 0, &k), 0);
  ifd_ring_destroy(ring); /* ring first */
  CHECK_RC(cring_take(&r, 0, &taken), 0); /* ended before the ring went */
  CHECK(taken == k);
  CHECK_FAILS(cring_take(&r, 0, &k), -EPIPE);
  cring_destroy(&r);
}

/* ------------------------------------------------------------ held */

/* The consumer takes frames 1 and 2 and releases neither. With count 4 the
 * producer writes around the slot of frame 1 at once; with count 3 that
 * slot is all it has: without timelines it waits on the host until the
 * release (timeout 0: -ETIMEDOUT), with them it queues a device-side wait
 * and returns at once; the release (from the host, since the queue waits)
 * lets the write through. The consumer is destroyed first. */
static void held(producer *p, consumer *c, uint32_t count) {
  cring r;
  ifd_ring *ring = mailbox_ring(p, count, &r, c);
  uint64_t k = 0, taken = 0;
  CHECK_RC(produce(p, ring, 0, &k), 0);
  CHECK_RC(cring_take(&r, 0, &taken), 0);
  CHECK(taken == 1);
  CHECK_RC(produce(p, ring, 0, &k), 0);
  CHECK_RC(cring_take(&r, 0, &taken), 0);
  CHECK(taken == 2);
  CHECK_RC(produce(p, ring, 0, &k), 0);
  if (count > 3) {
    for (int i = 0; i < 20; i++) CHECK_RC(produce(p, ring, 0, &k), 0);
    CHECK_RC(ifd_ring_release_frame(ring, 2), 0);
  } else {
    ifd_image *img = NULL;
    int rc = ifd_ring_begin_frame(ring, 0, &k, &img);
    if (!timelines) {
      CHECK_FAILS(rc, -ETIMEDOUT);
      test_check_message("ifd_ring_begin_frame", "release frame 1");
      CHECK_RC(ifd_ring_release_frame(ring, 2), 0);
      rc = ifd_ring_begin_frame(ring, 0, &k, &img);
      CHECK_RC(rc, 0);
    } else {
      CHECK_RC(rc, 0); /* the wait is queued on the device */
      CHECK_RC(ifd_ring_release_frame(ring, 2), 0);
    }
    REQUIRE(rc == 0 && k == 4);
    REQUIRE(tp_fill(p, img, (uint32_t)k) == 0);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  for (int i = 0; i < 5; i++) CHECK_RC(produce(p, ring, SECOND, &k), 0);
  CHECK_RC(cring_take(&r, 0, &taken), 0);
  CHECK(taken == k);
  use_frame(ring, &r, taken);
  cring_destroy(&r); /* consumer first */
  for (int i = 0; i < 10; i++) CHECK_RC(produce(p, ring, SECOND, &k), 0);
  ifd_ring_destroy(ring);
}

/* A consumer that stops with two frames taken and none released, with
 * timelines (count 3): frame 4 queues the device-side wait for release 1,
 * so frames 4 on run behind it. Frames 5 and 6 start at once; frame 7 would
 * keep the host within count frames of a device that waits for the
 * consumer: begin_frame waits for the release itself, within its timeout,
 * and says so (not 10 s for "its own device"). The release lets it through,
 * and the newest frame is drawn pixel by pixel. */
static void stalled(producer *p, consumer *c) {
  cring r;
  ifd_ring *ring = mailbox_ring(p, 3, &r, c);
  uint64_t k = 0, taken = 0;
  for (uint64_t want = 1; want <= 2; want++) {
    CHECK_RC(produce(p, ring, 0, &k), 0);
    CHECK_RC(cring_take(&r, 0, &taken), 0);
    CHECK(taken == want);
  }
  /* Begun and ended unwritten: frames 4 to 6 are never drawn, and the
   * Vulkan backend's host upload would wait for the release too. */
  ifd_image *img = NULL;
  CHECK_RC(produce(p, ring, 0, &k), 0);
  for (int i = 0; i < 3; i++) {
    CHECK_RC(ifd_ring_begin_frame(ring, 0, &k, &img), 0);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  CHECK(k == 6);
  uint64_t t0 = test_now_ns();
  int rc = ifd_ring_begin_frame(ring, 50 * TEST_MS, &k, &img);
  double waited = (double)(test_now_ns() - t0) * 1e-9;
  CHECK_FAILS(rc, -ETIMEDOUT);
  test_check_message("ifd_ring_begin_frame", "did not release frame 1 within");
  CHECK(waited < 5.0); /* the caller's 50 ms, not the 10 s bound on its own device */
  CHECK_RC(ifd_ring_release_frame(ring, 2), 0);
  CHECK_RC(produce(p, ring, SECOND, &k), 0);
  CHECK(k == 7);
  CHECK_RC(cring_take(&r, SECOND, &taken), 0);
  CHECK(taken == 7);
  use_frame(ring, &r, taken);
  cring_destroy(&r);
  ifd_ring_destroy(ring);
}

/* ------------------------------------------------------------ free running */

typedef struct {
  producer *p;
  ifd_ring *ring;
  atomic_bool stop;
  _Atomic uint64_t frames;
  int timeouts, errors;
} runner;

static void *run_producer(void *arg) {
  runner *run = arg;
  while (!atomic_load(&run->stop)) {
    uint64_t k = 0;
    int rc = produce(run->p, run->ring, 0, &k);
    if (rc == -ETIMEDOUT) run->timeouts++;
    else if (rc != 0) run->errors++;
    else atomic_store(&run->frames, k);
  }
  return NULL;
}

static void free_running(producer *p, consumer *c, uint32_t count, int takes) {
  cring r;
  runner run = {.p = p};
  run.ring = mailbox_ring(p, count, &r, c);
  pthread_t thread;
  REQUIRE(pthread_create(&thread, NULL, run_producer, &run) == 0);
  uint64_t last = 0, taken = 0, ahead = 0;
  int increasing = 0;
  ifd_timeline *ready = ifd_ring_ready(run.ring);
  for (int i = 0; i < takes; i++) {
    int rc = cring_take(&r, 5 * SECOND, &taken);
    CHECK_RC(rc, 0);
    if (rc != 0) break;
    increasing += taken > last;
    last = taken;
    /* The frame taken is at most count frames ahead of what the producer's
     * device has written (the producer's host stays that close to it). */
    uint64_t written = 0;
    if (ready && ifd_timeline_value(ready, &written) == 0 && taken > written + ahead)
      ahead = taken - written;
    use_frame(run.ring, &r, taken);
    test_sleep_ns(4 * TEST_MS); /* a slow consumer */
  }
  /* The producer runs ahead further than FIFO allows while this consumer
   * holds its frame: however slow the producer's device (a loaded GPU),
   * given time it passes takes + count frames without one timeout. */
  for (int i = 0; i < 1000 && atomic_load(&run.frames) <= (uint64_t)takes + count; i++)
    test_sleep_ns(10 * TEST_MS);
  atomic_store(&run.stop, true);
  pthread_join(thread, NULL);
  CHECK(increasing == takes);
  CHECK(run.timeouts == 0 && run.errors == 0);
  CHECK(run.frames > (uint64_t)takes + count); /* ran ahead further than FIFO allows */
  CHECK(ahead <= count);
  /* The newest frame ended is what a take returns. */
  int rc = cring_take(&r, 0, &taken);
  CHECK(rc == 0 ? taken == run.frames : rc == -EAGAIN && last == run.frames);
  if (rc == 0) use_frame(run.ring, &r, taken);
  printf("%s count %u: %d takes, strictly increasing, of %llu frames; the producer never "
         "waited (%d timeouts); frames taken at most %llu ahead of the producer's device\n",
         c->gl ? "GL" : "Vulkan", count, takes, (unsigned long long)run.frames, run.timeouts,
         (unsigned long long)ahead);
  cring_destroy(&r);
  ifd_ring_destroy(run.ring);
}

/* Every check with one consumer, Vulkan or GL, in two rounds: drivers open
 * fds of their own on first use and keep them, so the second round must
 * leave the count unchanged. False where the consumer cannot be opened. */
static bool with_consumer(producer *p, bool gl) {
  consumer c;
  char why[512];
  if (consumer_open(&c, gl, NULL, NULL, why, sizeof(why)) != 0) {
    printf("%s consumer not run: %s\n", gl ? "GL" : "Vulkan", why);
    return false;
  }
  if (gl) { /* GL's read-back, freed by consumer_close */
    c.px_size = (size_t)W * H * 4 * sizeof(float);
    c.px = malloc(c.px_size);
    REQUIRE(c.px);
  }
  for (int round = 0; round < 2; round++) {
    test_watch("a round of the MAILBOX checks", 240);
    const int fds = test_count_fds();
    refusals(p, &c);
    hostile(p, &c);
    newest(p, &c);
    held(p, &c, 3);
    held(p, &c, 4);
    if (timelines) stalled(p, &c);
    free_running(p, &c, 3, round == 0 ? 40 : 10);
    free_running(p, &c, 5, 10);
    if (round == 1 && test_count_fds() != fds) {
      fprintf(stderr, "open fds: %d before, %d after\n", fds, test_count_fds());
      test_print_fds("after");
      test_failures++;
    }
    test_unwatch();
  }
  consumer_close(&c);
  return true;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  producer p;
  int rc = tp_open(&p, test_backend_from_env());
  if (rc == -ENODEV || rc == -EOPNOTSUPP) SKIP("no producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  ifd_timeline *probe = NULL;
  timelines = ifd_timeline_create(p.ctx, 0, &probe) == 0;
  ifd_timeline_destroy(probe);
  const char *need = getenv("IFD_TEST_NEEDS_TIMELINES");
  if (need && strcmp(need, "1") == 0 && !timelines) {
    tp_close(&p);
    SKIP("the producer cannot export timeline semaphores (IFD_TEST_NEEDS_TIMELINES=1)");
  }
  int ran = with_consumer(&p, false) + with_consumer(&p, true);
  tp_close(&p);
  if (!ran) SKIP("neither a Vulkan nor a GL consumer could be opened");
  return test_finish("ring_mailbox");
}
