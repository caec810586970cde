/* Inside `interop-fd bench`: the state of a bench run, which bench.c (the
 * runs, the scenarios, main) and bench_paths.c (one function per path) share. */
#ifndef IFD_TOOLS_BENCH_INTERNAL_H
#define IFD_TOOLS_BENCH_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench/bench_cuda.h"
#include "bench/bench_floor.h"
#include "bench/bench_gl.h"
#include "bench/bench_report.h"
#include "bench/bench_share.h"
#include "bench/bench_vk.h"
#include "options.h"

#define WAIT_NS (10ull * 1000 * 1000 * 1000)
#define MAX_RUNS (2 * 2 * BENCH_PATH_COUNT * BENCH_MODE_COUNT)

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
  /* the consumer's GPU time per frame, us: all of it, and the copy (or
   * acquire) before its sampling; NAN-free, counted after the warm-up */
  double *gpu, *copy;
  size_t ngpu, ncopy;
  /* the platform's floors (the scenarios) */
  bench_floors floors;
  bool floors_failed;
  bench_copy_table copy_table;
  bench_mailbox mailbox;
  bench_share share;
  bool copy_run, mailbox_run, share_run;
} bench;

/* bench_paths.c: each runs the path of b->r on b->frames frames, checking
 * every frame and recording its times. 0, or -errno with tool_last_error();
 * a path that cannot run here sets b->r->status = RUN_SKIPPED and its why. */
int bench_run_zero_copy(bench *b);
int bench_run_cpu_roundtrip(bench *b);
int bench_run_floor(bench *b);
int bench_run_cuda_gl(bench *b);

/* bench_mailbox.c: the mailbox scenario on the bench's CUDA context and
 * Vulkan consumer (b->vk, which must have no ring imported), width x height
 * RGBA8 frames. Every frame the consumer takes is checked. Without timeline
 * semaphores it is not measured (out->why says why) and returns 0. Errors:
 * -errno with tool_last_error() (out->why too). */
int bench_mailbox_run(bench *b, uint32_t width, uint32_t height, bench_mailbox *out);

/* bench_share.c: the cross-process scenario on the bench's CUDA context;
 * the in-process variant uses b->vk (no ring imported). Every frame is
 * checked. Errors: -errno with tool_last_error() (out->why too). */
int bench_share_run(bench *b, uint32_t width, uint32_t height, bench_share *out);

#endif
