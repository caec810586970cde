/* The Vulkan reference backend: exportable device-local buffers laid out like
 * the device's own linear images, host copies through a staging buffer, and
 * exportable timeline semaphores where the driver has them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vk_device.h"

typedef struct {
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkExternalMemoryHandleTypeFlags handle_types;
} vk_image;

#define DEV(ctx) ((ifd_vk_device *)(ctx)->impl)


/* ------------------------------------------------------------------ context */

static int vk_context_create(ifd_context *ctx, int device_index) {
  ifd_vk_device *d = calloc(1, sizeof(*d));
  if (!d) return ifd_fail(-ENOMEM, "out of host memory");
  int rc = ifd_vk_device_open(d, device_index, NULL);
  if (rc != 0) {
    free(d);
    return ifd_fail_prefix(rc, "Vulkan backend");
  }
  ctx->impl = d;
  ifd_vk_device_fill_native(d, &ctx->native);
  return 0;
}

static void vk_context_idle(ifd_context *ctx) { DEV(ctx)->fn.vkQueueWaitIdle(DEV(ctx)->queue); }

static void vk_context_destroy(ifd_context *ctx) {
  ifd_vk_device_close(DEV(ctx));
  free(ctx->impl);
  ctx->impl = NULL;
}

/* ------------------------------------------------------------------ images */

/* Which handle types the buffer can be exported as, and whether the driver
 * insists on a dedicated allocation. */
static int export_types(ifd_vk_device *d, VkBufferUsageFlags usage,
                        VkExternalMemoryHandleTypeFlags *types, bool *dedicated) {
  VkPhysicalDeviceExternalBufferInfo bi = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .usage = usage,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkExternalBufferProperties props = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES};
  d->fn.vkGetPhysicalDeviceExternalBufferProperties(d->physical, &bi, &props);
  VkExternalMemoryFeatureFlags f = props.externalMemoryProperties.externalMemoryFeatures;
  if (!(f & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT))
    return ifd_fail(-EOPNOTSUPP, "%s cannot export buffer memory as OPAQUE_FD",
                    d->props.deviceName);
  *dedicated = (f & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT) != 0;
  *types = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
  if (d->has_dma_buf) {
    VkExternalMemoryHandleTypeFlags compatible =
        props.externalMemoryProperties.compatibleHandleTypes;
    bi.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
    props = (VkExternalBufferProperties){.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES};
    d->fn.vkGetPhysicalDeviceExternalBufferProperties(d->physical, &bi, &props);
    if ((props.externalMemoryProperties.externalMemoryFeatures &
         VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT) &&
        (compatible & VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT))
      *types |= VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
  }
  return 0;
}

static void vk_image_free(ifd_vk_device *d, vk_image *im) {
  if (im->buffer) d->fn.vkDestroyBuffer(d->device, im->buffer, NULL);
  if (im->memory) d->fn.vkFreeMemory(d->device, im->memory, NULL);
  free(im);
}

static int vk_image_create(ifd_image *image) {
  ifd_vk_device *d = DEV(image->ctx);
  uint64_t pitch, size;
  uint32_t type_bits;
  ifd_vk_image_layout(d, image, 4096, &pitch, &size, &type_bits);

  VkBufferUsageFlags usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                             VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkExternalMemoryHandleTypeFlags types = 0;
  bool dedicated = false;
  int rc = export_types(d, usage, &types, &dedicated);
  if (rc != 0) return rc;

  vk_image *im = calloc(1, sizeof(*im));
  if (!im) return ifd_fail(-ENOMEM, "out of host memory");
  im->handle_types = types;
  VkExternalMemoryBufferCreateInfo ebi = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO, .handleTypes = types};
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .pNext = &ebi,
                            .size = size,
                            .usage = usage,
                            .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  VkResult r = d->fn.vkCreateBuffer(d->device, &bci, NULL, &im->buffer);
  if (r != VK_SUCCESS) {
    vk_image_free(d, im);
    return ifd_vk_fail(r, "vkCreateBuffer");
  }
  VkMemoryRequirements req;
  d->fn.vkGetBufferMemoryRequirements(d->device, im->buffer, &req);
  /* The type importers name too (ifd_vk_export_memory_type). */
  int type = ifd_vk_export_memory_type(&d->memory, req.memoryTypeBits, type_bits);
  if (type < 0) {
    vk_image_free(d, im);
    return ifd_fail(-ENOMEM, "%s has no device-local memory type for an exportable buffer",
                    d->props.deviceName);
  }
  VkMemoryDedicatedAllocateInfo ded = {.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
                                       .buffer = im->buffer};
  VkExportMemoryAllocateInfo exp = {.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
                                    .pNext = dedicated ? &ded : NULL,
                                    .handleTypes = types};
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .pNext = &exp,
                             .allocationSize = req.size > size ? req.size : size,
                             .memoryTypeIndex = (uint32_t)type};
  r = d->fn.vkAllocateMemory(d->device, &ai, NULL, &im->memory);
  if (r == VK_SUCCESS) r = d->fn.vkBindBufferMemory(d->device, im->buffer, im->memory, 0);
  if (r != VK_SUCCESS) {
    vk_image_free(d, im);
    return ifd_vk_fail(r, "allocating exportable memory");
  }
  image->row_pitch = (uint32_t)pitch;
  image->size = ai.allocationSize;
  image->impl = im;
  return 0;
}

