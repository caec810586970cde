/* The demo's producer on a Vulkan context (producer.h): the embedded SPIR-V
 * of tools/producer/shaders/cppn.comp, submitted to the context's queue from a
 * ring of command buffers. Vulkan is called through the kit's pointers
 * (common/vk_kit.h), on the context's own VkDevice and VkQueue from
 * ifd_context_native_handles. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/tool_error.h"
#include "common/vk_draw.h"
#include "producer/producer_backend.h"

/* Generated at build time from the compiled tools/producer/shaders/cppn.comp
 * (cmake/embed_file.cmake): the bytes plus a NUL, 4-byte aligned. */
extern const char ifd_tool_cppn_comp_spv[];
extern const unsigned long ifd_tool_cppn_comp_spv_size;

#define SLOTS 8 /* command buffers in flight */
#define LOCAL_SIZE PRODUCER_LOCAL_SIZE

/* Push constants of cppn.comp: cppn_frame_args, then the band of rows. */
typedef struct {
  uint32_t row0, rows, delta;
} band_push;
#define PUSH_ARGS_SIZE ((uint32_t)sizeof(cppn_frame_args))
#define PUSH_SIZE (PUSH_ARGS_SIZE + (uint32_t)sizeof(band_push))
_Static_assert(sizeof(cppn_frame_args) == 48, "cppn_frame_args must be 48 bytes (cppn.h)");

typedef struct {
  VkCommandBuffer cmd;
  VkFence fence;
  VkDescriptorPool pool; /* the slot's descriptor sets, one per band */
  uint32_t pool_sets;
  bool pending;          /* submitted, fence not yet waited on */
} slot;

typedef struct {
  producer base;
  VkDevice device;
  VkQueue queue;
  uint32_t family;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  VkCommandPool cmd_pool;
  VkBuffer params_buffer;
  VkDeviceMemory params_memory;
  uint64_t max_range;    /* bytes of the frame one descriptor may cover */
  uint64_t offset_align; /* descriptor offsets: minStorageBufferOffsetAlignment, >= 4 */
  slot slots[SLOTS];
  uint32_t next;
} vk_producer;

static int vk_fail(VkResult r, const char *what) {
  int err = r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? -ENOMEM
                                                                                  : -EIO;
  return tool_fail(err, "producer: %s failed: VkResult %d", what, (int)r);
}

static int vk_params_buffer(vk_producer *p, const cppn_params *params) {
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = sizeof(*params),
                            .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                            .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  VkResult r = vkCreateBuffer(p->device, &bci, NULL, &p->params_buffer);
  if (r != VK_SUCCESS) return vk_fail(r, "vkCreateBuffer(weights)");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(p->device, p->params_buffer, &req);
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties((VkPhysicalDevice)p->base.native.vk_physical_device, &mp);
  const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint32_t type = UINT32_MAX;
  for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
    if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
      type = i;
  if (type == UINT32_MAX)
    return tool_fail(-ENOMEM, "producer: no host-visible coherent memory for the weights");
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = type};
  r = vkAllocateMemory(p->device, &ai, NULL, &p->params_memory);
  if (r != VK_SUCCESS) return vk_fail(r, "vkAllocateMemory(weights)");
  r = vkBindBufferMemory(p->device, p->params_buffer, p->params_memory, 0);
  if (r != VK_SUCCESS) return vk_fail(r, "vkBindBufferMemory(weights)");
  void *map = NULL;
  r = vkMapMemory(p->device, p->params_memory, 0, VK_WHOLE_SIZE, 0, &map);
  if (r != VK_SUCCESS) return vk_fail(r, "vkMapMemory(weights)");
  /* Coherent memory written before any submission that reads it: visible to
   * the device without a flush or barrier (vkQueueSubmit's host write
   * ordering guarantee). */
  memcpy(map, params, sizeof(*params));
  vkUnmapMemory(p->device, p->params_memory);
  return 0;
}

static int vk_pipeline(vk_producer *p) {
  VkDescriptorSetLayoutBinding bindings[2] = {
      {.binding = 0,
       .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
       .descriptorCount = 1,
       .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT},
      {.binding = 1,
       .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
       .descriptorCount = 1,
       .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT}};
  VkDescriptorSetLayoutCreateInfo dslci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 2,
      .pBindings = bindings};
  VkResult r = vkCreateDescriptorSetLayout(p->device, &dslci, NULL, &p->set_layout);
  VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = PUSH_SIZE};
  VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1,
                                     .pSetLayouts = &p->set_layout,
                                     .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &pcr};
  if (r == VK_SUCCESS) r = vkCreatePipelineLayout(p->device, &plci, NULL, &p->layout);
  if (r != VK_SUCCESS) return vk_fail(r, "creating the cppn pipeline layout");
  int rc = vk_kit_compute_pipeline(p->device, ifd_tool_cppn_comp_spv, ifd_tool_cppn_comp_spv_size,
                                   p->layout, &p->pipeline);
  return rc == 0 ? 0 : tool_fail(rc, "producer: cppn.comp: %s", tool_last_error());
}

