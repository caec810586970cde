/* The bench's table, JSON and SVG (bench_report.h). */
#include "bench/bench_report.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include "common/tool_error.h"

static const bench_result *find(const bench_report *b, const bench_result *r, bench_path p) {
  for (size_t i = 0; i < b->nruns; i++) {
    const bench_result *x = &b->runs[i];
    if (x->path == p && x->mode == r->mode && x->width == r->width && x->format == r->format &&
        x->height == r->height && x->status == RUN_OK)
      return x;
  }
  return NULL;
}

/* Speed-up of r over the reference path: frames/s ratio in throughput mode,
 * inverse latency ratio in latency mode. NAN where either is missing. */
static double ratio(const bench_report *b, const bench_result *r, bench_path ref) {
  const bench_result *x = find(b, r, ref);
  if (!x || r->status != RUN_OK) return NAN;
  if (r->mode == BENCH_THROUGHPUT) return r->fps / x->fps;
  return x->lat_p50 / r->lat_p50;
}

const char *bench_format_name(MAX_Format f) { return f == MAX_FMT_RGBA8 ? "rgba8" : "rgba16f"; }

/* The consumer's copy (or acquire) over the device-to-device copy of the
 * same bytes, both measured in this run. */
static double copy_ratio(const bench_result *r) {
  return r->status == RUN_OK ? r->copy_p50 / r->dtod_p50 : NAN;
}

/* Latency mode (one frame in flight, so one CUDA -> consumer -> CUDA
 * alternation per frame): frames/s over the rate the CUDA <-> Vulkan
 * round-trip floor of this run allows. */
static double trip_ratio(const bench_report *b, const bench_result *r) {
  const bench_pingpong *pp = b->floors ? &b->floors->pp[BENCH_PP_VULKAN] : NULL;
  if (!pp || !pp->measured || r->status != RUN_OK || r->mode != BENCH_LATENCY) return NAN;
  return r->fps / (1e6 / pp->trip_mean);
}

/* ------------------------------------------------------------------ output */

/* fmt: "%*.Nf", or " %*.Nf" (a separating space first, kept for "-" too). */
static void cell(FILE *f, double v, const char *fmt, int width) {
  if (isnan(v)) fprintf(f, "%s%*s", fmt[0] == ' ' ? " " : "", width, "-");
  else fprintf(f, fmt, width, v);
}

void bench_report_floors(const bench_floors *fl, FILE *f) {
  fprintf(f, "\nfloors, measured in this run on the GPU (CUDA events), no interop work:\n");
  fprintf(f, "  %-30s %12s %30s\n", "timeline ping-pong", "handoff us", "round trip us mean/p50/p99");
  for (int k = 0; k < BENCH_PP_COUNT; k++) {
    const bench_pingpong *p = &fl->pp[k];
    fprintf(f, "  %-30s ", bench_pp_name((bench_pp_kind)k));
    if (!p->measured) {
      fprintf(f, "skipped: %s\n", p->why);
      continue;
    }
    fprintf(f, "%12.1f %12.1f/%.1f/%.1f  (%u round trips)\n", p->handoff_mean, p->trip_mean,
            p->trip_p50, p->trip_p99, p->rounds);
  }
  fprintf(f, "  the consumer's wait for a time slice, us p50/p99 (its submit -> GPU start):\n");
  const char *rows[2] = {"without a global priority", "with the priority asked"};
  for (int i = 0; i < 2; i++) {
    const bench_slice *s = &fl->slice[i];
    fprintf(f, "  %-30s ", rows[i]);
    if (!s->measured) {
      fprintf(f, "skipped: %s\n", s->why);
      continue;
    }
    fprintf(f, "idle %.1f/%.1f, under a saturating CUDA producer %.1f/%.1f  (queue: %s)\n",
            s->idle_p50, s->idle_p99, s->busy_p50, s->busy_p99, s->queue);
  }
}

