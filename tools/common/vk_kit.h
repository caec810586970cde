/* The tools' and tests' Vulkan client kit: the loader opened at run time and
 * the set-up every Vulkan client here repeats (instance, device by UUID,
 * memory types, VkResult to errno). Drawing pieces are in common/vk_draw.h.
 *
 * Every command below is a global function pointer named as the command, so
 * code written against <vulkan/vulkan.h> compiles unchanged once it includes
 * this header first. Nothing links libvulkan: vk_kit_load() dlopens it, as
 * the library does, so a program runs where no loader is installed and says so.
 *
 * The pointers' link-time symbols are prefixed (ifd_kit_vkCreateImage): a
 * file still calling the loader's own prototypes, linked into the same
 * program, then binds to the loader's function, never to the kit's pointer.
 *
 * Functions return 0 or a negative errno and leave a message in
 * common/tool_error.h (tool_fail/tool_last_error). None takes an fd. */
#ifndef IFD_TOOLS_VK_KIT_H
#define IFD_TOOLS_VK_KIT_H

#if defined(VULKAN_H_) && !defined(VK_NO_PROTOTYPES)
#error "include common/vk_kit.h before <vulkan/vulkan.h> (or build with VK_NO_PROTOTYPES)"
#endif
#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include <stdbool.h>
#include <stdint.h>

/* Loaded by vk_kit_load (vkGetInstanceProcAddr(NULL, ...)). */
#define VK_KIT_GLOBAL_COMMANDS(X)        \
  X(vkCreateInstance)                    \
  X(vkEnumerateInstanceExtensionProperties) \
  X(vkEnumerateInstanceLayerProperties)  \
  X(vkEnumerateInstanceVersion)

/* Instance-level commands: vk_kit_load_instance. */
#define VK_KIT_INSTANCE_COMMANDS(X)                  \
  X(vkDestroyInstance)                               \
  X(vkEnumeratePhysicalDevices)                      \
  X(vkEnumerateDeviceExtensionProperties)            \
  X(vkGetPhysicalDeviceProperties)                   \
  X(vkGetPhysicalDeviceProperties2)                  \
  X(vkGetPhysicalDeviceFeatures)                     \
  X(vkGetPhysicalDeviceFeatures2)                    \
  X(vkGetPhysicalDeviceFormatProperties)             \
  X(vkGetPhysicalDeviceImageFormatProperties2)       \
  X(vkGetPhysicalDeviceMemoryProperties)             \
  X(vkGetPhysicalDeviceQueueFamilyProperties)        \
  X(vkGetPhysicalDeviceExternalBufferProperties)     \
  X(vkGetPhysicalDeviceExternalSemaphoreProperties)  \
  X(vkGetPhysicalDeviceSurfaceSupportKHR)            \
  X(vkGetPhysicalDeviceSurfaceCapabilitiesKHR)       \
  X(vkGetPhysicalDeviceSurfaceFormatsKHR)            \
  X(vkGetPhysicalDeviceSurfacePresentModesKHR)       \
  X(vkDestroySurfaceKHR)                             \
  X(vkCreateDevice)                                  \
  X(vkGetDeviceProcAddr)

