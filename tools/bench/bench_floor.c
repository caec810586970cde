/* The bench's floors (bench_floor.h). */
#include "bench/bench_floor.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/progress.h"
#include "common/tool_error.h"
#include "common/vk_kit.h"

#define PP_BATCH 32    /* round trips queued behind one gate (timers 0..PP_BATCH) */
#define PP_BATCHES 9   /* the first warms up and is not counted */
#define SLICE_SAMPLES 100
#define SLICE_PERIOD_NS 4000000ull /* a consumer presenting at 250 frames/s */

static const char *const pp_names[BENCH_PP_COUNT] = {"cuda-stream<->cuda-stream",
                                                     "cuda-context<->cuda-context",
                                                     "cuda-context<->vulkan-device"};

const char *bench_pp_name(bench_pp_kind k) { return k < BENCH_PP_COUNT ? pp_names[k] : "?"; }

void bench_floors_skip(bench_floors *f, const char *why) {
  for (int k = 0; k < BENCH_PP_COUNT; k++) {
    f->pp[k].measured = false;
    snprintf(f->pp[k].why, sizeof(f->pp[k].why), "%s", why);
  }
  for (int i = 0; i < 2; i++) {
    f->slice[i].measured = false;
    snprintf(f->slice[i].why, sizeof(f->slice[i].why), "%s", why);
  }
}

static int lib_fail(int rc, const char *what) {
  return tool_fail(rc, "%s: %s", what, ifd_last_error());
}

/* ------------------------------------------------------------------ ping-pong */

/* The peer of the bench's context: a CUDA lane with its import of the
 * timeline, or the Vulkan consumer. */
typedef struct {
  bench_cuda_lane *lane;
  ifd_timeline *timeline; /* the lane's import */
  bench_vk *vk;
} peer;

static int peer_step(peer *p, uint64_t wait_value, uint64_t signal_value) {
  if (p->vk) return bench_vk_pingpong_submit(p->vk, wait_value, signal_value);
  int rc = ifd_timeline_wait(p->timeline, wait_value);
  if (rc != 0) return lib_fail(rc, "peer: ifd_timeline_wait");
  rc = ifd_timeline_signal(p->timeline, signal_value);
  return rc == 0 ? 0 : lib_fail(rc, "peer: ifd_timeline_signal");
}

/* One batch: PP_BATCH round trips from value base on, queued behind the gate,
 * timer i recorded when round trip i is back. On failure nothing is left
 * waiting for a value that no one will signal. */
static int pp_batch(bench_cuda *cu, ifd_timeline *own, peer *p, uint64_t base, double *trips) {
  int rc = bench_cuda_gate_close(cu);
  if (rc != 0) return rc;
  rc = bench_cuda_timer_record(cu, 0);
  for (uint32_t i = 1; i <= PP_BATCH && rc == 0; i++) {
    uint64_t v = base + 2 * i - 1;
    rc = ifd_timeline_signal(own, v);
    if (rc != 0) rc = lib_fail(rc, "ifd_timeline_signal");
    if (rc == 0) rc = peer_step(p, v, v + 1);
    if (rc == 0 && (rc = ifd_timeline_wait(own, v + 1)) != 0) rc = lib_fail(rc, "ifd_timeline_wait");
    if (rc == 0) rc = bench_cuda_timer_record(cu, i);
  }
  bench_cuda_gate_open(cu);
  for (uint32_t i = 1; i <= PP_BATCH && rc == 0; i++)
    rc = bench_cuda_timer_elapsed(cu, i - 1, i, &trips[i - 1]);
  return rc;
}

static void pp_stats(bench_pingpong *out, double *trips, uint32_t n) {
  double sum = 0;
  for (uint32_t i = 0; i < n; i++) sum += trips[i];
  out->measured = true;
  out->rounds = n;
  out->trip_mean = sum / n;
  out->handoff_mean = out->trip_mean / 2;
  out->trip_p50 = bench_percentile(trips, n, 0.50);
  out->trip_p99 = bench_percentile(trips, n, 0.99);
}

/* Sets up the peer of kind k on an fd of `own` (taken in every case). A
 * refusal that means "not here" (-EOPNOTSUPP, -ENODEV) is returned as is,
 * for the caller to report as a skip. */
