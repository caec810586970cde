/* The platform's own floors for `interop-fd bench`, measured in the same run
 * as the paths so that every path can be read against them (bench_floor.c):
 *
 *  ping-pong   a timeline of the bench's CUDA context, exported, and a peer
 *              that waits for each value and signals the next, with no work:
 *              a second stream of the same CUDA context, a second CUDA
 *              context, and a Vulkan device. Timed on the GPU with CUDA
 *              events, the batch queued ahead behind a gate.
 *  time slice  how long a tiny Vulkan submission waits before the GPU starts
 *              it, with the GPU idle and under a CUDA producer writing 4K
 *              frames back to back, at the driver's default queue priority
 *              and at the global priority asked (VK_KHR/EXT_global_priority).
 *
 * The device-to-device copy of a frame (the COPY paths' floor) is
 * bench_cuda_copy_time. Each floor that cannot run here says why. */
#ifndef IFD_TOOLS_BENCH_FLOOR_H
#define IFD_TOOLS_BENCH_FLOOR_H

#include <stdbool.h>
#include <stdint.h>

#include "bench/bench_cuda.h"
#include "bench/bench_vk.h"

typedef enum {
  BENCH_PP_SAME_CONTEXT = 0, /* two streams of one CUDA context */
  BENCH_PP_OTHER_CONTEXT,    /* the bench's CUDA context and a second one */
  BENCH_PP_VULKAN,           /* the bench's CUDA context and a Vulkan device */
  BENCH_PP_COUNT
} bench_pp_kind;

typedef struct {
  bool measured;
  char why[320];  /* why not measured */
  uint32_t rounds;
  double handoff_mean;                /* us: the round trip's mean / 2 */
  double trip_mean, trip_p50, trip_p99; /* us per round trip */
} bench_pingpong;

typedef struct {
  bool measured;
  char why[320];
  char queue[192];  /* the consumer's queue priority, as granted */
  uint32_t samples; /* of each of idle and busy */
  double idle_p50, idle_p99, busy_p50, busy_p99; /* us from submit to GPU start */
} bench_slice;

typedef struct {
  bench_pingpong pp[BENCH_PP_COUNT];
  bench_slice slice[2]; /* [0] the driver's default priority, [1] the one asked */
} bench_floors;

/* "cuda-stream<->cuda-stream" and the like, as in the JSON. */
const char *bench_pp_name(bench_pp_kind k);

/* Marks every floor not measured, with `why`. */
void bench_floors_skip(bench_floors *f, const char *why);

/* Measures the three ping-pongs (vk: the bench's Vulkan consumer, between
 * runs). A floor that cannot run (no timeline export, no second context) is
 * left not measured with its reason; the return is 0 then too. Errors: a
 * failure while measuring (-errno, tool_last_error()). */
int bench_floor_pingpong(bench_cuda *cu, bench_vk *vk, bench_floors *f);

/* Measures the time-slice floor for each of the two consumers (either may be
 * NULL: not measured, `why` given by the caller). */
int bench_floor_slices(bench_cuda *cu, bench_vk *plain, bench_vk *prioritized, bench_floors *f);

#endif
