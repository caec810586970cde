#include "import_checks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void uuid_text(const uint8_t u[16], char out[33]) {
  for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", u[i]);
}

int ifd_check_frame_desc(const ifd_frame_desc *d, const uint8_t uuid[16], const char *device_name,
                         const ifd_format_info **info) {
  if (!d) return ifd_fail(-EINVAL, "the frame description is NULL");
  const ifd_format_info *fi = ifd_format_get(d->format);
  if (!fi) return ifd_fail(-EINVAL, "unknown MAX_Format %d (valid: 1..11)", (int)d->format);
  if (d->width == 0 || d->height == 0)
    return ifd_fail(-EINVAL, "frame size %ux%u has a zero side", d->width, d->height);
  uint64_t row = (uint64_t)d->width * fi->bytes_per_pixel;
  if (d->row_pitch < row || d->row_pitch % fi->bytes_per_pixel != 0)
    return ifd_fail(-EINVAL, "row pitch %u does not hold a row of %u %s pixels (%llu bytes) or "
                             "is not a multiple of %u",
                    d->row_pitch, d->width, fi->name, (unsigned long long)row,
                    fi->bytes_per_pixel);
  uint64_t need = (uint64_t)d->row_pitch * d->height;
  if (d->size < need)
    return ifd_fail(-EINVAL, "size %llu is less than row pitch %u x height %u = %llu bytes",
                    (unsigned long long)d->size, d->row_pitch, d->height,
                    (unsigned long long)need);
  int rc = ifd_fd_check_kind(d->memory_fd, "memory_fd", "exported memory", -EINVAL);
  if (rc != 0) return rc;
  struct stat st;
  if (fstat(d->memory_fd, &st) != 0)
    return ifd_fail(-EBADF, "memory_fd %d is not an open fd", d->memory_fd);
  if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size < d->size)
    return ifd_fail(-EINVAL, "memory_fd %d covers %lld bytes, the description says %llu",
                    d->memory_fd, (long long)st.st_size, (unsigned long long)d->size);
  static const uint8_t zero[16];
  if (memcmp(d->device_uuid, zero, 16) != 0 && memcmp(d->device_uuid, uuid, 16) != 0) {
    char a[33], b[33];
    uuid_text(d->device_uuid, a);
    uuid_text(uuid, b);
    return ifd_fail(-EXDEV, "the memory belongs to device %s, but %s is device %s: import it on "
                            "the device that exported it",
                    a, device_name, b);
  }
  *info = fi;
  return 0;
}

int ifd_check_ring_desc(const ifd_ring_desc *d) {
  if (!d) return ifd_fail(-EINVAL, "the ring description is NULL");
  if (d->count < 1 || d->count > IFD_RING_MAX_FRAMES)
    return ifd_fail(-EINVAL, "ring count %u is outside 1..%d", d->count, IFD_RING_MAX_FRAMES);
  for (uint32_t i = 1; i < d->count; i++)
    if (d->frames[i].width != d->frames[0].width || d->frames[i].height != d->frames[0].height ||
        d->frames[i].format != d->frames[0].format)
      return ifd_fail(-EINVAL, "ring frame %u differs from frame 0 in size or format", i);
  if ((d->ready_fd >= 0) != (d->release_fd >= 0))
    return ifd_fail(-EINVAL, "a ring needs both timeline fds (ready %d, release %d) or neither",
                    d->ready_fd, d->release_fd);
  if (d->mode != IFD_RING_FIFO && d->mode != IFD_RING_MAILBOX)
    return ifd_fail(-EINVAL, "ring mode %d is unknown (IFD_RING_FIFO or IFD_RING_MAILBOX)",
                    (int)d->mode);
  if (d->mode == IFD_RING_MAILBOX && (d->control_fd < 0 || d->count < 3))
    return ifd_fail(-EINVAL, "a MAILBOX ring needs control_fd (it is %d) and count >= 3 (it is "
                             "%u)",
                    d->control_fd, d->count);
  return 0;
}

static int dup_fd(int fd, int *out) {
  *out = -1;
  if (fd < 0) return 0;
  int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (c < 0 && errno == EBADF)
    return ifd_fail(-EBADF, "fd %d of the description is not an open fd (closed, or consumed by "
                            "an earlier import of the same description?)",
                    fd);
  if (c < 0) return ifd_fail(-errno, "cannot duplicate fd %d: %s", fd, strerror(errno));
  *out = c;
  return 0;
}

int ifd_ring_desc_dup(const ifd_ring_desc *d, ifd_ring_desc *copy) {
  *copy = *d;
  int rc = 0;
  for (int i = 0; i < IFD_RING_MAX_FRAMES; i++) {
    copy->frames[i].memory_fd = copy->frames[i].timeline_fd = -1;
    if ((uint32_t)i >= d->count) continue;
    if (rc == 0) rc = dup_fd(d->frames[i].memory_fd, &copy->frames[i].memory_fd);
    if (rc == 0) rc = dup_fd(d->frames[i].timeline_fd, &copy->frames[i].timeline_fd);
  }
  copy->ready_fd = copy->release_fd = copy->control_fd = -1;
  if (rc == 0) rc = dup_fd(d->ready_fd, &copy->ready_fd);
  if (rc == 0) rc = dup_fd(d->release_fd, &copy->release_fd);
  if (rc == 0 && d->mode == IFD_RING_MAILBOX) rc = dup_fd(d->control_fd, &copy->control_fd);
  if (rc != 0) ifd_ring_desc_close(copy);
  return rc;
}

int ifd_ring_import_common(const ifd_ring_import_ops *ops, void *ring, ifd_ring_desc *desc,
                           uint32_t *count, ifd_ring_progress **progress) {
  int rc = ifd_check_ring_desc(desc);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", ops->fn);
  /* Import from a copy of desc holding dups, so that desc's fds are consumed
   * only if everything succeeds. */
  ifd_ring_desc copy;
  rc = ifd_ring_desc_dup(desc, &copy);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", ops->fn);
  *count = copy.count;
  /* A MAILBOX ring's shared state is checked before any fd reaches a driver. */
  if (copy.mode == IFD_RING_MAILBOX) {
    rc = ifd_ring_progress_open(copy.control_fd, copy.count, progress);
    if (rc != 0) rc = ifd_fail_prefix(rc, "%s", ops->fn);
  } else {
    *progress = ifd_ring_progress_find(&copy);
  }
  for (uint32_t i = 0; i < copy.count && rc == 0; i++)
    rc = ops->frame(ring, i, &copy.frames[i], ops->fn);
  if (rc == 0 && copy.ready_fd >= 0) rc = ops->timeline(ring, false, &copy.ready_fd, ops->fn);
  if (rc == 0 && copy.release_fd >= 0) rc = ops->timeline(ring, true, &copy.release_fd, ops->fn);
  ifd_ring_desc_close(&copy);
  if (rc == 0) ifd_ring_desc_close(desc);
  return rc;
}

void *ifd_import_begin(int fd, size_t size, const char *fn, int *dup_fd, int *rc) {
  *dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (*dup_fd < 0) {
    *rc = ifd_fail(-errno, "%s: cannot duplicate fd %d: %s", fn, fd, strerror(errno));
    return NULL;
  }
  void *obj = calloc(1, size);
  if (obj) return obj;
  close(*dup_fd);
  *dup_fd = -1;
  *rc = ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  return NULL;
}

int ifd_check_semaphore_fd(int fd, const char *fn) {
  int rc = ifd_fd_check_kind(fd, "fd", "a timeline semaphore fd", -EIO);
  return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
}