void bench_report_table(const bench_report *b, FILE *f) {
  fprintf(f, "\nthe Vulkan consumer's queue priority: %s\n", b->priority ? b->priority : "?");
  fprintf(f, "\n%-10s %-8s %-17s %-10s %10s %9s %9s %9s %9s %8s %8s %8s %8s %8s %8s %8s\n", "size",
          "format", "path", "mode", "frames/s", "lat p50", "lat p99", "wake p50", "wake p99",
          "x floor", "x cpu", "gpu/frm", "copy", "dtod", "x dtod", "x trip");
  fprintf(f, "%-10s %-8s %-17s %-10s %10s %9s %9s %9s %9s %8s %8s %8s %8s %8s %8s %8s\n", "", "", "",
          "", "", "us", "us", "us", "us", "", "", "us", "us", "us", "", "");
  for (size_t i = 0; i < b->nruns; i++) {
    const bench_result *r = &b->runs[i];
    char size[24];
    snprintf(size, sizeof(size), "%ux%u", r->width, r->height);
    fprintf(f, "%-10s %-8s %-17s %-10s ", size, bench_format_name(r->format), bench_path_name(r->path),
            bench_mode_name(r->mode));
    if (r->status != RUN_OK) {
      fprintf(f, "%s: %s\n",
              r->status == RUN_SKIPPED ? "skipped" : r->status == RUN_REFUSED ? "REFUSED" : "FAILED",
              r->why);
      continue;
    }
    cell(f, r->fps, "%*.0f", 10);
    cell(f, r->lat_p50, " %*.1f", 8);
    cell(f, r->lat_p99, " %*.1f", 8);
    cell(f, r->wake_p50, " %*.1f", 8);
    cell(f, r->wake_p99, " %*.1f", 8);
    cell(f, ratio(b, r, BENCH_FLOOR), " %*.2f", 7);
    cell(f, ratio(b, r, BENCH_CPU_ROUNDTRIP), " %*.1f", 7);
    cell(f, r->gpu_p50, " %*.1f", 8);
    cell(f, r->copy_p50, " %*.1f", 8);
    cell(f, r->dtod_p50, " %*.1f", 8);
    cell(f, copy_ratio(r), " %*.2f", 8);
    cell(f, trip_ratio(b, r), " %*.2f", 8);
    fputc('\n', f);
  }
  fprintf(f, "\nx floor, x cpu: frames/s over the floor's / the CPU round trip's (throughput);\n"
             "their latency over this path's (latency). lat: kernel done -> consumer's first use.\n"
             "wake: kernel done -> the consumer's host wait returns. Every sampled pixel of every\n"
             "frame was checked; a path with one wrong pixel is refused, not reported.\n"
             "gpu/frm: the consumer's GPU time per frame, p50 (its timestamps around making the\n"
             "frame readable and sampling it); copy: the copy or acquire alone (GL: the upload's\n"
             "GL_TIME_ELAPSED); dtod: cuMemcpyDtoDAsync of the frame's bytes, this run; x dtod:\n"
             "copy over dtod; x trip (latency mode): frames/s over 1 / the CUDA <-> Vulkan round\n"
             "trip of the floors below.\n");
  if (b->floors) bench_report_floors(b->floors, f);
  if (b->copy) bench_copy_print(b->copy, f);
  if (b->mailbox) bench_mailbox_print(b->mailbox, f);
  if (b->share) bench_share_print(b->share, f);
}

static void json_num(FILE *f, const char *key, double v, bool comma) {
  if (isnan(v)) fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
  else fprintf(f, "\"%s\": %.3f%s", key, v, comma ? ", " : "");
}

bool bench_json_section(FILE *f, const char *name, bool measured, const char *why) {
  fprintf(f, ",\n  \"%s\": {\"measured\": %s", name, measured ? "true" : "false");
  if (measured) return true;
  fprintf(f, ", \"reason\": ");
  bench_json_str(f, why);
  fputc('}', f);
  return false;
}

void bench_json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

/* ,"floors": {"ping_pong": [...], "time_slice": [...]}; a floor not
 * measured has "measured": false and its "reason". */
