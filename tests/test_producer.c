/* Tests of the demo's producer (tools/producer/producer.c), one mode per CTest test:
 *
 *   vulkan  (producer_vulkan, cpu)  the Vulkan backend (lavapipe on CPU machines)
 *   cuda    (producer_cuda, gpu)    the CUDA backend; skips without a CUDA device
 *   agree   (producer_agree, gpu)   CUDA and Vulkan render the same frames alike;
 *                                   skips unless both backends are there
 *
 * vulkan and cuda draw all 11 formats at 61x37 and 256x144, frames 0 and 1234 of
 * the network and several solid colours, then download each frame and compare
 * every pixel with the C reference (cppn_pixel + cppn_encode), both decoded to
 * floats; they print the largest difference per format. They also check that the
 * row padding keeps its bytes, draw with row pitches that are no multiple of 4
 * (1- and 2-byte formats, where words straddle rows), draw in bands (as frames
 * beyond the device's storage-buffer range are drawn), and check the open-fd
 * count is the same before and after (after a warm-up cycle).
 *
 * Public API only (tools' producer.h, interop_fd.h): to see a frame's row
 * padding, the frame is laid over the memory of a "raw view", an image whose
 * rows are contiguous (as wide as the frame's pitch, or one row of R8), with
 * producer_test_draw_over, and the view is uploaded and downloaded whole.
 * producer_draw itself draws one frame per format and size into its own image,
 * checked through a tight download.
 *
 * Tolerances (absolute, on the decoded value of each channel):
 *  - Solid colours: exact. No transcendental function is involved, only the
 *    encodings (a correctly rounded multiply, round-half-even to 8 bits and to
 *    half), which every backend must reproduce bit for bit.
 *  - 32-bit floats: TOL_F = 1e-4. The backends differ from the reference only
 *    through their sin/tanh/exp (CUDA's accurate sinf/tanhf/expf: 1-2 ulp;
 *    cppn.comp's own sin and tanh and the driver's exp: a few ulp), amplified by
 *    at most about 10x per layer through three layers: about 1e-6 expected.
 *    Measured (2026-11-25): lavapipe (Mesa 22.3.6) 1.1e-6; H200, driver 580:
 *    CUDA 9.2e-7, Vulkan 2.6e-6, CUDA against Vulkan 1.4e-6. 1e-4 leaves well
 *    over an order of magnitude of margin for other drivers and still catches
 *    any real error (a wrong weight, index or formula moves colours by 1e-2 or
 *    more).
 *  - Halves: TOL_F + 2^-11, since two colours TOL_F apart can round to
 *    neighbouring halves; 2^-11 is one half ulp in [0.5, 1), the largest below 1.
 *  - 8-bit: one step (1/255): the same rounding flip, for colours within TOL_F of
 *    a rounding boundary.
 * In agree mode both backends differ from the reference by at most that, and
 * from each other by at most the same tolerances (checked as such). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "producer/cppn.h"
#include "interop_fd/interop_fd.h"
#include "producer/producer.h"
#include "common/tool_error.h"
#include "harness/fds.h"

#define SKIP_CODE 77
#define TOL_F 1e-4
#define HALF_STEP (1.0 / 2048.0)
#define BYTE_STEP (1.0 / 255.0)

static int failures;

/* Prints "<file>:<line>: <kind> failed: <cond>: <message>" for a failed
 * CHECK (counted, the test goes on) or REQUIRE (the test stops). */
