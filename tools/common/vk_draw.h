/* Drawing pieces of the Vulkan client kit (common/vk_kit.h): shader modules,
 * the blit pipeline (a fullscreen triangle sampling one texture, drawn with
 * dynamic rendering), compute pipelines, and an offscreen colour target read
 * back through a host-visible buffer. Functions return 0 or a negative errno
 * with a message (common/tool_error.h). Handles a function fills are left
 * VK_NULL_HANDLE on failure, so the matching destroy is always safe. */
#ifndef IFD_TOOLS_VK_DRAW_H
#define IFD_TOOLS_VK_DRAW_H

#include "common/vk_kit.h"

/* A shader module from SPIR-V (an ifd_embed array and its size). */
int vk_kit_shader(VkDevice device, const char *spirv, unsigned long size, VkShaderModule *out);

/* A sampler clamping to the edge with `filter`. */
int vk_kit_sampler(VkDevice device, VkFilter filter, VkSampler *out);

/* The blit's layouts: set 0 binding 0 a combined image sampler for the
 * fragment stage, and push_size bytes (0: none) of fragment push constants. */
int vk_kit_blit_layout(VkDevice device, uint32_t push_size, VkDescriptorSetLayout *set_layout,
                       VkPipelineLayout *layout);

/* The blit pipeline: the kit's fullscreen-triangle vertex shader
 * (common/shaders/blit.vert) and the caller's fragment shader, drawing into
 * one `color` attachment with dynamic rendering; viewport and scissor are
 * dynamic. Needs Vulkan 1.3's dynamicRendering. */
int vk_kit_blit_pipeline(VkDevice device, const char *frag_spirv, unsigned long frag_size,
                         VkFormat color, VkPipelineLayout layout, VkPipeline *out);

/* Records the blit into view (COLOR_ATTACHMENT_OPTIMAL) over all of extent:
 * cleared to *clear first, or with clear NULL left as it was (DONT_CARE),
 * then one triangle with `set` bound and push_size bytes of push (fragment
 * stage) if push is not NULL. */
void vk_kit_cmd_blit(VkCommandBuffer cmd, VkImageView view, VkExtent2D extent,
                     const VkClearColorValue *clear, VkPipeline pipeline, VkPipelineLayout layout,
                     VkDescriptorSet set, const void *push, uint32_t push_size);

/* A compute pipeline of the SPIR-V's "main" on layout. */
int vk_kit_compute_pipeline(VkDevice device, const char *spirv, unsigned long size,
                            VkPipelineLayout layout, VkPipeline *out);

/* One image memory barrier on the colour aspect of a single-level image. */
void vk_kit_cmd_image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from,
                              VkImageLayout to, VkPipelineStageFlags src_stage,
                              VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                              VkAccessFlags dst_access);

/* Destroys a pipeline, its layout and its set layout; VK_NULL_HANDLEs are
 * skipped. */
void vk_kit_pipeline_destroy(VkDevice device, VkPipeline pipeline, VkPipelineLayout layout,
                             VkDescriptorSetLayout set_layout);

/* Writes the set of a compute pass that samples an image into a buffer:
 * binding 0 the combined image sampler (sampler, view in `layout`), binding 1
 * the storage buffer range [offset, offset + range) of buffer. */
void vk_kit_write_sample_set(VkDevice device, VkDescriptorSet set, VkSampler sampler,
                             VkImageView view, VkImageLayout layout, VkBuffer buffer,
                             VkDeviceSize offset, VkDeviceSize range);

/* An offscreen colour target (optimal tiling, device-local) and a mapped,
 * host-coherent buffer it is copied into: width * height * bpp bytes, row 0
 * first, tightly packed. */
typedef struct {
  VkImage image;
  VkDeviceMemory memory;
  VkImageView view;
  VkBuffer readback;
  VkDeviceMemory readback_memory;
  void *mapped;
  VkFormat format;
  uint32_t width, height, bpp;
} vk_kit_target;

/* Creates the target; on failure *t is left empty (destroy is a no-op). */
int vk_kit_target_create(VkPhysicalDevice physical, VkDevice device, VkFormat format, uint32_t bpp,
                         uint32_t width, uint32_t height, vk_kit_target *t);
/* Frees it (waits for nothing: the caller has). A zeroed target is a no-op. */
void vk_kit_target_destroy(VkDevice device, vk_kit_target *t);

/* Records the read-back of a target drawn in COLOR_ATTACHMENT_OPTIMAL:
 * to TRANSFER_SRC, the copy into t->readback, and a barrier that makes it
 * visible to the host once the submission's fence has signalled. */
void vk_kit_cmd_target_readback(VkCommandBuffer cmd, const vk_kit_target *t);

#endif
