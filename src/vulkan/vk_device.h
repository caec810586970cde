/* A Vulkan device opened for export: the loader is dlopen()ed, every entry
 * point is fetched through vkGetInstanceProcAddr/vkGetDeviceProcAddr and
 * checked. Used by the Vulkan backend and, for semaphores, by the CUDA one. */
#ifndef IFD_VK_DEVICE_H
#define IFD_VK_DEVICE_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>
#include <stdbool.h>

#include "../core/internal.h"

#define IFD_VK_INSTANCE_FNS(X)                 \
  X(vkDestroyInstance)                         \
  X(vkEnumeratePhysicalDevices)                \
  X(vkGetPhysicalDeviceProperties)             \
  X(vkGetPhysicalDeviceProperties2)            \
  X(vkGetPhysicalDeviceFeatures2)              \
  X(vkGetPhysicalDeviceQueueFamilyProperties)  \
  X(vkGetPhysicalDeviceMemoryProperties)       \
  X(vkGetPhysicalDeviceImageFormatProperties2) \
  X(vkGetPhysicalDeviceExternalBufferProperties) \
  X(vkGetPhysicalDeviceExternalSemaphoreProperties) \
  X(vkEnumerateDeviceExtensionProperties)      \
  X(vkCreateDevice)                            \
  X(vkGetDeviceProcAddr)

#define IFD_VK_DEVICE_FNS(X)          \
  X(vkDestroyDevice)                  \
  X(vkGetDeviceQueue)                 \
  X(vkQueueSubmit)                    \
  X(vkQueueWaitIdle)                  \
  X(vkDeviceWaitIdle)                 \
  X(vkCreateBuffer)                   \
  X(vkDestroyBuffer)                  \
  X(vkGetBufferMemoryRequirements)    \
  X(vkCreateImage)                    \
  X(vkDestroyImage)                   \
  X(vkGetImageMemoryRequirements)     \
  X(vkGetImageSubresourceLayout)      \
  X(vkAllocateMemory)                 \
  X(vkFreeMemory)                     \
  X(vkBindBufferMemory)               \
  X(vkMapMemory)                      \
  X(vkUnmapMemory)                    \
  X(vkCreateCommandPool)              \
  X(vkDestroyCommandPool)             \
  X(vkAllocateCommandBuffers)         \
  X(vkResetCommandBuffer)             \
  X(vkBeginCommandBuffer)             \
  X(vkEndCommandBuffer)               \
  X(vkCmdPipelineBarrier)             \
  X(vkCmdCopyBuffer)                  \
  X(vkCreateFence)                    \
  X(vkDestroyFence)                   \
  X(vkResetFences)                    \
  X(vkWaitForFences)                  \
  X(vkCreateSemaphore)                \
  X(vkDestroySemaphore)               \
  X(vkGetSemaphoreCounterValue)       \
  X(vkWaitSemaphores)                 \
  X(vkSignalSemaphore)                \
  X(vkGetMemoryFdKHR)

/* Present only with VK_KHR_external_semaphore_fd. */
#define IFD_VK_SEMAPHORE_FD_FNS(X) \
  X(vkGetSemaphoreFdKHR)           \
  X(vkImportSemaphoreFdKHR)

typedef struct {
#define IFD_VK_DECLARE(name) PFN_##name name;
  IFD_VK_INSTANCE_FNS(IFD_VK_DECLARE)
  IFD_VK_DEVICE_FNS(IFD_VK_DECLARE)
  IFD_VK_SEMAPHORE_FD_FNS(IFD_VK_DECLARE)
#undef IFD_VK_DECLARE
} ifd_vk_fns;

typedef struct {
  void *loader; /* dlopen handle of libvulkan.so.1 */
  ifd_vk_fns fn;
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties memory;
  uint8_t uuid[16];
  char driver_name[VK_MAX_DRIVER_NAME_SIZE];
  /* What the device can do, probed at open. */
  bool can_export_timeline;     /* OPAQUE_FD export of timeline semaphores */
  bool can_import_timeline;
  char timeline_why_not[256];   /* message when !can_export_timeline */
  bool has_dma_buf;             /* VK_EXT_external_memory_dma_buf */
  /* One command buffer and fence for the library's own blocking copies, and a
   * pre-recorded global barrier that extends a semaphore wait to all later
   * submissions. */
  VkCommandPool pool;
  VkCommandBuffer cmd;
  VkCommandBuffer barrier_cmd;
  VkFence fence;
} ifd_vk_device;

