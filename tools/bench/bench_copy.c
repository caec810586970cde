/* `interop-fd bench`'s copy table (bench_copy.h). The Vulkan copies are timed
 * with timestamp queries around each of REPS copies in one command buffer, so
 * nothing but the copies is measured. */
#include "bench/bench_copy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_common.h"
#include "bench/bench_report.h"
#include "common/progress.h"
#include "common/tool_error.h"
#include "common/vk_kit.h"
#include "interop_fd/vulkan.h"

#define REPS 20 /* copies timed per route and format (after one untimed) */

typedef struct {
  ifd_context *ctx; /* the bench's */
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t family;
  double ns_per_tick;
  ifd_vk_importer *importer;
  VkCommandPool pool;
  VkCommandBuffer cmd;
  VkFence fence;
  VkQueryPool queries;
} copy_bench;

static void destroy(copy_bench *c) {
  if (c->device) {
    vkDeviceWaitIdle(c->device);
    ifd_vk_importer_destroy(c->importer);
    if (c->queries) vkDestroyQueryPool(c->device, c->queries, NULL);
    if (c->fence) vkDestroyFence(c->device, c->fence, NULL);
    if (c->pool) vkDestroyCommandPool(c->device, c->pool, NULL);
    vkDestroyDevice(c->device, NULL);
  }
  if (c->instance) vkDestroyInstance(c->instance, NULL);
}

static int create(copy_bench *c) {
  ifd_context_native n;
  int rc = ifd_context_native_handles(c->ctx, &n);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  VkPhysicalDeviceProperties props;
  rc = vk_kit_create_instance("interop-fd bench copy", VK_API_VERSION_1_2, NULL, 0, &c->instance);
  if (rc == 0) rc = vk_kit_pick_physical(c->instance, n.device_uuid, &c->physical, &props);
  if (rc == 0) rc = vk_kit_queue_family(c->physical, VK_QUEUE_GRAPHICS_BIT, &c->family);
  if (rc != 0) return rc;
  c->ns_per_tick = props.limits.timestampPeriod;
  uint32_t ext_n = 0, en = 0;
  const char *const *ext = ifd_vk_required_device_extensions(&ext_n);
  const char *enable[8];
  if (ext_n > 8) return tool_fail(-E2BIG, "too many importer extensions");
  rc = vk_kit_enable_extensions(c->physical, ext, ext_n, 2, enable, &en);
  vk_kit_device_config cfg = {.physical = c->physical,
                              .family = c->family,
                              .extensions = enable,
                              .extension_count = en};
  if (rc == 0) rc = vk_kit_create_device(&cfg, &c->device, &c->queue);
  if (rc == 0) rc = vk_kit_commands(c->device, c->family, 1, &c->pool, &c->cmd, &c->fence, false);
  if (rc != 0) return rc;
  VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                              .queryType = VK_QUERY_TYPE_TIMESTAMP,
                              .queryCount = 2 * REPS};
  VK_KIT_TRY(vkCreateQueryPool(c->device, &qi, NULL, &c->queries));
  ifd_vk_device_info info = {.instance = c->instance,
                             .physical_device = c->physical,
                             .device = c->device,
                             .queue_family_index = c->family,
                             .get_instance_proc_addr = vkGetInstanceProcAddr};
  rc = ifd_vk_importer_create(&info, &c->importer);
  return rc == 0 ? 0 : tool_fail(rc, "%s", ifd_last_error());
}

/* Records REPS + 1 copies (a frame's acquire, or with frame NULL a
 * vkCmdCopyBuffer of `bytes` from src to dst), times the last REPS and sets
 * *median_us. */
