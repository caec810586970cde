/* The Vulkan consumer's timelines and rings (interop_fd/vulkan.h). */
#include "vk_import_internal.h"

/* ------------------------------------------------------------------ timelines */

static int import_timeline(ifd_vk_importer *imp, int *fd, ifd_vk_timeline **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!fd || !out) return ifd_fail(-EINVAL, "%s: fd or out is NULL", fn);
  if (*fd < 0 || fcntl(*fd, F_GETFD) < 0)
    return ifd_fail(-EBADF, "%s: fd %d is not open", fn, *fd);
  if (!imp->timelines)
    return ifd_fail(-EOPNOTSUPP, "%s: the device has no vkImportSemaphoreFdKHR: enable "
                                 "VK_KHR_external_semaphore_fd", fn);
  if ((rc = ifd_check_semaphore_fd(*fd, fn)) != 0) return rc;
  int dup_fd = -1;
  ifd_vk_timeline *t = ifd_import_begin(*fd, sizeof(*t), fn, &dup_fd, &rc);
  if (!t) return rc;
  t->imp = imp;
  VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                    .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
  VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type};
  VkResult r = imp->vkCreateSemaphore(imp->device, &sci, NULL, &t->semaphore);
  if (r != VK_SUCCESS) {
    rc = ifd_vk_fail(r, "vkCreateSemaphore(timeline): is the timelineSemaphore feature enabled?");
  } else {
    VkImportSemaphoreFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
                                       .semaphore = t->semaphore,
                                       .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
                                       .fd = dup_fd};
    r = imp->vkImportSemaphoreFdKHR(imp->device, &info);
    if (r == VK_SUCCESS) {
      dup_fd = -1;
    } else {
      ifd_vk_fail(r, "vkImportSemaphoreFdKHR");
      rc = ifd_fail(-EIO, "the driver refused the fd as a timeline semaphore: %s",
                    ifd_last_error());
    }
  }
  if (rc == 0) rc = ifd_handle_add(t, IFD_HANDLE_VK_TIMELINE);
  if (rc != 0) {
    if (dup_fd >= 0) close(dup_fd);
    if (t->semaphore) imp->vkDestroySemaphore(imp->device, t->semaphore, NULL);
    free(t);
    return ifd_fail_prefix(rc, "%s", fn);
  }
  ifd_fd_close(fd);
  IFD_LIST_ADD(imp, timelines_alive, t);
  *out = t;
  return 0;
}

int ifd_vk_timeline_import(ifd_vk_importer *imp, int *fd, ifd_vk_timeline **out) {
  return import_timeline(imp, fd, out, "ifd_vk_timeline_import");
}

void ifd_vk_timeline_destroy(ifd_vk_timeline *t) {
  if (!ifd_handle_destroy_ok(t, IFD_HANDLE_VK_TIMELINE, "timeline", "ifd_vk_timeline_destroy"))
    return;
  IFD_CHILD_FORGET(t, timelines_alive, ifd_vk_timeline);
  t->imp->vkDestroySemaphore(t->imp->device, t->semaphore, NULL);
  free(t);
}

VkSemaphore ifd_vk_timeline_semaphore(const ifd_vk_timeline *t) {
  return t && ifd_handle_live(t, IFD_HANDLE_VK_TIMELINE) ? t->semaphore : VK_NULL_HANDLE;
}

int ifd_vk_timeline_value(ifd_vk_timeline *t, uint64_t *out) {
  int rc = ifd_check_handle(t, IFD_HANDLE_VK_TIMELINE, "timeline", "ifd_vk_timeline_value");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_vk_timeline_value: out is NULL");
  VkResult r = t->imp->vkGetSemaphoreCounterValue(t->imp->device, t->semaphore, out);
  return r == VK_SUCCESS ? 0 : ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
}

typedef struct {
  ifd_vk_timeline *t;
  uint64_t value, seen;
} reach_arg;

static int reached(void *p) {
  reach_arg *a = p;
  VkResult r = a->t->imp->vkGetSemaphoreCounterValue(a->t->imp->device, a->t->semaphore, &a->seen);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
  return a->seen >= a->value;
}

int ifd_vk_timeline_host_wait(ifd_vk_timeline *t, uint64_t value, uint64_t timeout_ns) {
  static const char fn[] = "ifd_vk_timeline_host_wait";
  int rc = ifd_check_handle(t, IFD_HANDLE_VK_TIMELINE, "timeline", fn);
  if (rc != 0) return rc;
  reach_arg a = {t, value, 0};
  rc = ifd_poll(reached, &a, timeout_ns);
  if (rc == -ETIMEDOUT)
    return ifd_fail(rc, "%s: timeline still at %llu, not %llu, after %llu ns", fn,
                    (unsigned long long)a.seen, (unsigned long long)value,
                    (unsigned long long)timeout_ns);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  /* The value is reached: a wait with no timeout returns at once, and tells
   * tools that track submissions (the validation layer) that the batches
   * signalling it are done, so their command buffers may be reused. */
  VkSemaphoreWaitInfo wi = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                            .semaphoreCount = 1,
                            .pSemaphores = &t->semaphore,
                            .pValues = &value};
  (void)t->imp->vkWaitSemaphores(t->imp->device, &wi, 0);
  return 0;
}