static int pp_peer(bench_cuda *cu, bench_vk *vk, bench_pp_kind k, int fd, peer *p) {
  int rc = 0;
  if (k == BENCH_PP_VULKAN) {
    p->vk = vk;
    rc = bench_vk_pingpong_import(vk, &fd);
    if (rc != 0) p->vk = NULL;
  } else {
    rc = bench_cuda_lane_create(cu, k == BENCH_PP_SAME_CONTEXT, &p->lane);
    if (rc == 0) {
      rc = ifd_timeline_import_fd(bench_cuda_lane_context(p->lane), fd, &p->timeline);
      if (rc == 0) fd = -1; /* the library's now */
      else rc = lib_fail(rc, "ifd_timeline_import_fd");
    }
  }
  if (fd >= 0) close(fd);
  return rc;
}

static void pp_peer_drop(peer *p) {
  if (p->vk) bench_vk_pingpong_drop(p->vk);
  ifd_timeline_destroy(p->timeline);
  bench_cuda_lane_destroy(p->lane);
}

static int pingpong(bench_cuda *cu, bench_vk *vk, bench_pp_kind k, bench_pingpong *out) {
  ifd_timeline *own = NULL;
  int fd = -1;
  int rc = ifd_timeline_create(bench_cuda_context(cu), 0, &own);
  if (rc == 0 && (rc = ifd_timeline_export_fd(own, &fd)) != 0) fd = -1;
  if (rc != 0) {
    ifd_timeline_destroy(own);
    snprintf(out->why, sizeof(out->why), "no timeline to export: %s", ifd_last_error());
    return rc == -EOPNOTSUPP || rc == -ENODEV ? 0 : lib_fail(rc, "ifd_timeline_create/export");
  }
  peer p = {0};
  rc = pp_peer(cu, vk, k, fd, &p);
  if (rc == -EOPNOTSUPP || rc == -ENODEV) {
    snprintf(out->why, sizeof(out->why), "%s", tool_last_error());
    rc = 0;
  } else if (rc == 0) {
    double trips[PP_BATCH * PP_BATCHES];
    progress pr;
    progress_begin(&pr);
    uint32_t n = 0;
    for (uint32_t batch = 0; batch < PP_BATCHES && rc == 0; batch++) {
      rc = pp_batch(cu, own, &p, (uint64_t)batch * 2 * PP_BATCH, trips + n);
      if (batch > 0) n += PP_BATCH; /* batch 0 warms up */
      if (progress_due(&pr)) progress_print(&pr, "    %s: %u round trips", pp_names[k], n);
    }
    progress_end(&pr, false);
    if (rc == 0) pp_stats(out, trips, n);
  }
  int rc2 = bench_cuda_sync(cu);
  if (rc == 0) rc = rc2;
  pp_peer_drop(&p);
  ifd_timeline_destroy(own);
  return rc;
}

int bench_floor_pingpong(bench_cuda *cu, bench_vk *vk, bench_floors *f) {
  int first = 0;
  for (int k = 0; k < BENCH_PP_COUNT; k++) {
    f->pp[k] = (bench_pingpong){.measured = false};
    int rc = pingpong(cu, vk, (bench_pp_kind)k, &f->pp[k]);
    if (rc != 0) snprintf(f->pp[k].why, sizeof(f->pp[k].why), "FAILED: %s", tool_last_error());
    if (first == 0) first = rc;
  }
  return first;
}

/* ------------------------------------------------------------------ time slice */

/* The saturating producer: 4K RGBA8 frames back to back on the bench's
 * stream, at most 64 kernels ahead of the GPU, until stop. */
typedef struct {
  bench_cuda *cu;
  uint64_t frame;
  _Atomic bool stop;
  _Atomic uint64_t written;
  bench_outcome done;
} saturator;

static int saturate(saturator *s) {
  for (uint64_t k = 1; !atomic_load(&s->stop); k++) {
    int rc = bench_cuda_pattern(s->cu, s->frame, 3840 * 4, 3840, 2160, 0, (uint32_t)k);
    if (rc == 0 && k % 32 == 0) rc = bench_cuda_event_record(s->cu, (uint32_t)(k / 32));
    if (rc == 0 && k % 32 == 0 && k >= 64) rc = bench_cuda_event_wait(s->cu, (uint32_t)(k / 32 - 1));
    if (rc != 0) return rc;
    atomic_store(&s->written, k);
  }
  return 0;
}

