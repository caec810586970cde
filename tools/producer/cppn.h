/* The demo's neural network: a compositional pattern-producing network (CPPN)
 * that maps a pixel's position and the time to a colour, evaluated for every
 * pixel of every frame. One definition, three implementations that must agree:
 * cppn_pixel() here (the reference, plain C), the CUDA kernel
 * (tools/producer/cuda/cppn.cu) and the Vulkan compute shader (tools/producer/shaders/cppn.comp).
 * This header is plain C with <stdint.h> only, so the CUDA source includes it.
 *
 * The network, for a pixel (px, py) of a w x h frame and frame number n:
 *   u = ((px + 0.5) / w) * 2 - 1,  v = ((py + 0.5) / h) * 2 - 1
 *   x = CPPN_ZOOM * u * max(1, w / h),  y = CPPN_ZOOM * v * max(1, h / w)
 *   r = sqrt(x*x + y*y)
 *   in  = (x, y, r, time_sin, time_cos)   time_sin = sin(t), time_cos = cos(0.7 t),
 *                                          t = n / 60 s, computed on the host in double
 *   h1  = tanh(W1 in + b1)                 16 units
 *   h2  = sin(W2 h1 + b2)                  16 units
 *   h3  = tanh(W3 h2 + b3)                 16 units
 *   rgb = 1 / (1 + exp(-(W4 h3 + b4)))     3 outputs in (0, 1); alpha = 1
 * Weights come from cppn_params_init (a fixed seed), are made once on the host
 * and handed to the device as they are, so every backend uses identical floats.
 *
 * The colour is the colour to display (as a PNG stores it). It is written into
 * a frame of format f as follows, so that every format shows the same picture:
 *   r8: R   rg8: R G   rgba8 and srgba8: R G B A   bgra8: B G R A
 *     (8-bit: round(clamp(c, 0, 1) * 255); srgba8 stores the display colour's
 *      bytes as they are, since sRGB bytes are what a display colour is)
 *   r16f, rg16f, rgba16f: half floats (round to nearest) of R / R G / R G B A
 *   r32f, rg32f, rgba32f: floats of R / R G / R G B A
 * In CPPN_MODE_SOLID the colour is cppn_frame_args.solid (alpha included)
 * instead of the network's, for the seed's solid-colour checks. */
#ifndef IFD_TOOLS_CPPN_H
#define IFD_TOOLS_CPPN_H

#include <stdint.h>

#define CPPN_IN 5
#define CPPN_HIDDEN 16
#define CPPN_OUT 3
#define CPPN_ZOOM 1.5f

/* Offsets into cppn_params.v; matrices are row-major [out][in]. */
#define CPPN_W1 0
#define CPPN_B1 (CPPN_W1 + CPPN_HIDDEN * CPPN_IN)
#define CPPN_W2 (CPPN_B1 + CPPN_HIDDEN)
#define CPPN_B2 (CPPN_W2 + CPPN_HIDDEN * CPPN_HIDDEN)
#define CPPN_W3 (CPPN_B2 + CPPN_HIDDEN)
#define CPPN_B3 (CPPN_W3 + CPPN_HIDDEN * CPPN_HIDDEN)
#define CPPN_W4 (CPPN_B3 + CPPN_HIDDEN)
#define CPPN_B4 (CPPN_W4 + CPPN_OUT * CPPN_HIDDEN)
#define CPPN_PARAM_COUNT 692 /* CPPN_B4 + CPPN_OUT = 691, padded to a multiple of 4 */

#define CPPN_MODE_NETWORK 0u
#define CPPN_MODE_SOLID 1u

/* The weights: a kernel parameter (by value) in CUDA, a std430 storage buffer
 * `float v[]` in Vulkan. */
typedef struct {
  float v[CPPN_PARAM_COUNT];
} cppn_params;

/* Per-frame arguments: a kernel parameter in CUDA, push constants in Vulkan
 * (same order; 48 bytes, no padding). */
typedef struct {
  uint32_t width, height;
  uint32_t row_pitch; /* bytes between rows of the frame */
  uint32_t format;    /* a MAX_Format value */
  uint32_t mode;      /* CPPN_MODE_* */
  float time_sin, time_cos;
  uint32_t reserved;
  float solid[4]; /* CPPN_MODE_SOLID's colour */
} cppn_frame_args;

#ifndef __CUDACC__
#include <stdbool.h>

/* The demo's network (seed 1 is the one the tool draws). */
void cppn_params_init(cppn_params *p, uint32_t seed);

/* Fills args for frame number `frame` of a w x h frame in `format` (network mode). */
void cppn_frame_args_init(cppn_frame_args *args, uint32_t w, uint32_t h, uint32_t row_pitch,
                          uint32_t format, uint64_t frame);

/* The reference: the display colour of pixel (px, py) under args (alpha in rgba[3]). */
void cppn_pixel(const cppn_params *p, const cppn_frame_args *args, uint32_t px, uint32_t py,
                float rgba[4]);

/* The bytes the producers write for that colour into one pixel of args->format
 * (at most 16 bytes); returns the number of bytes. */
uint32_t cppn_encode(uint32_t format, const float rgba[4], uint8_t out[16]);

/* The channels of one stored pixel of `format`, in stored order (BGRA8: B G R
 * A), as values: 8-bit as byte / 255, halves and floats as they are. Returns
 * the number of channels (0 for an unknown format). */
uint32_t cppn_decode(uint32_t format, const uint8_t *px, float out[4]);
#endif

#endif