int ifd_vk_timeline_host_signal(ifd_vk_timeline *t, uint64_t value) {
  static const char fn[] = "ifd_vk_timeline_host_signal";
  int rc = ifd_check_handle(t, IFD_HANDLE_VK_TIMELINE, "timeline", fn);
  if (rc != 0) return rc;
  uint64_t now = 0;
  VkResult r = t->imp->vkGetSemaphoreCounterValue(t->imp->device, t->semaphore, &now);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
  if (value <= now)
    return ifd_fail(-EINVAL, "%s: %llu is not above the current value %llu", fn,
                    (unsigned long long)value, (unsigned long long)now);
  VkSemaphoreSignalInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                              .semaphore = t->semaphore,
                              .value = value};
  r = t->imp->vkSignalSemaphore(t->imp->device, &si);
  return r == VK_SUCCESS ? 0 : ifd_vk_fail(r, "vkSignalSemaphore");
}

/* ------------------------------------------------------------------ rings */

static void ring_free(ifd_vk_ring *ring) {
  for (uint32_t i = 0; i < IFD_RING_MAX_FRAMES; i++) ifd_vk_frame_destroy(ring->frames[i]);
  ifd_vk_timeline_destroy(ring->ready);
  ifd_vk_timeline_destroy(ring->release);
  ifd_ring_progress_put(ring->progress);
  free(ring);
}

static int ring_frame(void *ring, uint32_t i, ifd_frame_desc *d, const char *fn) {
  ifd_vk_ring *r = ring;
  return ifd_vkc_import_frame(r->imp, d, r->path, &r->frames[i], fn);
}

static int ring_timeline(void *ring, bool release, int *fd, const char *fn) {
  ifd_vk_ring *r = ring;
  return import_timeline(r->imp, fd, release ? &r->release : &r->ready, fn);
}

int ifd_vk_ring_import(ifd_vk_importer *imp, ifd_ring_desc *desc, ifd_vk_path path,
                       ifd_vk_ring **out) {
  static const char fn[] = "ifd_vk_ring_import";
  static const ifd_ring_import_ops ops = {fn, ring_frame, ring_timeline};
  int rc = ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  ifd_vk_ring *ring = calloc(1, sizeof(*ring));
  if (!ring) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  ring->imp = imp;
  ring->path = path;
  rc = ifd_ring_import_common(&ops, ring, desc, &ring->count, &ring->progress);
  if (rc == 0) rc = ifd_handle_add(ring, IFD_HANDLE_VK_RING);
  if (rc != 0) {
    ring_free(ring);
    return rc;
  }
  IFD_LIST_ADD(imp, rings, ring);
  *out = ring;
  return 0;
}

void ifd_vk_ring_destroy(ifd_vk_ring *ring) {
  if (!ifd_handle_destroy_ok(ring, IFD_HANDLE_VK_RING, "ring", "ifd_vk_ring_destroy"))
    return;
  IFD_CHILD_FORGET(ring, rings, ifd_vk_ring);
  ring_free(ring);
}

uint32_t ifd_vk_ring_count(const ifd_vk_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_VK_RING) ? ring->count : 0;
}

ifd_vk_frame *ifd_vk_ring_frame(const ifd_vk_ring *ring, uint64_t k) {
  if (!ring || !ifd_handle_live(ring, IFD_HANDLE_VK_RING)) return NULL;
  int slot = ifd_ring_progress_slot(ring->progress, ring->count, k, "ifd_vk_ring_frame");
  return slot < 0 ? NULL : ring->frames[slot];
}

int ifd_vk_ring_take_latest(ifd_vk_ring *ring, uint64_t timeout_ns, uint64_t *out_frame) {
  static const char fn[] = "ifd_vk_ring_take_latest";
  int rc = ifd_check_handle(ring, IFD_HANDLE_VK_RING, "ring", fn);
  if (rc != 0) return rc;
  if (!out_frame) return ifd_fail(-EINVAL, "%s: out_frame is NULL", fn);
  return ifd_ring_progress_take(ring->progress, timeout_ns, out_frame, fn);
}

ifd_vk_timeline *ifd_vk_ring_ready(const ifd_vk_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_VK_RING) ? ring->ready : NULL;
}

ifd_vk_timeline *ifd_vk_ring_release(const ifd_vk_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_VK_RING) ? ring->release : NULL;
}

int ifd_vk_ring_wait_ready(ifd_vk_ring *ring, uint64_t k, uint64_t timeout_ns) {
  static const char fn[] = "ifd_vk_ring_wait_ready";
  int rc = ifd_check_handle(ring, IFD_HANDLE_VK_RING, "ring", fn);
  if (rc != 0) return rc;
  if ((rc = ifd_ring_progress_slot(ring->progress, ring->count, k, fn)) < 0) return rc;
  if (!ring->ready) /* the producer's own ring tells, where it is in this process */
    return ring->progress ? ifd_ring_progress_wait(ring->progress, k, timeout_ns, fn) : 0;
  return ifd_vk_timeline_host_wait(ring->ready, k, timeout_ns);
}
