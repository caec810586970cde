/* The CUDA side of `interop-fd bench`: the frame kernel (with a stamp of the
 * GPU timer when the frame is complete), clock calibration against the host,
 * the floor's copies, the CPU round trip's download and CUDA's own GL interop.
 * Everything is ordered on the ifd_context's stream. The driver is reached
 * through the tools' own table (common/cuda_kit.h), so the library's stays
 * minimal. */
#ifndef IFD_TOOLS_BENCH_CUDA_H
#define IFD_TOOLS_BENCH_CUDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/bench_common.h"

typedef struct bench_cuda bench_cuda;

/* ctx: a CUDA-backend context. Errors: -ENODEV not CUDA; -ENOMEM; -EIO. */
int bench_cuda_create(ifd_context *ctx, bench_cuda **out);
void bench_cuda_destroy(bench_cuda *b); /* waits for the stream */

/* host CLOCK_MONOTONIC ns = GPU timer ns + *offset, to within *spread ns.
 * Ping-pongs a word through mapped host memory with a spinning kernel. */
int bench_cuda_calibrate(bench_cuda *b, int64_t *offset, uint64_t *spread);

/* Enqueues the frame kernel: frame `k` of bench_pattern.h into dptr
 * (pitch bytes per row), format 0 RGBA8 / 1 RGBA16F. Its last block stamps
 * slot k % BENCH_STAMP_SLOTS, which is cleared first. */
int bench_cuda_pattern(bench_cuda *b, uint64_t dptr, uint32_t pitch, uint32_t width,
                       uint32_t height, uint32_t format, uint32_t k);
/* The stamp of frame k: GPU timer ns, 0 if not written yet. */
uint64_t bench_cuda_stamp(const bench_cuda *b, uint32_t k);

/* Enqueues a kernel that writes the GPU timer into mark slot i. */
int bench_cuda_mark(bench_cuda *b, uint32_t i);
uint64_t bench_cuda_mark_value(const bench_cuda *b, uint32_t i);

/* Enqueues sampling the BENCH_SAMPLES pixels at pos of a frame in device
 * memory into gather slot i; bench_cuda_gathered reads them once the stream
 * has passed that point. */
int bench_cuda_gather(bench_cuda *b, uint64_t dptr, uint32_t pitch, uint32_t format, uint32_t i,
                      const uint32_t pos[2 * BENCH_SAMPLES]);
void bench_cuda_gathered(const bench_cuda *b, uint32_t i, uint32_t texel[BENCH_SAMPLES][4]);

int bench_cuda_sync(bench_cuda *b);
int bench_cuda_driver_version(bench_cuda *b); /* e.g. 13000 */

/* Plain device and pinned host memory, and copies on the stream. */
int bench_cuda_alloc(bench_cuda *b, size_t bytes, uint64_t *dptr);
void bench_cuda_free(bench_cuda *b, uint64_t dptr);
int bench_cuda_host_alloc(bench_cuda *b, size_t bytes, void **p);
void bench_cuda_host_free(bench_cuda *b, void *p);
int bench_cuda_copy_dtod(bench_cuda *b, uint64_t dst, uint64_t src, size_t bytes);
int bench_cuda_copy_dtoh(bench_cuda *b, void *dst, uint64_t src, size_t bytes);

/* Events 0..BENCH_STAMP_SLOTS-1 on the stream: record, then wait (spinning). */
int bench_cuda_event_record(bench_cuda *b, uint32_t i);
int bench_cuda_event_wait(bench_cuda *b, uint32_t i);

/* CUDA's OpenGL interop on a GL buffer of the current GL context. */
int bench_cuda_gl_register(bench_cuda *b, unsigned gl_buffer, void **res);
void bench_cuda_gl_unregister(bench_cuda *b, void *res);
int bench_cuda_gl_map(bench_cuda *b, void *res, uint64_t *dptr, size_t *bytes);
int bench_cuda_gl_unmap(bench_cuda *b, void *res);

/* ------------------------------------------------------------------ floors */

#define BENCH_TIMERS 128 /* events that keep time, on the bench's stream */

/* The ifd_context the bench was made with. */
ifd_context *bench_cuda_context(const bench_cuda *b);

/* Records timer i % BENCH_TIMERS on the stream, after everything enqueued on
 * it so far (the library's work included). */
int bench_cuda_timer_record(bench_cuda *b, uint32_t i);
/* Waits for timer `to`, then gives the GPU time from timer `from` in us. */
int bench_cuda_timer_elapsed(bench_cuda *b, uint32_t from, uint32_t to, double *us);

/* A gate on the stream: what is enqueued after bench_cuda_gate_close starts
 * only once bench_cuda_gate_open is called, so a batch queued ahead runs at
 * the GPU's pace, not the host's. Keep a closed batch small (a few hundred
 * commands): a stream that fills up blocks the host. bench_cuda_destroy opens
 * a gate left closed. */
int bench_cuda_gate_close(bench_cuda *b);
void bench_cuda_gate_open(bench_cuda *b);

/* The device-to-device copy of `bytes` (cuMemcpyDtoDAsync between two
 * buffers of its own), warmed up, then timed with events `rounds` times
 * (< BENCH_TIMERS) into us[0..rounds). Blocks until done. */
int bench_cuda_copy_time(bench_cuda *b, size_t bytes, uint32_t rounds, double *us);

/* A second stream for the floors, adopted as an ifd_context of its own (it
 * can import the bench's timelines): on the bench's CUDA context
 * (same_context), or on a CUDA context created for it (cuCtxCreate).
 * Errors: -ENOMEM, -EIO (CUDA), those of ifd_context_create_cuda. */
typedef struct bench_cuda_lane bench_cuda_lane;
int bench_cuda_lane_create(bench_cuda *b, bool same_context, bench_cuda_lane **out);
void bench_cuda_lane_destroy(bench_cuda_lane *l); /* waits for its stream */
ifd_context *bench_cuda_lane_context(const bench_cuda_lane *l);

#endif
