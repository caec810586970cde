/* interop-fd selftest: the seed's acceptance checks, run through the same
 * producer -> ring -> consumer chain as the demo, on every producer and
 * consumer this machine has. Each check passes, fails, or is skipped with the
 * reason; the exit status is 0 only if none failed. */
#include "selftest/selftest.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selftest/copy_count.h"
#include "pipeline/pipeline.h"
#include "common/progress.h"
#include "common/tool_error.h"

typedef enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP } result;

typedef struct {
  char check[40];
  char producer[8];
  char consumer[4];
  result r;
  char detail[400];
} row;

#define MAX_ROWS 64
static row rows[MAX_ROWS];
static int n_rows;

static void add(const char *check, const char *prod, const char *cons, result r,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(const char *check, const char *prod, const char *cons, result r,
                const char *fmt, ...) {
  if (n_rows == MAX_ROWS) return;
  row *w = &rows[n_rows++];
  snprintf(w->check, sizeof(w->check), "%s", check);
  snprintf(w->producer, sizeof(w->producer), "%s", prod);
  snprintf(w->consumer, sizeof(w->consumer), "%s", cons);
  w->r = r;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->detail, sizeof(w->detail), fmt, ap);
  va_end(ap);
  printf("  %s: %s (%s -> %s)\n", r == RESULT_PASS ? "pass" : r == RESULT_FAIL ? "FAIL" : "skip",
         check, prod, cons);
  fflush(stdout);
}

/* Number of open fds of this process: the entries of /proc/self/fd, less
 * ".", ".." and the fd scandir reads them through. */
static int count_fds(void) {
  struct dirent **entries;
  int n = scandir("/proc/self/fd", &entries, NULL, NULL);
  for (int i = 0; i < n; i++) free(entries[i]);
  if (n < 0) return -1;
  free(entries);
  return n - 3;
}

/* A missing piece of the machine (a skip), or a real failure? */
static bool unavailable(int rc) { return rc == -ENODEV || rc == -EXDEV || rc == -EOPNOTSUPP; }

/* ------------------------------------------------------------------ pixels */

/* The RGBA a consumer shows for display colour c stored in `format`: the
 * format keeps 1, 2 or 4 channels and sampling expands them (R -> r,r,r,1;
 * RG -> r,g,0,1). */
static void expand(MAX_Format format, const float c[4], float out[4]) {
  ifd_format_info fi;
  ifd_format_query(format, &fi);
  out[0] = c[0];
  out[1] = fi.channels == 1 ? c[0] : c[1];
  out[2] = fi.channels == 1 ? c[0] : fi.channels == 2 ? 0.0f : c[2];
  out[3] = fi.channels == 4 ? c[3] : 1.0f;
}

typedef struct {
  long bad;
  int max_diff; /* in 8-bit steps */
  uint32_t first_x, first_y;
} pixel_check;

/* Compares the consumer's w x h RGBA8 read-back with the reference of args
 * (which includes solid mode), allowing `tol` steps per channel. */
static pixel_check compare(const pipeline *pl, const cppn_frame_args *args, const uint8_t *rgba,
                           int tol) {
  pixel_check pc = {0, 0, 0, 0};
  for (uint32_t y = 0; y < args->height; y++)
    for (uint32_t x = 0; x < args->width; x++) {
      float c[4], e[4];
      cppn_pixel(&pl->params, args, x, y, c);
      expand((MAX_Format)args->format, c, e);
      const uint8_t *px = rgba + ((size_t)y * args->width + x) * 4;
      bool bad = false;
      for (int i = 0; i < 4; i++) {
        float v = e[i] < 0 ? 0 : e[i] > 1 ? 1 : e[i];
        int d = abs((int)px[i] - (int)lrintf(v * 255.0f));
        if (d > pc.max_diff) pc.max_diff = d;
        if (d > tol) bad = true;
      }
      if (bad && pc.bad++ == 0) pc.first_x = x, pc.first_y = y;
    }
  return pc;
}

/* ------------------------------------------------------------------ checks */

typedef struct {
  ifd_context *ctx;
  const char *prod;
  consumer_api api;
  const char *consumer;
  bool first;            /* the next check is the consumer's first */
  bool consumer_missing; /* the first check found the consumer unavailable */
  char missing_why[240];
} target;

