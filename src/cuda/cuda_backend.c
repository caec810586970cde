/* Placeholder until the CUDA backend lands: reports that it is missing. */
#include <errno.h>

#include "../core/internal.h"

static int cuda_context_create(ifd_context *ctx, int device_index) {
  (void)ctx;
  (void)device_index;
  return ifd_fail(-ENODEV, "the CUDA backend is not implemented yet");
}
static int cuda_context_adopt(ifd_context *ctx, void *c, void *s) {
  (void)ctx; (void)c; (void)s;
  return ifd_fail(-ENODEV, "the CUDA backend is not implemented yet");
}
const ifd_backend_ops ifd_cuda_backend = {
    .name = "cuda", .context_create = cuda_context_create, .context_adopt = cuda_context_adopt};