static int vk_commands(vk_producer *p) {
  VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                 .queueFamilyIndex = p->family};
  VkResult r = vkCreateCommandPool(p->device, &pci, NULL, &p->cmd_pool);
  if (r != VK_SUCCESS) return vk_fail(r, "vkCreateCommandPool");
  VkCommandBuffer cmds[SLOTS];
  VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                    .commandPool = p->cmd_pool,
                                    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                    .commandBufferCount = SLOTS};
  r = vkAllocateCommandBuffers(p->device, &ai, cmds);
  if (r != VK_SUCCESS) return vk_fail(r, "vkAllocateCommandBuffers");
  for (int i = 0; i < SLOTS; i++) {
    p->slots[i].cmd = cmds[i];
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = vkCreateFence(p->device, &fci, NULL, &p->slots[i].fence);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateFence");
  }
  return 0;
}

static int vk_create(producer *base) {
  vk_producer *p = (vk_producer *)base;
  p->device = (VkDevice)p->base.native.vk_device;
  p->queue = (VkQueue)p->base.native.vk_queue;
  p->family = p->base.native.vk_queue_family;
  if (!p->device || !p->queue)
    return tool_fail(-EINVAL, "producer: the context has no Vulkan device");
  int rc = vk_kit_load();
  if (rc != 0) return rc;
  vk_kit_load_instance((VkInstance)p->base.native.vk_instance);
  vk_kit_load_device(p->device);
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties((VkPhysicalDevice)p->base.native.vk_physical_device, &props);
  p->max_range = props.limits.maxStorageBufferRange / 4 * 4;
  p->offset_align = props.limits.minStorageBufferOffsetAlignment;
  if (p->offset_align < 4) p->offset_align = 4;
  rc = vk_params_buffer(p, &p->base.params);
  if (rc == 0) rc = vk_pipeline(p);
  if (rc == 0) rc = vk_commands(p);
  return rc;
}

static int vk_wait_slot(vk_producer *p, slot *s) {
  if (!s->pending) return 0;
  VkResult r = vkWaitForFences(p->device, 1, &s->fence, VK_TRUE, UINT64_MAX);
  if (r != VK_SUCCESS) return vk_fail(r, "vkWaitForFences");
  s->pending = false;
  return 0;
}

static int vk_finish(producer *base) {
  vk_producer *p = (vk_producer *)base;
  int rc = 0;
  for (int i = 0; i < SLOTS; i++) {
    int r = vk_wait_slot(p, &p->slots[i]);
    if (rc == 0) rc = r;
  }
  return rc;
}

static void vk_destroy(producer *base) {
  vk_producer *p = (vk_producer *)base;
  if (!p->device) return;
  if (p->cmd_pool) vk_finish(base);
  for (int i = 0; i < SLOTS; i++) {
    if (p->slots[i].fence) vkDestroyFence(p->device, p->slots[i].fence, NULL);
    if (p->slots[i].pool) vkDestroyDescriptorPool(p->device, p->slots[i].pool, NULL);
  }
  if (p->cmd_pool) vkDestroyCommandPool(p->device, p->cmd_pool, NULL);
  vk_kit_pipeline_destroy(p->device, p->pipeline, p->layout, p->set_layout);
  if (p->params_buffer) vkDestroyBuffer(p->device, p->params_buffer, NULL);
  if (p->params_memory) vkFreeMemory(p->device, p->params_memory, NULL);
}

/* A band of rows bound and dispatched at once: binding 0 covers bytes
 * [offset, offset + range) of the frame, row row0 starting delta bytes in. */
typedef struct {
  uint64_t offset, range;
  band_push push;
} band;

/* Splits the frame into bands that each fit one storage-buffer descriptor.
 * Returns the number of bands (0 with the message set if a single row does not
 * fit); fills at most max_bands. In cppn.comp a word belongs to the row its
 * first byte lies in, so the words of rows [y0, y1) end before
 * align4(y1 * pitch): that is where each band's range ends. */
