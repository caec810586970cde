/* What `interop-fd bench` measured, as a table on stdout, bench.json and
 * bench.svg (bench_report.c). */
#ifndef IFD_TOOLS_BENCH_REPORT_H
#define IFD_TOOLS_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "bench/bench_common.h"
#include "bench/bench_copy.h"
#include "bench/bench_floor.h"
#include "bench/bench_mailbox.h"
#include "bench/bench_share.h"

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
  /* The consumer's GPU time per frame (its timestamps around what makes the
   * frame readable and its sampling), the copy or acquire alone, and the
   * device-to-device copy of the frame's bytes measured in the same run
   * (cuMemcpyDtoDAsync, CUDA events), all us p50. NAN: not measured. */
  double gpu_p50, gpu_p99, copy_p50, dtod_p50;
} bench_result;

typedef struct {
  const char *device, *driver; /* the device's name; the Vulkan driver's version */
  int cuda_driver;             /* cuDriverGetVersion */
  uint32_t ring;               /* frames in flight in throughput mode */
  bool host_wait;              /* --handoff host */
  const bench_result *runs;
  size_t nruns;
  const bench_floors *floors;  /* measured in the same run (bench_floor.h) */
  const char *priority;        /* the Vulkan consumer's queue priority, as granted */
  const bench_copy_table *copy;   /* the copy table (NULL: not run) */
  const bench_mailbox *mailbox;   /* the mailbox scenario (NULL: not run) */
  const bench_share *share;       /* the cross-process scenario (NULL: not run) */
} bench_report;

/* "rgba8" or "rgba16f": the two formats bench measures. */
const char *bench_format_name(MAX_Format f);

void bench_report_table(const bench_report *rep, FILE *f);
/* The floors alone (also where nothing else could run: every one skipped). */
void bench_report_floors(const bench_floors *floors, FILE *f);
/* s as a JSON string, quotes included. */
void bench_json_str(FILE *f, const char *s);
/* Opens `,"name": {"measured": ...`; one not measured gets its "reason" and
 * is closed. Returns `measured`: the caller then writes its fields and "}". */
bool bench_json_section(FILE *f, const char *name, bool measured, const char *why);
/* Errors: -errno (cannot create the file), -EIO (cannot write it). */
int bench_report_json(const bench_report *rep, const char *path);
int bench_report_svg(const bench_report *rep, const char *path);

#endif
