/* What the Vulkan consumer's files share (vk_import.c: the importer,
 * vk_frame.c: frames, vk_sync.c: timelines and rings): the entry points each
 * importer resolves and the objects' layouts. Private to the library. */
#ifndef IFD_VK_IMPORT_INTERNAL_H
#define IFD_VK_IMPORT_INTERNAL_H

#define VK_NO_PROTOTYPES
#include "interop_fd/vulkan.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/internal.h"
#include "../vulkan/vk_device.h" /* ifd_vk_fail: the one VkResult -> errno mapping */
#include "import_checks.h"

#define INSTANCE_FNS(X)                        \
  X(vkGetPhysicalDeviceProperties)             \
  X(vkGetPhysicalDeviceProperties2)            \
  X(vkGetPhysicalDeviceMemoryProperties)       \
  X(vkGetPhysicalDeviceFormatProperties)       \
  X(vkGetPhysicalDeviceImageFormatProperties)  \
  X(vkGetPhysicalDeviceQueueFamilyProperties)  \
  X(vkGetDeviceProcAddr)

#define DEVICE_FNS(X)                 \
  X(vkAllocateMemory)                 \
  X(vkFreeMemory)                     \
  X(vkCreateBuffer)                   \
  X(vkDestroyBuffer)                  \
  X(vkGetBufferMemoryRequirements)    \
  X(vkBindBufferMemory)               \
  X(vkCreateImage)                    \
  X(vkDestroyImage)                   \
  X(vkGetImageMemoryRequirements)     \
  X(vkGetImageSubresourceLayout)      \
  X(vkBindImageMemory)                \
  X(vkCreateImageView)                \
  X(vkDestroyImageView)               \
  X(vkCmdPipelineBarrier)             \
  X(vkCmdCopyBufferToImage)           \
  X(vkCreateSemaphore)                \
  X(vkDestroySemaphore)               \
  X(vkGetSemaphoreCounterValue)       \
  X(vkSignalSemaphore)                \
  X(vkWaitSemaphores)                 \
  X(vkGetMemoryFdPropertiesKHR)

#define SEMAPHORE_FD_FNS(X) X(vkImportSemaphoreFdKHR)

struct ifd_vk_importer {
  void *loader; /* dlopen handle when the application gave no entry point */
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  uint32_t family;
#define DECLARE(name) PFN_##name name;
  INSTANCE_FNS(DECLARE)
  DEVICE_FNS(DECLARE)
  SEMAPHORE_FD_FNS(DECLARE)
#undef DECLARE
  VkPhysicalDeviceMemoryProperties memory;
  uint8_t uuid[16];
  char device_name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  VkDriverId driver;
  bool timelines; /* VK_KHR_external_semaphore_fd and Vulkan 1.2 entry points */
  pthread_mutex_t lock; /* guards the lists of children below */
  ifd_vk_frame *frames; /* live frames (those of rings included), through next */
  ifd_vk_timeline *timelines_alive;
  ifd_vk_ring *rings;
};

struct ifd_vk_frame {
  ifd_vk_importer *imp;
  ifd_vk_frame_native h;
  const ifd_format_info *info;
  uint32_t row_pitch;
  VkDeviceMemory image_memory; /* COPY: the OPTIMAL image's own memory */
  ifd_vk_frame *next;          /* in imp->frames */
};

struct ifd_vk_timeline {
  ifd_vk_importer *imp;
  VkSemaphore semaphore;
  ifd_vk_timeline *next; /* in imp->timelines_alive */
};

struct ifd_vk_ring {
  uint32_t count;
  ifd_vk_frame *frames[IFD_RING_MAX_FRAMES];
  ifd_vk_timeline *ready, *release;
  ifd_vk_importer *imp;
  ifd_vk_path path;            /* while importing */
  ifd_vk_ring *next;           /* in imp->rings */
  ifd_ring_progress *progress; /* the producer's ring, when it is in this process;
                                  MAILBOX: the shared state and this consumer's takes */
};

/* vk_frame.c */
/* Validates desc, imports it on `path` (AUTO: LINEAR where verified, else
 * COPY) and registers the frame; `fn` names the public function. */
int ifd_vkc_import_frame(ifd_vk_importer *imp, ifd_frame_desc *desc, ifd_vk_path path,
                         ifd_vk_frame **out, const char *fn);
/* Frees a frame's Vulkan objects and memory (not its handle entry). */
void ifd_vkc_frame_free(ifd_vk_frame *f);

#endif
