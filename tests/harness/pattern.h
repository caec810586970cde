/* Reference patterns: what a producer writes into every pixel of every
 * format (test_fill_pattern) and what sampling it must return
 * (test_expected_rgba), with per-format tolerances and an image compare. */
#ifndef IFD_TEST_PATTERN_H
#define IFD_TEST_PATTERN_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/check.h"
#include "interop_fd/interop_fd.h"

static inline uint16_t test_float_to_half(float f) {
  /* exact for the values test_pattern_float produces (multiples of 1/64 in [-8, 8)) */
  union { float f; uint32_t u; } v = {f};
  uint32_t sign = (v.u >> 16) & 0x8000u;
  int32_t exp = (int32_t)((v.u >> 23) & 0xff) - 127 + 15;
  uint32_t mant = v.u & 0x7fffffu;
  if ((v.u & 0x7fffffffu) == 0) return (uint16_t)sign;
  if (exp <= 0) return (uint16_t)(sign | ((mant | 0x800000u) >> (14 - exp)));
  return (uint16_t)(sign | ((uint32_t)exp << 10) | (mant >> 13));
}

static inline float test_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
  union { uint32_t u; float f; } v;
  if (exp == 0) {
    float m = (float)mant / 1024.0f * (1.0f / 16384.0f);
    return sign ? -m : m;
  }
  if (exp == 31) v.u = sign | 0x7f800000u | (mant << 13);
  else v.u = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  return v.f;
}

static inline uint32_t test_pattern_u(uint32_t x, uint32_t y, uint32_t c, uint32_t seed) {
  return x * 7u + y * 13u + c * 61u + seed * 101u;
}

static inline float test_pattern_float(uint32_t x, uint32_t y, uint32_t c, uint32_t seed) {
  return (float)(test_pattern_u(x, y, c, seed) % 1024u) / 64.0f - 8.0f;
}

/* Fills a host image (row pitch `pitch`) of `format` with the pattern. */
static inline void test_fill_pattern(void *pixels, size_t pitch, uint32_t w, uint32_t h,
                                     MAX_Format format, uint32_t seed) {
  ifd_format_info fi;
  ifd_format_query(format, &fi);
  uint32_t bpc = fi.bytes_per_pixel / fi.channels;
  for (uint32_t y = 0; y < h; y++) {
    uint8_t *row = (uint8_t *)pixels + y * pitch;
    for (uint32_t x = 0; x < w; x++)
      for (uint32_t c = 0; c < fi.channels; c++) {
        uint8_t *p = row + x * fi.bytes_per_pixel + c * bpc;
        if (bpc == 1) {
          *p = (uint8_t)test_pattern_u(x, y, c, seed);
        } else if (bpc == 2) {
          uint16_t v = test_float_to_half(test_pattern_float(x, y, c, seed));
          memcpy(p, &v, 2);
        } else {
          float v = test_pattern_float(x, y, c, seed);
          memcpy(p, &v, 4);
        }
      }
  }
}

