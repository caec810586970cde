/* Rings of frames in flight: images plus the ready/release timeline protocol
 * documented in interop_fd.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "mailbox.h"

/* MAILBOX: the longest a producer waits for its own device (begin_frame). */
#define OWN_DEVICE_WAIT_NS (10ull * 1000 * 1000 * 1000)

/* What a consumer can learn about the producer: the last frame ended, and
 * whether the ring is gone. For a FIFO ring, shared by the ring and the
 * consumer rings of this process that found it (ifd_ring_progress_find).
 * For a MAILBOX ring, each side has its own, over the shared state `mb`
 * (which then holds ended and gone); a consumer's also records its takes. */
struct ifd_ring_progress {
  _Atomic uint64_t ended;
  _Atomic bool gone;
  _Atomic int refs;
  ifd_mailbox *mb;              /* MAILBOX only */
  uint64_t taken, prev;         /* consumer: the frames of its last two takes */
  uint32_t taken_slot, prev_slot;
  ifd_ring_progress *next; /* in `registry` while `registered` */
  bool registered;
  uint32_t count, width, height;
  MAX_Format format;
  dev_t dev[IFD_RING_MAX_FRAMES];
  ino_t ino[IFD_RING_MAX_FRAMES];
};

/* Progress of the live rings that were exported, keyed by the files their
 * memory fds name. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ifd_ring_progress *registry;

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
  _Atomic uint64_t waited;       /* with timelines: highest release value the
                                    context's queue/stream was told to wait for */
  _Atomic uint64_t release_seen; /* with timelines: highest release value seen
                                    reached (release_landed) */
  ifd_ring *next;                /* in ctx->rings */
  _Atomic bool ctx_gone;         /* the context was destroyed first: only
                                    ifd_ring_destroy is valid */
  ifd_ring_progress *progress;
  ifd_ring_mode mode;
  /* MAILBOX, the producer's side (interop_fd.h): the shared state (owned by
   * `progress`), and under `lock` the slots the producer owns, the slot of
   * the frame begun, and per slot the last frame written into it and the
   * release that must land before it is written again (0: none). */
  ifd_mailbox *mb;
  uint32_t owned, slot;
  uint64_t wait_begun; /* the frame that queued the last device-side wait */
  uint64_t written[IFD_RING_MAX_FRAMES];
  uint64_t need[IFD_RING_MAX_FRAMES];
  _Atomic(ifd_ring_server *) server; /* serving it to another process, or NULL */
};

/* Keys of the files that desc's memory fds name. Only regular files (memfd
 * exports) that differ from frame to frame identify a ring: drivers that
 * export through one shared anonymous inode cannot be told apart. */
static bool desc_keys(const ifd_ring_desc *d, dev_t *dev, ino_t *ino) {
  if (d->count < 1 || d->count > IFD_RING_MAX_FRAMES) return false;
  for (uint32_t i = 0; i < d->count; i++) {
    struct stat st;
    if (d->frames[i].memory_fd < 0 || fstat(d->frames[i].memory_fd, &st) != 0 ||
        !S_ISREG(st.st_mode))
      return false;
    dev[i] = st.st_dev;
    ino[i] = st.st_ino;
    for (uint32_t j = 0; j < i; j++)
      if (dev[j] == dev[i] && ino[j] == ino[i]) return false;
  }
  return true;
}

static bool progress_matches(const ifd_ring_progress *p, const ifd_ring_desc *d, const dev_t *dev,
                             const ino_t *ino) {
  if (p->count != d->count || p->width != d->frames[0].width ||
      p->height != d->frames[0].height || p->format != d->frames[0].format)
    return false;
  for (uint32_t i = 0; i < p->count; i++)
    if (p->dev[i] != dev[i] || p->ino[i] != ino[i]) return false;
  return true;
}

/* Called on the first successful export: makes the ring findable. */
static void progress_register(ifd_ring_progress *p, const ifd_ring_desc *d) {
  pthread_mutex_lock(&registry_lock);
  if (!p->registered && !atomic_load(&p->gone) && desc_keys(d, p->dev, p->ino)) {
    p->count = d->count;
    p->width = d->frames[0].width;
    p->height = d->frames[0].height;
    p->format = d->frames[0].format;
    p->registered = true;
    p->next = registry;
    registry = p;
  }
  pthread_mutex_unlock(&registry_lock);
}

