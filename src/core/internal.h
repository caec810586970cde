/* Internal layer shared by the core and the backends. The core includes no
 * vendor header; each backend lives in its own folder behind ifd_backend_ops. */
#ifndef IFD_INTERNAL_H
#define IFD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "interop_fd/interop_fd.h"

#define IFD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define IFD_MUST_CHECK __attribute__((warn_unused_result))
#define IFD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* error.c: records a message for this thread and returns err (a negative
 * errno), so a failure site reads `return ifd_fail(-EINVAL, "...")`. */
int ifd_fail(int err, const char *fmt, ...) IFD_PRINTF(2, 3);
/* Prefixes the current message: "context: " + old message. Returns err. */
int ifd_fail_prefix(int err, const char *fmt, ...) IFD_PRINTF(2, 3);

/* poll.c: calls check(arg) until it returns 1 (done: returns 0) or < 0 (an
 * error: returned), spinning briefly and then sleeping; -ETIMEDOUT after
 * timeout_ns. Does not set a message for the timeout. */
int ifd_poll(int (*check)(void *arg), void *arg, uint64_t timeout_ns);
/* CLOCK_MONOTONIC in nanoseconds, and now + timeout_ns (UINT64_MAX where
 * that overflows): the deadline of a wait. */
uint64_t ifd_now_ns(void);
uint64_t ifd_deadline_ns(uint64_t timeout_ns);

/* format.c */
const ifd_format_info *ifd_format_get(MAX_Format format); /* NULL if unknown */

/* fd.c: hands a freshly exported fd to the caller (*out_fd) with FD_CLOEXEC
 * set; closes it and fails (leaving *out_fd alone) if it cannot. */
int ifd_fd_hand_out(int fd, int *out_fd) IFD_MUST_CHECK;
void ifd_fd_close(int *fd); /* closes *fd if >= 0, retries nothing, sets -1 */
/* Refuses (-EBADF if not open, else `err`, with a message naming `what` and
 * `kind`) an fd that no driver exports as memory or a semaphore: a pipe,
 * socket, folder, block device or memory character device (/dev/null). A
 * driver handed one is in undefined behaviour: NVIDIA's (580) could create no
 * semaphore after importing /dev/null as one. */
int ifd_fd_check_kind(int fd, const char *what, const char *kind, int err);

typedef struct ifd_backend_ops ifd_backend_ops;

struct ifd_context {
  const ifd_backend_ops *ops;
  ifd_backend backend;
  pthread_mutex_t lock; /* recursive: guards the queue/stream and the lists */
  ifd_context_native native;
  void *impl;
  ifd_image *images;      /* live images, linked through next */
  ifd_timeline *timelines;
  ifd_ring *rings;        /* live rings (ring.c), invalidated by ifd_context_destroy */
  ifd_image *zombies;     /* destroyed images and timelines whose resources */
  ifd_timeline *timeline_zombies; /* wait for the queue to go idle, linked
                             through next (ifd_context_sweep) */
};

struct ifd_image {
  ifd_context *ctx;
  ifd_image *next;
  const ifd_format_info *info;
  uint32_t width, height, row_pitch;
  uint64_t size;
  bool ring_owned; /* a ring's: only ifd_ring_destroy (or the context) destroys it */
  void *impl;
};

struct ifd_timeline {
  ifd_context *ctx;
  ifd_timeline *next;
  uint64_t last_signaled; /* highest value enqueued or initial value */
  bool imported;          /* from ifd_timeline_import_fd */
  bool ring_owned;        /* a ring's ready or release: see ifd_image */
  void *impl;
};

/* A backend. Required: name, context_*, image_*. Timeline entries are
 * optional as a group: a backend without them reports -EOPNOTSUPP through
 * timeline_support. Every op is called with ctx->lock held. */
struct ifd_backend_ops {
  const char *name;
  int (*context_create)(ifd_context *ctx, int device_index);
  /* Adopts a native context (ifd_context_create_cuda); optional. */
  int (*context_adopt)(ifd_context *ctx, void *native_context, void *native_stream);
  void (*context_idle)(ifd_context *ctx);    /* waits until the device is idle */
  void (*context_destroy)(ifd_context *ctx); /* children are gone, device idle */

  /* Fills image->row_pitch, size, impl; width/height/info already set. */
  int (*image_create)(ifd_image *image);
  void (*image_destroy)(ifd_image *image);
  int (*image_export_fd)(ifd_image *image, int *out_fd);
  int (*image_export_dmabuf)(ifd_image *image, int *out_fd); /* optional */
  int (*image_copy)(ifd_image *image, void *host, size_t host_pitch, bool upload);
  void (*image_native)(const ifd_image *image, ifd_image_native *out);

