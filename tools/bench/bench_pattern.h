/* The frames of `interop-fd bench`: every pixel a cheap function of (x, y,
 * frame), written by the CUDA kernel (tools/bench/cuda/bench.cu) and checked on the
 * host after each consumer sampled it. Each channel changes with the frame
 * number, so a stale or torn frame is caught; the values are exact in both
 * formats (RGBA8: 0..255; RGBA16F: n / 1024 for n < 1024, exact in a half).
 * Plain C, included by the CUDA source too. */
#ifndef IFD_TOOLS_BENCH_PATTERN_H
#define IFD_TOOLS_BENCH_PATTERN_H

#ifndef BENCH_PATTERN_DEVICE
#define BENCH_PATTERN_DEVICE static inline
#endif

#define BENCH_PATTERN_HALF_SCALE 1024.0f

/* format: 0 RGBA8, 1 RGBA16F. v: the four channels as integers (RGBA16F: the
 * stored value times BENCH_PATTERN_HALF_SCALE). */
BENCH_PATTERN_DEVICE void bench_pattern_values(unsigned x, unsigned y, unsigned frame,
                                               unsigned format, unsigned v[4]) {
  unsigned mask = format == 0 ? 255u : 1023u;
  v[0] = (x + frame) & mask;
  v[1] = (y + 2u * frame) & mask;
  v[2] = (x + y + 3u * frame) & mask;
  v[3] = (x ^ y ^ (5u * frame)) & mask;
}

#endif