static void vk_image_destroy(ifd_image *image) {
  if (image->impl) vk_image_free(DEV(image->ctx), image->impl);
  image->impl = NULL;
}

static int export_memory(ifd_image *image, VkExternalMemoryHandleTypeFlagBits type, int *out_fd) {
  ifd_vk_device *d = DEV(image->ctx);
  vk_image *im = image->impl;
  if (!(im->handle_types & type))
    return ifd_fail(-EOPNOTSUPP, "%s (%s) cannot export this memory as %s", d->props.deviceName,
                    d->driver_name, type == VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT
                                        ? "a dma-buf (no VK_EXT_external_memory_dma_buf export)"
                                        : "OPAQUE_FD");
  VkMemoryGetFdInfoKHR gi = {.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
                             .memory = im->memory,
                             .handleType = type};
  int fd = -1;
  VkResult r = d->fn.vkGetMemoryFdKHR(d->device, &gi, &fd);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetMemoryFdKHR");
  return ifd_fd_hand_out(fd, out_fd);
}

static int vk_image_export_fd(ifd_image *image, int *out_fd) {
  return export_memory(image, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT, out_fd);
}

static int vk_image_export_dmabuf(ifd_image *image, int *out_fd) {
  return export_memory(image, VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, out_fd);
}

static void vk_image_native(const ifd_image *image, ifd_image_native *out) {
  const vk_image *im = image->impl;
  out->vk_buffer = (uint64_t)(uintptr_t)im->buffer;
  out->vk_memory = (uint64_t)(uintptr_t)im->memory;
}

/* Blocking host copy through a host-visible staging buffer. */
static int vk_image_copy(ifd_image *image, void *host, size_t host_pitch, bool upload) {
  ifd_vk_device *d = DEV(image->ctx);
  vk_image *im = image->impl;
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = image->size,
                            .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                            .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  VkBuffer staging = VK_NULL_HANDLE;
  VkDeviceMemory mem = VK_NULL_HANDLE;
  void *map = NULL;
  int rc = 0;
  VkResult r = d->fn.vkCreateBuffer(d->device, &bci, NULL, &staging);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateBuffer(staging)");
  VkMemoryRequirements req;
  d->fn.vkGetBufferMemoryRequirements(d->device, staging, &req);
  int type = ifd_vk_memory_type(d, req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  if (type < 0) {
    rc = ifd_fail(-ENOMEM, "no host-visible coherent memory for staging");
    goto out;
  }
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = (uint32_t)type};
  r = d->fn.vkAllocateMemory(d->device, &ai, NULL, &mem);
  if (r == VK_SUCCESS) r = d->fn.vkBindBufferMemory(d->device, staging, mem, 0);
  if (r == VK_SUCCESS) r = d->fn.vkMapMemory(d->device, mem, 0, VK_WHOLE_SIZE, 0, &map);
  if (r != VK_SUCCESS) {
    rc = ifd_vk_fail(r, "staging memory");
    goto out;
  }
  size_t row = (size_t)image->width * image->info->bytes_per_pixel;
  if (upload) {
    memset(map, 0, image->size);
    for (uint32_t y = 0; y < image->height; y++)
      memcpy((char *)map + (size_t)y * image->row_pitch, (const char *)host + y * host_pitch, row);
  }

  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  r = d->fn.vkResetCommandBuffer(d->cmd, 0);
  if (r == VK_SUCCESS) r = d->fn.vkBeginCommandBuffer(d->cmd, &bi);
  if (r != VK_SUCCESS) {
    rc = ifd_vk_fail(r, "recording a copy");
    goto out;
  }
  /* Wait for all earlier work on the queue (producer writes included). */
  VkMemoryBarrier before = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                            .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
                            .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT |
                                             VK_ACCESS_TRANSFER_WRITE_BIT};
  /* The exported memory is shared with consumers, which hand it back to
   * VK_QUEUE_FAMILY_EXTERNAL after reading: acquire it from there for the copy
   * and release it back after, as the spec asks of every user of external
   * memory. */
  VkBufferMemoryBarrier acquire = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                   .dstAccessMask = upload ? VK_ACCESS_TRANSFER_WRITE_BIT
                                                           : VK_ACCESS_TRANSFER_READ_BIT,
                                   .srcQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
                                   .dstQueueFamilyIndex = d->queue_family,
                                   .buffer = im->buffer,
                                   .size = VK_WHOLE_SIZE};
  d->fn.vkCmdPipelineBarrier(d->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                             VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 1, &acquire, 0, NULL);
  VkBufferCopy region = {.size = image->size};
  d->fn.vkCmdCopyBuffer(d->cmd, upload ? staging : im->buffer, upload ? im->buffer : staging, 1,
                        &region);
  VkMemoryBarrier after = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                           .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                           .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT |
                                            VK_ACCESS_HOST_READ_BIT};
  VkBufferMemoryBarrier release = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                   .srcAccessMask = upload ? VK_ACCESS_TRANSFER_WRITE_BIT
                                                           : VK_ACCESS_TRANSFER_READ_BIT,
                                   .srcQueueFamilyIndex = d->queue_family,
                                   .dstQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
                                   .buffer = im->buffer,
                                   .size = VK_WHOLE_SIZE};
  d->fn.vkCmdPipelineBarrier(d->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                             &after, 1, &release, 0, NULL);
  r = d->fn.vkEndCommandBuffer(d->cmd);
  if (r != VK_SUCCESS) {
    rc = ifd_vk_fail(r, "vkEndCommandBuffer");
    goto out;
  }
  rc = ifd_vk_submit_and_wait(d, d->cmd);
  if (rc == 0 && !upload)
    for (uint32_t y = 0; y < image->height; y++)
      memcpy((char *)host + y * host_pitch, (const char *)map + (size_t)y * image->row_pitch, row);
