/* Small helpers shared by the tests: checks that print where they failed, the
 * skip exit code, open-fd counting and per-pixel reference patterns. */
#ifndef IFD_TEST_UTIL_H
#define IFD_TEST_UTIL_H

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "interop_fd/interop_fd.h"

/* CTest's SKIP_RETURN_CODE for every test. */
#define TEST_SKIP 77

static int test_failures;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, \
              #cond, ifd_last_error());                                               \
      test_failures++;                                                                \
    }                                                                                 \
  } while (0)

#define CHECK_RC(expr, want)                                                              \
  do {                                                                                    \
    int rc_ = (expr);                                                                     \
    if (rc_ != (want)) {                                                                  \
      fprintf(stderr, "%s:%d: %s returned %d, expected %d (last error: %s)\n", __FILE__,  \
              __LINE__, #expr, rc_, (want), ifd_last_error());                            \
      test_failures++;                                                                    \
    }                                                                                     \
  } while (0)

/* Stops the test at once: for setup failures that make the rest meaningless. */
#define REQUIRE(cond)                                                                     \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s (last error: %s)\n", __FILE__, __LINE__, \
              #cond, ifd_last_error());                                                   \
      exit(1);                                                                            \
    }                                                                                     \
  } while (0)

#define SKIP(...)                  \
  do {                             \
    printf("SKIP: " __VA_ARGS__);  \
    printf("\n");                  \
    exit(TEST_SKIP);               \
  } while (0)

static inline int test_finish(const char *name) {
  if (test_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

/* Checks that the last message starts with fn, names it once ("fn: fn: ..."
 * never) and contains needle (if not NULL). */
static inline void test_check_message(const char *fn, const char *needle) {
  const char *m = ifd_last_error();
  size_t n = strlen(fn);
  int ok = strncmp(m, fn, n) == 0 && strstr(m + n, fn) == NULL &&
           (!needle || strstr(m, needle) != NULL);
  if (!ok) {
    fprintf(stderr, "message of %s is wrong (want one prefix%s%s): \"%s\"\n", fn,
            needle ? " and " : "", needle ? needle : "", m);
    test_failures++;
  }
}

/* The producer backend of a test: IFD_TEST_BACKEND=cuda or auto, else
 * Vulkan (lavapipe on the CPU machines). */
static inline ifd_backend test_backend_from_env(void) {
  const char *b = getenv("IFD_TEST_BACKEND");
  if (b && strcmp(b, "cuda") == 0) return IFD_BACKEND_CUDA;
  if (b && strcmp(b, "auto") == 0) return IFD_BACKEND_AUTO;
  return IFD_BACKEND_VULKAN;
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t test_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Number of open fds of this process. */
static inline int test_count_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)))
    if (e->d_name[0] != '.') n++;
  closedir(dir);
  return n - 1; /* the directory's own fd */
}

/* Lists the open fds and what each is, for a failed fd count. */
static inline void test_print_fds(const char *label) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    char path[64], target[256];
    snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = 0;
    fprintf(stderr, "%s: fd %s -> %s\n", label, e->d_name, target);
  }
  closedir(dir);
}

/* The open fds of this process, each by number and by the file it refers to:
 * for tests where a driver may close an fd of its own (a shader cache file)
 * between two counts, so that only fds that are new are counted. */
#define TEST_MAX_FDS 512
typedef struct {
  int n;
  struct {
    int fd;
    dev_t dev;
    ino_t ino;
  } open[TEST_MAX_FDS];
} test_fd_set;

static inline void test_fd_snapshot(test_fd_set *s) {
  s->n = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return;
  struct dirent *e;
  struct stat st;
  while ((e = readdir(dir)) && s->n < TEST_MAX_FDS) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == dirfd(dir) || fstat(fd, &st) != 0) continue;
    s->open[s->n].fd = fd;
    s->open[s->n].dev = st.st_dev;
    s->open[s->n].ino = st.st_ino;
    s->n++;
  }
  closedir(dir);
}

/* How many fds are open now that were not open (as the same file) in
 * `before`; each is listed on stderr under `label`. */
static inline int test_fds_new_since(const test_fd_set *before, const char *label) {
  test_fd_set *now = (test_fd_set *)malloc(sizeof(*now));
  if (!now) return -1;
  test_fd_snapshot(now);
  int added = 0;
  for (int i = 0; i < now->n; i++) {
    bool known = false;
    for (int j = 0; j < before->n && !known; j++)
      known = before->open[j].fd == now->open[i].fd && before->open[j].dev == now->open[i].dev &&
              before->open[j].ino == now->open[i].ino;
    if (known) continue;
    char path[64], target[256];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", now->open[i].fd);
    ssize_t len = readlink(path, target, sizeof(target) - 1);
    target[len > 0 ? len : 0] = 0;
    fprintf(stderr, "%s: new fd %d -> %s\n", label, now->open[i].fd, target);
    added++;
  }
  free(now);
  return added;
}

/* ---- reference patterns ---- */

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