static int open_pipeline(target *t, pipeline *pl, uint32_t w, uint32_t h, MAX_Format f,
                         const char *check) {
  pipeline_config cfg = {.consumer = t->api,
                         .width = w,
                         .height = h,
                         .format = f,
                         .ring = 3,
                         .importer_gipa = copy_count_gipa,
                         .importer_get_proc = copy_count_get_proc};
  int rc = pipeline_create(pl, t->ctx, &cfg);
  bool first = t->first;
  t->first = false;
  if (rc != 0) {
    /* Unavailable at the first check: this machine lacks the consumer, a
     * skip for all its checks. Later, the same error is a failure: the
     * consumer works but not for this case. */
    bool skip = first && unavailable(rc);
    if (skip) {
      t->consumer_missing = true;
      snprintf(t->missing_why, sizeof(t->missing_why), "%s", tool_last_error());
    }
    add(check, t->prod, t->consumer, skip ? RESULT_SKIP : RESULT_FAIL, "%s", tool_last_error());
  }
  return rc;
}

/* Seed check 1 and 2: a solid colour drawn by the producer's kernel, shown by
 * the consumer; every pixel compared. */
/* True (after adding a skip row) when the consumer is missing here. */
static bool missing(target *t, const char *check) {
  if (t->consumer_missing) add(check, t->prod, t->consumer, RESULT_SKIP, "%s", t->missing_why);
  return t->consumer_missing;
}

static void check_solid(target *t, const char *check, MAX_Format f, const float colour[4]) {
  if (missing(t, check)) return;
  const uint32_t w = 64, h = 64;
  pipeline pl;
  if (open_pipeline(t, &pl, w, h, f, check) != 0) return;
  uint8_t *rgba = malloc(w * h * 4);
  cppn_frame_args args = {.mode = CPPN_MODE_SOLID};
  memcpy(args.solid, colour, sizeof(args.solid));
  int rc = rgba ? pipeline_step(&pl, &args, rgba, NULL) : tool_fail(-ENOMEM, "out of memory");
  if (rc != 0) {
    add(check, t->prod, t->consumer, RESULT_FAIL, "%s", tool_last_error());
  } else {
    pixel_check pc = compare(&pl, &args, rgba, 1);
    const uint8_t *p0 = rgba;
    add(check, t->prod, t->consumer, pc.bad ? RESULT_FAIL : RESULT_PASS,
        "%s path; %ld of %u pixels off by > 1 step (max %d); pixel (0,0) = %u %u %u %u",
        presenter_path_name(pl.pres), pc.bad, w * h, pc.max_diff, p0[0], p0[1], p0[2], p0[3]);
  }
  free(rgba);
  pipeline_destroy(&pl);
}

/* Every format: one network frame (61x37, so rows are padded) against the
 * reference, through the consumer. */
static void check_formats(target *t) {
  const char *check = "network frame, 11 formats";
  if (missing(t, check)) return;
  const uint32_t w = 61, h = 37;
  uint8_t *rgba = malloc(w * h * 4);
  if (!rgba) {
    add(check, t->prod, t->consumer, RESULT_FAIL, "out of memory");
    return;
  }
  char bad_list[300] = "";
  int worst = 0;
  long bad_total = 0;
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++) {
    ifd_format_info fi;
    ifd_format_query((MAX_Format)f, &fi);
    size_t n = strlen(bad_list);
    pipeline pl;
    pipeline_config cfg = {.consumer = t->api, .width = w, .height = h, .format = (MAX_Format)f,
                           .ring = 3};
    int rc = pipeline_create(&pl, t->ctx, &cfg);
    cppn_frame_args args;
    cppn_frame_args_init(&args, w, h, pl.pitch, (uint32_t)f, 77);
    if (rc == 0) rc = pipeline_step(&pl, &args, rgba, NULL);
    if (rc != 0) {
      snprintf(bad_list + n, sizeof(bad_list) - n, "%s%s: %s", n ? "; " : "", fi.name,
               tool_last_error());
      bad_total++;
    } else {
      pixel_check pc = compare(&pl, &args, rgba, 2);
      if (pc.max_diff > worst) worst = pc.max_diff;
      if (pc.bad)
        snprintf(bad_list + n, sizeof(bad_list) - n, "%s%s: %ld px off", n ? "; " : "", fi.name,
                 pc.bad);
      bad_total += pc.bad;
    }
    pipeline_destroy(&pl);
  }
  free(rgba);
  if (bad_total)
    add(check, t->prod, t->consumer, RESULT_FAIL, "off by > 2 steps or failed: %s", bad_list);
  else
    add(check, t->prod, t->consumer, RESULT_PASS,
        "every pixel of every format within 2 steps of the reference (max %d)", worst);
}

