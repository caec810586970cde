/* Inside the Vulkan consumer of `interop-fd bench`: its state, which
 * bench_vk.c (frames) and bench_vk_floor.c (the floors) share. */
#ifndef IFD_TOOLS_BENCH_VK_INTERNAL_H
#define IFD_TOOLS_BENCH_VK_INTERNAL_H

#include "bench/bench_vk.h"
#include "common/vk_kit.h"
#include "common/tool_error.h"

#define SLOTS IFD_RING_MAX_FRAMES
#define IO_STRIDE 1024u /* per slot: positions (256 bytes), then texels (512) */
#define IO_POS_BYTES (8u * BENCH_SAMPLES)
#define IO_TEXEL_BYTES (16u * BENCH_SAMPLES)
#define WAIT_NS (10ull * 1000 * 1000 * 1000)

#define VK_TRY(call)                                                                    \
  do {                                                                                  \
    VkResult r_ = (call);                                                               \
    if (r_ != VK_SUCCESS)                                                               \
      return tool_fail(vk_kit_errno(r_), "bench consumer: %s: %s", #call,              \
                       vk_kit_result_name(r_));                                         \
  } while (0)

typedef struct {
  VkBuffer staging;
  VkDeviceMemory staging_memory;
  void *mapped;
  VkImage image;
  VkDeviceMemory image_memory;
  VkImageView view;
} upload_slot;

struct bench_vk {
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t family;
  char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  char driver[VK_MAX_DRIVER_INFO_SIZE + VK_MAX_DRIVER_NAME_SIZE + 4];
  double ns_per_tick;
  uint64_t ts_mask;
  PFN_vkGetCalibratedTimestampsEXT get_calibrated;
  ifd_vk_importer *importer;
  VkSampler sampler;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  VkDescriptorPool desc_pool;
  VkDescriptorSet sets[SLOTS];
  VkBuffer io;
  VkDeviceMemory io_memory;
  uint8_t *io_mapped;
  VkCommandPool pool;
  VkCommandBuffer cmd[SLOTS];
  VkFence fence[SLOTS];
  VkQueryPool queries;
  /* the frames being consumed: interop_fd's ring, or the upload slots */
  MAX_Format format;
  uint32_t width, height, count;
  ifd_vk_ring *ring;
  upload_slot up[SLOTS];
  uint32_t up_count;
  VkDeviceSize up_bytes;
  VkQueueGlobalPriorityKHR priority; /* granted; 0: the driver's default */
  char priority_why[160];            /* why not more ("" if as asked) */
  ifd_vk_timeline *pingpong;         /* the ping-pong floor's timeline */
};

/* Polls slot s's fence until signalled (10 s at most). Errors: -ETIMEDOUT
 * ("<what> timed out"), -EIO. */
int bench_vk_poll_fence(bench_vk *v, uint32_t s, const char *what);
/* tool_fail(rc, "bench consumer: <what>: <ifd_last_error()>"). */
int bench_vk_lib_fail(int rc, const char *what);

#endif
