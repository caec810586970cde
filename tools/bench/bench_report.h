/* What `interop-fd bench` measured, as a table on stdout, bench.json and
 * bench.svg (bench_report.c). */
#ifndef IFD_TOOLS_BENCH_REPORT_H
#define IFD_TOOLS_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "bench/bench_common.h"

typedef enum { RUN_OK, RUN_SKIPPED, RUN_REFUSED, RUN_FAILED } bench_status;

/* One path in one mode at one size and format. */
typedef struct {
  bench_path path;
  bench_mode mode;
  uint32_t width, height;
  MAX_Format format;
  bench_status status;
  char why[320];
  uint64_t frames;
  double fps, lat_p50, lat_p99, wake_p50, wake_p99; /* NAN: not measured */
} bench_result;

typedef struct {
  const char *device, *driver; /* the device's name; the Vulkan driver's version */
  int cuda_driver;             /* cuDriverGetVersion */
  uint32_t ring;               /* frames in flight in throughput mode */
  bool host_wait;              /* --handoff host */
  const bench_result *runs;
  size_t nruns;
} bench_report;

/* "rgba8" or "rgba16f": the two formats bench measures. */
const char *bench_format_name(MAX_Format f);

void bench_report_table(const bench_report *rep, FILE *f);
/* Errors: -errno (cannot create the file), -EIO (cannot write it). */
int bench_report_json(const bench_report *rep, const char *path);
int bench_report_svg(const bench_report *rep, const char *path);

#endif