__attribute__((format(printf, 5, 6))) static void failed(const char *file, int line,
                                                        const char *kind, const char *cond,
                                                        const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s:%d: %s failed: %s: ", file, line, kind, cond);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

#define CHECK(cond, ...)                                                 \
  do {                                                                   \
    if (!(cond)) {                                                       \
      failed(__FILE__, __LINE__, "CHECK", #cond, __VA_ARGS__);           \
      failures++;                                                        \
    }                                                                    \
  } while (0)

#define REQUIRE(cond, ...)                                               \
  do {                                                                   \
    if (!(cond)) {                                                       \
      failed(__FILE__, __LINE__, "REQUIRE", #cond, __VA_ARGS__);         \
      exit(1);                                                           \
    }                                                                    \
  } while (0)

/* A mode's last check: no fd is open that was not open at its start. */
static void check_no_new_fds(int fds_before) {
  int fds_after = test_count_fds();
  CHECK(fds_before == fds_after, "open fds: %d before, %d after", fds_before, fds_after);
}

/* ------------------------------------------------------------------ decoding */

/* Channels of one pixel's bytes, in stored order; returns their number. */
static int decode(uint32_t format, const uint8_t *px, double out[4], int *bytes_per_channel) {
  ifd_format_info fi;
  float v[4];
  uint32_t n = cppn_decode(format, px, v);
  if (n == 0 || ifd_format_query((MAX_Format)format, &fi) != 0) return 0;
  *bytes_per_channel = (int)(fi.bytes_per_pixel / fi.channels);
  for (uint32_t c = 0; c < n; c++) out[c] = v[c];
  return (int)n;
}

static double tolerance(int bytes_per_channel) {
  return bytes_per_channel == 1 ? BYTE_STEP + 1e-9
         : bytes_per_channel == 2 ? TOL_F + HALF_STEP
                                  : TOL_F;
}

/* Largest difference seen per format (index = MAX_Format), for the report. */
typedef struct {
  double max_diff[12];
  long differing[12]; /* channels not bit-identical */
  long channels[12];
} stats;

/* Compares two frames (tight rows) channel by channel. exact: bytes must match. */
static void compare(const char *what, uint32_t format, uint32_t w, uint32_t h, const uint8_t *got,
                    const uint8_t *want, int exact, stats *st) {
  ifd_format_info fi;
  ifd_format_query((MAX_Format)format, &fi);
  uint32_t bpp = fi.bytes_per_pixel;
  int reported = 0;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      const uint8_t *g = got + ((size_t)y * w + x) * bpp, *r = want + ((size_t)y * w + x) * bpp;
      double dg[4], dr[4];
      int bpc = 0;
      int n = decode(format, g, dg, &bpc);
      decode(format, r, dr, &bpc);
      double tol = exact ? 0.0 : tolerance(bpc);
      for (int c = 0; c < n; c++) {
        int same = memcmp(g + c * bpc, r + c * bpc, (size_t)bpc) == 0;
        double d = same ? 0.0 : fabs(dg[c] - dr[c]);
        if (!same && isnan(d)) d = INFINITY;
        if (st) {
          st->channels[format]++;
          if (!same) st->differing[format]++;
          if (d > st->max_diff[format]) st->max_diff[format] = d;
        }
        if (!same && (exact || !(d <= tol))) {
          if (reported++ < 5)
            fprintf(stderr, "%s: %s pixel (%u, %u) channel %d: got %.9g, want %.9g (diff %.3g, "
                            "tolerance %.3g)\n",
                    what, fi.name, x, y, c, dg[c], dr[c], d, tol);
          failures++;
        }
      }
    }
  if (reported > 5) fprintf(stderr, "%s: %s: %d channels out of tolerance\n", what, fi.name, reported);
}

/* ------------------------------------------------------------------ reference */

static cppn_params params;

/* The reference frame (tight rows) of args. */
static uint8_t *reference(const cppn_frame_args *args) {
  ifd_format_info fi;
  ifd_format_query((MAX_Format)args->format, &fi);
  uint8_t *out = malloc((size_t)args->width * args->height * fi.bytes_per_pixel);
  REQUIRE(out, "out of memory");
  for (uint32_t y = 0; y < args->height; y++)
    for (uint32_t x = 0; x < args->width; x++) {
      float rgba[4];
      uint8_t px[16];
      cppn_pixel(&params, args, x, y, rgba);
      uint32_t n = cppn_encode(args->format, rgba, px);
      REQUIRE(n == fi.bytes_per_pixel, "cppn_encode gave %u bytes for %s", n, fi.name);
      memcpy(out + ((size_t)y * args->width + x) * n, px, n);
    }
  return out;
}

/* Solid colours: plain values, clamping, 8-bit and half rounding ties (to
 * even both ways), values just above a tie, half overflow and subnormals. */
static const float solids[][4] = {
    {0.25f, 0.5f, 0.75f, 1.0f},
    {-0.5f, 1.5f, 0.0f, 0.2f},
    {2.5f / 255.0f, 3.5f / 255.0f, 127.5f / 255.0f, 0.3f},
    {1.0f + 3.0f / 2048.0f, 1.0f + 1.0f / 2048.0f, 1.0f + 1.0f / 2048.0f + 1.0f / 1048576.0f, 0.1f},
    {70000.0f, 65519.0f, 65520.0f, -2.0f},
    {1e-6f, -3e-8f, 0x1p-25f, 0x3p-25f},
};
#define N_SOLIDS (sizeof(solids) / sizeof(solids[0]))

/* ------------------------------------------------------------------ drawing */

/* Draws args into image with p, waits and downloads it (tight rows). */
static uint8_t *draw_download(producer *p, ifd_image *image, const cppn_frame_args *args) {
  ifd_format_info fi;
  ifd_format_query((MAX_Format)args->format, &fi);
  size_t row = (size_t)args->width * fi.bytes_per_pixel;
  uint8_t *got = malloc(row * args->height);
  REQUIRE(got, "out of memory");
  int rc = producer_draw(p, image, args);
  REQUIRE(rc == 0, "producer_draw(%s %ux%u): %d %s", fi.name, args->width, args->height, rc,
          tool_last_error());
  rc = producer_finish(p);
  REQUIRE(rc == 0, "producer_finish: %d %s", rc, tool_last_error());
  rc = ifd_image_download(image, got, row);
  REQUIRE(rc == 0, "ifd_image_download: %d %s", rc, ifd_last_error());
  return got;
}

/* The bytes of a raw view: an image whose rows are contiguous in its memory
 * (width * bpp == row_pitch, or a single row), so that a tight upload or
 * download covers every byte from its start. */
static size_t raw_size(ifd_image *raw) {
  ifd_format_info fi;
  ifd_format_query(ifd_image_format(raw), &fi);
  size_t row = (size_t)ifd_image_width(raw) * fi.bytes_per_pixel;
  REQUIRE(ifd_image_height(raw) == 1 || row == ifd_image_row_pitch(raw),
          "raw view %ux%u: rows of %zu bytes %u apart are not contiguous", ifd_image_width(raw),
          ifd_image_height(raw), row, ifd_image_row_pitch(raw));
  return row * ifd_image_height(raw);
}

static void raw_io(ifd_image *raw, uint8_t *buf, int upload) {
  ifd_format_info fi;
  ifd_format_query(ifd_image_format(raw), &fi);
  size_t row = (size_t)ifd_image_width(raw) * fi.bytes_per_pixel;
  int rc = upload ? ifd_image_upload(raw, buf, row) : ifd_image_download(raw, buf, row);
  REQUIRE(rc == 0, "raw %s: %d %s", upload ? "upload" : "download", rc, ifd_last_error());
}

/* Fills the memory of the raw view with a byte pattern, draws the frame args
 * describes over it (producer_test_draw_over), and checks the frame and that
 * every byte past width * bpp of each of its rows kept its pattern byte. */
static void draw_check(const char *what, producer *p, ifd_image *raw, const cppn_frame_args *args,
                       int exact, stats *st) {
  ifd_format_info fi;
  ifd_format_query((MAX_Format)args->format, &fi);
  size_t size = raw_size(raw), pitch = args->row_pitch;
  REQUIRE(pitch * args->height <= size, "%s: a frame of %zu bytes over a view of %zu", what,
          pitch * args->height, size);
  uint8_t *before = malloc(size), *after = malloc(size);
  REQUIRE(before && after, "out of memory");
  for (size_t i = 0; i < size; i++) before[i] = (uint8_t)(0xa5u ^ (i * 7u));
  raw_io(raw, before, 1);
  int rc = producer_test_draw_over(p, raw, args);
  REQUIRE(rc == 0, "producer_test_draw_over(%s %ux%u pitch %zu): %d %s", fi.name, args->width,
          args->height, pitch, rc, tool_last_error());
  rc = producer_finish(p);
  REQUIRE(rc == 0, "producer_finish: %d %s", rc, tool_last_error());
  raw_io(raw, after, 0);
  size_t row = (size_t)args->width * fi.bytes_per_pixel;
  uint8_t *got = malloc(row * args->height);
  REQUIRE(got, "out of memory");
  for (uint32_t y = 0; y < args->height; y++) memcpy(got + y * row, after + y * pitch, row);
  uint8_t *want = reference(args);
  compare(what, args->format, args->width, args->height, got, want, exact, st);
  long changed = 0;
  for (uint32_t y = 0; y < args->height; y++)
    for (size_t i = row; i < pitch; i++)
      changed += before[(size_t)y * pitch + i] != after[(size_t)y * pitch + i];
  CHECK(changed == 0, "%s: %s %ux%u pitch %zu: %ld padding bytes changed", what, fi.name,
        args->width, args->height, pitch, changed);
  free(got);
  free(want);
  free(before);
  free(after);
}

static ifd_image *make_image(ifd_context *ctx, uint32_t w, uint32_t h, uint32_t format) {
  ifd_image *image = NULL;
  int rc = ifd_image_create(ctx, w, h, (MAX_Format)format, &image);
  REQUIRE(rc == 0, "ifd_image_create(%ux%u format %u): %d %s", w, h, format, rc, ifd_last_error());
  return image;
}

/* A raw view for frames of w x h `format` with their library pitch: an image
 * of the format as wide as that pitch, so its rows are contiguous. */
static ifd_image *make_raw(ifd_context *ctx, uint32_t w, uint32_t h, uint32_t format) {
  ifd_image *image = make_image(ctx, w, h, format);
  ifd_format_info fi;
  ifd_format_query((MAX_Format)format, &fi);
  uint32_t wide = ifd_image_row_pitch(image) / fi.bytes_per_pixel;
  ifd_image_destroy(image);
  return make_image(ctx, wide, h, format);
}

static const char *backend_name(ifd_backend b) {
  return b == IFD_BACKEND_CUDA ? "cuda" : "vulkan";
}

/* ------------------------------------------------------------------ modes */

static void warm_up(ifd_backend backend) {
  ifd_context *ctx;
  int rc = ifd_context_create(backend, 0, &ctx);
  if (rc == -ENODEV || (backend == IFD_BACKEND_CUDA && rc == -EOPNOTSUPP)) {
    printf("SKIP: no %s device: %s\n", backend_name(backend), ifd_last_error());
    exit(SKIP_CODE);
  }
  REQUIRE(rc == 0, "ifd_context_create(%s): %d %s", backend_name(backend), rc, ifd_last_error());
  producer *p;
  rc = producer_create(ctx, &params, &p);
  REQUIRE(rc == 0, "producer_create(%s): %d %s", backend_name(backend), rc, tool_last_error());
  ifd_image *image = make_image(ctx, 16, 16, MAX_FMT_RGBA8);
  cppn_frame_args args;
  cppn_frame_args_init(&args, 16, 16, ifd_image_row_pitch(image), MAX_FMT_RGBA8, 1);
  free(draw_download(p, image, &args));
  producer_destroy(p);
  ifd_image_destroy(image);
  ifd_context_destroy(ctx);
}

static void check_errors(producer *p, ifd_image *image) {
  cppn_frame_args args;
  cppn_frame_args_init(&args, ifd_image_width(image), ifd_image_height(image),
                       ifd_image_row_pitch(image), ifd_image_format(image), 0);
  cppn_frame_args bad = args;
  bad.width++;
  CHECK(producer_draw(p, image, &bad) == -EINVAL, "width mismatch accepted");
  bad = args;
  bad.row_pitch += 4;
  CHECK(producer_draw(p, image, &bad) == -EINVAL, "pitch mismatch accepted");
  bad = args;
  bad.format = args.format == MAX_FMT_R8 ? MAX_FMT_RG8 : MAX_FMT_R8;
  CHECK(producer_draw(p, image, &bad) == -EINVAL, "format mismatch accepted");
  bad = args;
  bad.mode = 7;
  CHECK(producer_draw(p, image, &bad) == -EINVAL, "mode 7 accepted");
  CHECK(producer_draw(p, NULL, &args) == -EINVAL, "NULL image accepted");
  CHECK(producer_draw(p, image, NULL) == -EINVAL, "NULL args accepted");
  CHECK(producer_finish(NULL) == -EINVAL, "producer_finish(NULL) accepted");
  producer_destroy(NULL);
}

static void print_stats(const char *what, const stats *st) {
  for (uint32_t f = 1; f <= 11; f++) {
    ifd_format_info fi;
    ifd_format_query((MAX_Format)f, &fi);
    if (!st->channels[f]) continue;
    int bpc = (int)(fi.bytes_per_pixel / fi.channels);
    printf("%s %-8s max |diff| %.3g", what, fi.name, st->max_diff[f]);
    if (bpc == 1) printf(" (%.2f steps)", st->max_diff[f] * 255.0);
    printf(", %ld of %ld channels not bit-identical (tolerance %.3g)\n", st->differing[f],
           st->channels[f], tolerance(bpc));
  }
}

/* vulkan and cuda modes: the producer of one backend against the reference. */
static int run_backend(ifd_backend backend) {
  const char *name = backend_name(backend);
  warm_up(backend);
  int fds_before = test_count_fds();
  ifd_context *ctx;
  int rc = ifd_context_create(backend, 0, &ctx);
  REQUIRE(rc == 0, "ifd_context_create(%s): %d %s", name, rc, ifd_last_error());
  ifd_context_native nat;
  ifd_context_native_handles(ctx, &nat);
  printf("%s backend on %s\n", name, nat.device_name);
  producer *p;
  rc = producer_create(ctx, &params, &p);
  REQUIRE(rc == 0, "producer_create: %d %s", rc, tool_last_error());

  static const uint32_t sizes[][2] = {{61, 37}, {256, 144}};
  static const uint64_t frames[] = {0, 1234};
  stats net = {0}, solid = {0};
  for (size_t s = 0; s < 2; s++)
    for (uint32_t f = 1; f <= 11; f++) {
      uint32_t w = sizes[s][0], h = sizes[s][1];
      char what[96];
      {
        /* producer_draw on the image itself (the demo's call), tight download */
        ifd_image *real = make_image(ctx, w, h, f);
        if (s == 0 && f == 1) check_errors(p, real);
        cppn_frame_args args;
        cppn_frame_args_init(&args, w, h, ifd_image_row_pitch(real), f, frames[1]);
        uint8_t *got = draw_download(p, real, &args), *want = reference(&args);
        snprintf(what, sizeof(what), "%s producer_draw %ux%u frame %llu", name, w, h,
                 (unsigned long long)frames[1]);
        compare(what, f, w, h, got, want, 0, &net);
        free(got);
        free(want);
        ifd_image_destroy(real);
      }
      ifd_image *image = make_raw(ctx, w, h, f);
      for (size_t k = 0; k < 2; k++) {
        cppn_frame_args args;
        cppn_frame_args_init(&args, w, h, ifd_image_row_pitch(image), f, frames[k]);
        snprintf(what, sizeof(what), "%s network %ux%u frame %llu", name, w, h,
                 (unsigned long long)frames[k]);
        draw_check(what, p, image, &args, 0, &net);
      }
      for (size_t k = 0; k < N_SOLIDS; k++) {
        cppn_frame_args args;
        cppn_frame_args_init(&args, w, h, ifd_image_row_pitch(image), f, 0);
        args.mode = CPPN_MODE_SOLID;
        memcpy(args.solid, solids[k], sizeof(args.solid));
        snprintf(what, sizeof(what), "%s solid %zu %ux%u", name, k, w, h);
        draw_check(what, p, image, &args, 1, &solid);
      }
      ifd_image_destroy(image);
    }
  print_stats("network", &net);
  print_stats("solid", &solid);

  /* Row pitches that are no multiple of 4 (the library's images always have
   * one on these devices): a word then straddles two rows, or holds padding
   * between two rows. The frame is laid over a one-row R8 image of exactly
   * its bytes. */
  stats odd = {0};
  static const uint32_t small_formats[] = {MAX_FMT_R8, MAX_FMT_RG8, MAX_FMT_R16F};
  for (size_t i = 0; i < 3; i++)
    for (uint32_t extra = 0; extra <= 1; extra++) {
      uint32_t f = small_formats[i], w = 61, h = 37;
      ifd_format_info fi;
      ifd_format_query((MAX_Format)f, &fi);
      uint32_t pitch = (w + extra) * fi.bytes_per_pixel;
      ifd_image *image = make_image(ctx, pitch * h, 1, MAX_FMT_R8);
      cppn_frame_args args;
      cppn_frame_args_init(&args, w, h, pitch, f, 77);
      char what[96];
      snprintf(what, sizeof(what), "%s pitch %u", name, pitch);
      draw_check(what, p, image, &args, 0, &odd);
      /* the same in bands of a few rows, starting mid-word */
      producer_test_limit_range(p, 16 * pitch);
      draw_check(what, p, image, &args, 0, &odd);
      producer_test_limit_range(p, 0);
      ifd_image_destroy(image);
    }
  print_stats("odd-pitch", &odd);

  /* Bands: what frames larger than maxStorageBufferRange get (Vulkan). Two
   * rows per band (72 bands: past the 64 kept on the stack), then 29. */
  stats banded = {0};
  for (uint32_t f = 1; f <= 11; f++)
    for (uint32_t rows = 2; rows <= 5; rows += 3) {
      ifd_image *image = make_raw(ctx, 256, 144, f);
      uint32_t pitch = ifd_image_row_pitch(image);
      producer_test_limit_range(p, rows * pitch + 64);
      cppn_frame_args args;
      cppn_frame_args_init(&args, 256, 144, pitch, f, 4321);
      char what[96];
      snprintf(what, sizeof(what), "%s bands of %u rows", name, rows);
      draw_check(what, p, image, &args, 0, &banded);
      producer_test_limit_range(p, 0);
      ifd_image_destroy(image);
    }
  print_stats("banded", &banded);

  /* Many frames in flight: more draws than command slots, then one finish. */
  {
    ifd_image *image = make_image(ctx, 64, 48, MAX_FMT_RGBA8);
    cppn_frame_args args;
    for (uint64_t n = 0; n < 20; n++) {
      cppn_frame_args_init(&args, 64, 48, ifd_image_row_pitch(image), MAX_FMT_RGBA8, n);
      rc = producer_draw(p, image, &args);
      CHECK(rc == 0, "producer_draw %llu: %s", (unsigned long long)n, tool_last_error());
    }
    CHECK(producer_finish(p) == 0, "producer_finish: %s", tool_last_error());
    uint8_t *got = malloc(64 * 48 * 4);
    REQUIRE(got, "out of memory");
    CHECK(ifd_image_download(image, got, 64 * 4) == 0, "download: %s", ifd_last_error());
    uint8_t *want = reference(&args);
    compare("last of 20 queued frames", MAX_FMT_RGBA8, 64, 48, got, want, 0, NULL);
    free(got);
    free(want);
    ifd_image_destroy(image);
  }

  producer_destroy(p);
  ifd_context_destroy(ctx);
  check_no_new_fds(fds_before);
  return 0;
}

/* The Vulkan device that is the CUDA device (same UUID), else device 0. */
static ifd_context *vulkan_like(const ifd_context_native *cuda) {
  for (int i = 0; i < 8; i++) {
    ifd_context *ctx;
    if (ifd_context_create(IFD_BACKEND_VULKAN, i, &ctx) != 0) break;
    ifd_context_native n;
    ifd_context_native_handles(ctx, &n);
    if (memcmp(n.device_uuid, cuda->device_uuid, 16) == 0) return ctx;
    ifd_context_destroy(ctx);
  }
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(IFD_BACKEND_VULKAN, 0, &ctx);
  REQUIRE(rc == 0, "ifd_context_create(vulkan): %d %s", rc, ifd_last_error());
  printf("note: no Vulkan device has the CUDA device's UUID; using Vulkan device 0\n");
  return ctx;
}

static int run_agree(void) {
  warm_up(IFD_BACKEND_CUDA); /* skip without CUDA */
  warm_up(IFD_BACKEND_VULKAN);
  int fds_before = test_count_fds();
  ifd_context *cctx, *vctx;
  int rc = ifd_context_create(IFD_BACKEND_CUDA, 0, &cctx);
  REQUIRE(rc == 0, "ifd_context_create(cuda): %d %s", rc, ifd_last_error());
  ifd_context_native cn, vn;
  ifd_context_native_handles(cctx, &cn);
  vctx = vulkan_like(&cn);
  ifd_context_native_handles(vctx, &vn);
  printf("cuda on %s, vulkan on %s\n", cn.device_name, vn.device_name);
  producer *cp, *vp;
  rc = producer_create(cctx, &params, &cp);
  REQUIRE(rc == 0, "producer_create(cuda): %d %s", rc, tool_last_error());
  rc = producer_create(vctx, &params, &vp);
  REQUIRE(rc == 0, "producer_create(vulkan): %d %s", rc, tool_last_error());

  static const uint64_t frames[] = {0, 1, 500, 1234, 100000};
  stats net = {0}, solid = {0};
  for (uint32_t f = 1; f <= 11; f++) {
    ifd_image *ci = make_image(cctx, 256, 144, f), *vi = make_image(vctx, 256, 144, f);
    /* An image of the other context is refused. */
    cppn_frame_args args;
    cppn_frame_args_init(&args, 256, 144, ifd_image_row_pitch(vi), f, 0);
    if (f == 1) CHECK(producer_draw(cp, vi, &args) == -EINVAL, "foreign image accepted");
    for (size_t k = 0; k < sizeof(frames) / sizeof(frames[0]) + N_SOLIDS; k++) {
      int is_solid = k >= sizeof(frames) / sizeof(frames[0]);
      cppn_frame_args ca, va;
      uint64_t n = is_solid ? 0 : frames[k];
      cppn_frame_args_init(&ca, 256, 144, ifd_image_row_pitch(ci), f, n);
      cppn_frame_args_init(&va, 256, 144, ifd_image_row_pitch(vi), f, n);
      if (is_solid) {
        ca.mode = va.mode = CPPN_MODE_SOLID;
        memcpy(ca.solid, solids[k - 5], sizeof(ca.solid));
        memcpy(va.solid, solids[k - 5], sizeof(va.solid));
      }
      uint8_t *cg = draw_download(cp, ci, &ca), *vg = draw_download(vp, vi, &va);
      char what[64];
      snprintf(what, sizeof(what), "cuda vs vulkan, %s %llu", is_solid ? "solid" : "frame",
               (unsigned long long)(is_solid ? k - 5 : n));
      compare(what, f, 256, 144, cg, vg, is_solid, is_solid ? &solid : &net);
      free(cg);
      free(vg);
    }
    ifd_image_destroy(ci);
    ifd_image_destroy(vi);
  }
  print_stats("cuda-vs-vulkan network", &net);
  print_stats("cuda-vs-vulkan solid", &solid);
  producer_destroy(cp);
  producer_destroy(vp);
  ifd_context_destroy(cctx);
  ifd_context_destroy(vctx);
  check_no_new_fds(fds_before);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) {
    fprintf(stderr, "usage: %s vulkan|cuda|agree\n", argv[0]);
    return 2;
  }
  cppn_params_init(&params, 1);
  if (strcmp(argv[1], "vulkan") == 0) run_backend(IFD_BACKEND_VULKAN);
  else if (strcmp(argv[1], "cuda") == 0) run_backend(IFD_BACKEND_CUDA);
  else if (strcmp(argv[1], "agree") == 0) run_agree();
  else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  if (failures) {
    fprintf(stderr, "test_producer %s: %d check(s) failed\n", argv[1], failures);
    return 1;
  }
  printf("test_producer %s: all checks passed\n", argv[1]);
  return 0;
}