/* The animation's length where --frames is not given: the seed's 10000 on a
 * GPU (seconds there). A CPU (lavapipe) takes milliseconds a frame, minutes
 * for 10000, so it gets a count that still cycles the ring of 3 a hundred
 * times and keeps the whole self-test within half a minute. */
#define ANIMATION_FRAMES_GPU 10000u
#define ANIMATION_FRAMES_CPU 300u
/* Frames compared with the reference: every ANIMATION_SAMPLE_EVERY-th of a
 * long run (40 of the 10000), more densely in a short one, and the last. */
#define ANIMATION_SAMPLE_EVERY 250u
#define ANIMATION_SAMPLES 40u

/* Seed check 3: an animation through a ring of 3 frames in flight; sampled
 * frames compared with the reference; no host copies; no fds left behind. */
static void check_animation(target *t, uint64_t frames) {
  char check[40];
  snprintf(check, sizeof(check), "animate %llu frames", (unsigned long long)frames);
  if (missing(t, check)) return;
  const uint32_t w = 64, h = 64;
  const int fds = count_fds();
  copy_count_reset();
  pipeline pl;
  if (open_pipeline(t, &pl, w, h, MAX_FMT_RGBA8, check) != 0) return;
  bool timelines = pl.timelines;
  uint8_t *rgba = malloc(w * h * 4);
  uint64_t checked = 0, bad_frames = 0;
  uint64_t every = frames / ANIMATION_SAMPLES;
  every = every < 1 ? 1 : every > ANIMATION_SAMPLE_EVERY ? ANIMATION_SAMPLE_EVERY : every;
  int rc = rgba ? 0 : tool_fail(-ENOMEM, "out of memory");
  progress prog;
  progress_begin(&prog);
  for (uint64_t i = 0; i < frames && rc == 0; i++) {
    bool sample = i % every == 0 || i + 1 == frames;
    cppn_frame_args args;
    cppn_frame_args_init(&args, w, h, pl.pitch, MAX_FMT_RGBA8, i);
    rc = pipeline_step(&pl, &args, sample ? rgba : NULL, NULL);
    if (rc == 0 && sample) {
      checked++;
      if (compare(&pl, &args, rgba, 2).bad) bad_frames++;
    }
    if (progress_due(&prog))
      progress_print(&prog, "  animating (%s -> %s): frame %llu/%llu, %.1f s", t->prod,
                     t->consumer, (unsigned long long)i + 1, (unsigned long long)frames,
                     progress_elapsed(&prog));
  }
  progress_end(&prog, false);
  if (rc == 0) rc = pipeline_finish(&pl);
  const char *path = presenter_path_name(pl.pres);
  pipeline_destroy(&pl);
  free(rgba);
  long host = copy_count_host(), device = copy_count_device();
  int fds_after = count_fds();
  if (rc != 0) {
    add(check, t->prod, t->consumer, RESULT_FAIL, "%s", tool_last_error());
    return;
  }
  bool ok = bad_frames == 0 && host == 0 && fds_after == fds;
  add(check, t->prod, t->consumer, ok ? RESULT_PASS : RESULT_FAIL,
      "%s path; %llu of %llu sampled frames wrong; host copies %ld, GPU copies %ld; "
      "open fds %d before, %d after",
      path, (unsigned long long)bad_frames, (unsigned long long)checked, host, device, fds,
      fds_after);
  if (timelines)
    add("timeline semaphores", t->prod, t->consumer, RESULT_PASS,
        "ready/release exported by the producer, imported and used by the consumer");
  else
    add("timeline semaphores", t->prod, t->consumer, RESULT_SKIP,
        "the producer's device cannot export timeline semaphores; frames were handed over on "
        "the host instead");
}

