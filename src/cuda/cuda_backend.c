/* The CUDA backend. Memory: cuMemCreate with POSIX_FILE_DESCRIPTOR export,
 * mapped with cuMemMap (plain cuMemAlloc memory cannot be exported as
 * OPAQUE_FD). Semaphores: CUDA cannot create one, so a Vulkan timeline is made
 * on the physical device whose deviceUUID equals the CUDA device's, exported,
 * and imported into CUDA; signals and waits are then stream-ordered CUDA calls. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/internal.h"
#include "../vulkan/vk_device.h"
#include "cuda_api.h"

typedef struct {
  const ifd_cuda_api *cu;
  CUdevice device;
  CUcontext context;
  CUstream stream;
  bool retained_primary; /* we own a primary-context reference */
  bool owns_stream;
  size_t granularity;
  bool dma_buf;
  ifd_vk_device *vk;     /* same GPU, for semaphores and layouts; NULL if none */
  char vk_why[512];
} cuda_ctx;

typedef struct {
  CUmemGenericAllocationHandle handle;
  CUdeviceptr ptr;
} cuda_image;

/* A host wait on a value this context signalled polls the CUDA event recorded
 * right after that signal: CUDA sees its own work finish at once. */
#define EVENT_RING 64

typedef struct {
  ifd_vkdev_timeline vk;
  CUexternalSemaphore ext;
  pthread_mutex_t ring_lock;
  struct {
    uint64_t value;
    CUevent event;
  } ring[EVENT_RING];
  unsigned next;
} cuda_timeline;

#define C(ctx) ((cuda_ctx *)(ctx)->impl)

static int push(cuda_ctx *c) {
  CUresult r = c->cu->cuCtxPushCurrent(c->context);
  return r == CUDA_SUCCESS ? 0 : ifd_cuda_fail(c->cu, r, "cuCtxPushCurrent");
}

static void pop(cuda_ctx *c) {
  CUcontext dummy;
  c->cu->cuCtxPopCurrent(&dummy);
}

/* ------------------------------------------------------------------ context */

static void open_vulkan(cuda_ctx *c) {
  uint8_t uuid[16];
  if (c->cu->cuDeviceGetUuid(uuid, c->device) != CUDA_SUCCESS) {
    snprintf(c->vk_why, sizeof(c->vk_why), "cuDeviceGetUuid failed");
    return;
  }
  ifd_vk_device *vk = calloc(1, sizeof(*vk));
  if (!vk) return;
  if (ifd_vk_device_open(vk, 0, uuid) != 0) {
    snprintf(c->vk_why, sizeof(c->vk_why),
             "timeline semaphores need Vulkan on the same GPU, which failed: %s", ifd_last_error());
    free(vk);
    return;
  }
  if (!vk->can_export_timeline)
    snprintf(c->vk_why, sizeof(c->vk_why), "%s", vk->timeline_why_not);
  c->vk = vk;
}

static int check_device(cuda_ctx *c) {
  static const struct {
    int attr;
    const char *what;
  } need[] = {
      {CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, "virtual memory management"},
      {CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED, "POSIX fd export"},
  };
  for (size_t i = 0; i < IFD_ARRAY_LEN(need); i++) {
    int v = 0;
    c->cu->cuDeviceGetAttribute(&v, need[i].attr, c->device);
    if (!v) return ifd_fail(-EOPNOTSUPP, "CUDA device %d lacks %s", c->device, need[i].what);
  }
  int v = 0;
  c->cu->cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED, c->device);
  c->dma_buf = v != 0;
  CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                              .requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                              .location = {CU_MEM_LOCATION_TYPE_DEVICE, c->device}};
  CUresult r = c->cu->cuMemGetAllocationGranularity(&c->granularity, &prop,
                                                    CU_MEM_ALLOC_GRANULARITY_MINIMUM);
  if (r != CUDA_SUCCESS) return ifd_cuda_fail(c->cu, r, "cuMemGetAllocationGranularity");
  return 0;
}

static void fill_native(ifd_context *ctx) {
  cuda_ctx *c = C(ctx);
  ctx->native.cu_context = c->context;
  ctx->native.cu_stream = c->stream;
  ctx->native.cu_device = c->device;
  if (c->vk) ifd_vk_device_fill_native(c->vk, &ctx->native);
  c->cu->cuDeviceGetName(ctx->native.device_name, (int)sizeof(ctx->native.device_name), c->device);
}

static void cuda_context_destroy(ifd_context *ctx);