static void *saturator_main(void *arg) {
  saturator *s = arg;
  bench_outcome_set(&s->done, saturate(s));
  return NULL;
}

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
  nanosleep(&ts, NULL);
}

/* SLICE_SAMPLES probes, one every SLICE_PERIOD_NS, after a few to warm up. */
static int probes(bench_vk *vk, int64_t offset, double *wait) {
  double run = 0, ignored = 0;
  for (int i = 0; i < 5; i++) {
    int rc = bench_vk_slice_probe(vk, offset, &ignored, &run);
    if (rc != 0) return rc;
  }
  for (int i = 0; i < SLICE_SAMPLES; i++) {
    int rc = bench_vk_slice_probe(vk, offset, &wait[i], &run);
    if (rc != 0) return rc;
    sleep_ns(SLICE_PERIOD_NS);
  }
  return 0;
}

static int slice(bench_cuda *cu, bench_vk *vk, bench_slice *out) {
  int64_t offset = 0;
  uint64_t spread = 0;
  int rc = bench_vk_calibrate(vk, &offset, &spread);
  if (rc != 0) {
    snprintf(out->why, sizeof(out->why), "%s", tool_last_error());
    return rc == -EOPNOTSUPP ? 0 : rc;
  }
  const char *why = "";
  VkQueueGlobalPriorityKHR got = bench_vk_priority(vk, &why);
  snprintf(out->queue, sizeof(out->queue), "%s%s%s%s", vk_kit_priority_name(got),
           got ? " (granted)" : "", why[0] ? ": " : "", why);
  double idle[SLICE_SAMPLES], busy[SLICE_SAMPLES];
  rc = probes(vk, offset, idle);
  if (rc != 0) return rc;
  saturator s = {.cu = cu};
  rc = bench_cuda_alloc(cu, (size_t)3840 * 2160 * 4, &s.frame);
  if (rc != 0) return rc;
  pthread_t thread;
  if (pthread_create(&thread, NULL, saturator_main, &s) != 0) {
    bench_cuda_free(cu, s.frame);
    return tool_fail(-EAGAIN, "cannot start the saturating producer's thread");
  }
  /* The producer is running once its first frames are enqueued. */
  uint64_t t0 = tool_now_ns();
  while (atomic_load(&s.written) < 64 && tool_now_ns() - t0 < 1000000000ull)
    sleep_ns(100000);
  sleep_ns(20000000); /* then 20 ms of back-to-back frames before the first probe */
  rc = probes(vk, offset, busy);
  atomic_store(&s.stop, true);
  pthread_join(thread, NULL);
  int rc2 = bench_cuda_sync(cu);
  bench_cuda_free(cu, s.frame);
  if (rc == 0 && s.done.rc != 0) rc = tool_fail(s.done.rc, "the saturating producer: %s", s.done.message);
  if (rc == 0) rc = rc2;
  if (rc != 0) return rc;
  out->measured = true;
  out->samples = SLICE_SAMPLES;
  out->idle_p50 = bench_percentile(idle, SLICE_SAMPLES, 0.50);
  out->idle_p99 = bench_percentile(idle, SLICE_SAMPLES, 0.99);
  out->busy_p50 = bench_percentile(busy, SLICE_SAMPLES, 0.50);
  out->busy_p99 = bench_percentile(busy, SLICE_SAMPLES, 0.99);
  return 0;
}

int bench_floor_slices(bench_cuda *cu, bench_vk *plain, bench_vk *prioritized, bench_floors *f) {
  bench_vk *v[2] = {plain, prioritized};
  int first = 0;
  for (int i = 0; i < 2; i++) {
    if (!v[i]) continue;
    f->slice[i] = (bench_slice){.measured = false};
    int rc = slice(cu, v[i], &f->slice[i]);
    if (rc != 0) snprintf(f->slice[i].why, sizeof(f->slice[i].why), "FAILED: %s", tool_last_error());
    if (first == 0) first = rc;
  }
  return first;
}
