/* The Vulkan consumer of `interop-fd bench` (bench_vk.h). */
#include "bench/bench_vk.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_vk_internal.h"
#include "common/clock.h"
#include "common/tool_error.h"
#include "common/vk_draw.h"

extern const char ifd_tool_bench_sample_comp_spv[];
extern const unsigned long ifd_tool_bench_sample_comp_spv_size;

int bench_vk_lib_fail(int rc, const char *what) {
  return tool_fail(rc, "bench consumer: %s: %s", what, ifd_last_error());
}

static int alloc_bind(bench_vk *v, VkMemoryRequirements req, VkMemoryPropertyFlags want,
                      VkDeviceMemory *mem) {
  int rc = vk_kit_allocate(v->physical, v->device, &req, want, mem);
  return rc == 0 ? 0 : tool_fail(rc, "bench consumer: %s", tool_last_error());
}

/* ------------------------------------------------------------------ device */

static int create_device(bench_vk *v, const uint8_t uuid[16], VkQueueGlobalPriorityKHR priority) {
  int rc = vk_kit_create_instance("interop-fd bench", VK_API_VERSION_1_2, NULL, 0, &v->instance);
  if (rc == 0) rc = vk_kit_pick_physical(v->instance, uuid, &v->physical, NULL);
  if (rc != 0) return tool_fail(rc, "bench consumer: %s", tool_last_error());
  VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &drv};
  vkGetPhysicalDeviceProperties2(v->physical, &p2);
  VkPhysicalDeviceProperties props = p2.properties;
  snprintf(v->name, sizeof(v->name), "%s", props.deviceName);
  snprintf(v->driver, sizeof(v->driver), "%s %s", drv.driverName, drv.driverInfo);
  v->ns_per_tick = props.limits.timestampPeriod;

  uint32_t req_n = 0;
  const char *const *req = ifd_vk_required_device_extensions(&req_n);
  const char *enable[8];
  uint32_t en = 0;
  if (req_n > 6) return tool_fail(-E2BIG, "bench consumer: too many importer extensions");
  if (vk_kit_enable_extensions(v->physical, req, req_n, req_n, enable, &en) != 0)
    rc = tool_fail(-EOPNOTSUPP, "bench consumer: %s", tool_last_error());
  bool calibrated = vk_kit_has_device_extension(v->physical, VK_EXT_CALIBRATED_TIMESTAMPS_EXTENSION_NAME);
  if (calibrated) enable[en++] = VK_EXT_CALIBRATED_TIMESTAMPS_EXTENSION_NAME;
  if (rc != 0) return rc;

  uint32_t nq = 16;
  VkQueueFamilyProperties qf[16];
  vkGetPhysicalDeviceQueueFamilyProperties(v->physical, &nq, qf);
  v->family = UINT32_MAX;
  /* IFD_BENCH_QUEUE=compute: a compute-only family where there is one. */
  const char *want = getenv("IFD_BENCH_QUEUE");
  bool compute_only = want && strcmp(want, "compute") == 0;
  for (int pass = compute_only ? 0 : 1; pass < 2 && v->family == UINT32_MAX; pass++)
    for (uint32_t i = 0; i < nq && v->family == UINT32_MAX; i++)
      if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && qf[i].timestampValidBits > 0 &&
          (pass == 1 || !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
        v->family = i;
  if (v->family == UINT32_MAX)
    return tool_fail(-ENODEV, "bench consumer: no compute queue with timestamps");
  uint32_t bits = qf[v->family].timestampValidBits;
  v->ts_mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;

  vk_kit_device_config dc = {.physical = v->physical,
                             .family = v->family,
                             .extensions = enable,
                             .extension_count = en,
                             .timelines = true};
  rc = priority ? vk_kit_create_device_prioritized(&dc, priority, &v->priority, v->priority_why,
                                                   sizeof(v->priority_why), &v->device, &v->queue)
                : vk_kit_create_device(&dc, &v->device, &v->queue);
  if (rc != 0)
    return tool_fail(rc, "bench consumer: %s", tool_last_error());
  if (calibrated)
    v->get_calibrated = (PFN_vkGetCalibratedTimestampsEXT)vkGetDeviceProcAddr(
        v->device, "vkGetCalibratedTimestampsEXT");

  ifd_vk_device_info info = {.instance = v->instance,
                             .physical_device = v->physical,
                             .device = v->device,
                             .queue_family_index = v->family};
  rc = ifd_vk_importer_create(&info, &v->importer);
  return rc == 0 ? 0 : bench_vk_lib_fail(rc, "ifd_vk_importer_create");
}

