#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static const char *backend_name(ifd_backend b) {
  switch (b) {
    case IFD_BACKEND_AUTO: return "auto";
    case IFD_BACKEND_CUDA: return "cuda";
    case IFD_BACKEND_VULKAN: return "vulkan";
  }
  return "unknown";
}

static int context_alloc(const ifd_backend_ops *ops, ifd_backend backend, ifd_context **out) {
  ifd_context *ctx = calloc(1, sizeof(*ctx));
  if (!ctx) return ifd_fail(-ENOMEM, "out of host memory for a context");
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int rc = pthread_mutex_init(&ctx->lock, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0) {
    free(ctx);
    return ifd_fail(-rc, "cannot create the context's mutex");
  }
  ctx->ops = ops;
  ctx->backend = backend;
  ctx->native.backend = backend;
  *out = ctx;
  return 0;
}

static void context_free(ifd_context *ctx) {
  pthread_mutex_destroy(&ctx->lock);
  free(ctx);
}

static int context_publish(ifd_context *ctx, ifd_context **out) {
  int rc = ifd_handle_add(ctx, IFD_HANDLE_CONTEXT);
  if (rc != 0) {
    ctx->ops->context_destroy(ctx);
    context_free(ctx);
    return rc;
  }
  *out = ctx;
  return 0;
}

static int create_with(const ifd_backend_ops *ops, ifd_backend backend, int index,
                       ifd_context **out) {
  ifd_context *ctx;
  int rc = context_alloc(ops, backend, &ctx);
  if (rc != 0) return rc;
  rc = ops->context_create(ctx, index);
  if (rc != 0) {
    context_free(ctx);
    return rc;
  }
  return context_publish(ctx, out);
}

int ifd_context_create(ifd_backend backend, int device_index, ifd_context **out) {
  if (!out) return ifd_fail(-EINVAL, "ifd_context_create: out is NULL");
  if (device_index < 0)
    return ifd_fail(-EINVAL, "ifd_context_create: device_index %d is negative", device_index);
  switch (backend) {
    case IFD_BACKEND_CUDA:
      return create_with(&ifd_cuda_backend, backend, device_index, out);
    case IFD_BACKEND_VULKAN:
      return create_with(&ifd_vulkan_backend, backend, device_index, out);
    case IFD_BACKEND_AUTO: {
      int rc = create_with(&ifd_cuda_backend, IFD_BACKEND_CUDA, device_index, out);
      if (rc == 0) return 0;
      return create_with(&ifd_vulkan_backend, IFD_BACKEND_VULKAN, device_index, out);
    }
  }
  return ifd_fail(-EINVAL, "ifd_context_create: unknown backend %d (%s)", (int)backend,
                  backend_name(backend));
}

int ifd_context_create_cuda(void *cu_context, void *cu_stream, ifd_context **out) {
  if (!out) return ifd_fail(-EINVAL, "ifd_context_create_cuda: out is NULL");
  if (!cu_context) return ifd_fail(-EINVAL, "ifd_context_create_cuda: cu_context is NULL");
  ifd_context *ctx;
  int rc = context_alloc(&ifd_cuda_backend, IFD_BACKEND_CUDA, &ctx);
  if (rc != 0) return rc;
  rc = ifd_cuda_backend.context_adopt(ctx, cu_context, cu_stream);
  if (rc != 0) {
    context_free(ctx);
    return rc;
  }
  return context_publish(ctx, out);
}

void ifd_context_sweep(ifd_context *ctx) {
  if (ifd_ring_waits_pending(ctx)) return;
  ctx->ops->context_idle(ctx);
  while (ctx->timeline_zombies) {
    ifd_timeline *tl = ctx->timeline_zombies;
    ctx->timeline_zombies = tl->next;
    ctx->ops->timeline_destroy(tl);
    free(tl);
  }
  while (ctx->zombies) {
    ifd_image *image = ctx->zombies;
    ctx->zombies = image->next;
    ctx->ops->image_destroy(image);
    free(image);
  }
}

void ifd_context_destroy(ifd_context *ctx) {
  if (!ctx || ifd_check_context(ctx, "ifd_context_destroy") != 0) return;
  pthread_mutex_lock(&ctx->lock);
  ifd_ring_release_waits(ctx); /* else a stopped consumer keeps the queue busy */
  ifd_ring_context_gone(ctx);
  ifd_context_sweep(ctx);
  /* The context is idle now: no sweep per timeline. */
  while (ctx->timelines) {
    ifd_timeline *tl = ctx->timelines;
    tl->ring_owned = false;
    ctx->timelines = tl->next;
    ifd_handle_remove(tl);
    ifd_semfd_forget(tl);
    ctx->ops->timeline_destroy(tl);
    free(tl);
  }
  while (ctx->images) {
    ifd_image *image = ctx->images;
    ctx->images = image->next;
    ifd_handle_remove(image);
    ctx->ops->image_destroy(image);
    free(image);
  }
  ctx->ops->context_destroy(ctx);
  ifd_handle_remove(ctx);
  pthread_mutex_unlock(&ctx->lock);
  context_free(ctx);
}

ifd_backend ifd_context_backend(const ifd_context *ctx) {
  if (ifd_check_context(ctx, "ifd_context_backend") != 0) return IFD_BACKEND_AUTO;
  return ctx->backend;
}

int ifd_context_native_handles(const ifd_context *ctx, ifd_context_native *out) {
  int rc = ifd_check_context(ctx, "ifd_context_native_handles");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_context_native_handles: out is NULL");
  *out = ctx->native;
  return 0;
}

int ifd_context_lock(ifd_context *ctx) {
  int rc = ifd_check_context(ctx, "ifd_context_lock");
  if (rc != 0) return rc;
  pthread_mutex_lock(&ctx->lock);
  return 0;
}

void ifd_context_unlock(ifd_context *ctx) {
  if (ifd_check_context(ctx, "ifd_context_unlock") == 0) pthread_mutex_unlock(&ctx->lock);
}