static int finish_create(ifd_context *ctx) {
  cuda_ctx *c = C(ctx);
  int rc = check_device(c);
  if (rc == 0 && !c->stream) {
    rc = push(c);
    if (rc == 0) {
      CUresult r = c->cu->cuStreamCreate(&c->stream, CU_STREAM_NON_BLOCKING);
      pop(c);
      if (r != CUDA_SUCCESS) rc = ifd_cuda_fail(c->cu, r, "cuStreamCreate");
      else c->owns_stream = true;
    }
  }
  if (rc != 0) {
    cuda_context_destroy(ctx);
    return ifd_fail_prefix(rc, "CUDA backend");
  }
  open_vulkan(c);
  fill_native(ctx);
  return 0;
}

static int cuda_context_create(ifd_context *ctx, int device_index) {
  int err;
  const ifd_cuda_api *cu = ifd_cuda_api_get(&err);
  if (!cu) return err;
  int count = 0;
  cu->cuDeviceGetCount(&count);
  if (device_index >= count)
    return ifd_fail(-ENODEV, "CUDA backend: device %d requested, %d present", device_index, count);
  cuda_ctx *c = calloc(1, sizeof(*c));
  if (!c) return ifd_fail(-ENOMEM, "out of host memory");
  c->cu = cu;
  ctx->impl = c;
  CUresult r = cu->cuDeviceGet(&c->device, device_index);
  if (r == CUDA_SUCCESS) r = cu->cuDevicePrimaryCtxRetain(&c->context, c->device);
  if (r != CUDA_SUCCESS) {
    free(c);
    ctx->impl = NULL;
    return ifd_cuda_fail(cu, r, "CUDA backend: retaining the primary context");
  }
  c->retained_primary = true;
  return finish_create(ctx);
}

static int cuda_context_adopt(ifd_context *ctx, void *native_context, void *native_stream) {
  int err;
  const ifd_cuda_api *cu = ifd_cuda_api_get(&err);
  if (!cu) return err;
  cuda_ctx *c = calloc(1, sizeof(*c));
  if (!c) return ifd_fail(-ENOMEM, "out of host memory");
  c->cu = cu;
  c->context = native_context;
  c->stream = native_stream; /* may be NULL: the legacy default stream */
  ctx->impl = c;
  CUresult r = cu->cuCtxPushCurrent(c->context);
  if (r == CUDA_SUCCESS) {
    r = cu->cuCtxGetDevice(&c->device);
    pop(c);
  }
  if (r != CUDA_SUCCESS) {
    free(c);
    ctx->impl = NULL;
    return ifd_cuda_fail(cu, r, "ifd_context_create_cuda: the CUcontext is not usable");
  }
  int rc = check_device(c);
  if (rc != 0) {
    free(c);
    ctx->impl = NULL;
    return rc;
  }
  open_vulkan(c);
  fill_native(ctx);
  return 0;
}

static void cuda_context_idle(ifd_context *ctx) {
  cuda_ctx *c = C(ctx);
  if (push(c) == 0) {
    c->cu->cuStreamSynchronize(c->stream);
    pop(c);
  }
  if (c->vk) c->vk->fn.vkQueueWaitIdle(c->vk->queue);
}

static void cuda_context_destroy(ifd_context *ctx) {
  cuda_ctx *c = C(ctx);
  if (!c) return;
  if (c->owns_stream && push(c) == 0) {
    c->cu->cuStreamDestroy(c->stream);
    pop(c);
  }
  if (c->retained_primary) c->cu->cuDevicePrimaryCtxRelease(c->device);
  if (c->vk) {
    ifd_vk_device_close(c->vk);
    free(c->vk);
  }
  free(c);
  ctx->impl = NULL;
}

/* ------------------------------------------------------------------ images */

static void image_release(cuda_ctx *c, cuda_image *im, size_t size) {
  if (im->ptr) {
    c->cu->cuMemUnmap(im->ptr, size);
    c->cu->cuMemAddressFree(im->ptr, size);
  }
  if (im->handle) c->cu->cuMemRelease(im->handle);
  free(im);
}