/* The producer is gone: no frame will be ended any more. */
static void progress_retire(ifd_ring_progress *p) {
  if (!p) return;
  pthread_mutex_lock(&registry_lock);
  atomic_store(&p->gone, true);
  if (p->mb) ifd_mailbox_set_gone(p->mb);
  if (p->registered) {
    for (ifd_ring_progress **q = &registry; *q; q = &(*q)->next) {
      if (*q == p) {
        *q = p->next;
        break;
      }
    }
    p->registered = false;
  }
  pthread_mutex_unlock(&registry_lock);
}

ifd_ring_progress *ifd_ring_progress_find(const ifd_ring_desc *desc) {
  dev_t dev[IFD_RING_MAX_FRAMES];
  ino_t ino[IFD_RING_MAX_FRAMES];
  if (!desc || !desc_keys(desc, dev, ino)) return NULL;
  ifd_ring_progress *found = NULL;
  int matches = 0;
  pthread_mutex_lock(&registry_lock);
  for (ifd_ring_progress *p = registry; p; p = p->next)
    if (progress_matches(p, desc, dev, ino)) {
      found = p;
      matches++;
    }
  if (matches == 1) atomic_fetch_add(&found->refs, 1);
  pthread_mutex_unlock(&registry_lock);
  return matches == 1 ? found : NULL;
}

static ifd_ring_progress *progress_new(void) {
  ifd_ring_progress *p = calloc(1, sizeof(*p));
  if (p) atomic_store(&p->refs, 1);
  return p;
}

void ifd_ring_progress_put(ifd_ring_progress *p) {
  if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
    ifd_mailbox_close(p->mb);
    free(p);
  }
}

uint64_t ifd_ring_progress_ended(ifd_ring_progress *p, bool *gone) {
  /* Gone first: a frame ended before the ring went is then seen too. */
  *gone = p->mb ? ifd_mailbox_gone(p->mb) : atomic_load(&p->gone);
  return p->mb ? ifd_mailbox_ended(p->mb) : atomic_load(&p->ended);
}

/* What a host poll (ifd_poll) waits for: a counter of `of` (an
 * ifd_ring_progress or an ifd_ring) reaching `value`. */
typedef struct {
  void *of;
  uint64_t value;
} poll_arg;

static int progress_reached(void *arg) {
  poll_arg *a = arg;
  bool gone = false;
  if (ifd_ring_progress_ended(a->of, &gone) >= a->value) return 1;
  return gone ? -EPIPE : 0;
}

int ifd_ring_progress_wait(ifd_ring_progress *p, uint64_t k, uint64_t timeout_ns, const char *fn) {
  poll_arg a = {p, k};
  int rc = ifd_poll(progress_reached, &a, timeout_ns);
  bool gone = false;
  unsigned long long ended = (unsigned long long)ifd_ring_progress_ended(p, &gone);
  if (rc == -ETIMEDOUT)
    return ifd_fail(rc, "%s: the producer has not ended frame %llu within %llu ns (last ended: "
                        "%llu)",
                    fn, (unsigned long long)k, (unsigned long long)timeout_ns, ended);
  if (rc == -EPIPE)
    return ifd_fail(rc, "%s: the producer's ring was destroyed after frame %llu: frame %llu will "
                        "never be produced",
                    fn, ended, (unsigned long long)k);
  return rc;
}

int ifd_ring_progress_open(int control_fd, uint32_t count, ifd_ring_progress **out) {
  ifd_ring_progress *p = progress_new();
  if (!p) return ifd_fail(-ENOMEM, "out of host memory");
  int rc = ifd_mailbox_open(control_fd, count, &p->mb);
  if (rc != 0) {
    free(p);
    return rc;
  }
  *out = p;
  return 0;
}

bool ifd_ring_progress_is_mailbox(const ifd_ring_progress *p) {
  return p && p->mb;
}

static int take_check(void *arg) {
  ifd_ring_progress *p = arg;
  /* Gone is read before the take: a frame published before the ring went is
   * still taken. */
  bool gone = ifd_mailbox_gone(p->mb);
  ifd_mailbox_word w;
  int rc = ifd_mailbox_take(p->mb, p->taken, &w);
  if (rc == 1) {
    p->prev = p->taken;
    p->prev_slot = p->taken_slot;
    p->taken = w.frame;
    p->taken_slot = w.box;
  }
  return rc == 0 && gone ? -EPIPE : rc;
}