out:
  if (map) d->fn.vkUnmapMemory(d->device, mem);
  d->fn.vkDestroyBuffer(d->device, staging, NULL);
  if (mem) d->fn.vkFreeMemory(d->device, mem, NULL);
  return rc;
}

/* ------------------------------------------------------------------ timelines */

#define TL(tl) ((ifd_vkdev_timeline *)(tl)->impl)

static int vk_timeline_support(ifd_context *ctx) {
  ifd_vk_device *d = DEV(ctx);
  return d->can_export_timeline ? 0 : ifd_fail(-EOPNOTSUPP, "%s", d->timeline_why_not);
}

static int vk_timeline_create(ifd_timeline *tl, uint64_t initial) {
  ifd_vkdev_timeline *t = calloc(1, sizeof(*t));
  if (!t) return ifd_fail(-ENOMEM, "out of host memory");
  int rc = ifd_vkdev_timeline_create(DEV(tl->ctx), t, initial, true);
  if (rc != 0) {
    free(t);
    return rc;
  }
  tl->impl = t;
  return 0;
}

static int vk_timeline_import_fd(ifd_timeline *tl, int fd) {
  ifd_vkdev_timeline *t = calloc(1, sizeof(*t));
  if (!t) return ifd_fail(-ENOMEM, "out of host memory");
  int rc = ifd_vkdev_timeline_import(DEV(tl->ctx), t, fd);
  if (rc != 0) {
    free(t);
    return rc;
  }
  tl->impl = t;
  return 0;
}

static void vk_timeline_destroy(ifd_timeline *tl) {
  if (!tl->impl) return;
  ifd_vkdev_timeline_destroy(DEV(tl->ctx), TL(tl));
  free(tl->impl);
  tl->impl = NULL;
}

static int vk_timeline_export_fd(ifd_timeline *tl, int *out_fd) {
  return ifd_vkdev_timeline_export(DEV(tl->ctx), TL(tl), out_fd);
}
static int vk_timeline_signal(ifd_timeline *tl, uint64_t value) {
  return ifd_vkdev_timeline_signal(DEV(tl->ctx), TL(tl), value);
}
static int vk_timeline_host_signal(ifd_timeline *tl, uint64_t value) {
  return ifd_vkdev_timeline_host_signal(DEV(tl->ctx), TL(tl), value);
}

static int vk_timeline_wait(ifd_timeline *tl, uint64_t value) {
  return ifd_vkdev_timeline_wait(DEV(tl->ctx), TL(tl), value);
}
static int vk_timeline_host_wait(ifd_timeline *tl, uint64_t value, uint64_t timeout_ns) {
  return ifd_vkdev_timeline_host_wait(DEV(tl->ctx), TL(tl), value, timeout_ns);
}
static int vk_timeline_value(ifd_timeline *tl, uint64_t *out) {
  return ifd_vkdev_timeline_value(DEV(tl->ctx), TL(tl), out);
}

const ifd_backend_ops ifd_vulkan_backend = {
    .name = "vulkan",
    .context_create = vk_context_create,
    .context_idle = vk_context_idle,
    .context_destroy = vk_context_destroy,
    .image_create = vk_image_create,
    .image_destroy = vk_image_destroy,
    .image_export_fd = vk_image_export_fd,
    .image_export_dmabuf = vk_image_export_dmabuf,
    .image_copy = vk_image_copy,
    .image_native = vk_image_native,
    .timeline_support = vk_timeline_support,
    .timeline_create = vk_timeline_create,
    .timeline_import_fd = vk_timeline_import_fd,
    .timeline_destroy = vk_timeline_destroy,
    .timeline_export_fd = vk_timeline_export_fd,
    .timeline_signal = vk_timeline_signal,
    .timeline_wait = vk_timeline_wait,
    .timeline_host_signal = vk_timeline_host_signal,
    .timeline_host_wait = vk_timeline_host_wait,
    .timeline_value = vk_timeline_value,
};