/* ------------------------------------------------------------------ agreement */

/* Largest channel difference between two tightly packed frames. */
static double max_difference(MAX_Format f, const uint8_t *a, const uint8_t *b, uint32_t w,
                             uint32_t h) {
  ifd_format_info fi;
  ifd_format_query(f, &fi);
  double worst = 0;
  for (size_t p = 0; p < (size_t)w * h; p++) {
    float va[4], vb[4];
    cppn_decode(f, a + p * fi.bytes_per_pixel, va);
    cppn_decode(f, b + p * fi.bytes_per_pixel, vb);
    for (uint32_t i = 0; i < fi.channels; i++) {
      double d = fabs((double)va[i] - (double)vb[i]);
      if (d > worst || d != d) worst = d != d ? INFINITY : d;
    }
  }
  return worst;
}

/* The tolerance between two GPU implementations of the network, per format:
 * one 8-bit step, or 2e-3 absolute for floats (different sin/tanh/exp
 * implementations; halves add their rounding, 2^-11 relative). */
static double tolerance(MAX_Format f) {
  ifd_format_info fi;
  ifd_format_query(f, &fi);
  return fi.is_float ? 2e-3 : 1.0 / 255.0 + 1e-6;
}

static int render_download(ifd_context *ctx, producer *prod, MAX_Format f, uint32_t w, uint32_t h,
                           uint64_t frame, uint8_t *out) {
  ifd_image *img = NULL;
  int rc = ifd_image_create(ctx, w, h, f, &img);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  cppn_frame_args args;
  cppn_frame_args_init(&args, w, h, ifd_image_row_pitch(img), (uint32_t)f, frame);
  ifd_format_info fi;
  ifd_format_query(f, &fi);
  rc = producer_draw(prod, img, &args);
  if (rc == 0) rc = producer_finish(prod);
  if (rc == 0 && (rc = ifd_image_download(img, out, (size_t)w * fi.bytes_per_pixel)) != 0)
    tool_fail(rc, "%s", ifd_last_error());
  ifd_image_destroy(img);
  return rc;
}

static void check_agreement(ifd_context *cuda, ifd_context *vulkan) {
  const char *check = "cuda and vulkan agree";
  const uint32_t w = 256, h = 144;
  cppn_params params;
  cppn_params_init(&params, 1);
  producer *pc = NULL, *pv = NULL;
  uint8_t *a = malloc((size_t)w * h * 16), *b = malloc((size_t)w * h * 16);
  int rc = a && b ? 0 : tool_fail(-ENOMEM, "out of memory");
  if (rc == 0) rc = producer_create(cuda, &params, &pc);
  if (rc == 0) rc = producer_create(vulkan, &params, &pv);
  char worst_list[200] = "";
  bool ok = rc == 0;
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F && rc == 0; f++) {
    double worst = 0;
    for (uint64_t frame = 0; frame <= 1234 && rc == 0; frame += 617) {
      rc = render_download(cuda, pc, (MAX_Format)f, w, h, frame, a);
      if (rc == 0) rc = render_download(vulkan, pv, (MAX_Format)f, w, h, frame, b);
      if (rc == 0) {
        double d = max_difference((MAX_Format)f, a, b, w, h);
        if (d > worst) worst = d;
      }
    }
    ifd_format_info fi;
    ifd_format_query((MAX_Format)f, &fi);
    if (worst > tolerance((MAX_Format)f)) ok = false;
    size_t n = strlen(worst_list);
    snprintf(worst_list + n, sizeof(worst_list) - n, "%s%s %.1e", n ? ", " : "", fi.name, worst);
  }
  producer_destroy(pc);
  producer_destroy(pv);
  free(a);
  free(b);
  if (rc != 0) {
    add(check, "both", "-", RESULT_FAIL, "%s", tool_last_error());
    return;
  }
  add(check, "both", "-", ok ? RESULT_PASS : RESULT_FAIL,
      "256x144, frames 0/617/1234, max difference (tolerance 1/255 for 8-bit, 2e-3 for floats): %s",
      worst_list);
}

