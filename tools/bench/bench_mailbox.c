/* The mailbox scenario of `interop-fd bench` (bench_mailbox.h). */
#include "bench/bench_mailbox.h"
#include "bench/bench_internal.h"
#include "bench/bench_report.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench/bench_pattern.h"
#include "common/clock.h"
#include "common/tool_error.h"

#define WARM_NS 200000000ull     /* before a producer's frames are counted */
#define MEASURE_NS 1000000000ull /* frames counted over this */
#define AHEAD 32                 /* kernels between two events: the host stays 2 batches ahead */

static const uint32_t rates[BENCH_MAILBOX_RATES] = {60, 120, 240};

static void sleep_until(uint64_t t) {
  struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* ------------------------------------------------------------------ consumers */

typedef enum { CONSUMER_NONE, CONSUMER_RING, CONSUMER_FILL } consumer_kind;

typedef struct {
  bench *b;
  consumer_kind kind;
  uint32_t rate;
  _Atomic bool stop;
  uint64_t taken, wrong;
  char first_wrong[160];
  bench_outcome done;
} consumer;

/* One presentation of the newest frame: take, wait ready on the device,
 * sample, release; then the sampled pixels are checked. */
static int present_newest(consumer *c, uint64_t *last) {
  bench *b = c->b;
  uint64_t k = 0;
  int rc = ifd_vk_ring_take_latest(bench_vk_ring(b->vk), 0, &k);
  if (rc == -EAGAIN) return 0; /* nothing newer: the display shows the frame it has */
  if (rc != 0) return tool_fail(rc, "ifd_vk_ring_take_latest: %s", ifd_last_error());
  if (k <= *last) return tool_fail(-EIO, "took frame %llu after %llu", (unsigned long long)k,
                                   (unsigned long long)*last);
  *last = k;
  uint32_t pos[2 * BENCH_SAMPLES];
  bench_positions((uint32_t)k, b->r->width, b->r->height, pos);
  bench_seen seen = {0};
  if ((rc = bench_vk_ring_record(b->vk, k, pos)) != 0) return rc;
  if ((rc = bench_vk_ring_submit(b->vk, k, true)) != 0) return rc;
  if ((rc = bench_vk_ring_collect(b->vk, k, &seen)) != 0) return rc;
  c->taken++;
  for (int i = 0; i < BENCH_SAMPLES; i++) {
    uint32_t want[4];
    bench_pattern_values(pos[2 * i], pos[2 * i + 1], (uint32_t)k, b->fmt_code, want);
    if (memcmp(want, seen.texel[i], sizeof(want)) == 0) continue;
    if (c->wrong++ == 0)
      snprintf(c->first_wrong, sizeof(c->first_wrong), "frame %llu pixel (%u, %u)",
               (unsigned long long)k, pos[2 * i], pos[2 * i + 1]);
    break;
  }
  return 0;
}

static int consume(consumer *c) {
  const uint64_t period = 1000000000ull / c->rate;
  uint64_t next = tool_now_ns(), last = 0;
  while (!atomic_load(&c->stop)) {
    int rc = 0;
    if (c->kind == CONSUMER_RING) {
      rc = present_newest(c, &last);
    } else {
      double wait = 0, run = 0;
      rc = bench_vk_slice_probe(c->b->vk, 0, &wait, &run);
      c->taken++;
    }
    if (rc != 0) return rc;
    next += period;
    sleep_until(next);
  }
  return 0;
}

static void *consumer_main(void *arg) {
  consumer *c = arg;
  bench_outcome_set(&c->done, consume(c));
  return NULL;
}

/* ------------------------------------------------------------------ producer */

/* The producer loop: frames of the bench's kernel into the MAILBOX ring,
 * back to back, for WARM_NS + MEASURE_NS; frames/s over the measured part. */
static int produce(bench *b, ifd_ring *ring, double *fps) {
  uint64_t t0 = tool_now_ns(), counted_from = 0, count_start = 0, k = 0;
  for (;;) {
    uint64_t now = tool_now_ns();
    if (!counted_from && now - t0 >= WARM_NS) counted_from = now, count_start = k;
    if (now - t0 >= WARM_NS + MEASURE_NS) break;
    ifd_image *img = NULL;
    int rc = ifd_ring_begin_frame(ring, WAIT_NS, &k, &img);
    if (rc != 0) return tool_fail(rc, "ifd_ring_begin_frame: %s", ifd_last_error());
    ifd_image_native n;
    ifd_image_native_handles(img, &n);
    rc = bench_cuda_pattern(b->cu, n.cu_device_ptr, n.row_pitch, b->r->width, b->r->height,
                            b->fmt_code, (uint32_t)k);
    if (rc != 0) return rc;
    if ((rc = ifd_ring_end_frame(ring, k)) != 0)
      return tool_fail(rc, "ifd_ring_end_frame: %s", ifd_last_error());
    /* The host keeps at most 2 * AHEAD kernels ahead of the GPU, so frames
     * counted here are frames the GPU is about to write, not a backlog. */
    if (k % AHEAD == 0) {
      if ((rc = bench_cuda_event_record(b->cu, (uint32_t)(k / AHEAD))) != 0) return rc;
      if (k >= 2 * AHEAD && (rc = bench_cuda_event_wait(b->cu, (uint32_t)(k / AHEAD - 1))) != 0)
        return rc;
    }
  }
  uint64_t end = tool_now_ns();
  int rc = bench_cuda_sync(b->cu);
  if (rc != 0) return rc;
  if (!counted_from || end <= counted_from || k <= count_start)
    return tool_fail(-EIO, "the producer made no frame in the measured second (one call "
                           "took longer than the whole run)");
  *fps = (double)(k - count_start) / ((double)(end - counted_from) * 1e-9);
  return 0;
}

/* The producer alone (kind NONE) or beside a consumer at `rate`. */
static int measure(bench *b, ifd_ring *ring, consumer_kind kind, uint32_t rate, double *fps,
                   double *consumer_fps, char *why, size_t why_size) {
  consumer c = {.b = b, .kind = kind, .rate = rate};
  pthread_t thread;
  if (kind != CONSUMER_NONE && pthread_create(&thread, NULL, consumer_main, &c) != 0)
    return tool_fail(-EAGAIN, "cannot start the consumer's thread");
  uint64_t t0 = tool_now_ns();
  int rc = produce(b, ring, fps);
  double seconds = (double)(tool_now_ns() - t0) * 1e-9;
  if (kind != CONSUMER_NONE) {
    atomic_store(&c.stop, true);
    pthread_join(thread, NULL);
    if (rc == 0 && c.done.rc != 0) rc = tool_fail(c.done.rc, "the consumer: %s", c.done.message);
    if (rc == 0 && c.wrong)
      rc = tool_fail(-EIO, "the consumer saw %llu wrong frame(s) of %llu, first %s",
                     (unsigned long long)c.wrong, (unsigned long long)c.taken, c.first_wrong);
    *consumer_fps = (double)c.taken / seconds;
  }
  if (rc != 0) snprintf(why, why_size, "FAILED: %s", tool_last_error());
  return rc;
}

/* ------------------------------------------------------------------ scenario */

int bench_mailbox_run(bench *b, uint32_t width, uint32_t height, bench_mailbox *out) {
  *out = (bench_mailbox){.width = width, .height = height};
  bench_result r = {.width = width, .height = height, .format = MAX_FMT_RGBA8};
  bench_result *saved = b->r;
  b->r = &r;
  b->fmt_code = 0;
  ifd_ring *ring = NULL;
  ifd_ring_desc desc;
  /* 4 frames unless --ring says: with 3 the producer owns one frame besides
   * the one it writes, and often needs the frame the consumer just gave back
   * before its release has landed (a device-side wait on the consumer). */
  out->count = b->o->ring_given ? b->o->ring : 4;
  int rc = ifd_ring_create_mode(b->ctx, out->count, width, height, MAX_FMT_RGBA8,
                                IFD_RING_MAILBOX, &ring);
  if (rc == 0) rc = ifd_ring_export(ring, &desc);
  if (rc != 0) {
    snprintf(out->why, sizeof(out->why), "FAILED: a MAILBOX ring: %s", ifd_last_error());
    ifd_ring_destroy(ring);
    b->r = saved;
    return tool_fail(rc, "%s", out->why);
  }
  rc = bench_vk_ring_import(b->vk, &desc, IFD_VK_PATH_AUTO);
  ifd_ring_desc_close(&desc);
  if (rc == -EOPNOTSUPP) { /* no timelines: nothing to measure on the device */
    snprintf(out->why, sizeof(out->why), "%s", tool_last_error());
    ifd_ring_destroy(ring);
    b->r = saved;
    return 0;
  }
  char why[sizeof(out->why)] = "";
  if (rc == 0) rc = measure(b, ring, CONSUMER_NONE, 0, &out->alone_fps, NULL, why, sizeof(why));
  for (int i = 0; i < BENCH_MAILBOX_RATES && rc == 0; i++) {
    bench_mailbox_row *row = &out->rows[i];
    row->rate = rates[i];
    rc = measure(b, ring, CONSUMER_RING, rates[i], &row->fps, &row->consumer_fps, why,
                 sizeof(why));
    if (rc == 0)
      rc = measure(b, ring, CONSUMER_FILL, rates[i], &row->floor_fps, &row->floor_consumer_fps,
                   why, sizeof(why));
  }
  bench_vk_ring_drop(b->vk);
  ifd_ring_destroy(ring);
  b->r = saved;
  if (rc != 0) {
    snprintf(out->why, sizeof(out->why), "%s", why[0] ? why : tool_last_error());
    return rc;
  }
  out->measured = true;
  return 0;
}

void bench_mailbox_print(const bench_mailbox *m, FILE *f) {
  fprintf(f, "\nmailbox: a CUDA producer writing %ux%u rgba8 frames back to back into a MAILBOX "
             "ring of %u,\nbeside a Vulkan consumer that takes the newest frame at a fixed rate "
             "(AUTO path, every\ntaken frame's pixels checked); floor: the same producer beside "
             "a bare Vulkan queue\nsubmitting a tiny fill at that rate, no interop.\n",
          m->width, m->height, m->count);
  if (!m->measured) {
    fprintf(f, "  not measured: %s\n", m->why);
    return;
  }
  fprintf(f, "  producer alone: %.0f frames/s\n", m->alone_fps);
  fprintf(f, "  %-6s %12s %8s %8s %12s %8s %8s %10s\n", "rate", "producer/s", "keeps", "loss",
          "floor/s", "keeps", "loss", "loss/floor");
  for (int i = 0; i < BENCH_MAILBOX_RATES; i++) {
    const bench_mailbox_row *r = &m->rows[i];
    double keep = r->fps / m->alone_fps, fkeep = r->floor_fps / m->alone_fps;
    fprintf(f, "  %-6u %12.0f %7.1f%% %7.1f%% %12.0f %7.1f%% %7.1f%% %10.2f   (consumer %.0f/s)\n",
            r->rate, r->fps, 100 * keep, 100 * (1 - keep), r->floor_fps, 100 * fkeep,
            100 * (1 - fkeep), (1 - keep) / (1 - fkeep), r->consumer_fps);
  }
}

void bench_mailbox_json(const bench_mailbox *m, FILE *f) {
  if (!bench_json_section(f, "mailbox", m->measured, m->why)) return;
  fprintf(f, ", \"width\": %u, \"height\": %u, \"ring\": %u, \"producer_alone_fps\": %.1f, "
             "\"rates\": [",
          m->width, m->height, m->count, m->alone_fps);
  for (int i = 0; i < BENCH_MAILBOX_RATES; i++) {
    const bench_mailbox_row *r = &m->rows[i];
    fprintf(f, "%s\n    {\"consumer_rate\": %u, \"producer_fps\": %.1f, \"consumer_fps\": %.1f, "
               "\"floor_producer_fps\": %.1f, \"floor_consumer_fps\": %.1f}",
            i ? "," : "", r->rate, r->fps, r->consumer_fps, r->floor_fps, r->floor_consumer_fps);
  }
  fprintf(f, "]}");
}