/* "keys[0]": v[0], ... for n of them, no comma after the last. */
static void json_nums(FILE *f, size_t n, const char *const *keys, const double *v) {
  for (size_t i = 0; i < n; i++) json_num(f, keys[i], v[i], i + 1 < n);
}

/* One floor: {"floor": name, "measured": ..., then for one not measured its
 * "reason", else its "queue" (if any) and the n values under keys}. */
static void json_floor(FILE *f, bool first, const char *name, bool measured, const char *why,
                       const char *queue, size_t n, const char *const *keys, const double *v) {
  fprintf(f, "%s\n      {\"floor\": ", first ? "" : ",");
  bench_json_str(f, name);
  fprintf(f, ", \"measured\": %s, ", measured ? "true" : "false");
  if (!measured) {
    fprintf(f, "\"reason\": ");
    bench_json_str(f, why);
  } else {
    if (queue) {
      fprintf(f, "\"queue\": ");
      bench_json_str(f, queue);
      fprintf(f, ", ");
    }
    json_nums(f, n, keys, v);
  }
  fputc('}', f);
}

/* ,"floors": {"ping_pong": [...], "time_slice": [...]} */
static void json_floors(FILE *f, const bench_floors *fl) {
  static const char *const pp_keys[5] = {"round_trips", "handoff_us_mean", "round_trip_us_mean",
                                         "round_trip_us_p50", "round_trip_us_p99"};
  static const char *const slice_keys[5] = {"samples", "idle_wait_us_p50", "idle_wait_us_p99",
                                            "saturated_wait_us_p50", "saturated_wait_us_p99"};
  fprintf(f, ",\n  \"floors\": {\n    \"ping_pong\": [");
  for (int k = 0; k < BENCH_PP_COUNT; k++) {
    const bench_pingpong *p = &fl->pp[k];
    const double v[5] = {p->rounds, p->handoff_mean, p->trip_mean, p->trip_p50, p->trip_p99};
    json_floor(f, k == 0, bench_pp_name((bench_pp_kind)k), p->measured, p->why, NULL, 5, pp_keys, v);
  }
  fprintf(f, "\n    ],\n    \"time_slice\": [");
  for (int i = 0; i < 2; i++) {
    const bench_slice *s = &fl->slice[i];
    const double v[5] = {s->samples, s->idle_p50, s->idle_p99, s->busy_p50, s->busy_p99};
    json_floor(f, i == 0, i ? "global priority asked" : "default priority", s->measured, s->why,
               s->queue, 5, slice_keys, v);
  }
  fprintf(f, "\n    ]\n  }");
}

