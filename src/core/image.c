#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Largest image we accept: the size must fit the ABI's uint32 pitch and stay
 * far from size_t overflow in pitch * height arithmetic. */
#define MAX_DIMENSION 65536u

int ifd_image_create(ifd_context *ctx, uint32_t width, uint32_t height, MAX_Format format,
                     ifd_image **out) {
  int rc = ifd_check_context(ctx, "ifd_image_create");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_image_create: out is NULL");
  if (width == 0 || height == 0)
    return ifd_fail(-EINVAL, "ifd_image_create: size %ux%u has a zero side", width, height);
  const ifd_format_info *info = ifd_format_get(format);
  if (!info)
    return ifd_fail(-EINVAL, "ifd_image_create: unknown MAX_Format %d (valid: 1..11)", (int)format);
  if (width > MAX_DIMENSION || height > MAX_DIMENSION)
    return ifd_fail(-EOVERFLOW, "ifd_image_create: size %ux%u exceeds the %u pixel limit per side",
                    width, height, MAX_DIMENSION);

  ifd_image *image = calloc(1, sizeof(*image));
  if (!image) return ifd_fail(-ENOMEM, "out of host memory for an image");
  image->ctx = ctx;
  image->info = info;
  image->width = width;
  image->height = height;

  pthread_mutex_lock(&ctx->lock);
  rc = ctx->ops->image_create(image);
  if (rc == 0) {
    rc = ifd_handle_add(image, IFD_HANDLE_IMAGE);
    if (rc != 0) ctx->ops->image_destroy(image);
  }
  if (rc == 0) {
    image->next = ctx->images;
    ctx->images = image;
  }
  pthread_mutex_unlock(&ctx->lock);
  if (rc != 0) {
    free(image);
    return ifd_fail_prefix(rc, "ifd_image_create(%ux%u %s)", width, height, info->name);
  }
  *out = image;
  return 0;
}

void ifd_image_destroy(ifd_image *image) {
  if (!image || ifd_check_image(image, "ifd_image_destroy") != 0) return;
  ifd_context *ctx = image->ctx;
  pthread_mutex_lock(&ctx->lock);
  if (image->ring_owned) {
    pthread_mutex_unlock(&ctx->lock);
    ifd_fail(-EINVAL, "ifd_image_destroy: the image belongs to a ring: ifd_ring_destroy "
                      "destroys it");
    return;
  }
  ifd_handle_remove(image);
  for (ifd_image **p = &ctx->images; *p; p = &(*p)->next) {
    if (*p == image) {
      *p = image->next;
      break;
    }
  }
  /* No queued work may still use the memory: wait for the queue/stream to go
   * idle, unless it waits for a consumer's release that has not come (it
   * cannot go idle then); the memory is freed later, by a destroy that finds
   * the queue free, or by ifd_context_destroy. */
  image->next = ctx->zombies;
  ctx->zombies = image;
  ifd_context_sweep(ctx);
  pthread_mutex_unlock(&ctx->lock);
}

#define ACCESSOR(type, name, expr)                                  \
  type ifd_image_##name(const ifd_image *image) {                   \
    if (!image || !ifd_handle_live(image, IFD_HANDLE_IMAGE)) return 0; \
    return expr;                                                    \
  }
ACCESSOR(uint32_t, width, image->width)
ACCESSOR(uint32_t, height, image->height)
ACCESSOR(MAX_Format, format, image->info->format)
ACCESSOR(uint32_t, row_pitch, image->row_pitch)
ACCESSOR(uint64_t, size, image->size)
ACCESSOR(ifd_context *, context, image->ctx)
#undef ACCESSOR

int ifd_image_native_handles(const ifd_image *image, ifd_image_native *out) {
  int rc = ifd_check_image(image, "ifd_image_native_handles");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_image_native_handles: out is NULL");
  ifd_image_native n = {0};
  n.backend = image->ctx->backend;
  n.size = image->size;
  n.row_pitch = image->row_pitch;
  image->ctx->ops->image_native(image, &n);
  *out = n;
  return 0;
}

#define COPY_RELEASE_WAIT_NS (10ull * 1000 * 1000 * 1000)

static int no_release_pending(void *arg) {
  ifd_context *ctx = arg;
  pthread_mutex_lock(&ctx->lock);
  bool pending = ifd_ring_waits_pending(ctx);
  pthread_mutex_unlock(&ctx->lock);
  return pending ? 0 : 1;
}

static int host_copy(ifd_image *image, void *pixels, size_t pitch, bool upload, const char *fn) {
  int rc = ifd_check_image(image, fn);
  if (rc != 0) return rc;
  if (!pixels) return ifd_fail(-EINVAL, "%s: pixels is NULL", fn);
  size_t row = (size_t)image->width * image->info->bytes_per_pixel;
  if (pitch < row)
    return ifd_fail(-EINVAL, "%s: row pitch %zu is less than a row of %zu bytes", fn, pitch, row);
  if (pitch > SIZE_MAX / image->height)
    return ifd_fail(-EOVERFLOW, "%s: row pitch %zu times %u rows overflows", fn, pitch,
                    image->height);
  /* The copy waits for the context's queue/stream. Where that waits on the
   * device for a ring's release not come yet, the copy waits for it first
   * without ctx->lock, which whoever releases from the host (a consumer
   * thread, a ring's server) needs. */
  ifd_context *ctx = image->ctx;
  rc = ifd_poll(no_release_pending, ctx, COPY_RELEASE_WAIT_NS);
  if (rc == -ETIMEDOUT)
    return ifd_fail(rc, "%s: the context's queue/stream waits for a ring's release that did not "
                        "come within %llu s",
                    fn, COPY_RELEASE_WAIT_NS / 1000000000ull);
  pthread_mutex_lock(&ctx->lock);
  rc = ctx->ops->image_copy(image, pixels, pitch, upload);
  pthread_mutex_unlock(&ctx->lock);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
}

int ifd_image_upload(ifd_image *image, const void *pixels, size_t src_row_pitch) {
  return host_copy(image, (void *)pixels, src_row_pitch, true, "ifd_image_upload");
}

int ifd_image_download(ifd_image *image, void *pixels, size_t dst_row_pitch) {
  return host_copy(image, pixels, dst_row_pitch, false, "ifd_image_download");
}


int ifd_image_describe(ifd_image *image, ifd_frame_desc *out) {
  if (out) out->memory_fd = out->timeline_fd = -1;
  int rc = ifd_check_image(image, "ifd_image_describe");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_image_describe: out is NULL");
  ifd_frame_desc d = {.memory_fd = -1, .timeline_fd = -1};
  pthread_mutex_lock(&image->ctx->lock);
  rc = image->ctx->ops->image_export_fd(image, &d.memory_fd);
  pthread_mutex_unlock(&image->ctx->lock);
  if (rc != 0) return ifd_fail_prefix(rc, "ifd_image_describe");
  d.size = image->size;
  d.row_pitch = image->row_pitch;
  d.width = image->width;
  d.height = image->height;
  d.format = image->info->format;
  d.exporter = image->ctx->backend;
  memcpy(d.device_uuid, image->ctx->native.device_uuid, sizeof(d.device_uuid));
  *out = d;
  return 0;
}

void ifd_frame_desc_close(ifd_frame_desc *desc) {
  if (!desc) return;
  ifd_fd_close(&desc->memory_fd);
  ifd_fd_close(&desc->timeline_fd);
}
