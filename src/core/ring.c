/* Rings of frames in flight: images plus the ready/release timeline protocol
 * documented in interop_fd.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct ifd_ring {
  ifd_context *ctx;
  uint32_t count;
  ifd_image *images[IFD_RING_MAX_FRAMES];
  ifd_timeline *ready, *release; /* both NULL without timelines */
  pthread_mutex_t lock;          /* guards the counters below */
  uint64_t begun;                /* last frame begun */
  uint64_t ended;                /* last frame ended */
  _Atomic uint64_t released;     /* without timelines: last frame released */
  uint64_t release_sent;         /* with timelines: last release signalled here */
  uint64_t waited;               /* with timelines: highest release value the
                                    context's queue/stream was told to wait for */
};

/* Signals `value` on the release timeline from the host, after the releases
 * already enqueued on the context have landed (values must only grow). For
 * a queue/stream that waits for a release nobody else will signal. */
static int release_from_host(ifd_ring *ring, uint64_t value, uint64_t sent) {
  ifd_timeline *tl = ring->release;
  int rc = sent ? ifd_timeline_host_wait(tl, sent, 10ull * 1000 * 1000 * 1000) : 0;
  if (rc != 0) return rc;
  ifd_context *ctx = ring->ctx;
  pthread_mutex_lock(&ctx->lock);
  uint64_t now = 0;
  rc = ctx->ops->timeline_value(tl, &now);
  if (rc == 0 && now < value) {
    rc = ctx->ops->timeline_host_signal
             ? ctx->ops->timeline_host_signal(tl, value)
             : ifd_fail(-EOPNOTSUPP, "the %s backend cannot signal from the host", ctx->ops->name);
  }
  if (rc == 0 && value > tl->last_signaled) tl->last_signaled = value;
  pthread_mutex_unlock(&ctx->lock);
  return rc;
}

static int check_ring(const ifd_ring *ring, const char *fn) {
  return ifd_check_handle(ring, IFD_HANDLE_RING, "ring", fn);
}

int ifd_ring_create(ifd_context *ctx, uint32_t count, uint32_t width, uint32_t height,
                    MAX_Format format, ifd_ring **out) {
  static const char fn[] = "ifd_ring_create";
  int rc = ifd_check_context(ctx, fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if (count < 1 || count > IFD_RING_MAX_FRAMES)
    return ifd_fail(-EINVAL, "%s: count %u is outside 1..%d", fn, count, IFD_RING_MAX_FRAMES);
  ifd_ring *ring = calloc(1, sizeof(*ring));
  if (!ring) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  ring->ctx = ctx;
  ring->count = count;
  pthread_mutex_init(&ring->lock, NULL);
  for (uint32_t i = 0; i < count && rc == 0; i++)
    rc = ifd_image_create(ctx, width, height, format, &ring->images[i]);
  if (rc == 0) {
    rc = ifd_timeline_create(ctx, 0, &ring->ready);
    if (rc == 0) rc = ifd_timeline_create(ctx, 0, &ring->release);
    if (rc == -EOPNOTSUPP) { /* host-synchronised ring, see the header */
      ifd_timeline_destroy(ring->ready);
      ring->ready = NULL;
      rc = 0;
    }
  }
  if (rc == 0) rc = ifd_handle_add(ring, IFD_HANDLE_RING);
  if (rc != 0) {
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", ifd_last_error());
    ifd_timeline_destroy(ring->release);
    ifd_timeline_destroy(ring->ready);
    for (uint32_t i = 0; i < count; i++) ifd_image_destroy(ring->images[i]);
    pthread_mutex_destroy(&ring->lock);
    free(ring);
    return ifd_fail(rc, "%s", msg);
  }
  *out = ring;
  return 0;
}

void ifd_ring_destroy(ifd_ring *ring) {
  if (!ring || check_ring(ring, "ifd_ring_destroy") != 0) return;
  /* A queue/stream still waiting for a release that will not come (the
   * consumer stopped) would never go idle: release from the host first. */
  uint64_t v = 0;
  if (ring->release && ifd_handle_live(ring->release, IFD_HANDLE_TIMELINE) &&
      ifd_timeline_value(ring->release, &v) == 0 && v < ring->waited)
    (void)release_from_host(ring, ring->waited, 0);
  ifd_handle_remove(ring);
  /* Each destroy is a no-op on a handle already gone with its context. */
  ifd_timeline_destroy(ring->release);
  ifd_timeline_destroy(ring->ready);
  for (uint32_t i = 0; i < ring->count; i++) ifd_image_destroy(ring->images[i]);
  pthread_mutex_destroy(&ring->lock);
  free(ring);
}

uint32_t ifd_ring_count(const ifd_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_RING) ? ring->count : 0;
}

