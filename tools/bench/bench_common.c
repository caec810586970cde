/* The bench's shared pieces (bench_common.h). */
#include "bench/bench_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_pattern.h"
#include "common/tool_error.h"

static const char *const path_names[BENCH_PATH_COUNT] = {
    "zero-copy-copy", "zero-copy-direct", "cpu-roundtrip", "cuda-gl-interop", "floor"};
static const char *const mode_names[BENCH_MODE_COUNT] = {"throughput", "latency"};

const char *bench_path_name(bench_path p) { return p < BENCH_PATH_COUNT ? path_names[p] : "?"; }
const char *bench_mode_name(bench_mode m) { return m < BENCH_MODE_COUNT ? mode_names[m] : "?"; }

int bench_path_from_name(const char *name) {
  for (int i = 0; name && i < BENCH_PATH_COUNT; i++)
    if (strcmp(name, path_names[i]) == 0) return i;
  return -1;
}

int bench_mode_from_name(const char *name) {
  for (int i = 0; name && i < BENCH_MODE_COUNT; i++)
    if (strcmp(name, mode_names[i]) == 0) return i;
  return -1;
}

void bench_positions(uint32_t k, uint32_t w, uint32_t h, uint32_t pos[2 * BENCH_SAMPLES]) {
  const uint32_t corners[4][2] = {{0, 0}, {w - 1, 0}, {0, h - 1}, {w - 1, h - 1}};
  for (uint32_t i = 0; i < BENCH_SAMPLES; i++) {
    if (i < 4) {
      pos[2 * i] = corners[i][0];
      pos[2 * i + 1] = corners[i][1];
    } else {
      pos[2 * i] = (uint32_t)(((uint64_t)i * 2654435761u + (uint64_t)k * 40503u) % w);
      pos[2 * i + 1] = (uint32_t)(((uint64_t)i * 2246822519u + (uint64_t)k * 97u) % h);
    }
  }
}

void bench_decode_texels(const float *t, MAX_Format format, bench_seen *seen) {
  float scale = format == MAX_FMT_RGBA16F ? BENCH_PATTERN_HALF_SCALE : 255.0f;
  for (int i = 0; i < BENCH_SAMPLES; i++)
    for (int c = 0; c < 4; c++) {
      float x = t[4 * i + c];
      seen->texel[i][c] = isfinite(x) && x >= 0.0f ? (uint32_t)lrintf(x * scale) : UINT32_MAX;
    }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double bench_percentile(double *v, size_t n, double q) {
  if (n == 0) return NAN;
  qsort(v, n, sizeof(*v), cmp_double);
  size_t i = (size_t)llround(q * (double)(n - 1));
  return v[i];
}

void bench_outcome_set(bench_outcome *o, int rc) {
  o->rc = rc;
  if (rc != 0) snprintf(o->message, sizeof(o->message), "%s", tool_last_error());
}