int ifd_ring_progress_take(ifd_ring_progress *p, uint64_t timeout_ns, uint64_t *out_frame,
                           const char *fn) {
  if (!ifd_ring_progress_is_mailbox(p))
    return ifd_fail(-EINVAL, "%s: the ring is not a MAILBOX ring (its description's mode is "
                             "FIFO): take frames in order instead",
                    fn);
  int rc = ifd_poll(take_check, p, timeout_ns);
  if (rc == 0) {
    *out_frame = p->taken;
    return 0;
  }
  unsigned long long taken = (unsigned long long)p->taken;
  if (rc == -ETIMEDOUT && timeout_ns == 0)
    return ifd_fail(-EAGAIN, "%s: no frame newer than frame %llu (the last taken) has ended", fn,
                    taken);
  if (rc == -ETIMEDOUT)
    return ifd_fail(rc, "%s: no frame newer than frame %llu (the last taken) ended within %llu "
                        "ns",
                    fn, taken, (unsigned long long)timeout_ns);
  if (rc == -EPIPE)
    return ifd_fail(rc, "%s: the producer's ring was destroyed and no frame newer than frame %llu "
                        "was left",
                    fn, taken);
  return ifd_fail_prefix(rc, "%s", fn);
}

int ifd_ring_progress_slot(const ifd_ring_progress *p, uint32_t count, uint64_t k,
                           const char *fn) {
  if (k == 0) return ifd_fail(-EINVAL, "%s: frames are numbered from 1", fn);
  if (!ifd_ring_progress_is_mailbox(p)) return (int)((k - 1) % count);
  if (k == p->taken) return (int)p->taken_slot;
  if (k == p->prev) return (int)p->prev_slot;
  return ifd_fail(-EINVAL, "%s: frame %llu of this MAILBOX ring is not one this consumer took "
                           "last or before last (last: %llu, before: %llu)",
                  fn, (unsigned long long)k, (unsigned long long)p->taken,
                  (unsigned long long)p->prev);
}

/* Signals `value` on the release timeline from the host, after the releases
 * already enqueued on the context have landed (values must only grow). For
 * a queue/stream that waits for a release nobody else will signal. */
static int release_from_host(ifd_ring *ring, uint64_t value, uint64_t sent) {
  ifd_timeline *tl = ring->release;
  int rc = ifd_check_timeline(tl, "the ring's release timeline");
  if (rc != 0) return rc;
  rc = sent ? ifd_timeline_host_wait(tl, sent, 10ull * 1000 * 1000 * 1000) : 0;
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
  int rc = ifd_check_handle(ring, IFD_HANDLE_RING, "ring", fn);
  if (rc == 0 && atomic_load(&ring->ctx_gone))
    rc = ifd_fail(-EINVAL, "%s: the ring's context was destroyed first (ifd_context_destroy "
                           "before ifd_ring_destroy): its images and timelines are gone, only "
                           "ifd_ring_destroy is valid now",
                  fn);
  return rc;
}

/* A live ring whose context is alive. */
static bool ring_usable(const ifd_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_RING) && !atomic_load(&ring->ctx_gone);
}

void ifd_ring_context_gone(ifd_context *ctx) {
  /* No ring->lock here: ring calls take it before ctx->lock (end_frame), and
   * using a ring while its context is destroyed is the caller's error. */
  for (ifd_ring *ring = ctx->rings; ring; ring = ring->next) {
    atomic_store(&ring->ctx_gone, true);
    progress_retire(ring->progress);
    ifd_ring_server *server = atomic_load(&ring->server);
    if (server) ifd_server_ring_event(server);
    memset(ring->images, 0, sizeof(ring->images));
    ring->ready = ring->release = NULL;
  }
  ctx->rings = NULL;
}

