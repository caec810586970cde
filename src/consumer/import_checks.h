/* Checks shared by the Vulkan and GL consumers: a frame description is
 * validated completely before any fd reaches a driver. */
#ifndef IFD_IMPORT_CHECKS_H
#define IFD_IMPORT_CHECKS_H

#include "../core/internal.h"

/* Validates desc against a device with UUID `uuid` named `device_name`:
 * format, sizes, pitch, that memory_fd is open and could be memory (not a
 * pipe, socket or folder, and no smaller than size where its size is known),
 * and that the UUIDs match unless desc's is all zero. Sets *info.
 * Errors: -EINVAL, -EBADF, -EXDEV (another device). Touches no fd. */
int ifd_check_frame_desc(const ifd_frame_desc *desc, const uint8_t uuid[16],
                         const char *device_name, const ifd_format_info **info);

/* count in 1..8, all frames the same size and format, both timeline fds or
 * neither, a known mode, control_fd for MAILBOX (count >= 3). Errors:
 * -EINVAL. Frame contents and the shared state are checked at import. */
int ifd_check_ring_desc(const ifd_ring_desc *desc);

/* *copy = desc with every fd >= 0 duplicated (close-on-exec). On failure
 * nothing stays open. Errors: -EBADF an fd >= 0 is not open; -EMFILE and the
 * like. */
int ifd_ring_desc_dup(const ifd_ring_desc *desc, ifd_ring_desc *copy);

/* The start of every import: a close-on-exec dup of fd (*dup_fd, so the
 * caller's fd is consumed only on full success) and a zeroed object of `size`
 * bytes, returned. On failure returns NULL with *rc set (-EMFILE and the
 * like, -ENOMEM) and nothing stays open or allocated. */
void *ifd_import_begin(int fd, size_t size, const char *fn, int *dup_fd, int *rc);

/* Refuses a timeline semaphore fd (already known to be open) of a kind no
 * driver exports as a semaphore, with -EIO: what a driver refusing the fd
 * gives, rather than an fd the driver's valid usage forbids. */
int ifd_check_semaphore_fd(int fd, const char *fn);

/* The consumer side of a ring import, the same for Vulkan and GL: the API's
 * own steps, given the ring being filled. */
typedef struct {
  const char *fn; /* the public function, for messages */
  /* Imports d (whose memory_fd is a dup, consumed on success) into slot i;
   * fn is the public function above, for messages. */
  int (*frame)(void *ring, uint32_t i, ifd_frame_desc *d, const char *fn);
  /* Imports *fd (a dup) as the ring's ready (release == false) or release
   * timeline; sets *fd to -1 once consumed. */
  int (*timeline)(void *ring, bool release, int *fd, const char *fn);
} ifd_ring_import_ops;

/* Validates desc, then imports its frames and timelines into `ring` through
 * ops from dups of desc's fds. *progress (a reference, or NULL): for
 * MAILBOX, the consumer's view of the shared state (control_fd, checked
 * before any frame); for FIFO, the producer's ring when it lives in this
 * process. On success desc's fds are closed (consumed); on failure they are
 * untouched and what was imported stays in `ring` for the caller to free.
 * Sets *count. */
int ifd_ring_import_common(const ifd_ring_import_ops *ops, void *ring, ifd_ring_desc *desc,
                           uint32_t *count, ifd_ring_progress **progress);

/* The COPY paths' compute copy, one shader (shaders/copy.comp) for Vulkan
 * (vk_copy.c) and GL (gl_copy.c): groups of IFD_COPY_GROUP x IFD_COPY_GROUP
 * invocations, each copying IFD_COPY_RUN_BYTES of texels (at least one
 * texel), a group's width apart. Measured on an H200 at 4K: 16 bytes an
 * invocation copied R8 in 13 us where one texel an invocation took 23 us;
 * 4-byte and larger texels gained less or nothing, and other group shapes
 * were slower (docs/platform-facts.md, fact 10). */
#define IFD_COPY_GROUP 16u
#define IFD_COPY_RUN_BYTES 16u

/* Texels an invocation copies. */
static inline uint32_t ifd_copy_run(uint32_t texel_bytes) {
  return texel_bytes >= IFD_COPY_RUN_BYTES ? 1u : IFD_COPY_RUN_BYTES / texel_bytes;
}

/* The work groups a w x h frame needs, in x and in y. */
static inline void ifd_copy_groups(uint32_t w, uint32_t h, uint32_t texel_bytes, uint32_t out[2]) {
  const uint32_t span = IFD_COPY_GROUP * ifd_copy_run(texel_bytes);
  out[0] = (uint32_t)(((uint64_t)w + span - 1) / span);
  out[1] = (h + IFD_COPY_GROUP - 1) / IFD_COPY_GROUP;
}

/* The index of the integer view format of a texel size (1, 2, 4, 8, 16:
 * R8, R16, R32, R32G32, R32G32B32A32 _UINT), or -1 for another size. */
static inline int ifd_copy_size_index(uint32_t texel_bytes) {
  switch (texel_bytes) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    case 16: return 4;
    default: return -1;
  }
}

/* An importer's lists of its live children (frames, timelines, rings), linked
 * through their `next` and guarded by the importer's `lock`. */
#define IFD_LIST_ADD(imp, head, obj)    \
  do {                                  \
    pthread_mutex_lock(&(imp)->lock);   \
    (obj)->next = (imp)->head;          \
    (imp)->head = (obj);                \
    pthread_mutex_unlock(&(imp)->lock); \
  } while (0)
#define IFD_LIST_REMOVE(imp, head, type, obj)                \
  do {                                                       \
    pthread_mutex_lock(&(imp)->lock);                        \
    for (type **p_ = &(imp)->head; *p_; p_ = &(*p_)->next) { \
      if (*p_ == (obj)) {                                    \
        *p_ = (obj)->next;                                   \
        break;                                               \
      }                                                      \
    }                                                        \
    pthread_mutex_unlock(&(imp)->lock);                      \
  } while (0)
/* What every destroy of a child (frame, timeline, ring) does before freeing
 * it: takes it out of the handle registry and off its importer's list. */
#define IFD_CHILD_FORGET(obj, head, type)           \
  do {                                              \
    ifd_handle_remove(obj);                         \
    IFD_LIST_REMOVE((obj)->imp, head, type, obj);   \
  } while (0)

#endif
