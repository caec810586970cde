/* The paths of `interop-fd bench` (bench_internal.h), each on the same
 * frames of the same kernel; bench.c says what each path is. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"
#include "bench/bench_pattern.h"
#include "common/clock.h"
#include "common/tool_error.h"

static int lib_fail(int rc, const char *what) {
  return tool_fail(rc, "%s: %s", what, ifd_last_error());
}

static bool broken(const bench *b) { return b->o->break_path == (int)b->r->path; }

/* Checks frame k as the consumer saw it. */
static void check_frame(bench *b, uint64_t k, const bench_seen *seen) {
  uint32_t pos[2 * BENCH_SAMPLES];
  bench_positions((uint32_t)k, b->r->width, b->r->height, pos);
  for (int i = 0; i < BENCH_SAMPLES; i++) {
    uint32_t want[4];
    bench_pattern_values(pos[2 * i], pos[2 * i + 1], (uint32_t)k, b->fmt_code, want);
    for (int c = 0; c < 4; c++) {
      if (seen->texel[i][c] == want[c]) continue;
      b->bad_slot[(k - 1) % (b->o->ring ? b->o->ring : 1)]++;
      if (b->bad++ == 0)
        snprintf(b->first_bad, sizeof(b->first_bad),
                 "frame %llu pixel (%u, %u) channel %d: %u, expected %u",
                 (unsigned long long)k, pos[2 * i], pos[2 * i + 1], c, seen->texel[i][c], want[c]);
      return;
    }
  }
}

/* Records frame k's times: stamp = the kernel's end (GPU timer), start/end on
 * the consumer's clock (offset to the host's in b->consumer_offset, unless
 * same_clock), wake = host ns when the consumer's wait returned (0: none). */
/* Records the GPU time the consumer spent on frame k: start -> end, and
 * start -> used where the consumer marks the end of its copy or acquire
 * (used_ns 0: it does not). */
static void record_gpu(bench *b, uint64_t k, const bench_seen *seen) {
  if (k <= b->warm || !seen->has_times || seen->end_ns < seen->start_ns) return;
  b->gpu[b->ngpu++] = (double)(seen->end_ns - seen->start_ns) * 1e-3;
  if (seen->used_ns >= seen->start_ns && seen->used_ns <= seen->end_ns && seen->used_ns)
    b->copy[b->ncopy++] = (double)(seen->used_ns - seen->start_ns) * 1e-3;
}

static void record_times(bench *b, uint64_t k, uint64_t stamp, uint64_t start, uint64_t end,
                         bool same_clock, uint64_t wake) {
  if (k == b->warm) b->span_first = end;
  if (k == b->frames) b->span_last = end;
  if (k <= b->warm || !stamp) return;
  double kernel_end = same_clock ? (double)stamp : (double)stamp + (double)b->cuda_offset;
  double first_use = same_clock ? (double)start : (double)start + (double)b->consumer_offset;
  if (same_clock || b->calibrated) b->lat[b->nlat++] = (first_use - kernel_end) * 1e-3;
  if (wake && b->calibrated) b->wake[b->nwake++] = ((double)wake - ((double)stamp + (double)b->cuda_offset)) * 1e-3;
}

/* ------------------------------------------------------------------ zero copy */

typedef struct {
  bench *b;
  ifd_ring *ring;
  _Atomic uint64_t go;     /* latency mode: the consumer waits for frame go */
  _Atomic bool stop;
  bench_outcome done;
} producer_arg;

/* The producer thread's frames, until the last, a failure or p->stop. */
static int produce(producer_arg *p) {
  bench *b = p->b;
  bool latency = b->r->mode == BENCH_LATENCY;
  for (uint64_t k = 1; k <= b->frames && !atomic_load(&p->stop); k++) {
    if (latency) { /* start frame k only once the consumer is waiting for it */
      uint64_t t0 = tool_now_ns();
      while (atomic_load(&p->go) < k && !atomic_load(&p->stop))
        if (tool_now_ns() - t0 > WAIT_NS)
          return tool_fail(-ETIMEDOUT, "the consumer stopped asking for frames");
      if (atomic_load(&p->stop)) break;
    }
    uint64_t frame = 0;
    ifd_image *img = NULL;
    int rc = ifd_ring_begin_frame(p->ring, WAIT_NS, &frame, &img);
    if (rc != 0) return lib_fail(rc, "ifd_ring_begin_frame");
    ifd_image_native n;
    ifd_image_native_handles(img, &n);
    atomic_store(&b->launch_at[frame % BENCH_STAMP_SLOTS], tool_now_ns());
    rc = bench_cuda_pattern(b->cu, n.cu_device_ptr, n.row_pitch, b->r->width, b->r->height,
                            b->fmt_code, (uint32_t)frame + (broken(b) ? 1 : 0));
    if (rc != 0) return rc;
    rc = ifd_ring_end_frame(p->ring, frame);
    if (rc != 0) return lib_fail(rc, "ifd_ring_end_frame");
  }
  return 0;
}