static uint32_t plan_bands(const vk_producer *p, uint64_t size, uint32_t pitch, uint32_t height,
                           band *out, uint32_t max_bands) {
  uint64_t limit = p->max_range;
  if (p->base.test_range && p->base.test_range < limit) limit = p->base.test_range / 4 * 4;
  /* One dispatch covers at most 65535 workgroups of rows. */
  uint64_t max_rows = 65535u * (uint64_t)LOCAL_SIZE;
  if (size <= limit && height <= max_rows) { /* the whole buffer, whatever its exact size */
    if (max_bands > 0) out[0] = (band){0, VK_WHOLE_SIZE, {0, height, 0}};
    return 1;
  }
  if (limit < p->offset_align + 4 + pitch) {
    tool_fail(-EOPNOTSUPP, "producer: one row of %u bytes exceeds the device's storage buffer "
                           "range of %llu bytes", pitch, (unsigned long long)limit);
    return 0;
  }
  /* end - offset <= rows * pitch + 3 + (offset_align - 4) < limit */
  uint64_t rows = (limit - p->offset_align - 4) / pitch;
  if (rows > max_rows) rows = max_rows;
  uint32_t n = 0;
  for (uint64_t y0 = 0; y0 < height; y0 += rows, n++) {
    uint64_t y1 = y0 + rows < height ? y0 + rows : height;
    uint64_t start = y0 * pitch, end = (y1 * pitch + 3) / 4 * 4;
    uint64_t offset = start / p->offset_align * p->offset_align;
    if (end > size) end = size;
    if (n < max_bands)
      out[n] = (band){offset, end - offset,
                      {(uint32_t)y0, (uint32_t)(y1 - y0), (uint32_t)(start - offset)}};
  }
  return n;
}

/* Makes the slot's descriptor pool hold at least n sets, then resets it. */
static int vk_slot_pool(vk_producer *p, slot *s, uint32_t n) {
  if (s->pool && s->pool_sets < n) {
    vkDestroyDescriptorPool(p->device, s->pool, NULL);
    s->pool = VK_NULL_HANDLE;
  }
  if (!s->pool) {
    uint32_t sets = n < 4 ? 4 : n;
    VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 * sets};
    VkDescriptorPoolCreateInfo dpci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                       .maxSets = sets,
                                       .poolSizeCount = 1,
                                       .pPoolSizes = &size};
    VkResult r = vkCreateDescriptorPool(p->device, &dpci, NULL, &s->pool);
    if (r != VK_SUCCESS) {
      s->pool = VK_NULL_HANDLE;
      return vk_fail(r, "vkCreateDescriptorPool");
    }
    s->pool_sets = sets;
    return 0;
  }
  VkResult r = vkResetDescriptorPool(p->device, s->pool, 0);
  return r == VK_SUCCESS ? 0 : vk_fail(r, "vkResetDescriptorPool");
}

static int vk_record(vk_producer *p, slot *s, VkBuffer frame, const cppn_frame_args *args,
                     uint32_t groups_x, const band *bands, const VkDescriptorSet *sets,
                     uint32_t n) {
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VkResult r = vkResetCommandBuffer(s->cmd, 0);
  if (r == VK_SUCCESS) r = vkBeginCommandBuffer(s->cmd, &bi);
  if (r != VK_SUCCESS) return vk_fail(r, "recording the cppn dispatch");

  /* Before: all earlier work on the queue (earlier frames, host copies, the
   * barrier of a timeline wait) is done and its writes are visible to the
   * shader, which also reads the padding words it merges into. The buffer is
   * acquired from VK_QUEUE_FAMILY_EXTERNAL, where the previous draw (or a
   * consumer's ifd_vk_frame_cmd_release) left it. */
  VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                        .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
                        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
  VkBufferMemoryBarrier bb = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                              .srcAccessMask = 0,
                              .dstAccessMask =
                                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
                              .dstQueueFamilyIndex = p->family,
                              .buffer = frame,
                              .size = VK_WHOLE_SIZE};
  vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 1, &bb, 0, NULL);

  vkCmdBindPipeline(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
  vkCmdPushConstants(s->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, PUSH_ARGS_SIZE, args);
  for (uint32_t i = 0; i < n; i++) {
    vkCmdPushConstants(s->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, PUSH_ARGS_SIZE,
                       (uint32_t)sizeof(band_push), &bands[i].push);
    vkCmdBindDescriptorSets(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &sets[i], 0,
                            NULL);
    vkCmdDispatch(s->cmd, groups_x, (bands[i].push.rows + LOCAL_SIZE - 1) / LOCAL_SIZE, 1);
  }

  /* After: the shader's writes are available to, and ordered before, all
   * later work on the queue: the ready signal of ifd_ring_end_frame or
   * ifd_timeline_signal, the host wait of a ring without timelines, the
   * library's host copies. The buffer is released to VK_QUEUE_FAMILY_EXTERNAL
   * for importers in other devices and APIs (ifd_vk_frame_cmd_acquire
   * acquires it from there). */
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
  bb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  bb.dstAccessMask = 0;
  bb.srcQueueFamilyIndex = p->family;
  bb.dstQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL;
  vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 1, &bb, 0, NULL);
  r = vkEndCommandBuffer(s->cmd);
  return r == VK_SUCCESS ? 0 : vk_fail(r, "vkEndCommandBuffer(cppn dispatch)");
}

