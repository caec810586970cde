/* `interop-fd bench` (bench.h): every path on the same frames of the same
 * kernel, in one process and one run.
 *
 *  zero-copy-copy    interop_fd: a ring of CUDA frames, exported, imported by a
 *                    Vulkan device of its own; the consumer copies each frame
 *                    into an OPTIMAL image (IFD_VK_PATH_COPY).
 *  zero-copy-direct  the same, sampling a LINEAR image on the memory, no copy.
 *  cpu-roundtrip     cuMemcpyDtoH into pinned memory, memcpy into a Vulkan
 *                    staging buffer, vkCmdCopyBufferToImage.
 *  cuda-gl-interop   CUDA's own GL interop: a registered pixel buffer, mapped,
 *                    written and unmapped each frame, then uploaded to a texture.
 *  floor             no interop at all: the frame kernel, a device-to-device
 *                    copy of the frame and the same sampling, on one stream.
 *
 * Every consumer samples BENCH_SAMPLES pixels of every frame, and each is
 * checked against bench_pattern.h: a run with one wrong pixel is refused.
 * Throughput: frames/s over the consumer's own GPU timestamps, frames
 * pipelined (--ring in flight). Latency: one frame in flight; the time from the
 * frame kernel's last block (the GPU's global timer) to the consumer's first
 * command on the frame (its timestamp), both put on the host's clock by
 * calibration. Host wake: from the kernel's end to the consumer's host wait
 * returning. */
#include "bench/bench.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_cuda.h"
#include "bench/bench_gl.h"
#include "bench/bench_pattern.h"
#include "bench/bench_report.h"
#include "bench/bench_vk.h"
#include "common/clock.h"
#include "common/out_dir.h"
#include "common/tool_error.h"

#define WAIT_NS (10ull * 1000 * 1000 * 1000)
#define MAX_RUNS (2 * 2 * BENCH_PATH_COUNT * BENCH_MODE_COUNT)

/* ------------------------------------------------------------------ state */

typedef struct {
  const tool_options *o;
  ifd_context *ctx;
  bench_cuda *cu;
  bench_vk *vk;
  bench_gl *gl;
  int gl_rc;
  char gl_why[256];
  uint8_t uuid[16];
  char device[256];
  int cuda_driver;
  bench_result runs[MAX_RUNS];
  size_t nruns;
  /* the run in progress */
  bench_result *r;
  uint32_t fmt_code; /* 0 RGBA8, 1 RGBA16F */
  uint32_t bpp;
  uint64_t frames, warm;
  int64_t cuda_offset, consumer_offset; /* host ns = clock ns + offset */
  bool calibrated;
  double *lat, *wake;
  size_t nlat, nwake;
  uint64_t span_first, span_last; /* consumer clock at the end of frames warm, N */
  uint64_t bad;
  uint64_t bad_slot[IFD_RING_MAX_FRAMES];
  char first_bad[200];
  /* where the time goes (zero-copy paths), host ns per frame slot */
  _Atomic uint64_t launch_at[BENCH_STAMP_SLOTS];
  uint64_t submit_at[BENCH_STAMP_SLOTS], submitted_at[BENCH_STAMP_SLOTS];
  double *parts[6];
  size_t nparts;
} bench;

static const char *const part_names[6] = {"launch->written", "written->wake", "submit call",
                                          "submitted->first use", "done->seen", "first use"};

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

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double percentile(double *v, size_t n, double q) {
  if (n == 0) return NAN;
  qsort(v, n, sizeof(*v), cmp_double);
  size_t i = (size_t)llround(q * (double)(n - 1));
  return v[i];
}

/* ------------------------------------------------------------------ zero copy */

typedef struct {
  bench *b;
  ifd_ring *ring;
  _Atomic uint64_t go;     /* latency mode: the consumer waits for frame go */
  _Atomic bool stop;
  int rc;
  char err[320];
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
  p->rc = produce(p);
  if (p->rc != 0) snprintf(p->err, sizeof(p->err), "%s", tool_last_error());
  return NULL;
}

