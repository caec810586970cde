/* `interop-fd bench`: interop_fd's handoff against what people do today and
 * against the platform's own floors, on the same frames, in one run.
 * The parts: bench.c (the scenarios and the runs), bench_paths.c (one
 * function per path), bench_floor.c (the floors: timeline ping-pongs, the
 * consumer's wait for a time slice), bench_cuda.c (producer kernels, clocks,
 * copies, events, second streams and contexts, CUDA's own GL interop),
 * bench_vk.c and bench_vk_floor.c (the Vulkan consumer), bench_gl.c (the GL
 * consumer of CUDA's GL interop); bench_common.h is what they share,
 * bench_report.c the table, JSON and SVG. Internal to the tool. */
#ifndef IFD_TOOLS_BENCH_H
#define IFD_TOOLS_BENCH_H

#include "options.h"

/* Runs the paths and modes o asks for. Returns the process's exit status:
 * 0 every run measured, 1 a run refused or failed, 77 no CUDA device. */
int bench_run_main(const tool_options *o);

#endif
