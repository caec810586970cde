/* The tests' Vulkan consumer application: its own instance and device (as a
 * consumer in another process would have), an interop_fd Vulkan importer on
 * it, and a draw of an imported frame into an offscreen RGBA32F framebuffer
 * that is read back, so checks see what Vulkan samples. Test code only. */
#ifndef IFD_TEST_VK_RENDER_H
#define IFD_TEST_VK_RENDER_H

#include "common/vk_draw.h" /* the kit's Vulkan (tools/common) */
#include <stdbool.h>
#include <stddef.h>

#include "harness/vk_device.h"
#include "interop_fd/vulkan.h"

typedef struct {
  test_vk_device dev; /* Vulkan 1.3 (dynamic rendering), external memory fds */
  bool timelines; /* external semaphore fds enabled */
  VkCommandPool pool;
  VkCommandBuffer cmd;
  VkFence fence;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  VkDescriptorPool desc_pool;
  VkDescriptorSet set;
  VkSampler sampler;
  /* target of the current size */
  uint32_t w, h;
  vk_kit_target target;
  float *mapped; /* target.mapped: w * h RGBA floats, row 0 = texel row 0 */
  ifd_vk_importer *importer;
  PFN_vkGetInstanceProcAddr gipa_for_importer; /* NULL: the library's default */
} vkr;

/* Opens the first physical device with Vulkan 1.3 (dynamic rendering) and
 * external memory fds; external semaphore fds and timelines where present.
 * Returns 0, or -1 with why[] filled (a reason to skip). */
int vkr_open(vkr *r, PFN_vkGetInstanceProcAddr importer_gipa, char *why, size_t why_size);
void vkr_close(vkr *r);

/* Draws frame into the w x h target (resized as needed), reads it back into
 * r->mapped. Waits for `wait` >= wait_value before the acquire (device-side)
 * and signals `signal` = signal_value after the release, if not NULL.
 * Blocks until done. Returns 0 or -1 (printed). */
int vkr_draw(vkr *r, ifd_vk_frame *frame, VkSemaphore wait, uint64_t wait_value,
             VkSemaphore signal, uint64_t signal_value);

#endif
