/* The copy table of `interop-fd bench` (bench_copy.c): for each of the 11
 * formats, the GPU time of the Vulkan COPY path's copy, by its compute shader
 * and by vkCmdCopyBufferToImage, against CUDA's device-to-device copy of the
 * same bytes (the floor) and Vulkan's own vkCmdCopyBuffer of them. */
#ifndef IFD_TOOLS_BENCH_COPY_H
#define IFD_TOOLS_BENCH_COPY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/bench_cuda.h"
#include "interop_fd/interop_fd.h"

#define BENCH_COPY_FORMATS 11

typedef struct {
  const char *format; /* "rgba8", ... */
  uint64_t bytes;     /* row pitch x height */
  bool compute;       /* COPY ran the compute copy (else it fell back) */
  /* medians, us: COPY, COPY_TRANSFER, vkCmdCopyBuffer, cuMemcpyDtoDAsync */
  double copy_us, transfer_us, vk_buffer_us, dtod_us;
} bench_copy_row;

typedef struct {
  bool measured;
  char why[320];
  uint32_t width, height;
  bench_copy_row rows[BENCH_COPY_FORMATS];
} bench_copy_table;

/* Images of ctx (the bench's CUDA context) imported by a Vulkan device of
 * its own on the same GPU; the floor by cu. Prints a progress line when it
 * takes long. Errors: -errno with tool_last_error() (out->why too). */
int bench_copy_run(ifd_context *ctx, bench_cuda *cu, uint32_t width, uint32_t height,
                   bench_copy_table *out);

/* The table, with each route's ratio to the floor. */
void bench_copy_print(const bench_copy_table *t, FILE *f);
/* ,"copy_table": {...} */
void bench_copy_json(const bench_copy_table *t, FILE *f);

#endif
