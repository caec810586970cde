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
 * returning. GPU time per frame: the consumer's own timestamps around what
 * makes the frame readable (copy, acquire or upload) and its sampling.
 *
 * Before the paths, the scenarios measure the platform's floors in the same
 * process (bench_floor.h): timeline ping-pongs with no interop work and the
 * consumer's wait for a time slice beside a saturating CUDA producer; before
 * each size and format, the device-to-device copy of the frame. The table
 * prints each path against them (x dtod, x trip). */
#include "bench/bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"
#include "common/out_dir.h"
#include "common/vk_kit.h"
#include "common/tool_error.h"

static const char *const part_names[6] = {"launch->written", "written->wake", "submit call",
                                          "submitted->first use", "done->seen", "first use"};

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
  b->nlat = b->nwake = b->ngpu = b->ncopy = 0;
  b->bad = 0;
  b->nparts = 0;
  memset(b->bad_slot, 0, sizeof(b->bad_slot));
  b->first_bad[0] = '\0';
  b->span_first = b->span_last = 0;
  r->fps = r->lat_p50 = r->lat_p99 = r->wake_p50 = r->wake_p99 = NAN;
  r->gpu_p50 = r->gpu_p99 = r->copy_p50 = NAN;
  r->frames = n;
  uint64_t spread = 0;
  b->calibrated = bench_cuda_calibrate(b->cu, &b->cuda_offset, &spread) == 0 &&
                  (r->path == BENCH_FLOOR || r->path == BENCH_CUDA_GL_INTEROP ||
                   bench_vk_calibrate(b->vk, &b->consumer_offset, &spread) == 0);
  int rc = 0;
  switch (r->path) {
  case BENCH_ZERO_COPY_COPY:
  case BENCH_ZERO_COPY_DIRECT: rc = bench_run_zero_copy(b); break;
  case BENCH_CPU_ROUNDTRIP: rc = bench_run_cpu_roundtrip(b); break;
  case BENCH_CUDA_GL_INTEROP: rc = bench_run_cuda_gl(b); break;
  case BENCH_FLOOR: rc = bench_run_floor(b); break;
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
      fprintf(stderr, " %s %.1f/%.1f", part_names[p], bench_percentile(b->parts[p], b->nparts, 0.5),
              bench_percentile(b->parts[p], b->nparts, 0.99));
    fprintf(stderr, "\n");
  }
  r->status = RUN_OK;
  if (b->span_last > b->span_first)
    r->fps = (double)(n - b->warm) / ((double)(b->span_last - b->span_first) * 1e-9);
  r->lat_p50 = bench_percentile(b->lat, b->nlat, 0.50);
  r->lat_p99 = bench_percentile(b->lat, b->nlat, 0.99);
  r->wake_p50 = bench_percentile(b->wake, b->nwake, 0.50);
  r->wake_p99 = bench_percentile(b->wake, b->nwake, 0.99);
  r->gpu_p50 = bench_percentile(b->gpu, b->ngpu, 0.50);
  r->gpu_p99 = bench_percentile(b->gpu, b->ngpu, 0.99);
  r->copy_p50 = bench_percentile(b->copy, b->ncopy, 0.50);
}

/* The device-to-device copy of a frame of w x h at bpp bytes per pixel, us
 * p50 (NAN, with a line saying why, where it fails). */
static double copy_floor(bench *b, uint32_t w, uint32_t h, uint32_t bpp) {
  double us[100];
  if (bench_cuda_copy_time(b->cu, (size_t)w * h * bpp, 100, us) != 0) {
    printf("  device-to-device copy of %ux%u: FAILED: %s\n", w, h, tool_last_error());
    b->floors_failed = true;
    return NAN;
  }
  return bench_percentile(us, 100, 0.50);
}

/* ------------------------------------------------------------------ scenarios */

static int scenario_pingpong(bench *b) {
  return bench_floor_pingpong(b->cu, b->vk, &b->floors);
}

/* The time-slice floor with and without a global queue priority: the
 * bench's consumer is one of the two (it asked for --priority, or nothing),
 * a consumer made for the row is the other (nothing, or REALTIME down to
 * HIGH where --priority was not given). */
static int scenario_slices(bench *b) {
  VkQueueGlobalPriorityKHR other = b->o->priority ? 0 : VK_QUEUE_GLOBAL_PRIORITY_REALTIME_KHR;
  bench_vk *extra = NULL;
  int rc = bench_vk_create(b->uuid, other, &extra);
  if (rc != 0) {
    bench_slice *s = &b->floors.slice[b->o->priority ? 0 : 1];
    snprintf(s->why, sizeof(s->why), "FAILED: a second consumer: %s", tool_last_error());
  }
  bench_vk *plain = b->o->priority ? extra : b->vk, *prio = b->o->priority ? b->vk : extra;
  int rc2 = bench_floor_slices(b->cu, plain, prio, &b->floors);
  bench_vk_destroy(extra);
  return rc != 0 ? rc : rc2;
}

/* The frame size of the scenarios: --size, else 4K. */
static void scenario_size(const bench *b, uint32_t *w, uint32_t *h) {
  *w = b->o->size_given ? b->o->width : 3840;
  *h = b->o->size_given ? b->o->height : 2160;
}

static int scenario_copy(bench *b) {
  uint32_t w, h;
  scenario_size(b, &w, &h);
  b->copy_run = true;
  return bench_copy_run(b->ctx, b->cu, w, h, &b->copy_table);
}