static int create_pipeline(bench_vk *v) {
  int rc = vk_kit_sampler(v->device, VK_FILTER_NEAREST, &v->sampler);
  if (rc != 0) return tool_fail(rc, "bench consumer: %s", tool_last_error());
  VkDescriptorSetLayoutBinding b[2] = {
      {0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
      {1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL}};
  VkDescriptorSetLayoutCreateInfo dl = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                        .bindingCount = 2,
                                        .pBindings = b};
  VK_TRY(vkCreateDescriptorSetLayout(v->device, &dl, NULL, &v->set_layout));
  VkPipelineLayoutCreateInfo pl = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                   .setLayoutCount = 1,
                                   .pSetLayouts = &v->set_layout};
  VK_TRY(vkCreatePipelineLayout(v->device, &pl, NULL, &v->layout));
  rc = vk_kit_compute_pipeline(v->device, ifd_tool_bench_sample_comp_spv,
                                   ifd_tool_bench_sample_comp_spv_size, v->layout, &v->pipeline);
  if (rc != 0) return tool_fail(rc, "bench consumer: %s", tool_last_error());
  VkDescriptorPoolSize ps[2] = {{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, SLOTS},
                                {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SLOTS}};
  VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                    .maxSets = SLOTS,
                                    .poolSizeCount = 2,
                                    .pPoolSizes = ps};
  VK_TRY(vkCreateDescriptorPool(v->device, &dpi, NULL, &v->desc_pool));
  rc = vk_kit_descriptor_sets(v->device, v->desc_pool, v->set_layout, SLOTS, v->sets);
  if (rc != 0) return rc;

  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = (VkDeviceSize)IO_STRIDE * SLOTS,
                            .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT}; /* the floor's probe fills */
  VK_TRY(vkCreateBuffer(v->device, &bci, NULL, &v->io));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(v->device, v->io, &req);
  rc = alloc_bind(v, req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                  &v->io_memory);
  if (rc != 0) return rc;
  VK_TRY(vkBindBufferMemory(v->device, v->io, v->io_memory, 0));
  void *m = NULL;
  VK_TRY(vkMapMemory(v->device, v->io_memory, 0, VK_WHOLE_SIZE, 0, &m));
  v->io_mapped = m;

  if ((rc = vk_kit_commands(v->device, v->family, SLOTS, &v->pool, v->cmd, v->fence, true)) != 0)
    return tool_fail(rc, "bench consumer: %s", tool_last_error());
  VkQueryPoolCreateInfo qpi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                               .queryType = VK_QUERY_TYPE_TIMESTAMP,
                               .queryCount = 3 * SLOTS};
  VK_TRY(vkCreateQueryPool(v->device, &qpi, NULL, &v->queries));
  return 0;
}

void bench_vk_destroy(bench_vk *v) {
  if (!v) return;
  if (v->device) {
    vkDeviceWaitIdle(v->device);
    bench_vk_ring_drop(v);
    bench_vk_pingpong_drop(v);
    bench_vk_upload_drop(v);
    vkDestroyQueryPool(v->device, v->queries, NULL);
    for (int i = 0; i < SLOTS; i++) vkDestroyFence(v->device, v->fence[i], NULL);
    vkDestroyCommandPool(v->device, v->pool, NULL);
    vkDestroyBuffer(v->device, v->io, NULL);
    vkFreeMemory(v->device, v->io_memory, NULL);
    vkDestroyDescriptorPool(v->device, v->desc_pool, NULL);
    vk_kit_pipeline_destroy(v->device, v->pipeline, v->layout, v->set_layout);
    vkDestroySampler(v->device, v->sampler, NULL);
    ifd_vk_importer_destroy(v->importer);
    vkDestroyDevice(v->device, NULL);
  }
  if (v->instance) vkDestroyInstance(v->instance, NULL);
  free(v);
}

int bench_vk_create(const uint8_t uuid[16], VkQueueGlobalPriorityKHR priority, bench_vk **out) {
  bench_vk *v = calloc(1, sizeof(*v));
  if (!v) return tool_fail(-ENOMEM, "bench consumer: out of memory");
  int rc = create_device(v, uuid, priority);
  if (rc == 0) rc = create_pipeline(v);
  if (rc != 0) {
    bench_vk_destroy(v);
    return rc;
  }
  *out = v;
  return 0;
}

