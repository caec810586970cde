/* The reference implementation of the demo's network (see cppn.h). */
#include "producer/cppn.h"

#include <math.h>
#include <string.h>

#include "interop_fd/interop_fd.h"

/* xorshift32: a fixed, portable sequence, so the weights are the same everywhere. */
static float next_uniform(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *s = x;
  return (float)((double)x / 4294967296.0 * 2.0 - 1.0); /* [-1, 1) */
}

static void fill(cppn_params *p, uint32_t *s, int at, int n, float scale) {
  for (int i = 0; i < n; i++) p->v[at + i] = next_uniform(s) * scale;
}

void cppn_params_init(cppn_params *p, uint32_t seed) {
  memset(p, 0, sizeof(*p));
  uint32_t s = seed * 2654435761u + 0x9e3779b9u;
  if (s == 0) s = 1;
  fill(p, &s, CPPN_W1, CPPN_HIDDEN * CPPN_IN, 3.0f);
  fill(p, &s, CPPN_B1, CPPN_HIDDEN, 0.5f);
  fill(p, &s, CPPN_W2, CPPN_HIDDEN * CPPN_HIDDEN, 1.4f);
  fill(p, &s, CPPN_B2, CPPN_HIDDEN, 0.5f);
  fill(p, &s, CPPN_W3, CPPN_HIDDEN * CPPN_HIDDEN, 0.7f);
  fill(p, &s, CPPN_B3, CPPN_HIDDEN, 0.3f);
  fill(p, &s, CPPN_W4, CPPN_OUT * CPPN_HIDDEN, 1.8f);
  fill(p, &s, CPPN_B4, CPPN_OUT, 0.2f);
}

void cppn_frame_args_init(cppn_frame_args *args, uint32_t w, uint32_t h, uint32_t row_pitch,
                          uint32_t format, uint64_t frame) {
  memset(args, 0, sizeof(*args));
  args->width = w;
  args->height = h;
  args->row_pitch = row_pitch;
  args->format = format;
  args->mode = CPPN_MODE_NETWORK;
  double t = (double)frame / 60.0;
  args->time_sin = (float)sin(t);
  args->time_cos = (float)cos(0.7 * t);
}

/* One layer's pre-activations: out[i] = b[i] + sum over j of w[i * n_in + j]
 * * in[j], summed in order of j (the order the backends sum in). */
static void dense(const float *b, const float *w, const float *in, int n_in, float *out, int n_out) {
  for (int i = 0; i < n_out; i++) {
    float a = b[i];
    for (int j = 0; j < n_in; j++) a += w[i * n_in + j] * in[j];
    out[i] = a;
  }
}

void cppn_pixel(const cppn_params *p, const cppn_frame_args *args, uint32_t px, uint32_t py,
                float rgba[4]) {
  if (args->mode == CPPN_MODE_SOLID) {
    memcpy(rgba, args->solid, 4 * sizeof(float));
    return;
  }
  const float *v = p->v;
  float w = (float)args->width, h = (float)args->height;
  float u = ((float)px + 0.5f) / w * 2.0f - 1.0f;
  float t = ((float)py + 0.5f) / h * 2.0f - 1.0f;
  float x = CPPN_ZOOM * u * fmaxf(1.0f, w / h);
  float y = CPPN_ZOOM * t * fmaxf(1.0f, h / w);
  float in[CPPN_IN] = {x, y, sqrtf(x * x + y * y), args->time_sin, args->time_cos};
  float h1[CPPN_HIDDEN], h2[CPPN_HIDDEN], h3[CPPN_HIDDEN], out[CPPN_OUT];
  dense(v + CPPN_B1, v + CPPN_W1, in, CPPN_IN, h1, CPPN_HIDDEN);
  for (int i = 0; i < CPPN_HIDDEN; i++) h1[i] = tanhf(h1[i]);
  dense(v + CPPN_B2, v + CPPN_W2, h1, CPPN_HIDDEN, h2, CPPN_HIDDEN);
  for (int i = 0; i < CPPN_HIDDEN; i++) h2[i] = sinf(h2[i]);
  dense(v + CPPN_B3, v + CPPN_W3, h2, CPPN_HIDDEN, h3, CPPN_HIDDEN);
  for (int i = 0; i < CPPN_HIDDEN; i++) h3[i] = tanhf(h3[i]);
  dense(v + CPPN_B4, v + CPPN_W4, h3, CPPN_HIDDEN, out, CPPN_OUT);
  for (int i = 0; i < CPPN_OUT; i++) rgba[i] = 1.0f / (1.0f + expf(-out[i]));
  rgba[3] = 1.0f;
}

