/* frame_check FILE...: checks PNG files written by `interop-fd view` (or the
 * headless demo) against the C reference of the demo's network.
 *
 * A file named frame-<k>.png holds frame k, which the demo's producer draws
 * at time (k - 1) / 60 s (tools/producer/cppn.h). Each file must
 *   - match the reference of frame k within --tol 8-bit steps per channel
 *     (an RGBA8 frame, alpha 1), and
 *   - match it strictly better (the sum of differences) than the references
 *     of frames k - 1 and k + 1, so a frame drawn under the wrong number, a
 *     stale slot or a frame from another run is refused, not only garbage.
 * Exit 0 all files pass; 1 one fails (the reason printed); 2 bad usage. */
#include <ctype.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop_fd/interop_fd.h"
#include "producer/cppn.h"

typedef struct {
  int max_diff;  /* in 8-bit steps, over every channel of every pixel */
  uint64_t sum;  /* of the differences */
} diff;

/* rgba (w x h RGBA8, row 0 at the top) against the network's frame n. */
static diff compare(const cppn_params *params, const uint8_t *rgba, uint32_t w, uint32_t h,
                    uint64_t n) {
  cppn_frame_args args;
  cppn_frame_args_init(&args, w, h, w * 4, MAX_FMT_RGBA8, n);
  diff d = {0, 0};
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      float c[4];
      cppn_pixel(params, &args, x, y, c);
      const uint8_t *px = rgba + ((size_t)y * w + x) * 4;
      for (int i = 0; i < 4; i++) {
        float v = i == 3 ? 1.0f : c[i] < 0 ? 0 : c[i] > 1 ? 1 : c[i];
        int e = abs((int)px[i] - (int)lrintf(v * 255.0f));
        if (e > d.max_diff) d.max_diff = e;
        d.sum += (uint64_t)e;
      }
    }
  return d;
}

/* k from ".../frame-<k>.png"; 0 if the name is not of that form. */
static uint64_t frame_number(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strncmp(base, "frame-", 6) != 0 || !isdigit((unsigned char)base[6])) return 0;
  char *end = NULL;
  unsigned long long k = strtoull(base + 6, &end, 10);
  return strcmp(end, ".png") == 0 ? (uint64_t)k : 0;
}

static int check(const cppn_params *params, const char *path, int tol) {
  uint64_t k = frame_number(path);
  if (k == 0) return printf("FAIL %s: not named frame-<k>.png with k >= 1\n", path), 1;
  png_image img;
  memset(&img, 0, sizeof(img));
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path))
    return printf("FAIL %s: %s\n", path, img.message), 1;
  img.format = PNG_FORMAT_RGBA;
  uint8_t *rgba = malloc(PNG_IMAGE_SIZE(img));
  if (!rgba || !png_image_finish_read(&img, NULL, rgba, 0, NULL)) {
    printf("FAIL %s: %s\n", path, rgba ? img.message : "out of memory");
    png_image_free(&img);
    free(rgba);
    return 1;
  }
  uint32_t w = img.width, h = img.height;
  diff own = compare(params, rgba, w, h, k - 1);
  diff next = compare(params, rgba, w, h, k);
  diff prev = k > 1 ? compare(params, rgba, w, h, k - 2) : (diff){0, UINT64_MAX};
  free(rgba);
  int bad = own.max_diff > tol || own.sum >= prev.sum || own.sum >= next.sum;
  char before[48] = "no frame before";
  if (k > 1)
    snprintf(before, sizeof(before), "frame %llu: sum %llu", (unsigned long long)k - 1,
             (unsigned long long)prev.sum);
  printf("%s %s: %ux%u, frame %llu: max difference %d/255 (tolerance %d), sum %llu; %s; "
         "frame %llu: sum %llu\n",
         bad ? "FAIL" : "ok  ", path, w, h, (unsigned long long)k, own.max_diff, tol,
         (unsigned long long)own.sum, before, (unsigned long long)k + 1,
         (unsigned long long)next.sum);
  return bad;
}

int main(int argc, char **argv) {
  int tol = 1, first = 1;
  if (argc > 2 && strcmp(argv[1], "--tol") == 0) tol = atoi(argv[2]), first = 3;
  if (first >= argc || tol < 0) {
    fprintf(stderr, "usage: frame_check [--tol STEPS] frame-<k>.png...\n");
    return 2;
  }
  cppn_params params;
  cppn_params_init(&params, 1); /* the demo's network */
  int failed = 0;
  for (int i = first; i < argc; i++) failed += check(&params, argv[i], tol);
  return failed ? 1 : 0;
}