const char *bench_vk_device_name(const bench_vk *v) { return v->name; }
const char *bench_vk_driver_info(const bench_vk *v) { return v->driver; }

VkQueueGlobalPriorityKHR bench_vk_priority(const bench_vk *v, const char **why) {
  *why = v->priority_why;
  return v->priority;
}

int bench_vk_calibrate(bench_vk *v, int64_t *offset, uint64_t *spread) {
  if (!v->get_calibrated)
    return tool_fail(-EOPNOTSUPP, "the consumer's device has no VK_EXT_calibrated_timestamps");
  VkCalibratedTimestampInfoEXT info[2] = {
      {.sType = VK_STRUCTURE_TYPE_CALIBRATED_TIMESTAMP_INFO_EXT, .timeDomain = VK_TIME_DOMAIN_DEVICE_EXT},
      {.sType = VK_STRUCTURE_TYPE_CALIBRATED_TIMESTAMP_INFO_EXT,
       .timeDomain = VK_TIME_DOMAIN_CLOCK_MONOTONIC_EXT}};
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 50; i++) {
    uint64_t ts[2], dev = 0;
    VkResult r = v->get_calibrated(v->device, 2, info, ts, &dev);
    if (r != VK_SUCCESS)
      return tool_fail(-EOPNOTSUPP, "vkGetCalibratedTimestampsEXT: %s", vk_kit_result_name(r));
    if (dev < best) {
      best = dev;
      *offset = (int64_t)ts[1] - (int64_t)llround((double)(ts[0] & v->ts_mask) * v->ns_per_tick);
    }
  }
  *spread = best;
  return 0;
}

/* ------------------------------------------------------------------ recording */

static void write_set(bench_vk *v, uint32_t s, VkImageView view, VkImageLayout layout) {
  vk_kit_write_sample_set(v->device, v->sets[s], v->sampler, view, layout, v->io,
                          (VkDeviceSize)IO_STRIDE * s, IO_POS_BYTES + IO_TEXEL_BYTES);
}

static void put_positions(bench_vk *v, uint32_t s, const uint32_t pos[2 * BENCH_SAMPLES]) {
  uint8_t *io = v->io_mapped + (size_t)IO_STRIDE * s;
  memcpy(io, pos, IO_POS_BYTES);
  memset(io + IO_POS_BYTES, 0xff, IO_TEXEL_BYTES); /* NaNs until the shader writes */
}

static int begin(bench_vk *v, uint32_t s) {
  VkCommandBuffer cmd = v->cmd[s];
  /* The slot's last use is already known done (collected); waiting on its
   * fence returns at once and shows the validation layer it is done too. */
  VK_TRY(vkWaitForFences(v->device, 1, &v->fence[s], VK_TRUE, WAIT_NS));
  VK_TRY(vkResetCommandBuffer(cmd, 0));
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VK_TRY(vkBeginCommandBuffer(cmd, &bi));
  vkCmdResetQueryPool(cmd, v->queries, 3 * s, 3);
  vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, v->queries, 3 * s);
  return 0;
}

static void sample(bench_vk *v, uint32_t s) {
  VkCommandBuffer cmd = v->cmd[s];
  vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, v->queries, 3 * s + 1);
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, v->pipeline);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, v->layout, 0, 1, &v->sets[s], 0, NULL);
  vkCmdDispatch(cmd, 1, 1, 1);
}

static int end(bench_vk *v, uint32_t s) {
  VkCommandBuffer cmd = v->cmd[s];
  VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                        .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                       &mb, 0, NULL, 0, NULL);
  vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, v->queries, 3 * s + 2);
  VK_TRY(vkEndCommandBuffer(cmd));
  return 0;
}

static int read_seen(bench_vk *v, uint32_t s, bench_seen *seen) {
  uint64_t ts[3] = {0, 0, 0};
  VkResult r = vkGetQueryPoolResults(v->device, v->queries, 3 * s, 3, sizeof(ts), ts, 8,
                                     VK_QUERY_RESULT_64_BIT);
  seen->has_times = r == VK_SUCCESS;
  seen->start_ns = (uint64_t)llround((double)(ts[0] & v->ts_mask) * v->ns_per_tick);
  seen->used_ns = (uint64_t)llround((double)(ts[1] & v->ts_mask) * v->ns_per_tick);
  seen->end_ns = (uint64_t)llround((double)(ts[2] & v->ts_mask) * v->ns_per_tick);
  const uint8_t *texels = v->io_mapped + (size_t)IO_STRIDE * s + IO_POS_BYTES;
  bench_decode_texels((const float *)(const void *)texels, v->format, seen);
  return 0;
}