static uint8_t unorm8(float c) {
  c = c < 0.0f ? 0.0f : c > 1.0f ? 1.0f : c;
  return (uint8_t)lrintf(c * 255.0f);
}

/* IEEE binary16, round to nearest even (finite inputs; large ones saturate to inf). */
static uint16_t half_from_float(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x47800000u) return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (ax < 0x38800000u) { /* subnormal or zero: scale so rounding happens in float */
    float a;
    memcpy(&a, &ax, 4);
    return (uint16_t)(sign | (uint32_t)lrintf(a * 16777216.0f)); /* 2^24 */
  }
  uint32_t m = ax + 0xc8000fffu + ((ax >> 13) & 1u); /* rebias exponent, round to even */
  return (uint16_t)(sign | (m >> 13));
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    float m = ldexpf((float)mant, -24);
    return sign ? -m : m;
  }
  uint32_t u = exp == 31 ? sign | 0x7f800000u | (mant << 13)
                         : sign | ((exp - 15 + 127) << 23) | (mant << 13);
  float f;
  memcpy(&f, &u, 4);
  return f;
}

uint32_t cppn_decode(uint32_t format, const uint8_t *px, float out[4]) {
  ifd_format_info fi;
  if (ifd_format_query((MAX_Format)format, &fi) != 0) return 0;
  uint32_t bpc = fi.bytes_per_pixel / fi.channels;
  for (uint32_t c = 0; c < fi.channels; c++) {
    const uint8_t *p = px + c * bpc;
    if (bpc == 1) {
      out[c] = p[0] / 255.0f;
    } else if (bpc == 2) {
      uint16_t h;
      memcpy(&h, p, 2);
      out[c] = half_to_float(h);
    } else {
      memcpy(&out[c], p, 4);
    }
  }
  return fi.channels;
}

uint32_t cppn_encode(uint32_t format, const float rgba[4], uint8_t out[16]) {
  const float *c = rgba;
  switch (format) {
  case MAX_FMT_R8: out[0] = unorm8(c[0]); return 1;
  case MAX_FMT_RG8: out[0] = unorm8(c[0]); out[1] = unorm8(c[1]); return 2;
  case MAX_FMT_RGBA8:
  case MAX_FMT_SRGBA8:
    for (int i = 0; i < 4; i++) out[i] = unorm8(c[i]);
    return 4;
  case MAX_FMT_BGRA8:
    out[0] = unorm8(c[2]); out[1] = unorm8(c[1]); out[2] = unorm8(c[0]); out[3] = unorm8(c[3]);
    return 4;
  case MAX_FMT_R16F: case MAX_FMT_RG16F: case MAX_FMT_RGBA16F: {
    uint32_t n = format == MAX_FMT_R16F ? 1 : format == MAX_FMT_RG16F ? 2 : 4;
    for (uint32_t i = 0; i < n; i++) {
      uint16_t hv = half_from_float(c[i]);
      memcpy(out + 2 * i, &hv, 2);
    }
    return 2 * n;
  }
  case MAX_FMT_R32F: case MAX_FMT_RG32F: case MAX_FMT_RGBA32F: {
    uint32_t n = format == MAX_FMT_R32F ? 1 : format == MAX_FMT_RG32F ? 2 : 4;
    memcpy(out, c, 4 * n);
    return 4 * n;
  }
  default: return 0;
  }
}
