/* What the parts of `interop-fd bench` share: the paths and modes, what a
 * consumer saw of a frame, and where it samples (bench_common.c). The parts
 * (bench_cuda.c, bench_vk.c, bench_gl.c) depend on this and on nothing else of
 * the bench; bench.c runs them, bench_report.c prints what they measured. */
#ifndef IFD_TOOLS_BENCH_COMMON_H
#define IFD_TOOLS_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interop_fd/interop_fd.h"

#define BENCH_SAMPLES 32      /* pixels each consumer samples per frame */
#define BENCH_STAMP_SLOTS 32  /* kernel-end stamps kept, > 2 * frames in flight */

typedef enum {
  BENCH_ZERO_COPY_COPY = 0,
  BENCH_ZERO_COPY_DIRECT,
  BENCH_CPU_ROUNDTRIP,
  BENCH_CUDA_GL_INTEROP,
  BENCH_FLOOR,
  BENCH_PATH_COUNT
} bench_path;

typedef enum { BENCH_THROUGHPUT = 0, BENCH_LATENCY = 1, BENCH_MODE_COUNT } bench_mode;

/* What a consumer saw of one frame. */
typedef struct {
  uint32_t texel[BENCH_SAMPLES][4]; /* channels as integers (bench_pattern.h) */
  uint64_t start_ns, end_ns;        /* the consumer's own clock: first use, done */
  uint64_t used_ns;                 /* the copy or acquire done (Vulkan: a timestamp;
                                       GL: start + the upload's GL_TIME_ELAPSED); 0: none */
  bool has_times;
} bench_seen;

/* The name of a path or mode as in the JSON, and back (-1: unknown). */
const char *bench_path_name(bench_path p);
const char *bench_mode_name(bench_mode m);
int bench_path_from_name(const char *name);
int bench_mode_from_name(const char *name);

/* The positions the consumers sample in frame k (corners first). */
void bench_positions(uint32_t k, uint32_t width, uint32_t height, uint32_t pos[2 * BENCH_SAMPLES]);

/* Fills seen->texel from the floats a sampling shader wrote (BENCH_SAMPLES
 * vec4s) for a frame of `format`: RGBA8 as v * 255, RGBA16F as v * 1024;
 * non-finite or negative values become UINT32_MAX (never a pattern value). */
void bench_decode_texels(const float *texels, MAX_Format format, bench_seen *seen);

/* What a worker thread of the bench ended with. tool_last_error() is the
 * thread's own, so the message is copied for the thread that joins it. */
typedef struct {
  int rc;
  char message[320];
} bench_outcome;

/* o->rc = rc, and the message of tool_last_error() if rc is not 0. */
void bench_outcome_set(bench_outcome *o, int rc);

/* The q-quantile (0..1, nearest rank) of v[0..n), which it sorts; NAN if n
 * is 0. */
double bench_percentile(double *v, size_t n, double q);

#endif