/* ------------------------------------------------------------------ ring */

int bench_vk_ring_import(bench_vk *v, ifd_ring_desc *desc, ifd_vk_path path) {
  if (desc->count < 1 || desc->count > SLOTS) return tool_fail(-EINVAL, "bench consumer: bad ring");
  if (desc->ready_fd < 0 || desc->release_fd < 0)
    return tool_fail(-EOPNOTSUPP, "bench consumer: the ring has no timelines");
  v->format = desc->frames[0].format;
  v->width = desc->frames[0].width;
  v->height = desc->frames[0].height;
  int rc = ifd_vk_ring_import(v->importer, desc, path, &v->ring);
  if (rc != 0) return bench_vk_lib_fail(rc, "ifd_vk_ring_import");
  v->count = ifd_vk_ring_count(v->ring);
  return 0;
}

ifd_vk_ring *bench_vk_ring(bench_vk *v) { return v->ring; }

void bench_vk_ring_drop(bench_vk *v) {
  if (!v->ring) return;
  vkQueueWaitIdle(v->queue);
  ifd_vk_ring_destroy(v->ring);
  v->ring = NULL;
}

int bench_vk_ring_record(bench_vk *v, uint64_t k, const uint32_t pos[2 * BENCH_SAMPLES]) {
  uint32_t s = (uint32_t)((k - 1) % v->count);
  /* A MAILBOX ring's frame k is in whichever image the library chose: the
   * set of command buffer s samples that frame's view. */
  ifd_vk_frame *f = ifd_vk_ring_frame(v->ring, k);
  ifd_vk_frame_native n;
  int rc = ifd_vk_frame_native_handles(f, &n);
  if (rc != 0) return bench_vk_lib_fail(rc, "ifd_vk_frame_native_handles");
  put_positions(v, s, pos);
  rc = begin(v, s);
  if (rc != 0) return rc;
  write_set(v, s, n.view, n.layout);
  rc = ifd_vk_frame_cmd_acquire(f, v->cmd[s], VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                VK_ACCESS_SHADER_READ_BIT);
  if (rc != 0) return bench_vk_lib_fail(rc, "ifd_vk_frame_cmd_acquire");
  sample(v, s);
  rc = ifd_vk_frame_cmd_release(f, v->cmd[s], VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
  if (rc != 0) return bench_vk_lib_fail(rc, "ifd_vk_frame_cmd_release");
  return end(v, s);
}

int bench_vk_ring_wait_ready(bench_vk *v, uint64_t k) {
  int rc = ifd_vk_ring_wait_ready(v->ring, k, WAIT_NS);
  return rc == 0 ? 0 : bench_vk_lib_fail(rc, "ifd_vk_ring_wait_ready");
}

int bench_vk_ring_submit(bench_vk *v, uint64_t k, bool gpu_wait) {
  uint32_t s = (uint32_t)((k - 1) % v->count);
  vk_kit_submission sub = {
      .cmd = v->cmd[s],
      .wait = gpu_wait ? ifd_vk_timeline_semaphore(ifd_vk_ring_ready(v->ring)) : VK_NULL_HANDLE,
      .wait_value = k,
      .wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
      .signal = ifd_vk_timeline_semaphore(ifd_vk_ring_release(v->ring)),
      .signal_value = k};
  return vk_kit_submit(v->device, v->queue, &sub, v->fence[s]);
}

int bench_vk_ring_collect(bench_vk *v, uint64_t k, bench_seen *seen) {
  int rc = ifd_vk_timeline_host_wait(ifd_vk_ring_release(v->ring), k, WAIT_NS);
  if (rc != 0) return bench_vk_lib_fail(rc, "waiting for the consumer's own work");
  return read_seen(v, (uint32_t)((k - 1) % v->count), seen);
}

/* ------------------------------------------------------------------ upload */

int bench_vk_upload_setup(bench_vk *v, uint32_t slots, uint32_t width, uint32_t height,
                          MAX_Format format) {
  ifd_format_info fi;
  if (slots < 1 || slots > SLOTS || ifd_format_query(format, &fi) != 0)
    return tool_fail(-EINVAL, "bench consumer: bad upload setup");
  v->up_count = slots;
  v->format = format;
  v->width = width;
  v->height = height;
  v->up_bytes = (VkDeviceSize)width * height * fi.bytes_per_pixel;
  for (uint32_t s = 0; s < slots; s++) {
    upload_slot *u = &v->up[s];
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = v->up_bytes,
                              .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT};
    VK_TRY(vkCreateBuffer(v->device, &bci, NULL, &u->staging));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(v->device, u->staging, &req);
    int rc = alloc_bind(v, req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        &u->staging_memory);
    if (rc != 0) return rc;
    VK_TRY(vkBindBufferMemory(v->device, u->staging, u->staging_memory, 0));
    VK_TRY(vkMapMemory(v->device, u->staging_memory, 0, VK_WHOLE_SIZE, 0, &u->mapped));
    rc = vk_kit_image_2d(v->device, NULL, (VkFormat)fi.vk_format, width, height,
                         VK_IMAGE_TILING_OPTIMAL,
                         VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT, &u->image);
    if (rc != 0) return rc;
    vkGetImageMemoryRequirements(v->device, u->image, &req);
    rc = alloc_bind(v, req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &u->image_memory);
    if (rc != 0) return rc;
    VK_TRY(vkBindImageMemory(v->device, u->image, u->image_memory, 0));
    VkImageViewCreateInfo vci = {.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                 .image = u->image,
                                 .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                 .format = (VkFormat)fi.vk_format,
                                 .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    VK_TRY(vkCreateImageView(v->device, &vci, NULL, &u->view));
    write_set(v, s, u->view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  }
  return 0;
}

void bench_vk_upload_drop(bench_vk *v) {
  if (!v->up_count) return;
  vkQueueWaitIdle(v->queue);
  for (uint32_t s = 0; s < v->up_count; s++) {
    upload_slot *u = &v->up[s];
    vkDestroyImageView(v->device, u->view, NULL);
    vkDestroyImage(v->device, u->image, NULL);
    vkFreeMemory(v->device, u->image_memory, NULL);
    vkDestroyBuffer(v->device, u->staging, NULL);
    vkFreeMemory(v->device, u->staging_memory, NULL); /* unmaps */
    memset(u, 0, sizeof(*u));
  }
  v->up_count = 0;
}

void *bench_vk_upload_staging(bench_vk *v, uint32_t s) { return v->up[s].mapped; }

int bench_vk_upload_submit(bench_vk *v, uint32_t s, const uint32_t pos[2 * BENCH_SAMPLES]) {
  upload_slot *u = &v->up[s];
  put_positions(v, s, pos);
  int rc = begin(v, s);
  if (rc != 0) return rc;
  VkCommandBuffer cmd = v->cmd[s];
  vk_kit_cmd_image_barrier(cmd, u->image, VK_IMAGE_LAYOUT_UNDEFINED,
                           VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_ACCESS_TRANSFER_WRITE_BIT);
  VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                              .imageExtent = {v->width, v->height, 1}};
  vkCmdCopyBufferToImage(cmd, u->staging, u->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
  vk_kit_cmd_image_barrier(cmd, u->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                           VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_ACCESS_SHADER_READ_BIT);
  sample(v, s);
  rc = end(v, s);
  if (rc != 0) return rc;
  return vk_kit_submit(v->device, v->queue, &(vk_kit_submission){.cmd = cmd}, v->fence[s]);
}

int bench_vk_poll_fence(bench_vk *v, uint32_t s, const char *what) {
  /* vkWaitForFences may sleep far longer than the work. */
  uint64_t t0 = tool_now_ns();
  VkResult r;
  while ((r = vkGetFenceStatus(v->device, v->fence[s])) == VK_NOT_READY)
    if (tool_now_ns() - t0 > WAIT_NS) return tool_fail(-ETIMEDOUT, "bench consumer: %s timed out", what);
  if (r != VK_SUCCESS) return tool_fail(-EIO, "bench consumer: vkGetFenceStatus: %s", vk_kit_result_name(r));
  return 0;
}

int bench_vk_upload_collect(bench_vk *v, uint32_t s, bench_seen *seen) {
  int rc = bench_vk_poll_fence(v, s, "upload");
  return rc == 0 ? read_seen(v, s, seen) : rc;
}