static void *producer_main(void *arg) {
  producer_arg *p = arg;
  bench_outcome_set(&p->done, produce(p));
  return NULL;
}

static int zc_collect(bench *b, uint64_t k, const uint64_t *wake) {
  bench_seen seen = {0};
  int rc = bench_vk_ring_collect(b->vk, k, &seen);
  if (rc != 0) return rc;
  uint64_t seen_at = tool_now_ns();
  check_frame(b, k, &seen);
  record_gpu(b, k, &seen);
  uint64_t stamp = bench_cuda_stamp(b->cu, (uint32_t)k);
  record_times(b, k, stamp, seen.start_ns, seen.end_ns, false, wake[k % BENCH_STAMP_SLOTS]);
  uint32_t i = k % BENCH_STAMP_SLOTS;
  if (k > b->warm && b->calibrated && stamp && wake[i]) {
    double written = (double)stamp + (double)b->cuda_offset;
    double first = (double)seen.start_ns + (double)b->consumer_offset;
    double done = (double)seen.end_ns + (double)b->consumer_offset;
    double v[6] = {written - (double)atomic_load(&b->launch_at[i]), (double)wake[i] - written,
                   (double)(b->submitted_at[i] - b->submit_at[i]), first - (double)b->submitted_at[i],
                   (double)seen_at - done, (double)(seen.used_ns - seen.start_ns)};
    for (int p = 0; p < 6; p++) b->parts[p][b->nparts] = v[p] * 1e-3;
    b->nparts++;
  }
  return 0;
}

int bench_run_zero_copy(bench *b) {
  bool latency = b->r->mode == BENCH_LATENCY;
  uint32_t count = latency ? 1 : b->o->ring;
  ifd_ring *ring = NULL;
  int rc = ifd_ring_create(b->ctx, count, b->r->width, b->r->height, b->r->format, &ring);
  if (rc != 0) return lib_fail(rc, "ifd_ring_create");
  ifd_ring_desc desc;
  rc = ifd_ring_export(ring, &desc);
  if (rc != 0) {
    ifd_ring_destroy(ring);
    return lib_fail(rc, "ifd_ring_export");
  }
  ifd_vk_path path = b->r->path == BENCH_ZERO_COPY_DIRECT ? IFD_VK_PATH_LINEAR : IFD_VK_PATH_COPY;
  rc = bench_vk_ring_import(b->vk, &desc, path);
  ifd_ring_desc_close(&desc);
  if (rc != 0) {
    ifd_ring_destroy(ring);
    if (rc == -EOPNOTSUPP) {
      b->r->status = RUN_SKIPPED;
      snprintf(b->r->why, sizeof(b->r->why), "%s", tool_last_error());
      return 0;
    }
    return rc;
  }
  producer_arg p = {.b = b, .ring = ring};
  pthread_t thread;
  if (pthread_create(&thread, NULL, producer_main, &p) != 0) {
    bench_vk_ring_drop(b->vk);
    ifd_ring_destroy(ring);
    return tool_fail(-EAGAIN, "cannot start the producer thread");
  }
  uint64_t wake[BENCH_STAMP_SLOTS] = {0};
  uint64_t collected = 0;
  for (uint64_t k = 1; k <= b->frames && rc == 0; k++) {
    if (!latency && k > count) rc = zc_collect(b, ++collected, wake);
    uint32_t pos[2 * BENCH_SAMPLES];
    bench_positions((uint32_t)k, b->r->width, b->r->height, pos);
    if (rc == 0) rc = bench_vk_ring_record(b->vk, k, pos);
    if (rc != 0) break;
    if (latency && b->o->host_wait) atomic_store(&p.go, k);
    /* Device handoff (the default): submit before the frame is ready, with a
     * device-side wait; then the host waits too, only to measure its wake-up.
     * Host handoff: the host waits, then submits. */
    uint32_t i = k % BENCH_STAMP_SLOTS;
    wake[i] = 0;
    if (!b->o->host_wait) {
      b->submit_at[i] = tool_now_ns();
      rc = bench_vk_ring_submit(b->vk, k, true);
      b->submitted_at[i] = tool_now_ns();
      if (latency) atomic_store(&p.go, k); /* the producer starts only now */
    }
    if (rc == 0) {
      rc = bench_vk_ring_wait_ready(b->vk, k);
      wake[i] = tool_now_ns();
    }
    if (rc == 0 && b->o->host_wait) {
      b->submit_at[i] = tool_now_ns();
      rc = bench_vk_ring_submit(b->vk, k, false);
      b->submitted_at[i] = tool_now_ns();
    }
    if (rc == 0 && latency) rc = zc_collect(b, ++collected, wake);
  }
  while (rc == 0 && collected < b->frames) rc = zc_collect(b, ++collected, wake);
  atomic_store(&p.stop, true);
  pthread_join(thread, NULL);
  if (rc == 0 && p.done.rc != 0) rc = tool_fail(p.done.rc, "producer: %s", p.done.message);
  bench_vk_ring_drop(b->vk);
  ifd_ring_destroy(ring);
  return rc;
}

