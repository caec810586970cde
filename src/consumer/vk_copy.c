/* The Vulkan COPY path's compute copy: a compute shader (shaders/copy.comp)
 * reads the producer's rows from a storage buffer on the imported memory and
 * writes the OPTIMAL image through an unsigned-integer view of the texel's
 * size, so the bytes land unchanged for every format (sRGB included: the view
 * is not sRGB). On an H200 vkCmdCopyBufferToImage moves a 4K RGBA8 frame at
 * about 93 GB/s, a shader at memory speed (docs/platform-facts.md).
 *
 * What the route needs, all asked of the device, never of its name:
 *  - a queue family with compute;
 *  - for the frame's format, storage on optimal images of the integer format
 *    of its size (the shader names it as its format qualifier: writing
 *    without one needs Vulkan 1.3 or a feature the application may not have
 *    enabled), a MUTABLE_FORMAT image that large, and a storage buffer range
 *    covering the frame's rows.
 * Where one is missing the frame takes vkCmdCopyBufferToImage, as before. */
#include "vk_import_internal.h"

/* shaders/copy_<format>.spv, embedded by CMake (cmake/embed.cmake). */
#define SPIRV(f) extern const char ifd_vk_copy_##f##_spv[]; \
                 extern const unsigned long ifd_vk_copy_##f##_spv_size;
SPIRV(r8ui) SPIRV(r16ui) SPIRV(r32ui) SPIRV(rg32ui) SPIRV(rgba32ui)
#undef SPIRV

/* By texel size 1, 2, 4, 8, 16: the module whose storage image has the
 * format qualifier of the view's format. */
static const struct {
  const char *code;
  const unsigned long *size;
} modules[5] = {{ifd_vk_copy_r8ui_spv, &ifd_vk_copy_r8ui_spv_size},
                {ifd_vk_copy_r16ui_spv, &ifd_vk_copy_r16ui_spv_size},
                {ifd_vk_copy_r32ui_spv, &ifd_vk_copy_r32ui_spv_size},
                {ifd_vk_copy_rg32ui_spv, &ifd_vk_copy_rg32ui_spv_size},
                {ifd_vk_copy_rgba32ui_spv, &ifd_vk_copy_rgba32ui_spv_size}};

VkFormat ifd_vkc_copy_view_format(const ifd_format_info *info, uint32_t *index) {
  static const VkFormat formats[5] = {VK_FORMAT_R8_UINT, VK_FORMAT_R16_UINT, VK_FORMAT_R32_UINT,
                                      VK_FORMAT_R32G32_UINT, VK_FORMAT_R32G32B32A32_UINT};
  int i = ifd_copy_size_index(info->bytes_per_pixel); /* every format's size has one */
  *index = i < 0 ? 4 : (uint32_t)i;
  return formats[*index];
}

void ifd_vkc_copy_init(ifd_vk_importer *imp) {
  uint32_t families = 0;
  imp->vkGetPhysicalDeviceQueueFamilyProperties(imp->physical, &families, NULL);
  VkQueueFamilyProperties *props = calloc(families ? families : 1, sizeof(*props));
  if (!props) return; /* the transfer copy serves */
  imp->vkGetPhysicalDeviceQueueFamilyProperties(imp->physical, &families, props);
  imp->compute_copy =
      imp->family < families && (props[imp->family].queueFlags & VK_QUEUE_COMPUTE_BIT);
  free(props);
}

void ifd_vkc_copy_fini(ifd_vk_importer *imp) {
  for (size_t i = 0; i < IFD_ARRAY_LEN(imp->copy_pipelines); i++)
    if (imp->copy_pipelines[i]) imp->vkDestroyPipeline(imp->device, imp->copy_pipelines[i], NULL);
  if (imp->copy_layout) imp->vkDestroyPipelineLayout(imp->device, imp->copy_layout, NULL);
  if (imp->copy_set_layout)
    imp->vkDestroyDescriptorSetLayout(imp->device, imp->copy_set_layout, NULL);
}

/* The importer's pipeline for `index` (texel size 1 << index), made on first
 * use. Called with imp->lock held. */
static int copy_pipeline(ifd_vk_importer *imp, uint32_t index, uint32_t texel_bytes) {
  VkResult r;
  if (!imp->copy_set_layout) {
    const VkDescriptorSetLayoutBinding b[] = {
        {0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {1, VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL}};
    VkDescriptorSetLayoutCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = IFD_ARRAY_LEN(b),
        .pBindings = b};
    r = imp->vkCreateDescriptorSetLayout(imp->device, &ci, NULL, &imp->copy_set_layout);
    if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateDescriptorSetLayout(copy)");
  }
  if (!imp->copy_layout) {
    VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 3 * sizeof(uint32_t)};
    VkPipelineLayoutCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1,
                                     .pSetLayouts = &imp->copy_set_layout,
                                     .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &push};
    r = imp->vkCreatePipelineLayout(imp->device, &ci, NULL, &imp->copy_layout);
    if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreatePipelineLayout(copy)");
  }
  if (imp->copy_pipelines[index]) return 0;
  VkShaderModuleCreateInfo mci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                  .codeSize = *modules[index].size,
                                  .pCode = (const uint32_t *)(const void *)modules[index].code};
  VkShaderModule module;
  r = imp->vkCreateShaderModule(imp->device, &mci, NULL, &module);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateShaderModule(copy)");
  const uint32_t constants[4] = {texel_bytes, ifd_copy_run(texel_bytes), IFD_COPY_GROUP,
                                 IFD_COPY_GROUP};
  const VkSpecializationMapEntry entries[4] = {{0, 0, 4}, {1, 4, 4}, {2, 8, 4}, {3, 12, 4}};
  VkSpecializationInfo spec = {4, entries, sizeof(constants), constants};
  VkComputePipelineCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                .pName = "main",
                .pSpecializationInfo = &spec},
      .layout = imp->copy_layout};
  r = imp->vkCreateComputePipelines(imp->device, VK_NULL_HANDLE, 1, &ci, NULL,
                                    &imp->copy_pipelines[index]);
  imp->vkDestroyShaderModule(imp->device, module, NULL);
  return r == VK_SUCCESS ? 0 : ifd_vk_fail(r, "vkCreateComputePipelines(copy)");
}