ifd_image *ifd_ring_image(const ifd_ring *ring, uint32_t i) {
  if (!ring || !ifd_handle_live(ring, IFD_HANDLE_RING) || i >= ring->count) return NULL;
  return ring->images[i];
}

ifd_timeline *ifd_ring_ready(const ifd_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_RING) ? ring->ready : NULL;
}

ifd_timeline *ifd_ring_release(const ifd_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_RING) ? ring->release : NULL;
}

static void desc_init(ifd_ring_desc *d) {
  memset(d, 0, sizeof(*d));
  for (int i = 0; i < IFD_RING_MAX_FRAMES; i++) d->frames[i].memory_fd = d->frames[i].timeline_fd = -1;
  d->ready_fd = d->release_fd = -1;
}

void ifd_ring_desc_close(ifd_ring_desc *desc) {
  if (!desc) return;
  uint32_t n = desc->count < IFD_RING_MAX_FRAMES ? desc->count : IFD_RING_MAX_FRAMES;
  for (uint32_t i = 0; i < n; i++) ifd_frame_desc_close(&desc->frames[i]);
  ifd_fd_close(&desc->ready_fd);
  ifd_fd_close(&desc->release_fd);
}

int ifd_ring_export(ifd_ring *ring, ifd_ring_desc *out) {
  static const char fn[] = "ifd_ring_export";
  if (out) desc_init(out);
  int rc = check_ring(ring, fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  ifd_ring_desc d;
  desc_init(&d);
  d.count = ring->count;
  for (uint32_t i = 0; i < ring->count && rc == 0; i++)
    rc = ifd_image_describe(ring->images[i], &d.frames[i]);
  if (rc == 0 && ring->ready) rc = ifd_timeline_export_fd(ring->ready, &d.ready_fd);
  if (rc == 0 && ring->release) rc = ifd_timeline_export_fd(ring->release, &d.release_fd);
  if (rc != 0) {
    ifd_ring_desc_close(&d);
    return ifd_fail_prefix(rc, "%s", fn);
  }
  *out = d;
  return 0;
}

typedef struct {
  ifd_ring *ring;
  uint64_t value;
} released_check;

static int host_released(void *arg) {
  released_check *c = arg;
  return atomic_load(&c->ring->released) >= c->value;
}

int ifd_ring_begin_frame(ifd_ring *ring, uint64_t timeout_ns, uint64_t *out_frame,
                         ifd_image **out_image) {
  static const char fn[] = "ifd_ring_begin_frame";
  int rc = check_ring(ring, fn);
  if (rc != 0) return rc;
  if (!out_frame || !out_image) return ifd_fail(-EINVAL, "%s: an out-pointer is NULL", fn);
  pthread_mutex_lock(&ring->lock);
  uint64_t k = ring->begun + 1;
  bool open = ring->begun != ring->ended;
  pthread_mutex_unlock(&ring->lock);
  if (open)
    return ifd_fail(-EINVAL, "%s: frame %llu was begun but not ended (ifd_ring_end_frame)", fn,
                    (unsigned long long)(k - 1));
  if (k > ring->count) {
    uint64_t need = k - ring->count; /* the release frame k's image waits for */
    uint64_t host_need = need;       /* what the host itself waits for */
    if (ring->release) {
      /* The queue/stream waits for the release, not the host: work submitted
       * while the GPU runs the consumer then starts within microseconds of
       * its release, where work the host submits after a host wait starts a
       * context switch later (~160 us on an H200, FINDINGS/bench). The host
       * only blocks to stay within 2 * count frames of the consumer. */
      host_need = k > 2ull * ring->count ? k - 2ull * ring->count : 0;
      if (host_need) rc = ifd_timeline_host_wait(ring->release, host_need, timeout_ns);
    } else {
      released_check c = {ring, need};
      rc = ifd_poll(host_released, &c, timeout_ns);
    }
    if (rc == -ETIMEDOUT)
      return ifd_fail(rc, "%s: the consumer did not release frame %llu within %llu ns, so frame "
                          "%llu cannot start (ring of %u)",
                      fn, (unsigned long long)host_need, (unsigned long long)timeout_ns,
                      (unsigned long long)k, ring->count);
    if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
    if (ring->release) {
      pthread_mutex_lock(&ring->lock);
      bool in_order = ring->release_sent >= need; /* released on this same queue/stream */
      pthread_mutex_unlock(&ring->lock);
      uint64_t v = 0;
      if (!in_order && (ifd_timeline_value(ring->release, &v) != 0 || v < need)) {
        rc = ifd_timeline_wait(ring->release, need);
        if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
        pthread_mutex_lock(&ring->lock);
        if (need > ring->waited) ring->waited = need;
        pthread_mutex_unlock(&ring->lock);
      }
    }
  }
  pthread_mutex_lock(&ring->lock);
  ring->begun = k;
  pthread_mutex_unlock(&ring->lock);
  *out_frame = k;
  *out_image = ring->images[(k - 1) % ring->count];
  return 0;
}

int ifd_ring_end_frame(ifd_ring *ring, uint64_t frame) {
  static const char fn[] = "ifd_ring_end_frame";
  int rc = check_ring(ring, fn);
  if (rc != 0) return rc;
  pthread_mutex_lock(&ring->lock);
  if (frame == 0 || frame != ring->begun || ring->ended == ring->begun) {
    uint64_t begun = ring->begun, ended = ring->ended;
    pthread_mutex_unlock(&ring->lock);
    if (begun == ended)
      return ifd_fail(-EINVAL, "%s: frame %llu was never begun (no frame is open)", fn,
                      (unsigned long long)frame);
    return ifd_fail(-EINVAL, "%s: frame %llu is not the open frame %llu", fn,
                    (unsigned long long)frame, (unsigned long long)begun);
  }
  if (ring->ready) {
    rc = ifd_timeline_signal(ring->ready, frame);
  } else {
    ifd_context *ctx = ring->ctx;
    pthread_mutex_lock(&ctx->lock);
    ctx->ops->context_idle(ctx);
    pthread_mutex_unlock(&ctx->lock);
  }
  if (rc == 0) ring->ended = frame;
  pthread_mutex_unlock(&ring->lock);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
}

int ifd_ring_release_frame(ifd_ring *ring, uint64_t frame) {
  static const char fn[] = "ifd_ring_release_frame";
  int rc = check_ring(ring, fn);
  if (rc != 0) return rc;
  pthread_mutex_lock(&ring->lock);
  uint64_t last = ring->release ? ring->release_sent : atomic_load(&ring->released);
  if (frame == 0 || frame > ring->ended) {
    rc = ifd_fail(-EINVAL, "%s: frame %llu has not been ended (last ended: %llu)", fn,
                  (unsigned long long)frame, (unsigned long long)ring->ended);
  } else if (frame <= last) {
    rc = ifd_fail(-EINVAL, "%s: frame %llu is not above %llu, already released", fn,
                  (unsigned long long)frame, (unsigned long long)last);
  } else if (ring->release && frame <= ring->waited) {
    /* The queue/stream already waits for this release (the next frames were
     * begun first): a signal enqueued behind that wait would never run. The
     * consumer's reads were enqueued before the wait, so signal from the host. */
    uint64_t sent = ring->release_sent;
    pthread_mutex_unlock(&ring->lock);
    rc = release_from_host(ring, frame, sent);
    pthread_mutex_lock(&ring->lock);
    if (rc == 0 && frame > ring->release_sent) ring->release_sent = frame;
  } else if (ring->release) {
    rc = ifd_timeline_signal(ring->release, frame);
    if (rc == 0) ring->release_sent = frame;
  } else {
    atomic_store(&ring->released, frame);
  }
  pthread_mutex_unlock(&ring->lock);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
}
