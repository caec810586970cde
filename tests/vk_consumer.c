#include "vk_consumer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/tool_error.h"

/* Failures leave the kit's message (VK_KIT_CHECK, tool_fail); each public
 * function prints it and returns -1. */
static int printed(const char *fn, int rc) {
  if (rc == 0) return 0;
  fprintf(stderr, "%s: %s\n", fn, tool_last_error());
  return -1;
}

int vkc_open(vkc *c, int index) {
  memset(c, 0, sizeof(*c));
  int rc = 0;
  if ((rc = vk_kit_create_instance(NULL, VK_API_VERSION_1_2, NULL, 0,
                                   &c->dev.instance)) != 0)
    goto out;
  uint32_t n = 8;
  VkPhysicalDevice list[8];
  VkResult er = vkEnumeratePhysicalDevices(c->dev.instance, &n, list);
  if ((er != VK_SUCCESS && er != VK_INCOMPLETE) || (uint32_t)index >= n) {
    rc = tool_fail(-ENODEV, "no Vulkan physical device %d", index);
    goto out;
  }
  c->dev.physical = list[index];
  const char *exts[] = {VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME};
  vk_kit_device_config dc = {.physical = c->dev.physical, .extensions = exts, .extension_count = 1};
  rc = vk_kit_queue_family(c->dev.physical,
                           VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT,
                           &c->dev.family);
  dc.family = c->dev.family;
  if (rc == 0) rc = vk_kit_create_device(&dc, &c->dev.device, &c->dev.queue);
  if (rc != 0) goto out;
  VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .queueFamilyIndex = c->dev.family};
  VK_KIT_CHECK(vkCreateCommandPool(c->dev.device, &pci, NULL, &c->pool));
out:
  if (rc != 0) vkc_close(c);
  return printed("vkc_open", rc);
}

void vkc_close(vkc *c) {
  if (c->dev.device) {
    vkDeviceWaitIdle(c->dev.device);
    if (c->pool) vkDestroyCommandPool(c->dev.device, c->pool, NULL);
  }
  test_vk_device_destroy(&c->dev);
  memset(c, 0, sizeof(*c));
}

static int find_type(vkc *c, uint32_t bits, VkMemoryPropertyFlags want) {
  return vk_kit_memory_type(c->dev.physical, bits, want);
}

/* Imports fd as device memory usable for `bits`: a device-local type, or for
 * a linear image a host-visible one, as the library does (a linear image on
 * NVIDIA's device-local-only type can read wrong bytes: docs/linear-images.md).
 * The fd is consumed only on success. */
static int import_memory(vkc *c, int fd, uint64_t size, uint32_t bits, bool linear_image,
                         VkDeviceMemory *out) {
  int type = -1;
  if (linear_image) {
    type = find_type(c, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    if (type < 0) type = find_type(c, bits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  } else {
    type = find_type(c, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  }
  if (type < 0) return -1;
  VkImportMemoryFdInfoKHR imp = {.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
                                 .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
                                 .fd = fd};
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .pNext = &imp,
                             .allocationSize = size,
                             .memoryTypeIndex = (uint32_t)type};
  return vkAllocateMemory(c->dev.device, &ai, NULL, out) == VK_SUCCESS ? 0 : -1;
}

/* A host-visible buffer to copy into, and a one-shot command buffer. */
typedef struct {
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkCommandBuffer cmd;
} readback;

static void readback_free(vkc *c, readback *rb) {
  if (rb->cmd) vkFreeCommandBuffers(c->dev.device, c->pool, 1, &rb->cmd);
  if (rb->buffer) vkDestroyBuffer(c->dev.device, rb->buffer, NULL);
  if (rb->memory) vkFreeMemory(c->dev.device, rb->memory, NULL);
  memset(rb, 0, sizeof(*rb));
}

static int readback_begin(vkc *c, uint64_t size, readback *rb) {
  int rc = 0;
  memset(rb, 0, sizeof(*rb));
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = size,
                            .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
  VK_KIT_CHECK(vkCreateBuffer(c->dev.device, &bci, NULL, &rb->buffer));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(c->dev.device, rb->buffer, &req);
  rc = vk_kit_allocate(c->dev.physical, c->dev.device, &req,
                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                       &rb->memory);
  if (rc != 0) goto out;
  VK_KIT_CHECK(vkBindBufferMemory(c->dev.device, rb->buffer, rb->memory, 0));
  VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = c->pool,
                                     .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = 1};
  VK_KIT_CHECK(vkAllocateCommandBuffers(c->dev.device, &cai, &rb->cmd));
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VK_KIT_CHECK(vkBeginCommandBuffer(rb->cmd, &bi));
out:
  return rc;
}

/* Ends, submits, waits, copies `size` bytes out, frees everything. */
static int readback_end(vkc *c, readback *rb, uint64_t size, void *out_bytes) {
  int rc = 0;
  void *map = NULL;
  VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                        .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(rb->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                       &mb, 0, NULL, 0, NULL);
  VK_KIT_CHECK(vkEndCommandBuffer(rb->cmd));
  vk_kit_submission s = {.cmd = rb->cmd};
  if ((rc = vk_kit_submit(c->dev.device, c->dev.queue, &s, VK_NULL_HANDLE)) != 0) goto out;
  VK_KIT_CHECK(vkQueueWaitIdle(c->dev.queue));
  VK_KIT_CHECK(vkMapMemory(c->dev.device, rb->memory, 0, VK_WHOLE_SIZE, 0, &map));
  memcpy(out_bytes, map, size);
  vkUnmapMemory(c->dev.device, rb->memory);
out:
  readback_free(c, rb);
  return rc;
}

/* An export imported as the memory of a buffer or of a linear image, and the
 * read-back it is copied into. */
typedef struct {
  VkBuffer buffer;
  VkImage image;
  VkDeviceMemory memory;
  readback rb;
} imported;

static void imported_free(vkc *c, imported *im) {
  readback_free(c, &im->rb);
  if (im->buffer) vkDestroyBuffer(c->dev.device, im->buffer, NULL);
  if (im->image) vkDestroyImage(c->dev.device, im->image, NULL);
  if (im->memory) vkFreeMemory(c->dev.device, im->memory, NULL);
}

int vkc_read_via_buffer(vkc *c, int fd, uint64_t size, void *out) {
  int rc = 0;
  imported im = {0};
  VkExternalMemoryBufferCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .pNext = &ext,
                            .size = size,
                            .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT};
  VK_KIT_CHECK(vkCreateBuffer(c->dev.device, &bci, NULL, &im.buffer));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(c->dev.device, im.buffer, &req);
  if (import_memory(c, fd, size, req.memoryTypeBits, false, &im.memory) != 0) {
    rc = tool_fail(-EIO, "cannot import the fd as buffer memory");
    goto out;
  }
  VK_KIT_CHECK(vkBindBufferMemory(c->dev.device, im.buffer, im.memory, 0));
  if ((rc = readback_begin(c, size, &im.rb)) != 0) goto out;
  VkBufferCopy region = {.size = size};
  vkCmdCopyBuffer(im.rb.cmd, im.buffer, im.rb.buffer, 1, &region);
  rc = readback_end(c, &im.rb, size, out);
out:
  imported_free(c, &im);
  return printed("vkc_read_via_buffer", rc);
}