static int ring_create(ifd_context *ctx, uint32_t count, uint32_t width, uint32_t height,
                       MAX_Format format, ifd_ring_mode mode, ifd_ring **out, const char *fn) {
  int rc = ifd_check_context(ctx, fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if (count < 1 || count > IFD_RING_MAX_FRAMES)
    return ifd_fail(-EINVAL, "%s: count %u is outside 1..%d", fn, count, IFD_RING_MAX_FRAMES);
  if (mode != IFD_RING_FIFO && mode != IFD_RING_MAILBOX)
    return ifd_fail(-EINVAL, "%s: unknown mode %d (IFD_RING_FIFO or IFD_RING_MAILBOX)", fn,
                    (int)mode);
  if (mode == IFD_RING_MAILBOX && count < 3)
    return ifd_fail(-EINVAL, "%s: a MAILBOX ring needs count >= 3, not %u: the producer, the "
                             "mailbox and the consumer each hold a slot",
                    fn, count);
  ifd_ring *ring = calloc(1, sizeof(*ring));
  if (!ring) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  ring->ctx = ctx;
  ring->count = count;
  ring->mode = mode;
  pthread_mutex_init(&ring->lock, NULL);
  ring->progress = progress_new();
  if (!ring->progress) rc = ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  if (rc == 0 && mode == IFD_RING_MAILBOX) {
    rc = ifd_mailbox_create(count, &ring->progress->mb);
    if (rc != 0) rc = ifd_fail_prefix(rc, "%s", fn);
    ring->mb = ring->progress->mb;
    ring->owned = ((1u << count) - 1) & ~3u; /* slot 0 is in the box, slot 1 held */
  }
  for (uint32_t i = 0; i < count && rc == 0; i++)
    rc = ifd_image_create(ctx, width, height, format, &ring->images[i]);
  if (rc == 0) {
    char earlier[512]; /* a ring without timelines is a success: keep the last failure's message */
    snprintf(earlier, sizeof(earlier), "%s", ifd_last_error());
    rc = ifd_timeline_create(ctx, 0, &ring->ready);
    if (rc == 0) rc = ifd_timeline_create(ctx, 0, &ring->release);
    if (rc == -EOPNOTSUPP) { /* host-synchronised ring, see the header */
      ifd_timeline_destroy(ring->ready);
      ring->ready = NULL;
      rc = 0;
      ifd_fail(0, "%s", earlier);
    }
  }
  if (rc == 0) rc = ifd_handle_add(ring, IFD_HANDLE_RING);
  if (rc != 0) {
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", ifd_last_error());
    ifd_timeline_destroy(ring->release);
    ifd_timeline_destroy(ring->ready);
    for (uint32_t i = 0; i < count; i++) ifd_image_destroy(ring->images[i]);
    ifd_ring_progress_put(ring->progress);
    pthread_mutex_destroy(&ring->lock);
    free(ring);
    return ifd_fail(rc, "%s", msg);
  }
  pthread_mutex_lock(&ctx->lock);
  for (uint32_t i = 0; i < count; i++) ring->images[i]->ring_owned = true;
  if (ring->ready) ring->ready->ring_owned = ring->release->ring_owned = true;
  ring->next = ctx->rings;
  ctx->rings = ring;
  pthread_mutex_unlock(&ctx->lock);
  *out = ring;
  return 0;
}

int ifd_ring_create(ifd_context *ctx, uint32_t count, uint32_t width, uint32_t height,
                    MAX_Format format, ifd_ring **out) {
  return ring_create(ctx, count, width, height, format, IFD_RING_FIFO, out, "ifd_ring_create");
}

int ifd_ring_create_mode(ifd_context *ctx, uint32_t count, uint32_t width, uint32_t height,
                         MAX_Format format, ifd_ring_mode mode, ifd_ring **out) {
  return ring_create(ctx, count, width, height, format, mode, out, "ifd_ring_create_mode");
}

ifd_ring_mode ifd_ring_get_mode(const ifd_ring *ring) {
  return ring_usable(ring) ? ring->mode : IFD_RING_FIFO;
}

static void ring_free(ifd_ring *ring) {
  progress_retire(ring->progress);
  ifd_ring_progress_put(ring->progress);
  pthread_mutex_destroy(&ring->lock);
  free(ring);
}

/* Whether a queue/stream of ctx waits on the device for a release of one of
 * its rings that has not come yet (ctx->lock held). */
/* The release value the ring's queue/stream waits for on the device and has
 * not got yet (a consumer that stopped), or 0 (ctx->lock held). */
static uint64_t pending_release(ifd_ring *ring) {
  uint64_t v = 0, waited = atomic_load(&ring->waited);
  if (ring->release && ring->ctx->ops->timeline_value(ring->release, &v) == 0 && v < waited)
    return waited;
  return 0;
}

bool ifd_ring_waits_pending(ifd_context *ctx) {
  for (ifd_ring *ring = ctx->rings; ring; ring = ring->next)
    if (pending_release(ring)) return true;
  return false;
}

void ifd_ring_release_waits(ifd_context *ctx) {
  for (ifd_ring *ring = ctx->rings; ring; ring = ring->next) {
    uint64_t waited = pending_release(ring);
    if (waited) (void)release_from_host(ring, waited, 0);
  }
}

void ifd_ring_destroy(ifd_ring *ring) {
  if (!ring || ifd_check_handle(ring, IFD_HANDLE_RING, "ring", "ifd_ring_destroy") != 0) return;
  /* A server still using the ring lets go of it first (its viewer is told). */
  ifd_ring_server *server = atomic_exchange(&ring->server, NULL);
  if (server) ifd_server_ring_gone(server);
  if (atomic_load(&ring->ctx_gone)) { /* its images and timelines went with the context */
    ifd_handle_remove(ring);
    ring_free(ring);
    return;
  }
  ifd_context *ctx = ring->ctx;
  pthread_mutex_lock(&ctx->lock);
  for (ifd_ring **p = &ctx->rings; *p; p = &(*p)->next) {
    if (*p == ring) {
      *p = ring->next;
      break;
    }
  }
  /* A queue/stream still waiting for a release that will not come (the
   * consumer stopped) would never go idle: release from the host first. */
  uint64_t waited = pending_release(ring);
  pthread_mutex_unlock(&ctx->lock);
  if (waited) (void)release_from_host(ring, waited, 0);
  ifd_handle_remove(ring);
  pthread_mutex_lock(&ctx->lock);
  for (uint32_t i = 0; i < ring->count; i++) ring->images[i]->ring_owned = false;
  if (ring->ready) ring->ready->ring_owned = ring->release->ring_owned = false;
  pthread_mutex_unlock(&ctx->lock);
  ifd_timeline_destroy(ring->release);
  ifd_timeline_destroy(ring->ready);
  for (uint32_t i = 0; i < ring->count; i++) ifd_image_destroy(ring->images[i]);
  ring_free(ring);
}

uint32_t ifd_ring_count(const ifd_ring *ring) {
  return ring_usable(ring) ? ring->count : 0;
}

ifd_image *ifd_ring_image(const ifd_ring *ring, uint32_t i) {
  if (!ring_usable(ring) || i >= ring->count) return NULL;
  return ring->images[i];
}

ifd_timeline *ifd_ring_ready(const ifd_ring *ring) {
  return ring_usable(ring) ? ring->ready : NULL;
}

ifd_timeline *ifd_ring_release(const ifd_ring *ring) {
  return ring_usable(ring) ? ring->release : NULL;
}

static void desc_init(ifd_ring_desc *d) {
  memset(d, 0, sizeof(*d));
  for (int i = 0; i < IFD_RING_MAX_FRAMES; i++) d->frames[i].memory_fd = d->frames[i].timeline_fd = -1;
  d->ready_fd = d->release_fd = d->control_fd = -1;
}

void ifd_ring_desc_close(ifd_ring_desc *desc) {
  if (!desc) return;
  uint32_t n = desc->count < IFD_RING_MAX_FRAMES ? desc->count : IFD_RING_MAX_FRAMES;
  for (uint32_t i = 0; i < n; i++) ifd_frame_desc_close(&desc->frames[i]);
  ifd_fd_close(&desc->ready_fd);
  ifd_fd_close(&desc->release_fd);
  if (desc->mode == IFD_RING_MAILBOX) ifd_fd_close(&desc->control_fd);
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
  d.mode = ring->mode;
  if (rc == 0 && ring->mb) rc = ifd_mailbox_export_fd(ring->mb, &d.control_fd);
  if (rc != 0) {
    ifd_ring_desc_close(&d);
    return ifd_fail_prefix(rc, "%s", fn);
  }
  /* A MAILBOX consumer learns the producer's progress from control_fd. */
  if (!ring->mb) progress_register(ring->progress, &d);
  *out = d;
  return 0;
}

static int host_released(void *arg) {
  poll_arg *a = arg;
  ifd_ring *ring = a->of;
  return atomic_load(&ring->released) >= a->value;
}

/* Whether the release timeline has reached `value`. The highest value seen
 * is kept, so a value known to be reached costs no query of the device (two
 * threads racing may lower it: that only costs a query). */
static bool release_landed(ifd_ring *ring, uint64_t value) {
  if (atomic_load(&ring->release_seen) >= value) return true;
  uint64_t v = 0;
  if (ifd_timeline_value(ring->release, &v) != 0) return false;
  if (v > atomic_load(&ring->release_seen)) atomic_store(&ring->release_seen, v);
  return v >= value;
}

/* Before the producer writes a slot whose last frame read there is `need`.
 * With timelines the work enqueued next on the context's queue/stream waits
 * on the device until release >= need (unless it is reached already or was
 * signalled on that same queue/stream by ifd_ring_release_frame), and the
 * host itself waits only for release >= host_need (0: not at all). Without,
 * the host waits for release >= need. -ETIMEDOUT with no message. */
static int wait_release(ifd_ring *ring, uint64_t need, uint64_t host_need, uint64_t timeout_ns) {
  if (!ring->release) {
    poll_arg a = {ring, need};
    return ifd_poll(host_released, &a, timeout_ns);
  }
  if (host_need && !release_landed(ring, host_need)) {
    int rc = ifd_timeline_host_wait(ring->release, host_need, timeout_ns);
    if (rc != 0) return rc;
  }
  pthread_mutex_lock(&ring->lock);
  bool in_order = ring->release_sent >= need;
  pthread_mutex_unlock(&ring->lock);
  if (in_order || release_landed(ring, need)) return 0;
  /* Raised before the wait is queued, so that a destroy on another thread
   * never takes the queue for one that can go idle. */
  pthread_mutex_lock(&ring->lock);
  if (need > ring->waited) ring->waited = need;
  pthread_mutex_unlock(&ring->lock);
  return ifd_timeline_wait(ring->release, need);
}

/* FIFO: frame k goes into slot (k - 1) % count, once release >= k - count.
 * The queue/stream waits for the release, not the host: work submitted while
 * the GPU runs the consumer then starts within microseconds of its release,
 * where work the host submits after a host wait starts a context switch
 * later (~160 us on an H200, docs/platform-facts.md). The protocol:
 * docs/value-protocol.md. The host only blocks to stay within 2 * count
 * frames of the consumer. */
static int begin_fifo(ifd_ring *ring, uint64_t k, uint64_t timeout_ns, const char *fn) {
  if (k <= ring->count) return 0;
  uint64_t need = k - ring->count; /* the release frame k's image waits for */
  uint64_t host_need = !ring->release ? need : k > 2ull * ring->count ? k - 2ull * ring->count : 0;
  int rc = wait_release(ring, need, host_need, timeout_ns);
  if (rc == -ETIMEDOUT)
    return ifd_fail(rc, "%s: the consumer did not release frame %llu within %llu ns, so frame "
                        "%llu cannot start (ring of %u)",
                    fn, (unsigned long long)host_need, (unsigned long long)timeout_ns,
                    (unsigned long long)k, ring->count);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
}

/* The highest release the producer may count on: landed, or (with
 * timelines) signalled on its own queue/stream ahead of what comes next. */
static uint64_t release_known(ifd_ring *ring) {
  if (!ring->release) return atomic_load(&ring->released);
  uint64_t v = 0;
  (void)ifd_timeline_value(ring->release, &v);
  pthread_mutex_lock(&ring->lock);
  if (ring->release_sent > v) v = ring->release_sent;
  pthread_mutex_unlock(&ring->lock);
  return v;
}

/* MAILBOX: picks one of the producer's own slots (ring->slot), preferring
 * one whose release has landed, then the least recently written; where none
 * has, the one waiting for the oldest release, and waits for it as FIFO does
 * (interop_fd.h, invariant 5). */
static int begin_mailbox(ifd_ring *ring, uint64_t k, uint64_t timeout_ns, const char *fn) {
  /* The host stays within count frames of its own device, so the newest
   * frame ended (what a take returns) is written soon, not behind all the
   * work the host could queue: measured on an H200, a demo producer running
   * free queued ~100 ms of frames, and each frame taken waited that long. */
  if (ring->ready && k > ring->count) {
    /* Frames from wait_begun on run behind that frame's device-side wait
     * for a release: while it is unmet, waiting for one of them is waiting
     * for the consumer, so the host waits for the release itself, within
     * timeout_ns, as for a slot. */
    pthread_mutex_lock(&ring->lock);
    uint64_t behind = ring->wait_begun;
    pthread_mutex_unlock(&ring->lock);
    uint64_t pending = atomic_load(&ring->waited);
    if (pending && behind && k - ring->count >= behind && !release_landed(ring, pending)) {
      int rc = ifd_timeline_host_wait(ring->release, pending, timeout_ns);
      if (rc == -ETIMEDOUT)
        return ifd_fail(rc, "%s: the consumer did not release frame %llu within %llu ns, and "
                            "the producer's device waits for it before frame %llu (MAILBOX ring "
                            "of %u)",
                        fn, (unsigned long long)pending, (unsigned long long)timeout_ns,
                        (unsigned long long)behind, ring->count);
      if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
    }
    int rc = ifd_timeline_host_wait(ring->ready, k - ring->count, OWN_DEVICE_WAIT_NS);
    if (rc != 0) return ifd_fail_prefix(rc, "%s: frame %llu of the producer's own device", fn,
                                        (unsigned long long)(k - ring->count));
  }
  pthread_mutex_lock(&ring->lock);
  bool any_need = false; /* most frames: no slot waits, no value to read */
  for (uint32_t s = 0; s < ring->count; s++) any_need |= (ring->owned & 1u << s) && ring->need[s];
  pthread_mutex_unlock(&ring->lock);
  uint64_t released = any_need ? release_known(ring) : 0;
  pthread_mutex_lock(&ring->lock);
  int best = -1;
  bool best_free = false;
  for (uint32_t s = 0; s < ring->count; s++) {
    if (!(ring->owned & 1u << s)) continue;
    bool free_now = ring->need[s] <= released;
    bool better = best < 0 || (free_now && !best_free) ||
                  (free_now == best_free && (free_now ? ring->written[s] < ring->written[best]
                                                      : ring->need[s] < ring->need[best]));
    if (better) {
      best = (int)s;
      best_free = free_now;
    }
  }
  uint64_t need = best >= 0 ? ring->need[best] : 0, wait_begun = ring->wait_begun;
  pthread_mutex_unlock(&ring->lock);
  if (best < 0)
    return ifd_fail(-EIO, "%s: the producer owns no slot: the ring's shared mailbox state was "
                          "corrupted",
                    fn);
  /* Device-side, as FIFO. The host waits only for an earlier such wait still
   * unmet, when another one is needed or `count` frames are queued behind
   * it: so at most one is queued ahead of the host, and a consumer that died
   * with its release in flight cannot make the queue grow without bound. */
  uint64_t pending = ring->release ? atomic_load(&ring->waited) : 0;
  bool bound = pending && (!best_free || k > wait_begun + ring->count);
  uint64_t host_need = !ring->release ? need : bound ? pending : 0;
  int rc = best_free && !bound ? 0
                               : wait_release(ring, best_free ? 0 : need, host_need, timeout_ns);
  if (rc == -ETIMEDOUT)
    return ifd_fail(rc, "%s: the consumer did not release frame %llu within %llu ns, and %s "
                        "(MAILBOX ring of %u)",
                    fn, (unsigned long long)host_need, (unsigned long long)timeout_ns,
                    best_free ? "count frames are queued behind the device-side wait for it"
                              : "every slot the producer owns waits for a release",
                    ring->count);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  pthread_mutex_lock(&ring->lock);
  ring->slot = (uint32_t)best;
  ring->need[best] = 0;
  if (ring->waited > pending) ring->wait_begun = k; /* this frame queued a device-side wait */
  pthread_mutex_unlock(&ring->lock);
  return 0;
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
  rc = ring->mb ? begin_mailbox(ring, k, timeout_ns, fn) : begin_fifo(ring, k, timeout_ns, fn);
  if (rc != 0) return rc;
  pthread_mutex_lock(&ring->lock);
  ring->begun = k;
  uint32_t slot = ring->mb ? ring->slot : (uint32_t)((k - 1) % ring->count);
  pthread_mutex_unlock(&ring->lock);
  *out_frame = k;
  *out_image = ring->images[slot];
  return 0;
}

/* MAILBOX, ring->lock held: publishes frame k, written into ring->slot, and
 * takes back the slot the box held (interop_fd.h). Every value from the
 * shared state is checked: the consumer may be another process. */
static int publish(ifd_ring *ring, uint64_t k) {
  uint32_t s = ring->slot;
  ifd_mailbox_set_ended(ring->mb, k);
  ifd_mailbox_word old;
  ifd_mailbox_publish(ring->mb, k, s, &old);
  ring->written[s] = k;
  ring->owned &= ~(1u << s);
  uint32_t b = old.box, h = old.held;
  if (b >= ring->count || h >= ring->count || b == h || b == s || h == s ||
      (ring->owned & (1u << b | 1u << h)))
    return ifd_fail(-EIO, "the ring's shared mailbox state was corrupted: it gave back slot %u "
                          "with slot %u held, after frame %llu in slot %u",
                    b, h, (unsigned long long)k, s);
  ring->owned |= 1u << b;
  /* A frame never taken needs no release; the slot the consumer gave back
   * waits for the release of the frame it read there (invariant 4). */
  ring->need[b] = old.fresh ? 0 : ring->written[b];
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
  if (rc == 0) {
    ring->ended = frame;
    atomic_store(&ring->progress->ended, frame);
    /* Published only now: ready = k is queued, or the frame is written
     * (invariant 2). */
    if (ring->mb) rc = publish(ring, frame);
    ifd_ring_server *server = atomic_load(&ring->server);
    if (server) ifd_server_ring_event(server);
  }
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
  } else if (ring->release && ring->waited > last && !release_landed(ring, ring->waited)) {
    /* The queue/stream may already wait for a release not sent yet (the
     * next frames were begun first): a signal enqueued behind that wait
     * would never run, even one above the value it waits for (a consumer
     * that skipped frames, or a MAILBOX ring). The consumer's reads were
     * enqueued before the wait, so signal from the host. */
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

int ifd_ring_attach_server(ifd_ring *ring, ifd_ring_server *server) {
  static const char fn[] = "ifd_ring_serve";
  int rc = check_ring(ring, fn);
  if (rc != 0) return rc;
  ifd_ring_server *none = NULL;
  if (!atomic_compare_exchange_strong(&ring->server, &none, server))
    return ifd_fail(-EINVAL, "%s: the ring is already served (one server per ring: destroy the "
                             "other first)",
                    fn);
  return 0;
}

void ifd_ring_detach_server(ifd_ring *ring, ifd_ring_server *server) {
  ifd_ring_server *mine = server;
  if (ring) atomic_compare_exchange_strong(&ring->server, &mine, NULL);
}

int ifd_ring_share_state(ifd_ring *ring, uint64_t *ended, uint64_t *released, bool *timelines) {
  int rc = check_ring(ring, "ifd_ring_serve");
  if (rc != 0) return rc;
  pthread_mutex_lock(&ring->lock);
  uint64_t e = ring->ended, v = 0;
  if (timelines) *timelines = ring->release != NULL;
  if (released && ring->release) rc = ifd_timeline_value(ring->release, &v);
  else if (released) v = atomic_load(&ring->released);
  pthread_mutex_unlock(&ring->lock);
  if (ended) *ended = e;
  if (released) *released = v < e ? v : e;
  return rc;
}

int ifd_ring_release_upto(ifd_ring *ring, uint64_t k) {
  int rc = check_ring(ring, "ifd_ring_serve");
  if (rc != 0) return rc;
  pthread_mutex_lock(&ring->lock);
  if (k > ring->ended) k = ring->ended;
  bool timelines = ring->release != NULL;
  if (!timelines && atomic_load(&ring->released) < k) atomic_store(&ring->released, k);
  pthread_mutex_unlock(&ring->lock);
  /* release_from_host signals only above the value the timeline has. */
  return timelines && k > 0 ? release_from_host(ring, k, 0) : 0;
}
