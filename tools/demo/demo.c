/* interop-fd demo: the CPPN drawn on the GPU every frame and shown through
 * the zero-copy path, in a window or headless (PNG files and timings). */
#include "demo/demo.h"
#include "demo/serve.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "common/clock.h"
#include "common/png_write.h"
#include "common/out_dir.h"
#include "common/progress.h"
#include "common/tool_error.h"

/* Defaults where --size/--frames are not given. A CPU (lavapipe) gets a
 * smaller frame and fewer frames, so the demo still moves and ends in seconds. */
#define GPU_WIDTH 1920u
#define GPU_HEIGHT 1080u
#define CPU_WIDTH 480u
#define CPU_HEIGHT 270u
#define DEFAULT_HEADLESS_FRAMES 300u
#define DEFAULT_HEADLESS_FRAMES_CPU 120u /* lavapipe draws 480x270 at 10-30 frames/s */
#define DEFAULT_OUT_DIR "interop-fd-frames"
#define TIMES_CAP ((size_t)1 << 20) /* frame times kept for percentiles */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double q) {
  if (n == 0) return 0.0;
  size_t i = (size_t)ceil(q * (double)n);
  if (i > 0) i--;
  return sorted[i < n ? i : n - 1];
}

/* Frame k (1-based) is written when it is one of `save` frames spread evenly
 * over 1..frames, first and last included. */
static bool should_save(uint64_t k, uint64_t frames, uint32_t save) {
  if (save == 0) return false;
  if (save == 1 || frames <= 1) return k == 1;
  for (uint32_t i = 0; i < save; i++) {
    uint64_t pick = 1 + (uint64_t)((double)i * (double)(frames - 1) / (double)(save - 1) + 0.5);
    if (pick == k) return true;
  }
  return false;
}

static unsigned digits(uint64_t v) {
  unsigned d = 1;
  while (v >= 10) v /= 10, d++;
  return d;
}

