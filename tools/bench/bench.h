/* `interop-fd bench`: interop_fd's handoff against what people do today and
 * against the hardware's floor, on the same frames, in one run (bench.c).
 * The parts: bench_cuda.c (producer kernels, clocks, the floor, CUDA's own GL
 * interop), bench_vk.c (the Vulkan consumer), bench_gl.c (the GL consumer of
 * CUDA's GL interop); bench_common.h is what they share, bench_report.c the
 * table, JSON and SVG. Internal to the tool. */
#ifndef IFD_TOOLS_BENCH_H
#define IFD_TOOLS_BENCH_H

#include "options.h"

/* Runs the paths and modes o asks for. Returns the process's exit status:
 * 0 every run measured, 1 a run refused or failed, 77 no CUDA device. */
int bench_run_main(const tool_options *o);

#endif