static int cuda_image_create(ifd_image *image) {
  cuda_ctx *c = C(image->ctx);
  uint64_t pitch, size;
  uint32_t type_bits;
  ifd_vk_image_layout(c->vk, image, c->granularity, &pitch, &size, &type_bits);
  cuda_image *im = calloc(1, sizeof(*im));
  if (!im) return ifd_fail(-ENOMEM, "out of host memory");
  int rc = push(c);
  if (rc != 0) {
    free(im);
    return rc;
  }
  CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                              .requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                              .location = {CU_MEM_LOCATION_TYPE_DEVICE, c->device}};
  CUmemAccessDesc access = {.location = prop.location, .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE};
  const char *step = "cuMemCreate";
  CUresult r = c->cu->cuMemCreate(&im->handle, size, &prop, 0);
  if (r == CUDA_SUCCESS) {
    step = "cuMemAddressReserve";
    r = c->cu->cuMemAddressReserve(&im->ptr, size, c->granularity, 0, 0);
  }
  if (r == CUDA_SUCCESS) {
    step = "cuMemMap";
    r = c->cu->cuMemMap(im->ptr, size, 0, im->handle, 0);
    if (r != CUDA_SUCCESS) {
      c->cu->cuMemAddressFree(im->ptr, size);
      im->ptr = 0;
    }
  }
  if (r == CUDA_SUCCESS) {
    step = "cuMemSetAccess";
    r = c->cu->cuMemSetAccess(im->ptr, size, &access, 1);
  }
  if (r != CUDA_SUCCESS) {
    rc = ifd_cuda_fail(c->cu, r, step);
    image_release(c, im, size);
  } else {
    image->row_pitch = (uint32_t)pitch;
    image->size = size;
    image->impl = im;
  }
  pop(c);
  return rc;
}

static void cuda_image_destroy(ifd_image *image) {
  cuda_ctx *c = C(image->ctx);
  if (!image->impl || push(c) != 0) return;
  image_release(c, image->impl, image->size);
  image->impl = NULL;
  pop(c);
}

static int cuda_image_export_fd(ifd_image *image, int *out_fd) {
  cuda_ctx *c = C(image->ctx);
  cuda_image *im = image->impl;
  int fd = -1;
  CUresult r = c->cu->cuMemExportToShareableHandle(&fd, im->handle,
                                                   CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0);
  if (r != CUDA_SUCCESS) return ifd_cuda_fail(c->cu, r, "cuMemExportToShareableHandle");
  return ifd_fd_hand_out(fd, out_fd);
}

static int cuda_image_export_dmabuf(ifd_image *image, int *out_fd) {
  cuda_ctx *c = C(image->ctx);
  cuda_image *im = image->impl;
  if (!c->dma_buf)
    return ifd_fail(-EOPNOTSUPP, "CUDA device %d cannot export dma-bufs", c->device);
  int rc = push(c);
  if (rc != 0) return rc;
  int fd = -1;
  CUresult r = c->cu->cuMemGetHandleForAddressRange(&fd, im->ptr, image->size,
                                                    CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD, 0);
  pop(c);
  if (r != CUDA_SUCCESS) return ifd_cuda_fail(c->cu, r, "cuMemGetHandleForAddressRange(dma-buf)");
  return ifd_fd_hand_out(fd, out_fd);
}

static void cuda_image_native(const ifd_image *image, ifd_image_native *out) {
  out->cu_device_ptr = ((const cuda_image *)image->impl)->ptr;
}

static int cuda_image_copy(ifd_image *image, void *host, size_t host_pitch, bool upload) {
  cuda_ctx *c = C(image->ctx);
  cuda_image *im = image->impl;
  CUDA_MEMCPY2D m = {.WidthInBytes = (size_t)image->width * image->info->bytes_per_pixel,
                     .Height = image->height};
  if (upload) {
    m.srcMemoryType = CU_MEMORYTYPE_HOST;
    m.srcHost = host;
    m.srcPitch = host_pitch;
    m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    m.dstDevice = im->ptr;
    m.dstPitch = image->row_pitch;
  } else {
    m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    m.srcDevice = im->ptr;
    m.srcPitch = image->row_pitch;
    m.dstMemoryType = CU_MEMORYTYPE_HOST;
    m.dstHost = host;
    m.dstPitch = host_pitch;
  }
  int rc = push(c);
  if (rc != 0) return rc;
  CUresult r = c->cu->cuMemcpy2DAsync(&m, c->stream);
  if (r == CUDA_SUCCESS) r = c->cu->cuStreamSynchronize(c->stream);
  pop(c);
  return r == CUDA_SUCCESS ? 0 : ifd_cuda_fail(c->cu, r, upload ? "upload" : "download");
}

/* ------------------------------------------------------------------ timelines */

#define T(tl) ((cuda_timeline *)(tl)->impl)

static int cuda_timeline_support(ifd_context *ctx) {
  cuda_ctx *c = C(ctx);
  if (!c->vk || !c->vk->can_export_timeline)
    return ifd_fail(-EOPNOTSUPP, "%s", c->vk_why[0] ? c->vk_why : "no Vulkan device");
  int v = 0;
  c->cu->cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED,
                              c->device);
  if (!v)
    return ifd_fail(-EOPNOTSUPP, "CUDA device %d cannot import timeline semaphores", c->device);
  return 0;
}