static int scenario_mailbox(bench *b) {
  if (b->o->mode_given && b->o->mode != IFD_RING_MAILBOX) return 0;
  uint32_t w, h;
  scenario_size(b, &w, &h);
  b->mailbox_run = true;
  return bench_mailbox_run(b, w, h, &b->mailbox);
}

static int scenario_share(bench *b) {
  if (b->o->mode_given && b->o->mode == IFD_RING_MAILBOX) return 0;
  /* The size of the main table's first latency rows, to read them side by side. */
  uint32_t w = b->o->size_given ? b->o->width : 1920, h = b->o->size_given ? b->o->height : 1080;
  b->share_run = true;
  return bench_share_run(b, w, h, &b->share);
}

/* What the bench measures besides the paths, in the order it runs: the
 * floors first, so that the paths can be read against them. A scenario
 * records what it measured in b for the report. */
typedef struct {
  const char *name;
  int (*run)(bench *b); /* 0, or -errno (tool_last_error()): the bench exits 1 */
} bench_scenario;

static const bench_scenario scenarios[] = {
    {"floors: a timeline ping-pong with no interop work", scenario_pingpong},
    {"floors: the consumer's wait for a time slice", scenario_slices},
    {"the COPY path's copy of every format against the device-to-device copy", scenario_copy},
    {"mailbox: the producer beside a consumer of the newest frame at 60/120/240 per s",
     scenario_mailbox},
    {"across processes: the handoff to a viewer in another process, and in this one",
     scenario_share},
};

static void run_scenarios(bench *b) {
  for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
    printf("  %s ...\n", scenarios[i].name);
    fflush(stdout);
    if (scenarios[i].run(b) != 0) {
      printf("    FAILED: %s\n", tool_last_error());
      b->floors_failed = true;
    }
  }
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
  if (rc == 0) rc = bench_vk_create(b->uuid, (VkQueueGlobalPriorityKHR)b->o->priority, &b->vk);
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
    bench_floors_skip(&b->floors, no_device ? "no CUDA device here (the line above says why)"
                                            : "the bench could not start (the line above says why)");
    bench_report_floors(&b->floors, stdout);
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
  b->gpu = calloc(max_frames + 1, sizeof(double));
  b->copy = calloc(max_frames + 1, sizeof(double));
  const uint32_t sizes[2][2] = {{1920, 1080}, {3840, 2160}};
  const MAX_Format formats[2] = {MAX_FMT_RGBA8, MAX_FMT_RGBA16F};
  const char *why = "";
  VkQueueGlobalPriorityKHR prio = bench_vk_priority(b->vk, &why);
  char priority[256];
  snprintf(priority, sizeof(priority), "%s%s%s%s", vk_kit_priority_name(prio),
           o->priority ? (prio ? " (granted)" : " (asked, not granted)") : " (not asked)",
           why[0] ? ": " : "", why);
  printf("interop-fd bench on %s (%s), %d samples checked per frame\n", b->device,
         bench_vk_driver_info(b->vk), BENCH_SAMPLES);
  printf("  the Vulkan consumer's queue priority: %s\n", priority);
  bool buffers = b->lat && b->wake && b->parts[5] && b->gpu && b->copy;
  if (buffers) run_scenarios(b);
  else bench_floors_skip(&b->floors, "out of host memory");
  /* The floor and the CPU round trip first: the others' ratios refer to them. */
  const bench_path order[BENCH_PATH_COUNT] = {BENCH_FLOOR, BENCH_CPU_ROUNDTRIP, BENCH_ZERO_COPY_COPY,
                                              BENCH_ZERO_COPY_DIRECT, BENCH_CUDA_GL_INTEROP};
  bool paths = !(o->mode_given && o->mode == IFD_RING_MAILBOX); /* --mode mailbox: none */
  for (int si = 0; si < 2 && buffers && paths; si++) {
    uint32_t w = o->size_given ? o->width : sizes[si][0];
    uint32_t h = o->size_given ? o->height : sizes[si][1];
    if (o->size_given && si > 0) break;
    for (int fi = 0; fi < 2; fi++) {
      MAX_Format fmt = o->format_given ? o->format : formats[fi];
      if (o->format_given && fi > 0) break;
      double dtod = copy_floor(b, w, h, fmt == MAX_FMT_RGBA8 ? 4 : 8);
      for (int pi = 0; pi < BENCH_PATH_COUNT; pi++) {
        bench_path p = order[pi];
        if (!(o->paths & (1u << p))) continue;
        for (int m = 0; m < BENCH_MODE_COUNT; m++) {
          if (!(o->modes & (1u << m))) continue;
          bench_result *r = &b->runs[b->nruns++];
          *r = (bench_result){.path = p, .mode = (bench_mode)m, .width = w, .height = h,
                              .format = fmt, .dtod_p50 = dtod};
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
                      .nruns = b->nruns,
                      .floors = &b->floors,
                      .priority = priority,
                      .copy = b->copy_run ? &b->copy_table : NULL,
                      .mailbox = b->mailbox_run ? &b->mailbox : NULL,
                      .share = b->share_run ? &b->share : NULL};
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
  int status = out == 0 && buffers && !b->floors_failed ? 0 : 1;
  for (size_t i = 0; i < b->nruns; i++)
    if (b->runs[i].status == RUN_REFUSED || b->runs[i].status == RUN_FAILED) status = 1;
  bench_gl_destroy(b->gl);
  bench_vk_destroy(b->vk);
  bench_cuda_destroy(b->cu);
  ifd_context_destroy(b->ctx);
  free(b->lat);
  free(b->wake);
  free(b->gpu);
  free(b->copy);
  for (int p = 0; p < 6; p++) free(b->parts[p]);
  free(b);
  return status;
}