/* Device-level commands: vk_kit_load_instance, then vk_kit_load_device. */
#define VK_KIT_DEVICE_COMMANDS(X)         \
  X(vkDestroyDevice)                      \
  X(vkGetDeviceQueue)                     \
  X(vkDeviceWaitIdle)                     \
  X(vkQueueSubmit)                        \
  X(vkQueueWaitIdle)                      \
  X(vkAllocateMemory)                     \
  X(vkFreeMemory)                         \
  X(vkMapMemory)                          \
  X(vkUnmapMemory)                        \
  X(vkFlushMappedMemoryRanges)            \
  X(vkInvalidateMappedMemoryRanges)       \
  X(vkCreateBuffer)                       \
  X(vkDestroyBuffer)                      \
  X(vkBindBufferMemory)                   \
  X(vkGetBufferMemoryRequirements)        \
  X(vkCreateImage)                        \
  X(vkDestroyImage)                       \
  X(vkBindImageMemory)                    \
  X(vkGetImageMemoryRequirements)         \
  X(vkGetImageSubresourceLayout)          \
  X(vkCreateImageView)                    \
  X(vkDestroyImageView)                   \
  X(vkCreateSampler)                      \
  X(vkDestroySampler)                     \
  X(vkCreateShaderModule)                 \
  X(vkDestroyShaderModule)                \
  X(vkCreateDescriptorSetLayout)          \
  X(vkDestroyDescriptorSetLayout)         \
  X(vkCreatePipelineLayout)               \
  X(vkDestroyPipelineLayout)              \
  X(vkCreateGraphicsPipelines)            \
  X(vkCreateComputePipelines)             \
  X(vkDestroyPipeline)                    \
  X(vkCreateDescriptorPool)               \
  X(vkDestroyDescriptorPool)              \
  X(vkResetDescriptorPool)                \
  X(vkAllocateDescriptorSets)             \
  X(vkUpdateDescriptorSets)               \
  X(vkCreateCommandPool)                  \
  X(vkDestroyCommandPool)                 \
  X(vkAllocateCommandBuffers)             \
  X(vkFreeCommandBuffers)                 \
  X(vkResetCommandBuffer)                 \
  X(vkBeginCommandBuffer)                 \
  X(vkEndCommandBuffer)                   \
  X(vkCreateFence)                        \
  X(vkDestroyFence)                       \
  X(vkResetFences)                        \
  X(vkGetFenceStatus)                     \
  X(vkWaitForFences)                      \
  X(vkCreateSemaphore)                    \
  X(vkDestroySemaphore)                   \
  X(vkGetSemaphoreCounterValue)           \
  X(vkWaitSemaphores)                     \
  X(vkSignalSemaphore)                    \
  X(vkCreateQueryPool)                    \
  X(vkDestroyQueryPool)                   \
  X(vkGetQueryPoolResults)                \
  X(vkCmdPipelineBarrier)                 \
  X(vkCmdBeginRendering)                  \
  X(vkCmdEndRendering)                    \
  X(vkCmdSetViewport)                     \
  X(vkCmdSetScissor)                      \
  X(vkCmdBindPipeline)                    \
  X(vkCmdBindDescriptorSets)              \
  X(vkCmdPushConstants)                   \
  X(vkCmdDraw)                            \
  X(vkCmdDispatch)                        \
  X(vkCmdCopyBuffer)                      \
  X(vkCmdCopyImage)                       \
  X(vkCmdCopyBufferToImage)               \
  X(vkCmdCopyImageToBuffer)               \
  X(vkCmdFillBuffer)                      \
  X(vkCmdClearColorImage)                 \
  X(vkCmdResetQueryPool)                  \
  X(vkCmdWriteTimestamp)                  \
  X(vkGetMemoryFdKHR)                     \
  X(vkGetMemoryFdPropertiesKHR)           \
  X(vkGetSemaphoreFdKHR)                  \
  X(vkImportSemaphoreFdKHR)               \
  X(vkGetCalibratedTimestampsEXT)         \
  X(vkCreateSwapchainKHR)                 \
  X(vkDestroySwapchainKHR)                \
  X(vkGetSwapchainImagesKHR)              \
  X(vkAcquireNextImageKHR)                \
  X(vkQueuePresentKHR)

#define VK_KIT_DECLARE_(name) extern PFN_##name name __asm__("ifd_kit_" #name);
extern PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr __asm__("ifd_kit_vkGetInstanceProcAddr");
VK_KIT_GLOBAL_COMMANDS(VK_KIT_DECLARE_)
VK_KIT_INSTANCE_COMMANDS(VK_KIT_DECLARE_)
VK_KIT_DEVICE_COMMANDS(VK_KIT_DECLARE_)
#undef VK_KIT_DECLARE_

/* ------------------------------------------------------------------ loading */

/* Opens libvulkan.so.1 (once per process; later calls return 0 at once) and
 * loads vkGetInstanceProcAddr and the global commands. Call before anything
 * else here. Returns 0, or -ENOENT: no Vulkan loader is installed (the
 * message says so). Thread-safe; does not block. The loader stays loaded. */
int vk_kit_load(void);

/* Loads every instance- and device-level command through
 * vkGetInstanceProcAddr(instance): the loader's entry points, which dispatch
 * on the handle they are given, so several instances and devices in one
 * process share these pointers. A command the instance does not resolve keeps
 * its earlier value. Also keeps Mesa's lavapipe loaded until exit (see
 * vk_kit.c). Call once an instance exists; thread-safe. */