/* Imports fd into CUDA. CUDA owns the fd on success only. */
static int import_into_cuda(cuda_ctx *c, cuda_timeline *t, int fd) {
  CUDA_EXTERNAL_SEMAPHORE_HANDLE_DESC desc = {
      .type = CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_SEMAPHORE_FD};
  desc.handle.fd = fd;
  int rc = push(c);
  if (rc != 0) return rc;
  CUresult r = c->cu->cuImportExternalSemaphore(&t->ext, &desc);
  pop(c);
  return r == CUDA_SUCCESS ? 0 : ifd_cuda_fail(c->cu, r, "cuImportExternalSemaphore");
}

static cuda_timeline *timeline_alloc(void) {
  cuda_timeline *t = calloc(1, sizeof(*t));
  if (t && pthread_mutex_init(&t->ring_lock, NULL) != 0) {
    free(t);
    t = NULL;
  }
  if (!t) ifd_fail(-ENOMEM, "out of host memory");
  return t;
}

static void timeline_free(cuda_ctx *c, cuda_timeline *t) {
  if (push(c) == 0) {
    if (t->ext) c->cu->cuDestroyExternalSemaphore(t->ext);
    for (unsigned i = 0; i < EVENT_RING; i++)
      if (t->ring[i].event) c->cu->cuEventDestroy(t->ring[i].event);
    pop(c);
  }
  ifd_vkdev_timeline_destroy(c->vk, &t->vk);
  pthread_mutex_destroy(&t->ring_lock);
  free(t);
}

static int cuda_timeline_create(ifd_timeline *tl, uint64_t initial) {
  cuda_ctx *c = C(tl->ctx);
  cuda_timeline *t = timeline_alloc();
  if (!t) return -ENOMEM;
  int fd = -1;
  int rc = ifd_vkdev_timeline_create(c->vk, &t->vk, initial, true);
  if (rc == 0) rc = ifd_vkdev_timeline_export(c->vk, &t->vk, &fd);
  if (rc == 0) {
    rc = import_into_cuda(c, t, fd);
    if (rc != 0) close(fd);
  }
  if (rc != 0) {
    timeline_free(c, t);
    return rc;
  }
  tl->impl = t;
  return 0;
}

/* The consumer's fd goes to both Vulkan (host waits, values) and CUDA
 * (stream waits); each import consumes a dup, so on failure the caller's fd
 * is untouched, and on success it is closed. */
static int cuda_timeline_import_fd(ifd_timeline *tl, int fd) {
  cuda_ctx *c = C(tl->ctx);
  if (!c->vk || !c->vk->can_import_timeline)
    return ifd_fail(-EOPNOTSUPP, "%s", c->vk_why[0] ? c->vk_why : "no Vulkan device");
  cuda_timeline *t = timeline_alloc();
  if (!t) return -ENOMEM;
  int for_vk = fcntl(fd, F_DUPFD_CLOEXEC, 0), for_cuda = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  int rc = (for_vk < 0 || for_cuda < 0) ? ifd_fail(-errno, "cannot dup fd %d", fd) : 0;
  if (rc == 0) {
    rc = ifd_vkdev_timeline_import(c->vk, &t->vk, for_vk);
    if (rc == 0) for_vk = -1;
  }
  if (rc == 0) {
    rc = import_into_cuda(c, t, for_cuda);
    if (rc == 0) for_cuda = -1;
  }
  ifd_fd_close(&for_vk);
  ifd_fd_close(&for_cuda);
  if (rc != 0) {
    timeline_free(c, t);
    return rc;
  }
  close(fd);
  tl->impl = t;
  return 0;
}

static void cuda_timeline_destroy(ifd_timeline *tl) {
  if (tl->impl) timeline_free(C(tl->ctx), tl->impl);
  tl->impl = NULL;
}

static int cuda_timeline_export_fd(ifd_timeline *tl, int *out_fd) {
  return ifd_vkdev_timeline_export(C(tl->ctx)->vk, &T(tl)->vk, out_fd);
}

