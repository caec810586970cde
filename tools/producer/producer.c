/* The demo's producer (producer.h): what every backend shares, checking
 * arguments and images, and dispatch through the backend's ops table
 * (producer_backend.h: producer_cuda.c, producer_vk.c). */
#include "producer/producer.h"

#include <errno.h>
#include <stdlib.h>

#include "common/tool_error.h"
#include "producer/producer_backend.h"

void producer_destroy(producer *p) {
  if (!p) return;
  p->ops->destroy(p);
  free(p);
}

int producer_create(ifd_context *ctx, const cppn_params *params, producer **out) {
  if (!ctx || !params || !out) return tool_fail(-EINVAL, "producer_create: NULL argument");
  ifd_context_native native;
  int rc = ifd_context_native_handles(ctx, &native);
  if (rc != 0) return tool_fail(rc, "producer_create: %s", ifd_last_error());
  const producer_ops *ops = native.backend == IFD_BACKEND_CUDA     ? &producer_cuda_ops
                            : native.backend == IFD_BACKEND_VULKAN ? &producer_vk_ops
                                                                   : NULL;
  if (!ops) return tool_fail(-EINVAL, "producer_create: unknown backend %d", (int)native.backend);
  producer *p = calloc(1, ops->size);
  if (!p) return tool_fail(-ENOMEM, "producer_create: out of host memory");
  p->ops = ops;
  p->ctx = ctx;
  p->native = native;
  p->params = *params;
  rc = ops->create(p);
  if (rc != 0) {
    producer_destroy(p);
    return rc;
  }
  *out = p;
  return 0;
}

/* The checks every draw shares once args match the memory's layout, then the
 * backend's draw. */
static int draw_native(producer *p, const ifd_image_native *img, const cppn_frame_args *args) {
  if (args->mode != CPPN_MODE_NETWORK && args->mode != CPPN_MODE_SOLID)
    return tool_fail(-EINVAL, "producer_draw: unknown mode %u", args->mode);
  ifd_format_info fi;
  int rc = ifd_format_query((MAX_Format)args->format, &fi);
  if (rc != 0) return tool_fail(rc, "producer_draw: %s", ifd_last_error());
  if ((uint64_t)img->row_pitch * args->height > img->size || img->size % 4 != 0 ||
      img->row_pitch % fi.bytes_per_pixel != 0 ||
      (uint64_t)args->width * fi.bytes_per_pixel > img->row_pitch)
    return tool_fail(-EINVAL, "producer_draw: image layout (pitch %u, size %llu) is not usable",
                     img->row_pitch, (unsigned long long)img->size);
  return p->ops->draw(p, img, args, fi.bytes_per_pixel);
}

/* The native handles of an image of p's context. */
static int image_native(producer *p, ifd_image *image, const cppn_frame_args *args,
                        ifd_image_native *img) {
  if (!p || !image || !args) return tool_fail(-EINVAL, "producer_draw: NULL argument");
  if (ifd_image_context(image) != p->ctx)
    return tool_fail(-EINVAL, "producer_draw: the image is not an image of the producer's context");
  int rc = ifd_image_native_handles(image, img);
  return rc == 0 ? 0 : tool_fail(rc, "producer_draw: %s", ifd_last_error());
}

int producer_draw(producer *p, ifd_image *image, const cppn_frame_args *args) {
  ifd_image_native img;
  int rc = image_native(p, image, args, &img);
  if (rc != 0) return rc;
  uint32_t w = ifd_image_width(image), h = ifd_image_height(image);
  MAX_Format f = ifd_image_format(image);
  if (args->width != w || args->height != h || args->row_pitch != img.row_pitch ||
      args->format != (uint32_t)f)
    return tool_fail(-EINVAL,
                     "producer_draw: args describe %ux%u format %u pitch %u, the image is %ux%u "
                     "format %u pitch %u",
                     args->width, args->height, args->format, args->row_pitch, w, h, (unsigned)f,
                     img.row_pitch);
  return draw_native(p, &img, args);
}

int producer_test_draw_over(producer *p, ifd_image *image, const cppn_frame_args *args) {
  ifd_image_native img;
  int rc = image_native(p, image, args, &img);
  if (rc != 0) return rc;
  img.row_pitch = args->row_pitch; /* the frame's layout over the image's memory */
  return draw_native(p, &img, args);
}

int producer_finish(producer *p) {
  if (!p) return tool_fail(-EINVAL, "producer_finish: NULL producer");
  return p->ops->finish(p);
}

void producer_test_limit_range(producer *p, uint32_t max_bytes) {
  if (p) p->test_range = max_bytes;
}