static int zc_collect(bench *b, uint64_t k, const uint64_t *wake) {
  bench_seen seen;
  int rc = bench_vk_ring_collect(b->vk, k, &seen);
  if (rc != 0) return rc;
  uint64_t seen_at = tool_now_ns();
  check_frame(b, k, &seen);
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

static int run_zero_copy(bench *b) {
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
  if (rc == 0 && p.rc != 0) rc = tool_fail(p.rc, "producer: %s", p.err);
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
  bench_seen seen;
  int rc = b->r->path == BENCH_CUDA_GL_INTEROP ? bench_gl_collect(b->gl, s, &seen)
                                               : bench_vk_upload_collect(b->vk, s, &seen);
  if (rc != 0) return rc;
  check_frame(b, in_slot[s], &seen);
  record_times(b, in_slot[s], bench_cuda_stamp(b->cu, (uint32_t)in_slot[s]), seen.start_ns,
               seen.end_ns, false, 0);
  in_slot[s] = 0;
  return 0;
}

static int run_cpu_roundtrip(bench *b) {
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

static int run_floor(bench *b) {
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

static int run_cuda_gl(bench *b) {
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

/* ------------------------------------------------------------------ runs */

static void run_one(bench *b, bench_result *r) {
  b->r = r;
  b->fmt_code = r->format == MAX_FMT_RGBA8 ? 0 : 1;
  b->bpp = r->format == MAX_FMT_RGBA8 ? 4 : 8;
  uint64_t n = b->o->frames_given ? b->o->frames : 2000;
  if (r->path == BENCH_CPU_ROUNDTRIP) n = n / 10 > 20 ? n / 10 : (n < 20 ? n : 20);
  b->frames = n;
  b->warm = n >= 20 ? n / 10 : 1;
  if (b->warm > 100) b->warm = 100;
  b->nlat = b->nwake = 0;
  b->bad = 0;
  b->nparts = 0;
  memset(b->bad_slot, 0, sizeof(b->bad_slot));
  b->first_bad[0] = '\0';
  b->span_first = b->span_last = 0;
  r->fps = r->lat_p50 = r->lat_p99 = r->wake_p50 = r->wake_p99 = NAN;
  r->frames = n;
  uint64_t spread = 0;
  b->calibrated = bench_cuda_calibrate(b->cu, &b->cuda_offset, &spread) == 0 &&
                  (r->path == BENCH_FLOOR || r->path == BENCH_CUDA_GL_INTEROP ||
                   bench_vk_calibrate(b->vk, &b->consumer_offset, &spread) == 0);
  int rc = 0;
  switch (r->path) {
  case BENCH_ZERO_COPY_COPY:
  case BENCH_ZERO_COPY_DIRECT: rc = run_zero_copy(b); break;
  case BENCH_CPU_ROUNDTRIP: rc = run_cpu_roundtrip(b); break;
  case BENCH_CUDA_GL_INTEROP: rc = run_cuda_gl(b); break;
  case BENCH_FLOOR: rc = run_floor(b); break;
  default: rc = tool_fail(-EINVAL, "no such path");
  }
  if (r->status == RUN_SKIPPED) return;
  if (rc != 0) {
    r->status = RUN_FAILED;
    snprintf(r->why, sizeof(r->why), "%s", tool_last_error());
    return;
  }
  if (b->bad) {
    r->status = RUN_REFUSED;
    char slots[96] = "";
    for (uint32_t s = 0, len = 0; s < b->o->ring && len < sizeof(slots) - 12; s++)
      len += (uint32_t)snprintf(slots + len, sizeof(slots) - len, "%s%llu", s ? "/" : "",
                                (unsigned long long)b->bad_slot[s]);
    snprintf(r->why, sizeof(r->why), "%llu of %llu frames wrong (by ring slot %s); first: %s",
             (unsigned long long)b->bad, (unsigned long long)n, slots, b->first_bad);
    return;
  }
  if (b->nparts && getenv("IFD_BENCH_TRACE")) {
    fprintf(stderr, "    where the time goes, us p50/p99:");
    for (int p = 0; p < 6; p++)
      fprintf(stderr, " %s %.1f/%.1f", part_names[p], percentile(b->parts[p], b->nparts, 0.5),
              percentile(b->parts[p], b->nparts, 0.99));
    fprintf(stderr, "\n");
  }
  r->status = RUN_OK;
  if (b->span_last > b->span_first)
    r->fps = (double)(n - b->warm) / ((double)(b->span_last - b->span_first) * 1e-9);
  r->lat_p50 = percentile(b->lat, b->nlat, 0.50);
  r->lat_p99 = percentile(b->lat, b->nlat, 0.99);
  r->wake_p50 = percentile(b->wake, b->nwake, 0.50);
  r->wake_p99 = percentile(b->wake, b->nwake, 0.99);
}

/* ------------------------------------------------------------------ main */

static int setup(bench *b) {
  int rc = ifd_context_create(IFD_BACKEND_CUDA, b->o->device, &b->ctx);
  if (rc != 0) return tool_fail(rc, "bench needs a CUDA device (the frames, the CPU round trip "
                                    "and CUDA's GL interop are CUDA): %s", ifd_last_error());
  ifd_context_native n;
  ifd_context_native_handles(b->ctx, &n);
  memcpy(b->uuid, n.device_uuid, 16);
  snprintf(b->device, sizeof(b->device), "%s", n.device_name);
  rc = bench_cuda_create(b->ctx, &b->cu);
  if (rc == 0) b->cuda_driver = bench_cuda_driver_version(b->cu);
  if (rc == 0) rc = bench_vk_create(b->uuid, &b->vk);
  return rc;
}

int bench_run_main(const tool_options *o) {
  bench *b = calloc(1, sizeof(*b));
  if (!b) return fprintf(stderr, "interop-fd bench: out of memory\n"), 1;
  b->o = o;
  int rc = setup(b);
  if (rc != 0) {
    fprintf(stderr, "interop-fd bench: %s\n", tool_last_error());
    bool no_device = rc == -ENODEV || rc == -EOPNOTSUPP || rc == -EXDEV;
    bench_vk_destroy(b->vk);
    bench_cuda_destroy(b->cu);
    ifd_context_destroy(b->ctx);
    free(b);
    return no_device ? 77 : 1; /* 77: nothing to measure here (CTest's skip code) */
  }
  uint64_t max_frames = o->frames_given ? o->frames : 2000;
  b->lat = calloc(max_frames + 1, sizeof(double));
  b->wake = calloc(max_frames + 1, sizeof(double));
  for (int p = 0; p < 6; p++) b->parts[p] = calloc(max_frames + 1, sizeof(double));
  const uint32_t sizes[2][2] = {{1920, 1080}, {3840, 2160}};
  const MAX_Format formats[2] = {MAX_FMT_RGBA8, MAX_FMT_RGBA16F};
  printf("interop-fd bench on %s (%s), %d samples checked per frame\n", b->device,
         bench_vk_driver_info(b->vk), BENCH_SAMPLES);
  /* The floor and the CPU round trip first: the others' ratios refer to them. */
  const bench_path order[BENCH_PATH_COUNT] = {BENCH_FLOOR, BENCH_CPU_ROUNDTRIP, BENCH_ZERO_COPY_COPY,
                                              BENCH_ZERO_COPY_DIRECT, BENCH_CUDA_GL_INTEROP};
  for (int si = 0; si < 2 && b->lat && b->wake && b->parts[5]; si++) {
    uint32_t w = o->size_given ? o->width : sizes[si][0];
    uint32_t h = o->size_given ? o->height : sizes[si][1];
    if (o->size_given && si > 0) break;
    for (int fi = 0; fi < 2; fi++) {
      MAX_Format fmt = o->format_given ? o->format : formats[fi];
      if (o->format_given && fi > 0) break;
      for (int pi = 0; pi < BENCH_PATH_COUNT; pi++) {
        bench_path p = order[pi];
        if (!(o->paths & (1u << p))) continue;
        for (int m = 0; m < BENCH_MODE_COUNT; m++) {
          if (!(o->modes & (1u << m))) continue;
          bench_result *r = &b->runs[b->nruns++];
          *r = (bench_result){.path = p, .mode = (bench_mode)m, .width = w, .height = h, .format = fmt};
          printf("  %ux%u %-7s %-16s %-10s ...", w, h, bench_format_name(fmt), bench_path_name(p), bench_mode_name((bench_mode)m));
          fflush(stdout);
          run_one(b, r);
          if (r->status == RUN_OK)
            printf(" %.0f frames/s, latency p50 %.1f us\n", r->fps, r->lat_p50);
          else
            printf(" %s\n", r->status == RUN_SKIPPED ? "skipped" : r->status == RUN_REFUSED ? "REFUSED" : "FAILED");
        }
      }
    }
  }
  bench_report rep = {.device = b->device,
                      .driver = bench_vk_driver_info(b->vk),
                      .cuda_driver = b->cuda_driver,
                      .ring = o->ring,
                      .host_wait = o->host_wait,
                      .runs = b->runs,
                      .nruns = b->nruns};
  bench_report_table(&rep, stdout);
  const char *dir = o->out_dir ? o->out_dir : "bench-out";
  char json[4096], svg[4096];
  snprintf(json, sizeof(json), "%s/bench.json", dir);
  snprintf(svg, sizeof(svg), "%s/bench.svg", dir);
  int out = tool_out_dir(dir);
  if (out == 0) out = bench_report_json(&rep, json);
  if (out == 0) out = bench_report_svg(&rep, svg);
  if (out != 0) fprintf(stderr, "interop-fd bench: %s\n", tool_last_error());
  else printf("wrote %s and %s\n", json, svg);
  int status = out == 0 && b->lat && b->wake ? 0 : 1;
  for (size_t i = 0; i < b->nruns; i++)
    if (b->runs[i].status == RUN_REFUSED || b->runs[i].status == RUN_FAILED) status = 1;
  bench_gl_destroy(b->gl);
  bench_vk_destroy(b->vk);
  bench_cuda_destroy(b->cu);
  ifd_context_destroy(b->ctx);
  free(b->lat);
  free(b->wake);
  for (int p = 0; p < 6; p++) free(b->parts[p]);
  free(b);
  return status;
}