int bench_report_json(const bench_report *b, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return tool_fail(-errno, "cannot write %s", path);
  time_t t = time(NULL);
  char date[32];
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  fprintf(f, "{\n  \"tool\": \"interop-fd bench\",\n  \"date\": \"%s\",\n  \"device\": ", date);
  bench_json_str(f, b->device);
  fprintf(f, ",\n  \"driver\": ");
  bench_json_str(f, b->driver);
  fprintf(f, ",\n  \"cuda_driver_api\": %d,\n", b->cuda_driver);
  fprintf(f, "  \"config\": {\"ring\": %u, \"samples_per_frame\": %d, \"handoff\": \"%s\"},\n",
          b->ring, BENCH_SAMPLES, b->host_wait ? "host" : "gpu");
  fprintf(f, "  \"runs\": [");
  bool first = true;
  for (size_t i = 0; i < b->nruns; i++) {
    const bench_result *r = &b->runs[i];
    if (r->status != RUN_OK) continue;
    fprintf(f, "%s\n    {\"path\": \"%s\", \"mode\": \"%s\", \"width\": %u, \"height\": %u, "
               "\"format\": \"%s\", \"frames\": %llu, ",
            first ? "" : ",", bench_path_name(r->path), bench_mode_name(r->mode), r->width, r->height,
            bench_format_name(r->format), (unsigned long long)r->frames);
    first = false;
    json_num(f, "fps", r->fps, true);
    json_num(f, "latency_us_p50", r->lat_p50, true);
    json_num(f, "latency_us_p99", r->lat_p99, true);
    json_num(f, "host_wake_us_p50", r->wake_p50, true);
    json_num(f, "host_wake_us_p99", r->wake_p99, true);
    json_num(f, "ratio_to_floor", ratio(b, r, BENCH_FLOOR), true);
    json_num(f, "ratio_to_cpu_roundtrip", ratio(b, r, BENCH_CPU_ROUNDTRIP), true);
    json_num(f, "gpu_us_per_frame_p50", r->gpu_p50, true);
    json_num(f, "gpu_us_per_frame_p99", r->gpu_p99, true);
    json_num(f, "copy_us_p50", r->copy_p50, true);
    json_num(f, "dtod_copy_us_p50", r->dtod_p50, true);
    json_num(f, "copy_over_dtod", copy_ratio(r), true);
    json_num(f, "fps_over_round_trip_floor", trip_ratio(b, r), false);
    fputc('}', f);
  }
  fprintf(f, "\n  ],\n  \"not_reported\": [");
  first = true;
  for (size_t i = 0; i < b->nruns; i++) {
    const bench_result *r = &b->runs[i];
    if (r->status == RUN_OK) continue;
    fprintf(f, "%s\n    {\"path\": \"%s\", \"mode\": \"%s\", \"width\": %u, \"height\": %u, "
               "\"format\": \"%s\", \"status\": \"%s\", \"reason\": ",
            first ? "" : ",", bench_path_name(r->path), bench_mode_name(r->mode), r->width, r->height,
            bench_format_name(r->format),
            r->status == RUN_SKIPPED ? "skipped" : r->status == RUN_REFUSED ? "refused" : "failed");
    bench_json_str(f, r->why);
    fputc('}', f);
    first = false;
  }
  fprintf(f, "\n  ],\n  \"consumer_queue_priority\": ");
  bench_json_str(f, b->priority ? b->priority : "");
  if (b->floors) json_floors(f, b->floors);
  if (b->copy) bench_copy_json(b->copy, f);
  if (b->mailbox) bench_mailbox_json(b->mailbox, f);
  if (b->share) bench_share_json(b->share, f);
  fprintf(f, "\n}\n");
  int rc = ferror(f) ? -EIO : 0;
  if (fclose(f) != 0 || rc != 0) return tool_fail(-EIO, "cannot write %s", path);
  return 0;
}

/* Two panels of horizontal bars on log scales: frames/s (throughput) and
 * latency p50 with a p99 tick (latency mode), one row per path in each
 * size/format group. */
static const char *const colours[BENCH_PATH_COUNT] = {"#1b9e77", "#66a61e", "#d95f02", "#7570b3",
                                                      "#666666"};

static double log_x(double v, double lo, double hi, double width) {
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return width * log10(v / lo) / log10(hi / lo);
}

/* The ping-pong floors as dashed lines: in the throughput panel the frame
 * rate one alternation per frame allows (1 / round trip), in the latency
 * panel one handoff (round trip / 2). */
static void svg_floors(FILE *f, const bench_floors *fl, const double x0[2], const double lo[2],
                       const double hi[2], double panel, double top, double height) {
  static const char *const short_names[BENCH_PP_COUNT] = {
      "stream&lt;-&gt;stream", "ctx&lt;-&gt;ctx", "CUDA&lt;-&gt;Vulkan"};
  for (int k = 0; k < BENCH_PP_COUNT; k++) {
    const bench_pingpong *p = &fl->pp[k];
    if (!p->measured) continue;
    const double v[2] = {1e6 / p->trip_mean, p->handoff_mean};
    for (int m = 0; m < 2; m++) {
      double x = x0[m] + log_x(v[m], lo[m], hi[m], panel);
      fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#c00\" "
                 "stroke-dasharray=\"4,3\"/>\n", x, top - 8, x, height - 30);
      fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" fill=\"#c00\" font-size=\"8\">%s floor</text>\n",
              x + 2, height - 32 - 9.0 * k, short_names[k]);
    }
  }
}

