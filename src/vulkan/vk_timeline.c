/* Timeline semaphores on a Vulkan device, exportable as OPAQUE_FD. */
#include <errno.h>

#include "vk_device.h"

int ifd_vkdev_timeline_create(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t initial,
                           bool exportable) {
  if (exportable && !d->can_export_timeline)
    return ifd_fail(-EOPNOTSUPP, "%s", d->timeline_why_not);
  VkExportSemaphoreCreateInfo export_info = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                    .pNext = exportable ? &export_info : NULL,
                                    .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
                                    .initialValue = initial};
  VkSemaphoreCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type};
  VkResult r = d->fn.vkCreateSemaphore(d->device, &ci, NULL, &t->semaphore);
  if (r != VK_SUCCESS) {
    int rc = ifd_vk_fail(r, "vkCreateSemaphore(timeline)");
    /* Only out-of-memory is a valid result; anything else is the driver
     * failing, not a missing device. */
    return rc == -ENOMEM ? rc : ifd_fail(-EIO, "%s", ifd_last_error());
  }
  return 0;
}

int ifd_vkdev_timeline_import(ifd_vk_device *d, ifd_vkdev_timeline *t, int fd) {
  if (!d->can_import_timeline)
    return ifd_fail(-EOPNOTSUPP, "%s", d->timeline_why_not[0] ? d->timeline_why_not
                                       : "this device cannot import timeline semaphores");
  /* Refuse what is never a semaphore rather than hand the driver an fd its
   * valid usage forbids (-EIO: what a driver refusing the fd gives). */
  int rc = ifd_fd_check_kind(fd, "fd", "a timeline semaphore fd", -EIO);
  if (rc != 0) return rc;
  /* Exportable where the device can export, so that ifd_timeline_export_fd of
   * an imported timeline names a handle type the semaphore was created with
   * (VUID-VkSemaphoreGetFdInfoKHR-handleType-01132). */
  rc = ifd_vkdev_timeline_create(d, t, 0, d->can_export_timeline);
  if (rc != 0) return rc;
  VkImportSemaphoreFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
                                     .semaphore = t->semaphore,
                                     .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
                                     .fd = fd};
  VkResult r = d->fn.vkImportSemaphoreFdKHR(d->device, &info);
  if (r != VK_SUCCESS) {
    ifd_vkdev_timeline_destroy(d, t);
    ifd_vk_fail(r, "vkImportSemaphoreFdKHR refused the fd (is it a timeline semaphore fd?)");
    return -EIO; /* documented: the driver refused the fd */
  }
  return 0;
}

void ifd_vkdev_timeline_destroy(ifd_vk_device *d, ifd_vkdev_timeline *t) {
  if (t->semaphore) d->fn.vkDestroySemaphore(d->device, t->semaphore, NULL);
  t->semaphore = VK_NULL_HANDLE;
}

int ifd_vkdev_timeline_export(ifd_vk_device *d, ifd_vkdev_timeline *t, int *out_fd) {
  VkSemaphoreGetFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
                                  .semaphore = t->semaphore,
                                  .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT};
  int fd = -1;
  VkResult r = d->fn.vkGetSemaphoreFdKHR(d->device, &info, &fd);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetSemaphoreFdKHR");
  return ifd_fd_hand_out(fd, out_fd);
}

/* One submission on the device's queue that signals t = value, or that waits
 * for it (with the barrier command buffer, so the wait orders later work). */
static int submit_value(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value, bool wait) {
  VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
  VkTimelineSemaphoreSubmitInfo ts = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .pNext = &ts};
  if (wait) {
    ts.waitSemaphoreValueCount = si.waitSemaphoreCount = si.commandBufferCount = 1;
    ts.pWaitSemaphoreValues = &value;
    si.pWaitSemaphores = &t->semaphore;
    si.pWaitDstStageMask = &stage;
    si.pCommandBuffers = &d->barrier_cmd;
  } else {
    ts.signalSemaphoreValueCount = si.signalSemaphoreCount = 1;
    ts.pSignalSemaphoreValues = &value;
    si.pSignalSemaphores = &t->semaphore;
  }
  VkResult r = d->fn.vkQueueSubmit(d->queue, 1, &si, VK_NULL_HANDLE);
  if (r == VK_SUCCESS) return 0;
  return ifd_vk_fail(r, wait ? "vkQueueSubmit(wait)" : "vkQueueSubmit(signal)");
}

int ifd_vkdev_timeline_signal(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value) {
  return submit_value(d, t, value, false);
}

int ifd_vkdev_timeline_host_signal(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value) {
  VkSemaphoreSignalInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                              .semaphore = t->semaphore,
                              .value = value};
  VkResult r = d->fn.vkSignalSemaphore(d->device, &si);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkSignalSemaphore");
  return 0;
}

int ifd_vkdev_timeline_wait(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value) {
  return submit_value(d, t, value, true);
}

typedef struct {
  ifd_vk_device *d;
  ifd_vkdev_timeline *t;
  uint64_t value;
} wait_arg;

static int reached(void *p) {
  wait_arg *a = p;
  uint64_t v = 0;
  VkResult r = a->d->fn.vkGetSemaphoreCounterValue(a->d->device, a->t->semaphore, &v);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
  return v >= a->value;
}

/* Polls the counter instead of vkWaitSemaphores: a host blocked in
 * vkWaitSemaphores on a value that another API (CUDA) signals wakes only
 * about every 10 ms on NVIDIA. */
int ifd_vkdev_timeline_host_wait(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t value,
                              uint64_t timeout_ns) {
  wait_arg a = {d, t, value};
  int rc = ifd_poll(reached, &a, timeout_ns);
  if (rc == -ETIMEDOUT)
    return ifd_fail(-ETIMEDOUT, "timeline did not reach %llu within %llu ns",
                    (unsigned long long)value, (unsigned long long)timeout_ns);
  return rc;
}

int ifd_vkdev_timeline_value(ifd_vk_device *d, ifd_vkdev_timeline *t, uint64_t *out) {
  VkResult r = d->fn.vkGetSemaphoreCounterValue(d->device, t->semaphore, out);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
  return 0;
}
