/* The Vulkan consumer's part in the bench's floors (bench_vk.h): a timeline
 * ping-pong with no work, and tiny submissions that show how long the queue
 * waits for the GPU. */
#include <errno.h>
#include <math.h>

#include "bench/bench_vk_internal.h"
#include "common/clock.h"

int bench_vk_pingpong_import(bench_vk *v, int *fd) {
  if (v->pingpong) return tool_fail(-EBUSY, "bench consumer: a ping-pong timeline is imported already");
  int rc = ifd_vk_timeline_import(v->importer, fd, &v->pingpong);
  return rc == 0 ? 0 : bench_vk_lib_fail(rc, "ifd_vk_timeline_import");
}

int bench_vk_pingpong_submit(bench_vk *v, uint64_t wait_value, uint64_t signal_value) {
  VkSemaphore s = ifd_vk_timeline_semaphore(v->pingpong);
  vk_kit_submission sub = {.wait = s,
                           .wait_value = wait_value,
                           .wait_stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                           .signal = s,
                           .signal_value = signal_value};
  return vk_kit_submit(v->device, v->queue, &sub, VK_NULL_HANDLE);
}

void bench_vk_pingpong_drop(bench_vk *v) {
  if (!v->pingpong) return;
  vkQueueWaitIdle(v->queue);
  ifd_vk_timeline_destroy(v->pingpong);
  v->pingpong = NULL;
}

static int record_probe(bench_vk *v) {
  VkCommandBuffer cmd = v->cmd[0];
  VK_TRY(vkWaitForFences(v->device, 1, &v->fence[0], VK_TRUE, WAIT_NS));
  VK_TRY(vkResetCommandBuffer(cmd, 0));
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VK_TRY(vkBeginCommandBuffer(cmd, &bi));
  vkCmdResetQueryPool(cmd, v->queries, 0, 2);
  vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, v->queries, 0);
  /* The last texel word of slot 0's sampling area: only the samplers read it,
   * and none is in flight. */
  vkCmdFillBuffer(cmd, v->io, IO_STRIDE - 4, 4, 0);
  vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, v->queries, 1);
  VK_TRY(vkEndCommandBuffer(cmd));
  return 0;
}

int bench_vk_slice_probe(bench_vk *v, int64_t offset, double *wait_us, double *run_us) {
  int rc = record_probe(v);
  if (rc != 0) return rc;
  uint64_t submit_at = tool_now_ns();
  rc = vk_kit_submit(v->device, v->queue, &(vk_kit_submission){.cmd = v->cmd[0]}, v->fence[0]);
  if (rc != 0) return tool_fail(rc, "bench consumer: %s", tool_last_error());
  rc = bench_vk_poll_fence(v, 0, "a probe submission");
  if (rc != 0) return rc;
  uint64_t ts[2] = {0, 0};
  VK_TRY(vkGetQueryPoolResults(v->device, v->queries, 0, 2, sizeof(ts), ts, 8,
                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
  double start = (double)(ts[0] & v->ts_mask) * v->ns_per_tick + (double)offset;
  double end = (double)(ts[1] & v->ts_mask) * v->ns_per_tick + (double)offset;
  *wait_us = (start - (double)submit_at) * 1e-3;
  *run_us = (end - start) * 1e-3;
  return 0;
}