/* ------------------------------------------------------------------ cpu round trip */

/* The paths that stage frames through slots (cpu-roundtrip: Vulkan uploads;
 * cuda-gl-interop: GL pixel buffers): slot s's previous frame, if it holds
 * one, collected from the path's consumer, checked and timed against its CUDA
 * stamp; the slot is free afterwards. */
static int retire_slot(bench *b, uint32_t s, uint64_t *in_slot) {
  if (!in_slot[s]) return 0;
  bench_seen seen = {0};
  int rc = b->r->path == BENCH_CUDA_GL_INTEROP ? bench_gl_collect(b->gl, s, &seen)
                                               : bench_vk_upload_collect(b->vk, s, &seen);
  if (rc != 0) return rc;
  check_frame(b, in_slot[s], &seen);
  record_gpu(b, in_slot[s], &seen);
  record_times(b, in_slot[s], bench_cuda_stamp(b->cu, (uint32_t)in_slot[s]), seen.start_ns,
               seen.end_ns, false, 0);
  in_slot[s] = 0;
  return 0;
}

int bench_run_cpu_roundtrip(bench *b) {
  bool latency = b->r->mode == BENCH_LATENCY;
  const uint32_t slots = latency ? 1 : 2;
  size_t pitch = (size_t)b->r->width * b->bpp, bytes = pitch * b->r->height;
  uint64_t src = 0;
  void *pinned[2] = {NULL, NULL};
  int rc = bench_cuda_alloc(b->cu, bytes, &src);
  for (uint32_t s = 0; s < slots && rc == 0; s++) rc = bench_cuda_host_alloc(b->cu, bytes, &pinned[s]);
  if (rc == 0) rc = bench_vk_upload_setup(b->vk, slots, b->r->width, b->r->height, b->r->format);
  uint64_t in_slot[2] = {0, 0};
  for (uint64_t k = 1; k <= b->frames + slots && rc == 0; k++) {
    uint32_t s = (uint32_t)((k - 1) % slots);
    rc = retire_slot(b, s, in_slot);
    if (rc != 0) break;
    if (k > b->frames) continue;
    rc = bench_cuda_pattern(b->cu, src, (uint32_t)pitch, b->r->width, b->r->height, b->fmt_code,
                            (uint32_t)k + (broken(b) ? 1 : 0));
    if (rc == 0) rc = bench_cuda_copy_dtoh(b->cu, pinned[s], src, bytes);
    if (rc == 0) rc = bench_cuda_event_record(b->cu, s);
    if (rc == 0) rc = bench_cuda_event_wait(b->cu, s);
    if (rc != 0) break;
    memcpy(bench_vk_upload_staging(b->vk, s), pinned[s], bytes);
    uint32_t pos[2 * BENCH_SAMPLES];
    bench_positions((uint32_t)k, b->r->width, b->r->height, pos);
    rc = bench_vk_upload_submit(b->vk, s, pos);
    in_slot[s] = k;
  }
  bench_vk_upload_drop(b->vk);
  bench_cuda_sync(b->cu);
  for (uint32_t s = 0; s < 2; s++) bench_cuda_host_free(b->cu, pinned[s]);
  bench_cuda_free(b->cu, src);
  return rc;
}

/* ------------------------------------------------------------------ floor */