static void print_uuid(FILE *f, const uint8_t u[16]) {
  for (int i = 0; i < 16; i++) fprintf(f, "%02x%s", u[i], i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
}

typedef struct {
  const tool_options *o;
  pipeline pl;
  window *win;
  uint64_t frames; /* 0: until the window closes */
  char out_dir[PATH_MAX];
  uint8_t *rgba;
  double *times;   /* per drawn frame, excluding those written to PNG; the */
  size_t n_times;  /* first times_cap of them (or, in a window, the latest) */
  size_t times_cap;
  uint64_t n_timed; /* all timed frames */
  double busy_s;    /* their sum */
  double first_s;  /* the first frame: set-up, shader compilation */
  uint32_t saved;
  bool first_saved; /* frame 1, untimed anyway, is among the saved */
  progress prog;    /* the frame counter on stdout */
  char first_png[PATH_MAX], last_png[PATH_MAX];
} demo_run;

static int save_frame(demo_run *d, uint64_t k) {
  char path[PATH_MAX];
  unsigned width = digits(d->frames) > 6 ? digits(d->frames) : 6;
  snprintf(path, sizeof(path), "%s/frame-%0*llu.png", d->out_dir, (int)width, (unsigned long long)k);
  int rc = png_write_rgba(path, d->rgba, d->pl.width, d->pl.height);
  if (rc != 0) return rc;
  if (d->saved++ == 0) snprintf(d->first_png, sizeof(d->first_png), "%s", path);
  snprintf(d->last_png, sizeof(d->last_png), "%s", path);
  return 0;
}

/* The window's title (every call) and the frame counter on stdout (when due,
 * and once at the end). */
static void show_progress(demo_run *d, uint64_t k, bool final) {
  double fps = d->busy_s > 0 ? (double)d->n_timed / d->busy_s : 0.0;
  if (d->win) {
    char title[256];
    snprintf(title, sizeof(title), "interop-fd demo - %s -> %s (%s) - %ux%u - %.0f frames/s",
             backend_name(d->pl.native.backend), consumer_name(d->o->consumer),
             presenter_path_name(d->pl.pres), d->pl.width, d->pl.height, fps);
    window_set_title(d->win, title);
  }
  if (!final && !progress_due(&d->prog)) return;
  double elapsed = progress_elapsed(&d->prog);
  if (d->frames)
    progress_print(&d->prog, "frame %llu/%llu  %.0f frames/s  %.1f s", (unsigned long long)k,
                   (unsigned long long)d->frames, fps, elapsed);
  else
    progress_print(&d->prog, "frame %llu  %.0f frames/s  %.1f s", (unsigned long long)k, fps,
                   elapsed);
  if (final) progress_end(&d->prog, true);
}

static int run_frames(demo_run *d) {
  double last_title = tool_now_s(), prev = last_title;
  uint64_t k = 0;
  progress_begin(&d->prog);
  for (uint64_t i = 0; d->frames == 0 || i < d->frames; i++) {
    if (d->win) {
      window_poll(d->win);
      if (window_should_close(d->win)) break;
    }
    bool save = !d->win && should_save(i + 1, d->frames, d->o->save);
    cppn_frame_args args;
    cppn_frame_args_init(&args, d->pl.width, d->pl.height, d->pl.pitch, d->pl.format, i);
    int rc = pipeline_step(&d->pl, &args, save ? d->rgba : NULL, &k);
    if (rc != 0) {
      progress_end(&d->prog, true);
      return rc;
    }
    double t = tool_now_s();
    if (i == 0) {
      d->first_s = t - prev;
      d->first_saved = save;
    } else if (!save) {
      if (d->n_times == d->times_cap && d->win) d->n_times = 0; /* a window keeps the latest */
      if (d->n_times < d->times_cap) d->times[d->n_times++] = t - prev;
      d->n_timed++;
      d->busy_s += t - prev;
    }
    if (save && (rc = save_frame(d, k)) != 0) {
      progress_end(&d->prog, true);
      return rc;
    }
    prev = tool_now_s(); /* PNG encoding is not frame time */
    if (prev - last_title >= 0.5 || progress_due(&d->prog)) {
      show_progress(d, k, false);
      last_title = prev;
    }
  }
  int rc = pipeline_finish(&d->pl);
  if (rc != 0) {
    progress_end(&d->prog, true);
    return rc;
  }
  show_progress(d, k, true);
  return 0;
}

/* ------------------------------------------------------------------ mailbox */

/* The producer's thread of --mode mailbox: frames back to back, never waiting
 * for the presenter, until d->frames are made or `stop`. */
typedef struct {
  demo_run *d;
  _Atomic bool stop, done;
  _Atomic uint64_t made;
  int rc;
  char message[512];
  double seconds;
} mailbox_producer;

static void *produce_main(void *arg) {
  mailbox_producer *mp = arg;
  demo_run *d = mp->d;
  double t0 = tool_now_s();
  for (uint64_t i = 0; (d->frames == 0 || i < d->frames) && !atomic_load(&mp->stop); i++) {
    cppn_frame_args args;
    cppn_frame_args_init(&args, d->pl.width, d->pl.height, d->pl.pitch, d->pl.format, i);
    uint64_t k = 0;
    mp->rc = pipeline_produce(&d->pl, &args, &k);
    if (mp->rc != 0) {
      snprintf(mp->message, sizeof(mp->message), "%s", tool_last_error());
      break;
    }
    atomic_store(&mp->made, k);
  }
  mp->seconds = tool_now_s() - t0;
  atomic_store(&mp->done, true);
  return NULL;
}

/* --mode mailbox: the producer runs free on a thread; this thread draws the
 * newest frame whenever it can (a window: at the display's pace with
 * --vsync). Frame times are the presenter's; the first and the last frame
 * drawn are written to PNG files headless (with --save > 0). */
static int run_mailbox(demo_run *d) {
  mailbox_producer mp = {.d = d};
  pthread_t thread;
  if (pthread_create(&thread, NULL, produce_main, &mp) != 0)
    return tool_fail(-EAGAIN, "cannot start the producer's thread");
  progress_begin(&d->prog);
  double prev = tool_now_s(), last_title = prev;
  uint64_t k = 0, drawn = 0;
  int rc = 0;
  for (;;) {
    if (d->win) {
      window_poll(d->win);
      if (window_should_close(d->win)) break;
    }
    bool done = atomic_load(&mp.done);
    rc = pipeline_take(&d->pl, 100000000ull, &k);
    if (rc == -EAGAIN || rc == -ETIMEDOUT) {
      rc = 0;
      if (done) break; /* the producer is done and its newest frame was drawn */
      continue;
    }
    bool save = rc == 0 && !d->win && d->o->save && (drawn == 0 || k == d->frames);
    if (rc == 0) rc = pipeline_draw(&d->pl, k, save ? d->rgba : NULL);
    if (rc != 0) break;
    double t = tool_now_s();
    if (drawn++ == 0) {
      d->first_s = t - prev;
      d->first_saved = save;
    } else if (!save && d->n_times < d->times_cap) {
      d->times[d->n_times++] = t - prev;
      d->n_timed++;
      d->busy_s += t - prev;
    }
    if (save && (rc = save_frame(d, k)) != 0) break;
    prev = tool_now_s();
    if (prev - last_title >= 0.5 || progress_due(&d->prog)) {
      show_progress(d, atomic_load(&mp.made), false);
      last_title = prev;
    }
  }
  atomic_store(&mp.stop, true);
  pthread_join(thread, NULL);
  if (rc == 0 && mp.rc != 0) rc = tool_fail(mp.rc, "the producer: %s", mp.message);
  int rc2 = pipeline_finish(&d->pl);
  if (rc == 0) rc = rc2;
  show_progress(d, atomic_load(&mp.made), true);
  if (rc == 0)
    printf("mailbox: the producer made %llu frames in %.2f s (%.0f frames/s); the presenter "
           "drew %llu of them (%s path)\n",
           (unsigned long long)atomic_load(&mp.made), mp.seconds,
           mp.seconds > 0 ? (double)atomic_load(&mp.made) / mp.seconds : 0.0,
           (unsigned long long)drawn, presenter_path_name(d->pl.pres));
  return rc;
}

static void report(demo_run *d) {
  size_t n = d->n_times;
  if (n == 0) {
    printf("first frame: %.1f ms (set-up and shader compilation included)\n", d->first_s * 1e3);
    return;
  }
  qsort(d->times, n, sizeof(double), cmp_double);
  printf("%llu frames timed: %.1f frames/s; frame time p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, "
         "max %.3f ms%s\n",
         (unsigned long long)d->n_timed, (double)d->n_timed / d->busy_s, percentile(d->times, n, 0.5) * 1e3,
         percentile(d->times, n, 0.9) * 1e3, percentile(d->times, n, 0.99) * 1e3,
         d->times[n - 1] * 1e3, n < d->n_timed ? " (percentiles of the first 2^20)" : "");
  if (d->o->mode == IFD_RING_MAILBOX)
    printf("(frame time: from one frame drawn to the next; the producer does not wait for it)\n");
  else
    printf("(frame time: from one frame's hand-off on the host to the next's, in steady state the "
           "pipeline's period)\n");
  printf("(not timed: the first frame, %.1f ms with set-up and shader compilation", d->first_s * 1e3);
  /* Saved frames are not timed; frame 1 is already counted above. In a
   * window nothing is saved. */
  uint32_t others = d->saved - (d->first_saved ? 1u : 0u);
  if (others) printf("; the other %u frames read back for PNG files", others);
  printf(")\n");
}

static int open_context(const tool_options *o, ifd_context **ctx) {
  int rc = ifd_context_create(o->backend, o->device, ctx);
  if (rc != 0)
    return tool_fail(rc, "no %s producer: %s",
                     o->backend == IFD_BACKEND_AUTO ? "GPU" : backend_name(o->backend),
                     ifd_last_error());
  return 0;
}

int demo_run_main(const tool_options *o) {
  demo_run d = {.o = o};
  bool windowed = !o->headless && !o->out_dir && window_display_present();
  if (o->serve_path) windowed = false; /* the viewer elsewhere draws */
  else if (!windowed) {
    const char *dir = o->out_dir ? o->out_dir : DEFAULT_OUT_DIR;
    int rc = tool_out_dir(dir);
    if (rc != 0) return rc;
    if (!realpath(dir, d.out_dir)) snprintf(d.out_dir, sizeof(d.out_dir), "%s", dir);
  }
  ifd_context *ctx = NULL;
  int rc = open_context(o, &ctx);
  if (rc != 0) return rc;
  ifd_context_native native;
  ifd_context_native_handles(ctx, &native);
  pipeline_config cfg = {.consumer = o->consumer,
                         .width = o->width,
                         .height = o->height,
                         .format = o->format,
                         .ring = o->ring_given || o->mode != IFD_RING_MAILBOX ? o->ring : 4,
                         .vsync = o->vsync,
                         .mode = o->mode,
                         .priority = (VkQueueGlobalPriorityKHR)o->priority};
  bool cpu = device_is_cpu(&native);
  if (!cfg.width) {
    cfg.width = cpu ? CPU_WIDTH : GPU_WIDTH;
    cfg.height = cpu ? CPU_HEIGHT : GPU_HEIGHT;
  }
  printf("producer: %s on %s (device UUID ", backend_name(native.backend), native.device_name);
  print_uuid(stdout, native.device_uuid);
  printf(")\n");
  if (o->serve_path) {
    if (cpu && !o->size_given)
      printf("          (CPU device: %ux%u; a GPU gets %ux%u)\n", CPU_WIDTH, CPU_HEIGHT, GPU_WIDTH,
             GPU_HEIGHT);
    rc = demo_serve(o, ctx, &cfg);
    goto out;
  }
  if (windowed) {
    rc = window_open("interop-fd demo", (int)cfg.width, (int)cfg.height, o->consumer == CONSUMER_GL,
                     &d.win);
    if (rc != 0) {
      fprintf(stderr, "interop-fd: no window (%s); running headless\n", tool_last_error());
      if ((rc = tool_out_dir(DEFAULT_OUT_DIR)) != 0) goto out;
      if (!realpath(DEFAULT_OUT_DIR, d.out_dir)) snprintf(d.out_dir, sizeof(d.out_dir), "%s", DEFAULT_OUT_DIR);
    }
  }
  cfg.win = d.win;
  d.frames = o->frames_given ? o->frames
             : d.win      ? 0
             : cpu        ? DEFAULT_HEADLESS_FRAMES_CPU
                          : DEFAULT_HEADLESS_FRAMES;
  ifd_format_info fi;
  ifd_format_query(o->format, &fi);
  if ((rc = pipeline_create(&d.pl, ctx, &cfg)) != 0) goto out;
  const char *path = presenter_path_name(d.pl.pres);
  printf("consumer: %s on %s, %s path (%s)%s%s\n", consumer_name(o->consumer),
         presenter_device_name(d.pl.pres), path,
         strcmp(path, "LINEAR") == 0 ? "samples the producer's memory directly, no copy"
         : strcmp(path, "?") == 0    ? "known once a frame is taken"
                                     : "one GPU copy per frame into an optimal image",
         o->priority ? ", queue priority " : "", o->priority ? presenter_priority(d.pl.pres) : "");
  bool mailbox = o->mode == IFD_RING_MAILBOX;
  printf("frames:   %ux%u %s, %s ring of %u (%s), sync %s\n", cfg.width, cfg.height, fi.name,
         mailbox ? "MAILBOX" : "FIFO", cfg.ring,
         mailbox ? "the newest frame is drawn" : "every frame is drawn",
         d.pl.timelines ? "by timeline semaphores on the GPU"
                        : "on the host (this device cannot export semaphores)");
  /* Say which defaults were made smaller for a CPU, and what a GPU gets. */
  bool cpu_size = cpu && !o->size_given;
  bool cpu_frames = cpu && !o->frames_given && !d.win;
  if (cpu_size && cpu_frames)
    printf("          (CPU device: %ux%u, %u frames; a GPU gets %ux%u, %u frames)\n", CPU_WIDTH,
           CPU_HEIGHT, DEFAULT_HEADLESS_FRAMES_CPU, GPU_WIDTH, GPU_HEIGHT, DEFAULT_HEADLESS_FRAMES);
  else if (cpu_size)
    printf("          (CPU device: %ux%u; a GPU gets %ux%u)\n", CPU_WIDTH, CPU_HEIGHT, GPU_WIDTH,
           GPU_HEIGHT);
  else if (cpu_frames)
    printf("          (CPU device: %u frames; a GPU gets %u)\n", DEFAULT_HEADLESS_FRAMES_CPU,
           DEFAULT_HEADLESS_FRAMES);
  if (d.win)
    printf("window:   %s; close it or press Escape to stop\n",
           d.frames ? "shows the frames" : "shows the frames until closed");
  else
    printf("output:   %u PNG files to %s/ (headless)\n",
           o->save < d.frames ? o->save : (uint32_t)d.frames, d.out_dir);
  if (!d.win) d.rgba = malloc((size_t)cfg.width * cfg.height * 4);
  d.times_cap = d.frames && d.frames < TIMES_CAP ? (size_t)d.frames : TIMES_CAP;
  d.times = malloc(d.times_cap * sizeof(double));
  if ((!d.win && !d.rgba) || !d.times) {
    rc = tool_fail(-ENOMEM, "out of memory");
    goto out;
  }
  if ((rc = o->mode == IFD_RING_MAILBOX ? run_mailbox(&d) : run_frames(&d)) != 0) goto out;
  report(&d);
  if (d.saved)
    printf("wrote %u frame%s as PNG to %s/ (%s%s%s)\n", d.saved, d.saved == 1 ? "" : "s", d.out_dir,
           strrchr(d.first_png, '/') + 1, d.saved > 1 ? " ... " : "",
           d.saved > 1 ? strrchr(d.last_png, '/') + 1 : "");
out:
  pipeline_destroy(&d.pl);
  window_close(d.win);
  ifd_context_destroy(ctx);
  free(d.rgba);
  free(d.times);
  return rc;
}
