/* The seed's ABI on top of the native API. */
#include <errno.h>

#include "internal.h"

/* What both exports share: the checks, one export under the context's lock
 * (memory_fd, or a dma-buf) and the description that comes with it.
 * `others_given`: the caller's further out-pointers are all non-NULL. */
static int export_image(const void *handle, bool dmabuf, int *out_fd, uint64_t *out_size,
                        uint32_t *out_pitch, uint32_t *out_width, uint32_t *out_height,
                        bool others_given, const char *fn) {
  if (out_fd) *out_fd = -1;
  ifd_image *image = (ifd_image *)handle;
  int rc = ifd_check_image(image, fn);
  if (rc != 0) return rc;
  if (!out_fd || !out_size || !out_pitch || !out_width || !out_height || !others_given)
    return ifd_fail(-EINVAL, "%s: an out-pointer is NULL (all are required)", fn);
  if (dmabuf && image->info->drm_fourcc == 0)
    return ifd_fail(-EINVAL, "%s: format %s has no DRM fourcc", fn, image->info->name);
  if (dmabuf && !image->ctx->ops->image_export_dmabuf)
    return ifd_fail(-EOPNOTSUPP, "%s: the %s backend cannot export dma-bufs", fn,
                    image->ctx->ops->name);
  pthread_mutex_lock(&image->ctx->lock);
  int fd = -1;
  rc = dmabuf ? image->ctx->ops->image_export_dmabuf(image, &fd)
              : image->ctx->ops->image_export_fd(image, &fd);
  pthread_mutex_unlock(&image->ctx->lock);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  *out_fd = fd;
  *out_size = image->size;
  *out_pitch = image->row_pitch;
  *out_width = image->width;
  *out_height = image->height;
  return 0;
}

int AsyncRT_DeviceBuffer_export_fd(const void *device_buffer_handle, int *out_fd,
                                   uint64_t *out_size_bytes, uint32_t *out_row_pitch_bytes,
                                   uint32_t *out_width, uint32_t *out_height,
                                   MAX_Format *out_format) {
  int rc = export_image(device_buffer_handle, false, out_fd, out_size_bytes, out_row_pitch_bytes,
                        out_width, out_height, out_format != NULL,
                        "AsyncRT_DeviceBuffer_export_fd");
  if (rc != 0) return rc;
  *out_format = ((const ifd_image *)device_buffer_handle)->info->format;
  return 0;
}

int AsyncRT_DeviceBuffer_export_dmabuf(const void *device_buffer_handle, int *out_dmabuf_fd,
                                       uint64_t *out_size_bytes, uint32_t *out_stride_bytes,
                                       uint32_t *out_width, uint32_t *out_height,
                                       uint32_t *out_fourcc, uint64_t *out_modifier) {
  int rc = export_image(device_buffer_handle, true, out_dmabuf_fd, out_size_bytes,
                        out_stride_bytes, out_width, out_height, out_fourcc && out_modifier,
                        "AsyncRT_DeviceBuffer_export_dmabuf");
  if (rc != 0) return rc;
  *out_fourcc = ((const ifd_image *)device_buffer_handle)->info->drm_fourcc;
  *out_modifier = 0; /* DRM_FORMAT_MOD_LINEAR */
  return 0;
}

int AsyncRT_Create_timeline_semaphore_fd(const void *device_context_handle,
                                         uint64_t initial_value, int *out_fd) {
  static const char fn[] = "AsyncRT_Create_timeline_semaphore_fd";
  if (out_fd) *out_fd = -1;
  ifd_context *ctx = (ifd_context *)device_context_handle;
  int rc = ifd_check_context(ctx, fn);
  if (rc != 0) return rc;
  if (!out_fd) return ifd_fail(-EINVAL, "%s: out_fd is NULL", fn);
  pthread_mutex_lock(&ctx->lock);
  ifd_timeline *tl = NULL;
  int fd = -1;
  rc = ifd_timeline_create_locked(ctx, initial_value, &tl);
  if (rc == 0) rc = ctx->ops->timeline_export_fd(tl, &fd);
  if (rc == 0) rc = ifd_semfd_register(fd, tl);
  if (rc != 0) {
    ifd_fd_close(&fd);
    if (tl) ifd_timeline_destroy_locked(tl);
  }
  pthread_mutex_unlock(&ctx->lock);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  *out_fd = fd;
  return 0;
}

int AsyncRT_Signal_timeline_semaphore_fd(int sem_fd, uint64_t value) {
  static const char fn[] = "AsyncRT_Signal_timeline_semaphore_fd";
  ifd_timeline *tl = NULL;
  int rc = ifd_semfd_lookup(sem_fd, &tl);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  /* The lookup and the lock are not atomic against a concurrent context
   * destroy; destroying a context while signalling on it is documented as
   * the caller's error. */
  ifd_context *ctx = tl->ctx;
  pthread_mutex_lock(&ctx->lock);
  rc = ifd_timeline_signal_locked(tl, value);
  pthread_mutex_unlock(&ctx->lock);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
}