void vk_kit_load_instance(VkInstance instance);

/* Fills the device-level commands that vk_kit_load_instance left NULL from
 * vkGetDeviceProcAddr(device). Those few are then the device's own: valid
 * for that device (and in practice its driver's others). Thread-safe. */
void vk_kit_load_device(VkDevice device);

/* ------------------------------------------------------------------ errors */

/* The name of a VkResult ("VK_ERROR_DEVICE_LOST"), or "VkResult <n>". */
const char *vk_kit_result_name(VkResult r);
/* A negative errno for a failed VkResult: -ENOMEM for the out-of-memory
 * results, -EOPNOTSUPP for missing layers/extensions/features/formats,
 * -ENODEV for an incompatible driver or lost surface, -EBADF for an invalid
 * external handle, -EPERM (a global priority not permitted), -ETIMEDOUT,
 * -EAGAIN (not ready), -EIO otherwise. */
int vk_kit_errno(VkResult r);
/* tool_fail(vk_kit_errno(r), "<what>: <result name>"); returns that errno. */
int vk_kit_fail(VkResult r, const char *what);

/* Returns vk_kit_fail(r, "<call>") from the enclosing int function when the
 * call does not return VK_SUCCESS. */
#define VK_KIT_TRY(call)                                    \
  do {                                                      \
    VkResult vk_kit_r_ = (call);                            \
    if (vk_kit_r_ != VK_SUCCESS) return vk_kit_fail(vk_kit_r_, #call); \
  } while (0)

/* For code shaped `int rc = 0; ... out: ... return rc;`: when the call does
 * not return VK_SUCCESS, rc = vk_kit_fail(r, "<call>") and a jump to out. */
#define VK_KIT_CHECK(call)                                  \
  do {                                                      \
    VkResult vk_kit_r_ = (call);                            \
    if (vk_kit_r_ != VK_SUCCESS) {                          \
      rc = vk_kit_fail(vk_kit_r_, #call);                   \
      goto out;                                             \
    }                                                       \
  } while (0)

/* ------------------------------------------------------------------ set-up */

/* vk_kit_load, then an instance with apiVersion api_version (0: 1.2) and
 * the given instance extensions, then vk_kit_load_instance. app_name may be
 * NULL. Errors: -ENOENT (no loader), -ENODEV (no instance: no driver). */
int vk_kit_create_instance(const char *app_name, uint32_t api_version,
                           const char *const *extensions, uint32_t extension_count,
                           VkInstance *out);

/* The physical device whose VkPhysicalDeviceIDProperties::deviceUUID is
 * uuid, or with uuid NULL the first one. props (may be NULL) receives its
 * properties. Errors: -ENODEV (no device), -EXDEV (none has that UUID). */
int vk_kit_pick_physical(VkInstance instance, const uint8_t *uuid, VkPhysicalDevice *out,
                         VkPhysicalDeviceProperties *props);

/* Whether the physical device offers the device extension `name`. */
bool vk_kit_has_device_extension(VkPhysicalDevice physical, const char *name);

/* Appends to enable[] (from index *count on) each of names[0..n) that the
 * device offers, advancing *count. Error: -ENODEV naming the first of
 * names[0..required) it lacks (enable[] is then incomplete). */
int vk_kit_enable_extensions(VkPhysicalDevice physical, const char *const *names, uint32_t n,
                             uint32_t required, const char **enable, uint32_t *count);

/* The first queue family with any of the `any` flags. Error: -ENODEV. */
int vk_kit_queue_family(VkPhysicalDevice physical, VkQueueFlags any, uint32_t *out);

typedef struct {
  VkPhysicalDevice physical;
  uint32_t family; /* one queue of it is created */
  const char *const *extensions;
  uint32_t extension_count;
  bool timelines;         /* Vulkan 1.2's timelineSemaphore */
  bool dynamic_rendering; /* Vulkan 1.3's dynamicRendering */
  const void *features; /* further feature structs (not Vulkan 1.2's or 1.3's
                         * when the flags above ask for them), or NULL */
  /* The queue's global priority (VK_KHR/EXT_global_priority, which must be
   * among the extensions); 0: not asked, the driver's default. */
  VkQueueGlobalPriorityKHR priority;
} vk_kit_device_config;

/* vkCreateDevice with one queue and the features asked for, then
 * vk_kit_load_device and vkGetDeviceQueue. Errors: vk_kit_errno of
 * vkCreateDevice's result. */
int vk_kit_create_device(const vk_kit_device_config *cfg, VkDevice *device, VkQueue *queue);

/* vk_kit_create_device asking for the global queue priority `want` (HIGH or
 * REALTIME), taking the highest one from `want` down to HIGH that the driver
 * grants (it answers VK_ERROR_NOT_PERMITTED above what the process may have),
 * else the default. Enables VK_KHR_global_priority or VK_EXT_global_priority,
 * whichever the device has, after cfg's extensions (at most 15 of them).
 * *got: the priority granted, or 0 for the driver's default; why: "" if
 * `want` was granted, else what was refused and how, or that the device has
 * neither extension. Errors: those of vk_kit_create_device for the default
 * queue; -E2BIG too many extensions. */
int vk_kit_create_device_prioritized(const vk_kit_device_config *cfg, VkQueueGlobalPriorityKHR want,
                                     VkQueueGlobalPriorityKHR *got, char *why, size_t why_size,
                                     VkDevice *device, VkQueue *queue);
/* "REALTIME", "HIGH", "MEDIUM", "LOW", or "default" for 0. */
const char *vk_kit_priority_name(VkQueueGlobalPriorityKHR p);

/* A command pool of `family` whose buffers are reset one by one, count
 * primary command buffers from it into cmds[], and, if fences is not NULL,
 * count fences (created signalled when `signaled`). On failure what was made
 * is left in *pool and fences[] for the caller to destroy (the buffers go
 * with the pool); the rest are VK_NULL_HANDLE. */
int vk_kit_commands(VkDevice device, uint32_t family, uint32_t count, VkCommandPool *pool,
                    VkCommandBuffer *cmds, VkFence *fences, bool signaled);

/* The index of the first memory type in `bits` whose flags include all of
 * `want`, or -ENOENT (with a message). */
int vk_kit_memory_type(VkPhysicalDevice physical, uint32_t bits, VkMemoryPropertyFlags want);

/* Allocates req.size bytes of the first type in req.memoryTypeBits with
 * `want`. Errors: -ENOENT (no such type), vk_kit_errno of vkAllocateMemory. */
int vk_kit_allocate(VkPhysicalDevice physical, VkDevice device, const VkMemoryRequirements *req,
                    VkMemoryPropertyFlags want, VkDeviceMemory *out);

/* A 2D image of one level and one layer, one sample, in layout UNDEFINED;
 * next is the create info's pNext (an external-memory struct) or NULL.
 * Error: vk_kit_errno of vkCreateImage (*out is then VK_NULL_HANDLE). */
int vk_kit_image_2d(VkDevice device, const void *next, VkFormat format, uint32_t width,
                    uint32_t height, VkImageTiling tiling, VkImageUsageFlags usage, VkImage *out);

/* The most descriptor sets vk_kit_descriptor_sets allocates in one call. */
#define VK_KIT_MAX_SETS 16

/* count (at most VK_KIT_MAX_SETS) descriptor sets of one layout from pool
 * into sets[]. Errors: -EINVAL (too many), vk_kit_errno of
 * vkAllocateDescriptorSets. */
int vk_kit_descriptor_sets(VkDevice device, VkDescriptorPool pool, VkDescriptorSetLayout layout,
                           uint32_t count, VkDescriptorSet *sets);

/* One submission: cmd (VK_NULL_HANDLE: none, only the semaphores), after
 * timeline semaphore `wait` reaches wait_value (at wait_stage), signalling
 * timeline semaphore `signal` = signal_value when done; either semaphore may
 * be VK_NULL_HANDLE (no timeline info is chained when both are). */
typedef struct {
  VkCommandBuffer cmd;
  VkSemaphore wait;
  uint64_t wait_value;
  VkPipelineStageFlags wait_stage;
  VkSemaphore signal;
  uint64_t signal_value;
} vk_kit_submission;

/* Resets fence (if not VK_NULL_HANDLE) and submits *s to queue with it. Does
 * not block. Errors: vk_kit_errno of vkResetFences or vkQueueSubmit. */
int vk_kit_submit(VkDevice device, VkQueue queue, const vk_kit_submission *s, VkFence fence);

#endif
