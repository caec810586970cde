/* A second Vulkan device, as a consumer in another process would have: it
 * imports an exported memory fd and reads it back through a buffer or a
 * linear image. Test code only; the library's consumer API is separate. */
#ifndef IFD_TEST_VK_CONSUMER_H
#define IFD_TEST_VK_CONSUMER_H

#include <stdbool.h>

#include "harness/vk_device.h"
#include "interop_fd/interop_fd.h"

typedef struct {
  test_vk_device dev; /* Vulkan 1.2, external memory fds */
  VkCommandPool pool;
} vkc;

/* Opens physical device `index` (0 = first) as a fresh VkDevice. */
int vkc_open(vkc *c, int index);
void vkc_close(vkc *c);

/* Imports fd (consumed on success, still the caller's on failure) of `size`
 * bytes and copies its contents to `out` (size bytes) through a VkBuffer. */
int vkc_read_via_buffer(vkc *c, int fd, uint64_t size, void *out);

/* Imports fd, binds a VK_IMAGE_TILING_LINEAR image of w x h `vk_format` to it
 * and copies the image into `out` tightly packed (w * bpp per row) with
 * vkCmdCopyImageToBuffer, so the result depends on the device's own linear
 * layout agreeing with the exporter's row pitch. */
int vkc_read_via_linear_image(vkc *c, int fd, uint64_t size, uint32_t w, uint32_t h,
                              VkFormat vk_format, uint32_t bpp, void *out);

/* The two ways above to read an export back. */
typedef enum { VKC_BUFFER, VKC_LINEAR_IMAGE } vkc_path;

/* What an import test does with each export: reads fd (-1 where the export
 * failed) through `path` into `out`, for a linear image as a w x h image of
 * fi's format. Returns 0; or 1 after printing "<label>: buffer import
 * failed" (or "linear image") and closing fd, which a failed read leaves
 * with the caller. */
int vkc_read_export(vkc *c, vkc_path path, int fd, uint64_t size, const ifd_format_info *fi,
                    uint32_t w, uint32_t h, void *out, const char *label);

#endif