bool ifd_vkc_copy_compute_usable(ifd_vk_importer *imp, const ifd_frame_desc *d,
                                 const ifd_format_info *info) {
  if (!imp->compute_copy) return false;
  uint32_t index;
  VkFormat view = ifd_vkc_copy_view_format(info, &index);
  VkFormatProperties fp;
  imp->vkGetPhysicalDeviceFormatProperties(imp->physical, view, &fp);
  if (!(fp.optimalTilingFeatures & VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT)) return false;
  /* The shader reads whole 32-bit words: the last texel's word must lie in
   * the memory, and the rows in one storage buffer range. */
  uint64_t end = (uint64_t)(d->height - 1) * d->row_pitch +
                 (uint64_t)d->width * info->bytes_per_pixel;
  if (((end + 3) & ~(uint64_t)3) > d->size || d->size > imp->max_storage_buffer_range)
    return false;
  /* The group counts of the dispatch are within limits, and offsets fit in
   * 32 bits. */
  uint32_t groups[2];
  ifd_copy_groups(d->width, d->height, info->bytes_per_pixel, groups);
  return end <= UINT32_MAX && groups[0] <= imp->max_group_count[0] &&
         groups[1] <= imp->max_group_count[1];
}

static int copy_setup(ifd_vk_frame *f) {
  ifd_vk_importer *imp = f->imp;
  uint32_t index;
  VkFormat format = ifd_vkc_copy_view_format(f->info, &index);
  VkImageViewUsageCreateInfo usage = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_USAGE_CREATE_INFO,
                                      .usage = VK_IMAGE_USAGE_STORAGE_BIT};
  VkImageViewCreateInfo vci = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                               .pNext = &usage,
                               .image = f->h.image,
                               .viewType = VK_IMAGE_VIEW_TYPE_2D,
                               .format = format,
                               .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
  VkResult r = imp->vkCreateImageView(imp->device, &vci, NULL, &f->copy_view);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateImageView(copy)");

  const VkDescriptorPoolSize sizes[] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1},
                                        {VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, 1}};
  VkDescriptorPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                    .maxSets = 1,
                                    .poolSizeCount = IFD_ARRAY_LEN(sizes),
                                    .pPoolSizes = sizes};
  r = imp->vkCreateDescriptorPool(imp->device, &pci, NULL, &f->copy_pool);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateDescriptorPool(copy)");

  pthread_mutex_lock(&imp->lock);
  int rc = copy_pipeline(imp, index, f->info->bytes_per_pixel);
  pthread_mutex_unlock(&imp->lock);
  if (rc != 0) return rc;
  f->copy_pipeline = imp->copy_pipelines[index];

  VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                    .descriptorPool = f->copy_pool,
                                    .descriptorSetCount = 1,
                                    .pSetLayouts = &imp->copy_set_layout};
  r = imp->vkAllocateDescriptorSets(imp->device, &ai, &f->copy_set);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkAllocateDescriptorSets(copy)");
  VkDescriptorBufferInfo bi = {f->h.buffer, 0, VK_WHOLE_SIZE};
  VkDescriptorImageInfo ii = {VK_NULL_HANDLE, f->copy_view, VK_IMAGE_LAYOUT_GENERAL};
  const VkWriteDescriptorSet w[] = {
      {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
       .dstSet = f->copy_set,
       .dstBinding = 0,
       .descriptorCount = 1,
       .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
       .pBufferInfo = &bi},
      {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
       .dstSet = f->copy_set,
       .dstBinding = 1,
       .descriptorCount = 1,
       .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_IMAGE,
       .pImageInfo = &ii}};
  imp->vkUpdateDescriptorSets(imp->device, IFD_ARRAY_LEN(w), w, 0, NULL);
  return 0;
}

int ifd_vkc_copy_setup(ifd_vk_frame *f) {
  int rc = copy_setup(f);
  if (rc != 0) ifd_vkc_copy_free(f);
  return rc;
}

void ifd_vkc_copy_free(ifd_vk_frame *f) {
  ifd_vk_importer *imp = f->imp;
  if (f->copy_pool) imp->vkDestroyDescriptorPool(imp->device, f->copy_pool, NULL);
  if (f->copy_view) imp->vkDestroyImageView(imp->device, f->copy_view, NULL);
  f->copy_pool = VK_NULL_HANDLE; /* its set goes with it */
  f->copy_set = VK_NULL_HANDLE;
  f->copy_view = VK_NULL_HANDLE;
  f->copy_pipeline = VK_NULL_HANDLE; /* the importer's */
}

void ifd_vkc_copy_record(ifd_vk_frame *f, VkCommandBuffer cmd) {
  ifd_vk_importer *imp = f->imp;
  const uint32_t push[3] = {f->h.width, f->h.height, f->row_pitch};
  imp->vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, f->copy_pipeline);
  imp->vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, imp->copy_layout, 0, 1,
                               &f->copy_set, 0, NULL);
  imp->vkCmdPushConstants(cmd, imp->copy_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push),
                          push);
  uint32_t groups[2];
  ifd_copy_groups(f->h.width, f->h.height, f->info->bytes_per_pixel, groups);
  imp->vkCmdDispatch(cmd, groups[0], groups[1], 1);
}
