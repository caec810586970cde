/* What the Vulkan consumer's files share (vk_import.c: the importer,
 * vk_frame.c: frames, vk_copy.c: the COPY path's compute copy, vk_sync.c:
 * timelines and rings): the entry points each
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
  X(vkCreateDescriptorSetLayout)      \
  X(vkDestroyDescriptorSetLayout)     \
  X(vkCreatePipelineLayout)           \
  X(vkDestroyPipelineLayout)          \
  X(vkCreateShaderModule)             \
  X(vkDestroyShaderModule)            \
  X(vkCreateComputePipelines)         \
  X(vkDestroyPipeline)                \
  X(vkCreateDescriptorPool)           \
  X(vkDestroyDescriptorPool)          \
  X(vkAllocateDescriptorSets)         \
  X(vkUpdateDescriptorSets)           \
  X(vkCmdBindPipeline)                \
  X(vkCmdBindDescriptorSets)          \
  X(vkCmdPushConstants)               \
  X(vkCmdDispatch)                    \
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
  /* The COPY path's compute copy (vk_copy.c): whether the device can run it,
   * its limits, and the objects made on first use (under `lock`). */
  bool compute_copy;
  uint64_t max_storage_buffer_range;
  uint32_t max_group_count[2];
  VkDescriptorSetLayout copy_set_layout;
  VkPipelineLayout copy_layout;
  VkPipeline copy_pipelines[5]; /* by texel size: 1, 2, 4, 8, 16 bytes */
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
  /* COPY by compute (vk_copy.c); all null on the transfer copy. */
  VkImageView copy_view;       /* the image as R8..R32G32B32A32 _UINT, for storage */
  VkDescriptorPool copy_pool;
  VkDescriptorSet copy_set;
  VkPipeline copy_pipeline;    /* the importer's, for this texel size */
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

/* vk_copy.c: the COPY path's compute copy. */
/* Works out whether the importer's device and queue family can run it. */
void ifd_vkc_copy_init(ifd_vk_importer *imp);
/* Destroys the importer's copy pipelines and layouts. */
void ifd_vkc_copy_fini(ifd_vk_importer *imp);
/* The integer format of the storage view for info's texel size, and the
 * index of its pipeline in copy_pipelines. */
VkFormat ifd_vkc_copy_view_format(const ifd_format_info *info, uint32_t *index);
/* Whether a frame of d can take it (format, size, device limits). */
bool ifd_vkc_copy_compute_usable(ifd_vk_importer *imp, const ifd_frame_desc *d,
                                 const ifd_format_info *info);
/* Makes f's storage view and descriptor set (f->h.buffer and f->h.image,
 * created MUTABLE_FORMAT with storage usage, must exist). On failure f holds
 * none of them (copy_pipeline NULL: the transfer copy is recorded). */
int ifd_vkc_copy_setup(ifd_vk_frame *f);
/* Destroys what ifd_vkc_copy_setup made and clears the handles. */
void ifd_vkc_copy_free(ifd_vk_frame *f);
/* Records the copy itself, between the barriers ifd_vk_frame_cmd_acquire
 * records around it (the buffer acquired for SHADER_READ, the image in
 * GENERAL for SHADER_WRITE, both at COMPUTE_SHADER). */
void ifd_vkc_copy_record(ifd_vk_frame *f, VkCommandBuffer cmd);

#endif
