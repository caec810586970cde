#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

int ifd_timeline_create_locked(ifd_context *ctx, uint64_t initial_value, ifd_timeline **out) {
  if (!ctx->ops->timeline_support)
    return ifd_fail(-EOPNOTSUPP, "the %s backend has no timeline semaphores", ctx->ops->name);
  int rc = ctx->ops->timeline_support(ctx);
  if (rc != 0) return rc;
  ifd_timeline *tl = calloc(1, sizeof(*tl));
  if (!tl) return ifd_fail(-ENOMEM, "out of host memory for a timeline");
  tl->ctx = ctx;
  tl->last_signaled = initial_value;
  rc = ctx->ops->timeline_create(tl, initial_value);
  if (rc == 0) {
    rc = ifd_handle_add(tl, IFD_HANDLE_TIMELINE);
    if (rc != 0) ctx->ops->timeline_destroy(tl);
  }
  if (rc != 0) {
    free(tl);
    return rc;
  }
  tl->next = ctx->timelines;
  ctx->timelines = tl;
  *out = tl;
  return 0;
}

void ifd_timeline_destroy_locked(ifd_timeline *tl) {
  ifd_context *ctx = tl->ctx;
  for (ifd_timeline **p = &ctx->timelines; *p; p = &(*p)->next) {
    if (*p == tl) {
      *p = tl->next;
      break;
    }
  }
  ifd_handle_remove(tl);
  ifd_semfd_forget(tl);
  /* Submitted work may still signal or wait on it (a ring's frames):
   * destroyed once the queue is idle (VUID-vkDestroySemaphore-semaphore-01137). */
  tl->next = ctx->timeline_zombies;
  ctx->timeline_zombies = tl;
  ifd_context_sweep(ctx);
}

int ifd_timeline_signal_locked(ifd_timeline *tl, uint64_t value) {
  if (value <= tl->last_signaled)
    return ifd_fail(-EINVAL, "timeline values must increase: %llu is not above %llu, the last "
                             "value signalled",
                    (unsigned long long)value, (unsigned long long)tl->last_signaled);
  int rc = tl->ctx->ops->timeline_signal(tl, value);
  if (rc == 0) tl->last_signaled = value;
  return rc;
}

int ifd_timeline_create(ifd_context *ctx, uint64_t initial_value, ifd_timeline **out) {
  int rc = ifd_check_context(ctx, "ifd_timeline_create");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_timeline_create: out is NULL");
  pthread_mutex_lock(&ctx->lock);
  rc = ifd_timeline_create_locked(ctx, initial_value, out);
  pthread_mutex_unlock(&ctx->lock);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "ifd_timeline_create");
}

int ifd_timeline_import_fd(ifd_context *ctx, int fd, ifd_timeline **out) {
  int rc = ifd_check_context(ctx, "ifd_timeline_import_fd");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_timeline_import_fd: out is NULL");
  if (fd < 0 || fcntl(fd, F_GETFD) < 0)
    return ifd_fail(-EBADF, "ifd_timeline_import_fd: fd %d is not an open fd", fd);
  if (!ctx->ops->timeline_import_fd)
    return ifd_fail(-EOPNOTSUPP, "ifd_timeline_import_fd: the %s backend cannot import timeline "
                                 "semaphores", ctx->ops->name);
  ifd_timeline *tl = calloc(1, sizeof(*tl));
  if (!tl) return ifd_fail(-ENOMEM, "out of host memory for a timeline");
  tl->ctx = ctx;
  tl->imported = true;
  pthread_mutex_lock(&ctx->lock);
  rc = ctx->ops->timeline_import_fd(tl, fd);
  if (rc == 0) {
    rc = ifd_handle_add(tl, IFD_HANDLE_TIMELINE);
    if (rc != 0) ctx->ops->timeline_destroy(tl); /* fd was consumed: nothing else to close */
  }
  if (rc == 0) {
    uint64_t v = 0;
    if (ctx->ops->timeline_value(tl, &v) == 0) tl->last_signaled = v;
    tl->next = ctx->timelines;
    ctx->timelines = tl;
  }
  pthread_mutex_unlock(&ctx->lock);
  if (rc != 0) {
    free(tl);
    return ifd_fail_prefix(rc, "ifd_timeline_import_fd");
  }
  *out = tl;
  return 0;
}

void ifd_timeline_destroy(ifd_timeline *tl) {
  if (!tl || ifd_check_timeline(tl, "ifd_timeline_destroy") != 0) return;
  ifd_context *ctx = tl->ctx;
  pthread_mutex_lock(&ctx->lock);
  if (tl->ring_owned)
    ifd_fail(-EINVAL, "ifd_timeline_destroy: the timeline belongs to a ring: ifd_ring_destroy "
                      "destroys it");
  else
    ifd_timeline_destroy_locked(tl);
  pthread_mutex_unlock(&ctx->lock);
}

int ifd_timeline_export_fd(ifd_timeline *tl, int *out_fd) {
  if (out_fd) *out_fd = -1;
  int rc = ifd_check_timeline(tl, "ifd_timeline_export_fd");
  if (rc != 0) return rc;
  if (!out_fd) return ifd_fail(-EINVAL, "ifd_timeline_export_fd: out_fd is NULL");
  pthread_mutex_lock(&tl->ctx->lock);
  rc = tl->ctx->ops->timeline_export_fd(tl, out_fd);
  pthread_mutex_unlock(&tl->ctx->lock);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "ifd_timeline_export_fd");
}

/* A call that reaches the queue/stream, so runs with the context's lock held. */
static int call_locked(ifd_timeline *tl, uint64_t value, int (*op)(ifd_timeline *, uint64_t),
                       const char *fn) {
  int rc = ifd_check_timeline(tl, fn);
  if (rc != 0) return rc;
  pthread_mutex_lock(&tl->ctx->lock);
  rc = op(tl, value);
  pthread_mutex_unlock(&tl->ctx->lock);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
}

int ifd_timeline_signal(ifd_timeline *tl, uint64_t value) {
  return call_locked(tl, value, ifd_timeline_signal_locked, "ifd_timeline_signal");
}

static int wait_locked(ifd_timeline *tl, uint64_t value) {
  return tl->ctx->ops->timeline_wait(tl, value);
}

int ifd_timeline_wait(ifd_timeline *tl, uint64_t value) {
  return call_locked(tl, value, wait_locked, "ifd_timeline_wait");
}

/* Host waits and value reads take no context lock: they must not block the
 * producer thread's submissions while sleeping. */
int ifd_timeline_host_wait(ifd_timeline *tl, uint64_t value, uint64_t timeout_ns) {
  int rc = ifd_check_timeline(tl, "ifd_timeline_host_wait");
  if (rc != 0) return rc;
  rc = tl->ctx->ops->timeline_host_wait(tl, value, timeout_ns);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "ifd_timeline_host_wait");
}

int ifd_timeline_value(ifd_timeline *tl, uint64_t *out_value) {
  int rc = ifd_check_timeline(tl, "ifd_timeline_value");
  if (rc != 0) return rc;
  if (!out_value) return ifd_fail(-EINVAL, "ifd_timeline_value: out_value is NULL");
  rc = tl->ctx->ops->timeline_value(tl, out_value);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "ifd_timeline_value");
}
