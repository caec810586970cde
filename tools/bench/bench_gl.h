/* The OpenGL consumer of `interop-fd bench` for CUDA's own GL interop: a
 * headless GL context on the producer's GPU, pixel buffers CUDA registers and
 * writes, and per frame an upload from the buffer into a texture (GL's first
 * use of the frame), a compute dispatch sampling BENCH_SAMPLES pixels,
 * timestamps around both and a GL_TIME_ELAPSED query around the upload. The context is current on the creating thread; call
 * everything from it. */
#ifndef IFD_TOOLS_BENCH_GL_H
#define IFD_TOOLS_BENCH_GL_H

#include <stdint.h>

#include "bench/bench_common.h"

typedef struct bench_gl bench_gl;

int bench_gl_create(const uint8_t uuid[16], bench_gl **out);
void bench_gl_destroy(bench_gl *g);

/* host CLOCK_MONOTONIC ns = GL timestamp ns + *offset, within *spread ns. */
int bench_gl_calibrate(bench_gl *g, int64_t *offset, uint64_t *spread);

/* `slots` pixel buffers of width * height tightly packed pixels and as many
 * textures; pbo[i] are the buffers' GL names, for CUDA to register. */
int bench_gl_setup(bench_gl *g, uint32_t slots, uint32_t width, uint32_t height,
                   MAX_Format format, unsigned pbo[]);
void bench_gl_drop(bench_gl *g);

/* Enqueues slot s's upload and sampling (after CUDA unmapped its buffer). */
int bench_gl_submit(bench_gl *g, uint32_t s, const uint32_t pos[2 * BENCH_SAMPLES]);
/* Waits for slot s's work and reads what it saw. */
int bench_gl_collect(bench_gl *g, uint32_t s, bench_seen *seen);

#endif