static inline float test_srgb_to_linear(float c) {
  return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

/* What sampling pixel (x, y) of the pattern must return as RGBA, following
 * the library's rules: R -> (r,r,r,1), RG -> (r,g,0,1), BGRA8 bytes swapped
 * back to RGBA, sRGB colour decoded to linear. */
static inline void test_expected_rgba(MAX_Format format, uint32_t x, uint32_t y, uint32_t seed,
                                      float out[4]) {
  ifd_format_info fi;
  ifd_format_query(format, &fi);
  float ch[4] = {0, 0, 0, 1};
  uint32_t bpc = fi.bytes_per_pixel / fi.channels;
  for (uint32_t c = 0; c < fi.channels; c++) {
    if (bpc == 1) ch[c] = (float)(test_pattern_u(x, y, c, seed) & 255u) / 255.0f;
    else ch[c] = test_pattern_float(x, y, c, seed);
  }
  if (format == MAX_FMT_BGRA8) {
    float t = ch[0];
    ch[0] = ch[2];
    ch[2] = t;
  }
  if (fi.is_srgb)
    for (int c = 0; c < 3; c++) ch[c] = test_srgb_to_linear(ch[c]);
  if (fi.channels == 1) {
    out[0] = out[1] = out[2] = ch[0];
    out[3] = 1.0f;
  } else if (fi.channels == 2) {
    out[0] = ch[0];
    out[1] = ch[1];
    out[2] = 0.0f;
    out[3] = 1.0f;
  } else {
    memcpy(out, ch, sizeof(ch));
  }
}

static inline float test_linear_to_srgb(float c) {
  return c <= 0.0031308f ? c * 12.92f : 1.055f * powf(c, 1.0f / 2.4f) - 0.055f;
}

/* Whether a sampled channel c (0..3) of `format` matches. sRGB colour is
 * compared after encoding back to sRGB: hardware decoders differ in precision
 * (NVIDIA's is off by up to 0.004 in linear near 1.0), but each must return a
 * value that encodes back to the stored byte (within 0.6 of a step). */
static inline int test_channel_ok(MAX_Format format, int c, float got, float want, float tol) {
  if (format == MAX_FMT_SRGBA8 && c < 3)
    return fabsf(test_linear_to_srgb(got) - test_linear_to_srgb(want)) * 255.0f <= 0.6f;
  return fabsf(got - want) <= tol; /* NaN fails */
}

/* Tolerance for a sampled value of this format. */
static inline float test_tolerance(MAX_Format format) {
  ifd_format_info fi;
  ifd_format_query(format, &fi);
  if (fi.is_float) return 1e-6f;
  return fi.is_srgb ? 2e-3f : 0.5f / 255.0f;
}

/* Compares image rows at `pitch` with the reference rows at `ref_pitch`
 * (bpp bytes a pixel); prints the first wrong pixel with both byte strings.
 * Returns 1 if any. */
static inline int test_compare_bytes(const uint8_t *got, size_t pitch, const uint8_t *ref,
                                     size_t ref_pitch, uint32_t w, uint32_t h, uint32_t bpp,
                                     const char *what, const char *label) {
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      const uint8_t *g = got + y * pitch + x * bpp, *r = ref + y * ref_pitch + x * bpp;
      if (memcmp(g, r, bpp) == 0) continue;
      fprintf(stderr, "%s via %s: first wrong pixel (%u,%u): got", label, what, x, y);
      for (uint32_t i = 0; i < bpp; i++) fprintf(stderr, " %02x", g[i]);
      fprintf(stderr, ", expected");
      for (uint32_t i = 0; i < bpp; i++) fprintf(stderr, " %02x", r[i]);
      fprintf(stderr, "\n");
      return 1;
    }
  return 0;
}

/* One image of a byte-exact test: its format, the label that names it in
 * messages ("RGBA8 61x37") and the failures counted before it. */
typedef struct {
  ifd_format_info fi;
  char label[64];
  int failures_before;
} test_image_case;

static inline void test_image_case_begin(test_image_case *t, MAX_Format format, uint32_t w,
                                         uint32_t h) {
  REQUIRE(ifd_format_query(format, &t->fi) == 0);
  snprintf(t->label, sizeof(t->label), "%s %ux%u", t->fi.name, w, h);
  t->failures_before = test_failures;
}

/* The case's PASS or FAIL line, with the image's row pitch and size. */
static inline void test_image_case_end(const test_image_case *t, uint32_t pitch, uint64_t size) {
  printf("%-6s %-18s pitch %-6u size %-9llu\n",
         test_failures == t->failures_before ? "PASS" : "FAIL", t->label, pitch,
         (unsigned long long)size);
}

/* Compares a w x h RGBA float read-back of what was sampled (row 0 = texel
 * row 0) with the pattern for (format, seed); prints the first few
 * mismatches, counts a failure and returns the number of wrong pixels. */
static inline uint64_t test_compare_image(const char *label, const float *px, MAX_Format fmt,
                                          uint32_t w, uint32_t h, uint32_t seed) {
  float tol = test_tolerance(fmt);
  uint64_t bad = 0;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      const float *got = px + ((size_t)y * w + x) * 4;
      float want[4];
      test_expected_rgba(fmt, x, y, seed, want);
      int ok = 1;
      for (int c = 0; c < 4; c++) ok = ok && test_channel_ok(fmt, c, got[c], want[c], tol);
      if (ok) continue;
      if (bad++ < 3)
        fprintf(stderr, "%s: pixel (%u,%u) got (%g,%g,%g,%g) expected (%g,%g,%g,%g) tol %g\n",
                label, x, y, got[0], got[1], got[2], got[3], want[0], want[1], want[2], want[3],
                tol);
    }
  if (bad) {
    fprintf(stderr, "%s: %llu of %llu pixels wrong\n", label, (unsigned long long)bad,
            (unsigned long long)w * h);
    test_failures++;
  }
  return bad;
}

#endif