/* Opens the device_index-th physical device (enumeration order), or, if uuid
 * is not NULL, the one whose deviceUUID equals it. */
int ifd_vk_device_open(ifd_vk_device *d, int device_index, const uint8_t *uuid);
void ifd_vk_device_close(ifd_vk_device *d);
void ifd_vk_device_fill_native(const ifd_vk_device *d, ifd_context_native *out);

/* The layout of an exportable image: row pitch equal to the device's own
 * VK_IMAGE_TILING_LINEAR image of this format and size where it has one (d may
 * be NULL: then width * bpp rounded up to 256), size with room for 4-row
 * height padding, rounded up to `granularity`. type_bits: memory types the
 * linear image accepts (all where unknown). */
void ifd_vk_image_layout(ifd_vk_device *d, const ifd_image *image, uint64_t granularity,
                         uint64_t *pitch, uint64_t *size, uint32_t *type_bits);

/* A 2D image of one mip level, one layer and one sample, UNDEFINED when made
 * (the only layout external memory allows at creation). */
static inline VkImageCreateInfo ifd_vk_image_2d(const void *next, VkFormat format, uint32_t width,
                                                uint32_t height, VkImageTiling tiling,
                                                VkImageUsageFlags usage) {
  return (VkImageCreateInfo){.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                             .pNext = next,
                             .imageType = VK_IMAGE_TYPE_2D,
                             .format = format,
                             .extent = {width, height, 1},
                             .mipLevels = 1,
                             .arrayLayers = 1,
                             .samples = VK_SAMPLE_COUNT_1_BIT,
                             .tiling = tiling,
                             .usage = usage,
                             .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
}

/* Maps a VkResult to a negative errno and sets the message "what: VK_...". */
int ifd_vk_fail(VkResult r, const char *what);

/* Index of a memory type in type_bits with all of `want`, or -1. */
int ifd_vk_memory_type(const ifd_vk_device *d, uint32_t type_bits, VkMemoryPropertyFlags want);

/* A memory type for a buffer import of memory no Vulkan device made (CUDA's)
 * and for a consumer's own images: the first device-local type in type_bits,
 * else the first type; -1 if type_bits is empty. Vulkan-made memory takes its
 * exporter's type instead (ifd_vk_export_memory_type). */
int ifd_vk_shared_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t type_bits);

/* The type the Vulkan backend allocates an exported frame with, from the
 * memoryTypeBits of its buffer and of a linear image of the frame: the first
 * device-local type both allow, else the first the buffer allows; -1 if none.
 * An importer of such memory computes it again (same device, same rule), since
 * OPAQUE_FD imports must name the exporter's type. */
int ifd_vk_export_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t buffer_bits,
                              uint32_t linear_image_bits);

/* The memory type a linear image aliasing imported memory needs: one the
 * host can map (device-local first), or -1. Memory the CPU can map is plain
 * pitch-linear on every driver, as producers write frames; on NVIDIA's driver
 * (580, H200) a linear image on a device-local type that is not host-visible
 * sampled zeros or scrambled bytes (docs/linear-images.md). */
int ifd_vk_linear_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t type_bits);

/* Records nothing, submits cmd (already ended) and waits on the fence. */
int ifd_vk_submit_and_wait(ifd_vk_device *d, VkCommandBuffer cmd);

/* Timeline semaphores (vk_timeline.c). */
typedef struct {
  VkSemaphore semaphore;
} ifd_vkdev_timeline;
int ifd_vkdev_timeline_create(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t initial, bool exportable);
int ifd_vkdev_timeline_import(ifd_vk_device *d, ifd_vkdev_timeline *t, int fd);
void ifd_vkdev_timeline_destroy(ifd_vk_device *d, ifd_vkdev_timeline *t);
int ifd_vkdev_timeline_export(ifd_vk_device *d, ifd_vkdev_timeline *t, int *out_fd);
int ifd_vkdev_timeline_signal(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value);
int ifd_vkdev_timeline_wait(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value);
/* vkSignalSemaphore: the value is reached now, from the host. */
int ifd_vkdev_timeline_host_signal(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value);
int ifd_vkdev_timeline_host_wait(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value,
                              uint64_t timeout_ns);
int ifd_vkdev_timeline_value(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t *out);

#endif