  /* Returns 0 if timelines can be created and exported, else -EOPNOTSUPP
   * with the message set. */
  int (*timeline_support)(ifd_context *ctx);
  int (*timeline_create)(ifd_timeline *tl, uint64_t initial_value);
  int (*timeline_import_fd)(ifd_timeline *tl, int fd); /* takes fd on success */
  void (*timeline_destroy)(ifd_timeline *tl);
  int (*timeline_export_fd)(ifd_timeline *tl, int *out_fd);
  int (*timeline_signal)(ifd_timeline *tl, uint64_t value);
  int (*timeline_wait)(ifd_timeline *tl, uint64_t value);
  int (*timeline_host_signal)(ifd_timeline *tl, uint64_t value); /* from the host, now */
  int (*timeline_host_wait)(ifd_timeline *tl, uint64_t value, uint64_t timeout_ns);
  int (*timeline_value)(ifd_timeline *tl, uint64_t *out_value);
};

extern const ifd_backend_ops ifd_vulkan_backend;
extern const ifd_backend_ops ifd_cuda_backend;

/* context.c, with ctx->lock held: once no queue/stream waits for a release
 * that has not come (ifd_ring_waits_pending), waits for the context to go idle
 * and frees the images and timelines destroyed while it could not. A
 * destroyed image or timeline is put on the zombie lists first, so its
 * resources outlive any work already queued on it. */
void ifd_context_sweep(ifd_context *ctx);

/* handles.c: the set of live handles, so a destroyed one is refused. */
typedef enum {
  IFD_HANDLE_CONTEXT = 1, IFD_HANDLE_IMAGE, IFD_HANDLE_TIMELINE, IFD_HANDLE_RING,
  IFD_HANDLE_VK_IMPORTER, IFD_HANDLE_VK_FRAME, IFD_HANDLE_VK_TIMELINE, IFD_HANDLE_VK_RING,
  IFD_HANDLE_GL_IMPORTER, IFD_HANDLE_GL_FRAME, IFD_HANDLE_GL_TIMELINE, IFD_HANDLE_GL_RING,
  IFD_HANDLE_RING_SERVER, IFD_HANDLE_RING_LINK
} ifd_handle_kind;
int ifd_handle_add(const void *p, ifd_handle_kind kind) IFD_MUST_CHECK;
void ifd_handle_remove(const void *p);
bool ifd_handle_live(const void *p, ifd_handle_kind kind);
/* For children destroyed with their parent: p's memory is freed, but its entry
 * stays, so that later calls say why (`why`, a static string, e.g. "its
 * importer was destroyed first") instead of "not a live handle". The
 * child's own destroy then drops the entry (ifd_handle_drop_orphan: true if
 * p was such an orphan of this kind). A new handle at the same address
 * replaces it. */
void ifd_handle_orphan(const void *p, const char *why);
bool ifd_handle_drop_orphan(const void *p, ifd_handle_kind kind);
/* Whether a destroy of p goes ahead: false for NULL, for an orphan (its entry
 * is dropped here) and for a handle that is not live (message set, as
 * ifd_check_handle). */
bool ifd_handle_destroy_ok(const void *p, ifd_handle_kind kind, const char *what, const char *fn);

/* Validates a handle argument; on failure sets the message and returns -EINVAL. */
int ifd_check_context(const ifd_context *ctx, const char *fn);
int ifd_check_image(const ifd_image *image, const char *fn);
int ifd_check_timeline(const ifd_timeline *tl, const char *fn);
/* Any kind: `what` names it in the message ("ring", "Vulkan frame", ...). */
int ifd_check_handle(const void *p, ifd_handle_kind kind, const char *what, const char *fn);

/* semaphore_fds.c: maps fds returned by AsyncRT_Create_timeline_semaphore_fd
 * back to their timeline. */
int ifd_semfd_register(int fd, ifd_timeline *tl) IFD_MUST_CHECK;
void ifd_semfd_forget(const ifd_timeline *tl);
int ifd_semfd_lookup(int fd, ifd_timeline **out);

/* ring.c: called by ifd_context_destroy with ctx->lock held, before the
 * images and timelines go: every ring of ctx drops its pointers to them and
 * answers later calls with -EINVAL ("the context was destroyed first");
 * ifd_ring_destroy then only frees the ring itself. */
void ifd_ring_context_gone(ifd_context *ctx);

/* ring.c, with ctx->lock held. Whether the context's queue/stream waits on
 * the device for a release that has not come (a consumer that stopped): then
 * it cannot go idle. ifd_ring_release_waits signals those releases from the
 * host, as ifd_ring_destroy does, so that ifd_context_destroy cannot hang. */