int bench_run_floor(bench *b) {
  bool latency = b->r->mode == BENCH_LATENCY;
  size_t pitch = (size_t)b->r->width * b->bpp, bytes = pitch * b->r->height;
  uint64_t src = 0, dst = 0;
  int rc = bench_cuda_alloc(b->cu, bytes, &src);
  if (rc == 0) rc = bench_cuda_alloc(b->cu, bytes, &dst);
  const uint64_t lag = latency ? 0 : 8; /* frames queued before one is collected */
  uint64_t collected = 0;
  for (uint64_t k = 1; k <= b->frames + lag && rc == 0; k++) {
    if (k <= b->frames) {
      uint32_t pos[2 * BENCH_SAMPLES];
      bench_positions((uint32_t)k, b->r->width, b->r->height, pos);
      rc = bench_cuda_pattern(b->cu, src, (uint32_t)pitch, b->r->width, b->r->height, b->fmt_code,
                              (uint32_t)k + (broken(b) ? 1 : 0));
      if (rc == 0) rc = bench_cuda_mark(b->cu, (uint32_t)k); /* the consumer's first use */
      if (rc == 0) rc = bench_cuda_copy_dtod(b->cu, dst, src, bytes);
      if (rc == 0) rc = bench_cuda_gather(b->cu, dst, (uint32_t)pitch, b->fmt_code, (uint32_t)k, pos);
      if (rc == 0) rc = bench_cuda_event_record(b->cu, (uint32_t)k);
    }
    if (rc != 0 || k <= lag) continue;
    uint64_t j = ++collected;
    rc = bench_cuda_event_wait(b->cu, (uint32_t)j);
    if (rc != 0) break;
    bench_seen seen = {.has_times = true};
    bench_cuda_gathered(b->cu, (uint32_t)j, seen.texel);
    check_frame(b, j, &seen);
    /* The frame is done when its gather is; the next frame's mark is near
     * enough for the span, which only needs frames warm and N. */
    uint64_t start = bench_cuda_mark_value(b->cu, (uint32_t)j);
    record_times(b, j, bench_cuda_stamp(b->cu, (uint32_t)j), start, start, true, 0);
  }
  bench_cuda_sync(b->cu);
  bench_cuda_free(b->cu, dst);
  bench_cuda_free(b->cu, src);
  return rc;
}

/* ------------------------------------------------------------------ CUDA-GL */

int bench_run_cuda_gl(bench *b) {
  if (!b->gl && b->gl_rc == 0) {
    b->gl_rc = bench_gl_create(b->uuid, &b->gl);
    if (b->gl_rc != 0) snprintf(b->gl_why, sizeof(b->gl_why), "no GL here: %s", tool_last_error());
  }
  if (!b->gl) {
    b->r->status = RUN_SKIPPED;
    snprintf(b->r->why, sizeof(b->r->why), "%s", b->gl_why);
    return 0;
  }
  uint64_t spread = 0;
  int rc = bench_gl_calibrate(b->gl, &b->consumer_offset, &spread);
  if (rc != 0) return rc;
  bool latency = b->r->mode == BENCH_LATENCY;
  uint32_t slots = latency ? 1 : b->o->ring;
  unsigned pbo[8];
  void *res[8] = {NULL};
  rc = bench_gl_setup(b->gl, slots, b->r->width, b->r->height, b->r->format, pbo);
  for (uint32_t s = 0; s < slots && rc == 0; s++) rc = bench_cuda_gl_register(b->cu, pbo[s], &res[s]);
  uint64_t in_slot[8] = {0};
  uint32_t pitch = b->r->width * b->bpp;
  for (uint64_t k = 1; k <= b->frames + slots && rc == 0; k++) {
    uint32_t s = (uint32_t)((k - 1) % slots);
    rc = retire_slot(b, s, in_slot);
    if (rc != 0) break;
    if (k > b->frames) continue;
    uint64_t dptr = 0;
    size_t size = 0;
    rc = bench_cuda_gl_map(b->cu, res[s], &dptr, &size);
    if (rc != 0) break;
    if (size < (size_t)pitch * b->r->height) rc = tool_fail(-EIO, "the mapped pixel buffer is too small");
    if (rc == 0)
      rc = bench_cuda_pattern(b->cu, dptr, pitch, b->r->width, b->r->height, b->fmt_code,
                              (uint32_t)k + (broken(b) ? 1 : 0));
    int rc2 = bench_cuda_gl_unmap(b->cu, res[s]);
    if (rc == 0) rc = rc2;
    uint32_t pos[2 * BENCH_SAMPLES];
    bench_positions((uint32_t)k, b->r->width, b->r->height, pos);
    if (rc == 0) rc = bench_gl_submit(b->gl, s, pos);
    in_slot[s] = k;
  }
  bench_cuda_sync(b->cu);
  for (uint32_t s = 0; s < slots; s++) bench_cuda_gl_unregister(b->cu, res[s]);
  bench_gl_drop(b->gl);
  return rc;
}