int vkc_read_via_linear_image(vkc *c, int fd, uint64_t size, uint32_t w, uint32_t h,
                              VkFormat vk_format, uint32_t bpp, void *out) {
  imported im = {0};
  VkExternalMemoryImageCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  int rc = vk_kit_image_2d(c->dev.device, &ext, vk_format, w, h, VK_IMAGE_TILING_LINEAR,
                           VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &im.image);
  if (rc != 0) goto out;
  VkMemoryRequirements req;
  vkGetImageMemoryRequirements(c->dev.device, im.image, &req);
  if (req.size > size || import_memory(c, fd, size, req.memoryTypeBits, true, &im.memory) != 0) {
    rc = tool_fail(-EIO, "linear image needs %llu bytes, export has %llu",
                   (unsigned long long)req.size, (unsigned long long)size);
    goto out;
  }
  VK_KIT_CHECK(vkBindImageMemory(c->dev.device, im.image, im.memory, 0));
  uint64_t tight = (uint64_t)w * h * bpp;
  if ((rc = readback_begin(c, tight, &im.rb)) != 0) goto out;
  /* Acquire from the external owner, as the spec requires for memory written
   * outside this device. An image on external memory must be created
   * UNDEFINED (VUID-VkImageCreateInfo-pNext-01443), but the bytes are already
   * there, laid out as vkGetImageSubresourceLayout says: for a LINEAR image
   * that is the GENERAL layout, the one the acquire starts from. UNDEFINED as
   * oldLayout would allow the driver to discard them. */
  VkImageMemoryBarrier ib = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                             .srcAccessMask = 0,
                             .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
                             .oldLayout = VK_IMAGE_LAYOUT_GENERAL,
                             .newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                             .srcQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
                             .dstQueueFamilyIndex = c->dev.family,
                             .image = im.image,
                             .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
  vkCmdPipelineBarrier(im.rb.cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                       0, 0, NULL, 0, NULL, 1, &ib);
  VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                              .imageExtent = {w, h, 1}};
  vkCmdCopyImageToBuffer(im.rb.cmd, im.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, im.rb.buffer, 1,
                         &region);
  rc = readback_end(c, &im.rb, tight, out);
out:
  imported_free(c, &im);
  return printed("vkc_read_via_linear_image", rc);
}

int vkc_read_export(vkc *c, vkc_path path, int fd, uint64_t size, const ifd_format_info *fi,
                    uint32_t w, uint32_t h, void *out, const char *label) {
  int rc = -1;
  if (fd >= 0 && path == VKC_BUFFER) rc = vkc_read_via_buffer(c, fd, size, out);
  if (fd >= 0 && path == VKC_LINEAR_IMAGE)
    rc = vkc_read_via_linear_image(c, fd, size, w, h, (VkFormat)fi->vk_format,
                                   fi->bytes_per_pixel, out);
  if (rc == 0) return 0;
  fprintf(stderr, "%s: %s import failed\n", label,
          path == VKC_BUFFER ? "buffer" : "linear image");
  if (fd >= 0) close(fd);
  return 1;
}