/* ------------------------------------------------------------------ main */

static void run_consumer(ifd_context *ctx, ifd_backend b, consumer_api api, uint64_t frames) {
  target t = {.ctx = ctx, .prod = backend_name(b), .api = api, .consumer = consumer_name(api),
              .first = true};
  static const float rgba8_colour[4] = {0.2f, 0.4f, 0.6f, 1.0f};
  static const float r8_colour[4] = {0.5f, 0.0f, 0.0f, 1.0f};
  static const float rgba16f_colour[4] = {0.25f, 0.5f, 0.75f, 1.0f};
  check_solid(&t, "solid colour, rgba8 64x64", MAX_FMT_RGBA8, rgba8_colour);
  check_solid(&t, "r8 sampled as grey", MAX_FMT_R8, r8_colour);
  check_solid(&t, "rgba16f values", MAX_FMT_RGBA16F, rgba16f_colour);
  check_formats(&t);
  check_animation(&t, frames);
}

int selftest_main(const tool_options *o) {
  const ifd_backend all_backends[] = {IFD_BACKEND_CUDA, IFD_BACKEND_VULKAN};
  const consumer_api all_consumers[] = {CONSUMER_VK, CONSUMER_GL};
  ifd_context *ctx[2] = {NULL, NULL};
  printf("interop-fd selftest: the seed's acceptance checks on this machine\n");
  for (int bi = 0; bi < 2; bi++) {
    ifd_backend b = all_backends[bi];
    if (o->backend != IFD_BACKEND_AUTO && o->backend != b) continue;
    if (b == IFD_BACKEND_CUDA) copy_count_interpose_cuda(); /* loads libcuda: only when asked */
    int rc = ifd_context_create(b, o->device, &ctx[bi]);
    if (rc != 0) {
      add("producer", backend_name(b), "-", unavailable(rc) ? RESULT_SKIP : RESULT_FAIL, "%s",
          ifd_last_error());
      continue;
    }
    ifd_context_native n;
    ifd_context_native_handles(ctx[bi], &n);
    add("producer", backend_name(b), "-", RESULT_PASS, "%s", n.device_name);
    bool cpu = device_is_cpu(&n);
    uint64_t frames = o->frames_given ? o->frames : cpu ? ANIMATION_FRAMES_CPU : ANIMATION_FRAMES_GPU;
    if (o->frames_given)
      printf("  animation: %llu frames (--frames)\n", (unsigned long long)frames);
    else if (cpu)
      printf("  animation: %u frames (CPU device; %u on a GPU)\n", ANIMATION_FRAMES_CPU,
             ANIMATION_FRAMES_GPU);
    else
      printf("  animation: %u frames\n", ANIMATION_FRAMES_GPU);
    fflush(stdout);
    for (int ci = 0; ci < 2; ci++)
      if (!o->consumer_given || o->consumer == all_consumers[ci])
        run_consumer(ctx[bi], b, all_consumers[ci], frames);
  }
  if (ctx[0] && ctx[1])
    check_agreement(ctx[0], ctx[1]);
  else if (o->backend == IFD_BACKEND_AUTO)
    add("cuda and vulkan agree", "both", "-", RESULT_SKIP, "needs both producers on this machine");
  for (int i = 0; i < 2; i++) ifd_context_destroy(ctx[i]);

  int pass = 0, fail = 0, skip = 0;
  printf("\n%-4s  %-26s  %-8s %-8s  %s\n", "", "check", "producer", "consumer", "detail");
  for (int i = 0; i < n_rows; i++) {
    row *r = &rows[i];
    pass += r->r == RESULT_PASS;
    fail += r->r == RESULT_FAIL;
    skip += r->r == RESULT_SKIP;
    printf("%-4s  %-26s  %-8s %-8s  %s\n",
           r->r == RESULT_PASS ? "pass" : r->r == RESULT_FAIL ? "FAIL" : "skip", r->check,
           r->producer, r->consumer, r->detail);
  }
  printf("\n%d passed, %d failed, %d skipped\n", pass, fail, skip);
  return fail ? 1 : 0;
}