int bench_report_svg(const bench_report *b, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return tool_fail(-errno, "cannot write %s", path);
  const double left = 150, panel = 330, gap = 150, row = 13, top = 60;
  size_t groups = 0;
  uint32_t gw[4], gh[4];
  MAX_Format gf[4];
  for (size_t i = 0; i < b->nruns && groups < 4; i++) {
    bool seen = false;
    for (size_t g = 0; g < groups; g++)
      seen |= gw[g] == b->runs[i].width && gh[g] == b->runs[i].height && gf[g] == b->runs[i].format;
    if (!seen) {
      gw[groups] = b->runs[i].width;
      gh[groups] = b->runs[i].height;
      gf[groups++] = b->runs[i].format;
    }
  }
  double height = top + (double)groups * (BENCH_PATH_COUNT * row + 24) + 40;
  double width = left + 2 * panel + gap + 40;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
             "font-family=\"sans-serif\" font-size=\"10\">\n", width, height);
  fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
  fprintf(f, "<text x=\"10\" y=\"18\" font-size=\"13\">interop-fd bench on ");
  for (const char *s = b->device; *s; s++) fputc(*s == '<' || *s == '&' ? ' ' : *s, f);
  fprintf(f, "</text>\n");
  const double x0[2] = {left, left + panel + gap};
  const char *titles[2] = {"throughput: frames/s (log)", "latency: kernel done -> first use, us "
                                                        "(log; bar p50, tick p99)"};
  const double lo[2] = {10, 1}, hi[2] = {1e6, 1e5};
  for (int p = 0; p < 2; p++) {
    fprintf(f, "<text x=\"%.0f\" y=\"40\">%s</text>\n", x0[p], titles[p]);
    for (double v = lo[p]; v <= hi[p] * 1.001; v *= 10) {
      double x = x0[p] + log_x(v, lo[p], hi[p], panel);
      fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n", x,
              top - 8, x, height - 30);
      fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n", x, height - 18, v);
    }
  }
  if (b->floors) svg_floors(f, b->floors, x0, lo, hi, panel, top, height);
  double y = top;
  for (size_t g = 0; g < groups; g++) {
    fprintf(f, "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">%ux%u %s</text>\n", y + 2, gw[g],
            gh[g], bench_format_name(gf[g]));
    y += 8;
    for (int p = 0; p < BENCH_PATH_COUNT; p++) {
      fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left - 6,
              y + row - 3, bench_path_name((bench_path)p));
      for (size_t i = 0; i < b->nruns; i++) {
        const bench_result *r = &b->runs[i];
        if (r->path != (bench_path)p || r->width != gw[g] || r->height != gh[g] ||
            r->format != gf[g])
          continue;
        int m = r->mode == BENCH_THROUGHPUT ? 0 : 1;
        double v = m == 0 ? r->fps : r->lat_p50;
        if (r->status != RUN_OK || isnan(v)) {
          fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#a00\">%s</text>\n", x0[m] + 4,
                  y + row - 3, r->status == RUN_OK ? "not measured"
                               : r->status == RUN_SKIPPED ? "skipped" : "refused/failed");
          continue;
        }
        double w = log_x(v, lo[m], hi[m], panel);
        fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x0[m], y + 1, w, row - 2, colours[p]);
        if (m == 1 && !isnan(r->lat_p99)) {
          double x99 = x0[m] + log_x(r->lat_p99, lo[m], hi[m], panel);
          fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                  x99, y + 1, x99, y + row - 1);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.*f</text>\n", x0[m] + w + 4, y + row - 3,
                m == 0 ? 0 : 1, v);
      }
      y += row;
    }
    y += 16;
  }
  fprintf(f, "</svg>\n");
  int rc = ferror(f) ? -EIO : 0;
  if (fclose(f) != 0 || rc != 0) return tool_fail(-EIO, "cannot write %s", path);
  return 0;
}