static int cuda_timeline_signal(ifd_timeline *tl, uint64_t value) {
  cuda_ctx *c = C(tl->ctx);
  cuda_timeline *t = T(tl);
  CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS p = {0};
  p.params.fence.value = value;
  int rc = push(c);
  if (rc != 0) return rc;
  CUresult r = c->cu->cuSignalExternalSemaphoresAsync(&t->ext, &p, 1, c->stream);
  if (r != CUDA_SUCCESS) {
    pop(c);
    return ifd_cuda_fail(c->cu, r, "cuSignalExternalSemaphoresAsync");
  }
  /* Remember when this value is reached, for fast host waits. */
  pthread_mutex_lock(&t->ring_lock);
  unsigned slot = t->next++ % EVENT_RING;
  if (!t->ring[slot].event)
    c->cu->cuEventCreate(&t->ring[slot].event, CU_EVENT_DISABLE_TIMING);
  if (t->ring[slot].event && c->cu->cuEventRecord(t->ring[slot].event, c->stream) == CUDA_SUCCESS)
    t->ring[slot].value = value;
  else
    t->ring[slot].value = 0;
  pthread_mutex_unlock(&t->ring_lock);
  pop(c);
  return 0;
}

static int cuda_timeline_host_signal(ifd_timeline *tl, uint64_t value) {
  return ifd_vkdev_timeline_host_signal(C(tl->ctx)->vk, &T(tl)->vk, value);
}

static int cuda_timeline_wait(ifd_timeline *tl, uint64_t value) {
  cuda_ctx *c = C(tl->ctx);
  CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS p = {0};
  p.params.fence.value = value;
  int rc = push(c);
  if (rc != 0) return rc;
  CUresult r = c->cu->cuWaitExternalSemaphoresAsync(&T(tl)->ext, &p, 1, c->stream);
  pop(c);
  return r == CUDA_SUCCESS ? 0 : ifd_cuda_fail(c->cu, r, "cuWaitExternalSemaphoresAsync");
}

typedef struct {
  cuda_ctx *c;
  CUevent event;
} event_arg;

static int event_done(void *p) {
  event_arg *a = p;
  CUresult r = a->c->cu->cuEventQuery(a->event);
  if (r == CUDA_SUCCESS) return 1;
  if (r == CUDA_ERROR_NOT_READY) return 0;
  return ifd_cuda_fail(a->c->cu, r, "cuEventQuery");
}

static int cuda_timeline_host_wait(ifd_timeline *tl, uint64_t value, uint64_t timeout_ns) {
  cuda_ctx *c = C(tl->ctx);
  cuda_timeline *t = T(tl);
  /* The earliest signal of ours that reaches value, if any. Its event can be
   * re-recorded for a later value while we wait: then we return later, never
   * early. */
  CUevent event = NULL;
  uint64_t best = UINT64_MAX;
  pthread_mutex_lock(&t->ring_lock);
  for (unsigned i = 0; i < EVENT_RING; i++)
    if (t->ring[i].event && t->ring[i].value >= value && t->ring[i].value < best) {
      best = t->ring[i].value;
      event = t->ring[i].event;
    }
  pthread_mutex_unlock(&t->ring_lock);
  if (!event) return ifd_vkdev_timeline_host_wait(c->vk, &t->vk, value, timeout_ns);
  int rc = push(c);
  if (rc != 0) return rc;
  event_arg a = {c, event};
  rc = ifd_poll(event_done, &a, timeout_ns);
  pop(c);
  if (rc == -ETIMEDOUT)
    return ifd_fail(-ETIMEDOUT, "timeline did not reach %llu within %llu ns",
                    (unsigned long long)value, (unsigned long long)timeout_ns);
  return rc;
}

static int cuda_timeline_value(ifd_timeline *tl, uint64_t *out) {
  return ifd_vkdev_timeline_value(C(tl->ctx)->vk, &T(tl)->vk, out);
}

const ifd_backend_ops ifd_cuda_backend = {
    .name = "cuda",
    .context_create = cuda_context_create,
    .context_adopt = cuda_context_adopt,
    .context_idle = cuda_context_idle,
    .context_destroy = cuda_context_destroy,
    .image_create = cuda_image_create,
    .image_destroy = cuda_image_destroy,
    .image_export_fd = cuda_image_export_fd,
    .image_export_dmabuf = cuda_image_export_dmabuf,
    .image_copy = cuda_image_copy,
    .image_native = cuda_image_native,
    .timeline_support = cuda_timeline_support,
    .timeline_create = cuda_timeline_create,
    .timeline_import_fd = cuda_timeline_import_fd,
    .timeline_destroy = cuda_timeline_destroy,
    .timeline_export_fd = cuda_timeline_export_fd,
    .timeline_signal = cuda_timeline_signal,
    .timeline_wait = cuda_timeline_wait,
    .timeline_host_signal = cuda_timeline_host_signal,
    .timeline_host_wait = cuda_timeline_host_wait,
    .timeline_value = cuda_timeline_value,
};