#define MAX_BANDS_ON_STACK 64

static int vk_draw(producer *base, const ifd_image_native *img, const cppn_frame_args *args,
                   uint32_t bpp) {
  vk_producer *p = (vk_producer *)base;
  band stack_bands[MAX_BANDS_ON_STACK];
  VkDescriptorSet stack_sets[MAX_BANDS_ON_STACK];
  VkDescriptorSetLayout stack_layouts[MAX_BANDS_ON_STACK];
  band *bands = stack_bands;
  VkDescriptorSet *sets = stack_sets;
  VkDescriptorSetLayout *layouts = stack_layouts;
  uint32_t n = plan_bands(p, img->size, args->row_pitch, args->height, bands, MAX_BANDS_ON_STACK);
  if (n == 0) return -EOPNOTSUPP;
  int rc = 0;
  if (n > MAX_BANDS_ON_STACK) { /* a frame of over 64 storage-buffer ranges */
    bands = calloc(n, sizeof(*bands));
    sets = calloc(n, sizeof(*sets));
    layouts = calloc(n, sizeof(*layouts));
    if (!bands || !sets || !layouts) {
      rc = tool_fail(-ENOMEM, "producer: out of host memory");
      goto out;
    }
    plan_bands(p, img->size, args->row_pitch, args->height, bands, n);
  }

  /* The slot's previous submission is done before its command buffer and
   * descriptor sets are touched again. */
  slot *s = &p->slots[p->next];
  VkResult r;
  rc = vk_wait_slot(p, s);
  if (rc == 0) rc = vk_slot_pool(p, s, n);
  if (rc != 0) goto out;
  for (uint32_t i = 0; i < n; i++) layouts[i] = p->set_layout;
  VkDescriptorSetAllocateInfo dsai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = s->pool,
                                      .descriptorSetCount = n,
                                      .pSetLayouts = layouts};
  r = vkAllocateDescriptorSets(p->device, &dsai, sets);
  if (r != VK_SUCCESS) {
    rc = vk_fail(r, "vkAllocateDescriptorSets");
    goto out;
  }
  VkBuffer frame = (VkBuffer)(uintptr_t)img->vk_buffer;
  for (uint32_t i = 0; i < n; i++) {
    VkDescriptorBufferInfo infos[2] = {{frame, bands[i].offset, bands[i].range},
                                       {p->params_buffer, 0, VK_WHOLE_SIZE}};
    VkWriteDescriptorSet w[2];
    for (uint32_t b = 0; b < 2; b++)
      w[b] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                    .dstSet = sets[i],
                                    .dstBinding = b,
                                    .descriptorCount = 1,
                                    .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                    .pBufferInfo = &infos[b]};
    vkUpdateDescriptorSets(p->device, 2, w, 0, NULL);
  }
  /* 4, 8, 16 bytes per pixel: an invocation per pixel; 1 or 2: per word,
   * at most ceil(row_pitch / 4) words belong to a row (cppn.comp). */
  uint32_t units = bpp >= 4 ? args->width : (args->row_pitch + 3) / 4;
  rc = vk_record(p, s, frame, args, (units + LOCAL_SIZE - 1) / LOCAL_SIZE, bands, sets, n);
  if (rc != 0) goto out;

  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                     .commandBufferCount = 1,
                     .pCommandBuffers = &s->cmd};
  r = vkResetFences(p->device, 1, &s->fence);
  if (r != VK_SUCCESS) {
    rc = vk_fail(r, "vkResetFences");
    goto out;
  }
  /* The library submits to the same queue from its own calls (copies,
   * signals, waits): submit under its lock, after everything it queued. */
  rc = ifd_context_lock(p->base.ctx);
  if (rc != 0) {
    rc = tool_fail(rc, "producer: %s", ifd_last_error());
    goto out;
  }
  r = vkQueueSubmit(p->queue, 1, &si, s->fence);
  ifd_context_unlock(p->base.ctx);
  if (r != VK_SUCCESS) {
    rc = vk_fail(r, "vkQueueSubmit(cppn dispatch)");
    goto out;
  }
  s->pending = true;
  p->next = (p->next + 1) % SLOTS;
out:
  if (bands != stack_bands) free(bands);
  if (sets != stack_sets) free(sets);
  if (layouts != stack_layouts) free(layouts);
  return rc;
}

const producer_ops producer_vk_ops = {sizeof(vk_producer), vk_create, vk_destroy, vk_draw,
                                      vk_finish};