static int time_copies(copy_bench *c, ifd_vk_frame *frame, VkBuffer src, VkBuffer dst,
                       VkDeviceSize bytes, double *median_us) {
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VK_KIT_TRY(vkResetCommandBuffer(c->cmd, 0));
  VK_KIT_TRY(vkBeginCommandBuffer(c->cmd, &bi));
  vkCmdResetQueryPool(c->cmd, c->queries, 0, 2 * REPS);
  const VkMemoryBarrier all = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT |
                                                VK_ACCESS_MEMORY_WRITE_BIT};
  for (int i = -1; i < REPS; i++) {
    /* Each copy after the previous one completely, so each is timed alone. */
    vkCmdPipelineBarrier(c->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                         VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &all, 0, NULL, 0, NULL);
    if (i >= 0)
      vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->queries, 2 * (uint32_t)i);
    if (frame) {
      int rc = ifd_vk_frame_cmd_acquire(frame, c->cmd, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                                        VK_ACCESS_SHADER_READ_BIT);
      if (rc != 0) {
        vkEndCommandBuffer(c->cmd);
        return tool_fail(rc, "%s", ifd_last_error());
      }
    } else {
      VkBufferCopy region = {0, 0, bytes};
      vkCmdCopyBuffer(c->cmd, src, dst, 1, &region);
    }
    if (i >= 0)
      vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->queries,
                          2 * (uint32_t)i + 1);
  }
  VK_KIT_TRY(vkEndCommandBuffer(c->cmd));
  vk_kit_submission s = {.cmd = c->cmd};
  int rc = vk_kit_submit(c->device, c->queue, &s, c->fence);
  if (rc != 0) return rc;
  VK_KIT_TRY(vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, 10ull * 1000 * 1000 * 1000));
  uint64_t ts[2 * REPS];
  VK_KIT_TRY(vkGetQueryPoolResults(c->device, c->queries, 0, 2 * REPS, sizeof(ts), ts,
                                   sizeof(uint64_t),
                                   VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
  double us[REPS];
  for (int i = 0; i < REPS; i++) us[i] = (double)(ts[2 * i + 1] - ts[2 * i]) * c->ns_per_tick / 1e3;
  *median_us = bench_percentile(us, REPS, 0.50);
  return 0;
}

/* A device-local buffer of `bytes` to copy into (the floor's destination). */
static int floor_buffer(copy_bench *c, VkDeviceSize bytes, VkBuffer *out, VkDeviceMemory *mem) {
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = bytes,
                            .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
  VK_KIT_TRY(vkCreateBuffer(c->device, &bci, NULL, out));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(c->device, *out, &req);
  int rc = vk_kit_allocate(c->physical, c->device, &req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, mem);
  if (rc != 0) return rc;
  VK_KIT_TRY(vkBindBufferMemory(c->device, *out, *mem, 0));
  return 0;
}

/* One format: the image, its two imports and the three timings. */
static int measure(copy_bench *c, bench_cuda *cu, MAX_Format format, uint32_t w, uint32_t h,
                   bench_copy_row *row) {
  ifd_image *img = NULL;
  ifd_vk_frame *frames[2] = {NULL, NULL};
  VkBuffer dst = VK_NULL_HANDLE;
  VkDeviceMemory dst_mem = VK_NULL_HANDLE;
  const ifd_vk_path paths[2] = {IFD_VK_PATH_COPY, IFD_VK_PATH_COPY_TRANSFER};
  int rc = ifd_image_create(c->ctx, w, h, format, &img);
  if (rc != 0) rc = tool_fail(rc, "%s", ifd_last_error());
  for (int i = 0; i < 2 && rc == 0; i++) {
    ifd_frame_desc d;
    rc = ifd_image_describe(img, &d);
    if (rc == 0) rc = ifd_vk_frame_import(c->importer, &d, paths[i], &frames[i]);
    if (rc != 0) rc = tool_fail(rc, "%s", ifd_last_error());
    ifd_frame_desc_close(&d);
  }
  ifd_vk_frame_native n[2];
  if (rc == 0) {
    ifd_vk_frame_native_handles(frames[0], &n[0]);
    ifd_vk_frame_native_handles(frames[1], &n[1]);
    row->compute = n[0].path == IFD_VK_PATH_COPY;
    row->bytes = (uint64_t)ifd_image_row_pitch(img) * h;
    rc = floor_buffer(c, row->bytes, &dst, &dst_mem);
  }
  if (rc == 0) rc = time_copies(c, frames[0], VK_NULL_HANDLE, VK_NULL_HANDLE, 0, &row->copy_us);
  if (rc == 0) rc = time_copies(c, frames[1], VK_NULL_HANDLE, VK_NULL_HANDLE, 0, &row->transfer_us);
  if (rc == 0) rc = time_copies(c, NULL, n[1].buffer, dst, row->bytes, &row->vk_buffer_us);
  double dtod[REPS];
  if (rc == 0) rc = bench_cuda_copy_time(cu, row->bytes, REPS, dtod);
  if (rc == 0) row->dtod_us = bench_percentile(dtod, REPS, 0.50);
  if (c->device) vkDeviceWaitIdle(c->device);
  if (dst) vkDestroyBuffer(c->device, dst, NULL);
  if (dst_mem) vkFreeMemory(c->device, dst_mem, NULL);
  ifd_vk_frame_destroy(frames[0]);
  ifd_vk_frame_destroy(frames[1]);
  ifd_image_destroy(img);
  return rc;
}

int bench_copy_run(ifd_context *ctx, bench_cuda *cu, uint32_t width, uint32_t height,
                   bench_copy_table *out) {
  *out = (bench_copy_table){.width = width, .height = height};
  copy_bench c = {.ctx = ctx};
  int rc = create(&c);
  progress pr;
  progress_begin(&pr);
  for (int f = 0; f < BENCH_COPY_FORMATS && rc == 0; f++) {
    MAX_Format format = (MAX_Format)(MAX_FMT_R8 + f);
    ifd_format_info fi;
    ifd_format_query(format, &fi);
    out->rows[f].format = fi.name;
    rc = measure(&c, cu, format, width, height, &out->rows[f]);
    if (progress_due(&pr))
      progress_print(&pr, "copy table: %d/%d formats, %.0f s", f + 1, BENCH_COPY_FORMATS,
                     progress_elapsed(&pr));
  }
  progress_end(&pr, false);
  destroy(&c);
  if (rc != 0) snprintf(out->why, sizeof(out->why), "FAILED: %s", tool_last_error());
  else out->measured = true;
  return rc;
}

void bench_copy_print(const bench_copy_table *t, FILE *f) {
  fprintf(f, "\nthe Vulkan COPY path's copy of one %ux%u frame, GPU time (median of %d), against "
             "CUDA's\ndevice-to-device copy of the same bytes (dtod, the floor):\n",
          t->width, t->height, REPS);
  if (!t->measured) {
    fprintf(f, "  not measured: %s\n", t->why);
    return;
  }
  fprintf(f, "  %-8s %7s %9s %11s %7s %12s %7s %14s\n", "format", "MB", "dtod us", "compute us",
          "x dtod", "transfer us", "x dtod", "vkCmdCopyBuffer");
  for (int i = 0; i < BENCH_COPY_FORMATS; i++) {
    const bench_copy_row *r = &t->rows[i];
    fprintf(f, "  %-8s %7.1f %9.1f %11.1f %7.2f %12.1f %7.2f %11.1f us%s\n", r->format,
            (double)r->bytes / 1e6, r->dtod_us, r->copy_us, r->copy_us / r->dtod_us,
            r->transfer_us, r->transfer_us / r->dtod_us, r->vk_buffer_us,
            r->compute ? "" : "  (COPY fell back to transfer)");
  }
  fprintf(f, "  compute: COPY's shader copy into the OPTIMAL image (IFD_VK_PATH_COPY); transfer:\n"
             "  vkCmdCopyBufferToImage (IFD_VK_PATH_COPY_TRANSFER); vkCmdCopyBuffer: Vulkan's own\n"
             "  buffer copy of the same bytes on the same queue.\n");
}

void bench_copy_json(const bench_copy_table *t, FILE *f) {
  if (!bench_json_section(f, "copy_table", t->measured, t->why)) return;
  fprintf(f, ", \"width\": %u, \"height\": %u, \"formats\": [", t->width, t->height);
  for (int i = 0; i < BENCH_COPY_FORMATS; i++) {
    const bench_copy_row *r = &t->rows[i];
    fprintf(f, "%s\n    {\"format\": \"%s\", \"bytes\": %llu, \"compute\": %s, "
               "\"compute_us_p50\": %.2f, \"transfer_us_p50\": %.2f, "
               "\"vk_copy_buffer_us_p50\": %.2f, \"dtod_us_p50\": %.2f}",
            i ? "," : "", r->format, (unsigned long long)r->bytes, r->compute ? "true" : "false",
            r->copy_us, r->transfer_us, r->vk_buffer_us, r->dtod_us);
  }
  fprintf(f, "]}");
}