bool ifd_ring_waits_pending(ifd_context *ctx);
void ifd_ring_release_waits(ifd_context *ctx);

/* ring.c: what a consumer in this process can learn about the producer of an
 * exported ring. A progress object outlives the ring (reference counted). */
typedef struct ifd_ring_progress ifd_ring_progress;
/* The progress of the live ring of this process whose export desc is (the
 * memory fds of every frame name the same files as one of its exports), with
 * a new reference; NULL if none, or if it cannot be told apart from another. */
ifd_ring_progress *ifd_ring_progress_find(const ifd_ring_desc *desc);
void ifd_ring_progress_put(ifd_ring_progress *p); /* NULL is a no-op */
/* The last frame the producer ended; *gone: its ring was destroyed. */
uint64_t ifd_ring_progress_ended(ifd_ring_progress *p, bool *gone);
/* Waits on the host until the producer ended frame k. 0; -ETIMEDOUT; -EPIPE
 * the producer's ring (or its context) was destroyed before frame k ended.
 * Sets the message, prefixed with fn, on failure. Without wait: timeout 0. */
int ifd_ring_progress_wait(ifd_ring_progress *p, uint64_t k, uint64_t timeout_ns, const char *fn);

/* ring.c, MAILBOX rings (interop_fd.h): a consumer's own progress over the
 * shared state that control_fd (not consumed) names, checked first (size,
 * seals, magic, version, slots of a ring of `count`). Errors: -EINVAL saying
 * why, -EBADF, -ENOMEM. */
int ifd_ring_progress_open(int control_fd, uint32_t count, ifd_ring_progress **out);
bool ifd_ring_progress_is_mailbox(const ifd_ring_progress *p); /* false for NULL */
/* Takes the newest frame ended since the last take (waits up to timeout_ns).
 * Errors, prefixed with fn: -EINVAL p is not a MAILBOX consumer's; -EAGAIN
 * none newer (timeout 0); -ETIMEDOUT none newer in time; -EPIPE none newer
 * and the producer's ring is destroyed; -EIO malformed shared state. */
int ifd_ring_progress_take(ifd_ring_progress *p, uint64_t timeout_ns, uint64_t *out_frame,
                           const char *fn);
/* The slot that holds frame k for a consumer: (k - 1) % count in FIFO (p
 * NULL or not MAILBOX); in MAILBOX the slot of its last take or of the one
 * before. -EINVAL (message prefixed with fn) for k == 0 or a frame of a
 * MAILBOX ring not taken. */
int ifd_ring_progress_slot(const ifd_ring_progress *p, uint32_t count, uint64_t k,
                           const char *fn);

/* ring.c, for share/serve.c: a ring served to a viewer in another process.
 * A ring has at most one server. ifd_ring_attach_server fails with -EINVAL
 * (message set) for a bad ring or one already served. Once attached, the
 * ring calls ifd_server_ring_event (serve.c) after every frame it ends and
 * when its context is destroyed, and ifd_server_ring_gone at the start of
 * ifd_ring_destroy: that returns only once the server no longer uses the
 * ring. ifd_ring_detach_server undoes the attach (the server's destroy). */
typedef struct ifd_ring_server ifd_ring_server;
int ifd_ring_attach_server(ifd_ring *ring, ifd_ring_server *server);
void ifd_ring_detach_server(ifd_ring *ring, ifd_ring_server *server);
void ifd_server_ring_event(ifd_ring_server *server);
void ifd_server_ring_gone(ifd_ring_server *server);
/* The ring's state as a viewer needs it: the last frame ended and released
 * (with timelines, the release timeline's value: a query of the device, made
 * only when released is asked for), whether it has timelines. Any out-pointer
 * may be NULL. -EINVAL (message set) if the ring can no longer be used (its
 * context was destroyed first). */
int ifd_ring_share_state(ifd_ring *ring, uint64_t *ended, uint64_t *released, bool *timelines);
/* Releases every frame up to k (k <= the last ended) on behalf of a viewer
 * that is not there or left: from the host, only if not released yet. */
int ifd_ring_release_upto(ifd_ring *ring, uint64_t k);

/* context.c, timeline.c: used by the ABI layer with checks already done. */
int ifd_timeline_create_locked(ifd_context *ctx, uint64_t initial_value, ifd_timeline **out);
void ifd_timeline_destroy_locked(ifd_timeline *tl);
int ifd_timeline_signal_locked(ifd_timeline *tl, uint64_t value);

#endif
