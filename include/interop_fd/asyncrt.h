/*
 * interop_fd: the seed's C ABI, exactly (names, values, parameter types and order).
 *
 * Every function returns 0 on success or a negative errno on failure; on failure
 * ifd_last_error() (interop_fd.h) holds a message for the calling thread and no
 * out-parameter is written, except that out-fds are preset to -1 on entry.
 *
 * Handles: `device_buffer_handle` is an `ifd_image *`, `device_context_handle` an
 * `ifd_context *` (see interop_fd.h).
 *
 * fds: every fd returned here is new, close-on-exec and owned by the caller, who
 * must close it (or hand it to an importer that consumes it) exactly once.
 *
 * Threads: any thread may call these functions; calls on one context are
 * serialised inside the library.
 */
#ifndef INTEROP_FD_ASYNCRT_H
#define INTEROP_FD_ASYNCRT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the library's exported symbols; the library builds with hidden
 * visibility. Changes no type or calling convention. */
#ifndef IFD_API
#define IFD_API __attribute__((visibility("default")))
#endif

/* Pixel format. Single plane, little-endian channel packing, channel order as
 * named (RGBA8 = bytes R,G,B,A). Values are ABI and never change. */
typedef enum {
  MAX_FMT_R8            = 1,   /* 1x8  UNORM */
  MAX_FMT_RG8           = 2,   /* 2x8  UNORM */
  MAX_FMT_RGBA8         = 3,   /* 4x8  UNORM (RGBA order) */
  MAX_FMT_BGRA8         = 4,   /* 4x8  UNORM (BGRA order) */
  MAX_FMT_SRGBA8        = 5,   /* 4x8  sRGB colour, linear alpha */
  MAX_FMT_R16F          = 6,   /* 1x16 float */
  MAX_FMT_RG16F         = 7,   /* 2x16 float */
  MAX_FMT_RGBA16F       = 8,   /* 4x16 float */
  MAX_FMT_R32F          = 9,   /* 1x32 float */
  MAX_FMT_RG32F         = 10,  /* 2x32 float */
  MAX_FMT_RGBA32F       = 11   /* 4x32 float */
} MAX_Format;

/*
 * Exports the image's memory as an OPAQUE_FD (Vulkan VK_EXTERNAL_MEMORY_HANDLE_TYPE_
 * OPAQUE_FD_BIT, GL GL_HANDLE_TYPE_OPAQUE_FD_EXT) with its layout.
 *
 * out_fd:  preset to -1; on success a new fd owned by the caller. Importers
 *          (vkAllocateMemory with VkImportMemoryFdInfoKHR, glImportMemoryFdEXT)
 *          take ownership of the fd they are given on success.
 * Layout:  single plane, linear; pixel (x, y) starts at byte
 *          y * row_pitch + x * bytes_per_pixel. size >= row_pitch * height.
 * Blocks:  no.
 * Errors:  -EINVAL  NULL handle or out-pointer, or a handle that is not a live image.
 *          -EOPNOTSUPP the backend cannot export this memory as OPAQUE_FD.
 *          -EMFILE/-ENFILE/-EIO the export itself failed.
 */
IFD_API int AsyncRT_DeviceBuffer_export_fd(
    const void* device_buffer_handle,
    int*        out_fd,
    uint64_t*   out_size_bytes,
    uint32_t*   out_row_pitch_bytes,
    uint32_t*   out_width,
    uint32_t*   out_height,
    MAX_Format* out_format);

/*
 * Creates a timeline semaphore on the context's device, starting at
 * initial_value, and exports it as an OPAQUE_FD
 * (VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT, importable with
 * vkImportSemaphoreFdKHR, glImportSemaphoreFdEXT, cuImportExternalSemaphore).
 *
 * The semaphore belongs to the context and lives until ifd_context_destroy().
 * out_fd:  preset to -1; on success a new fd owned by the caller. It is also
 *          the handle that AsyncRT_Signal_timeline_semaphore_fd() takes: keep it
 *          open while you signal through it, and give importers a dup() of it,
 *          since importers close the fd they import.
 * Blocks:  no.
 * Errors:  -EINVAL  NULL context or out_fd, or a handle that is not a live context.
 *          -EOPNOTSUPP the device cannot export timeline semaphores (Mesa's
 *                   lavapipe, for one); the message says what is missing.
 *          -ENOMEM, -EMFILE, -EIO the driver could not create or export one
 *                   more semaphore (each lives until ifd_context_destroy).
 */
IFD_API int AsyncRT_Create_timeline_semaphore_fd(
    const void* device_context_handle,
    uint64_t    initial_value,
    int*        out_fd);

/*
 * Enqueues a signal of `value` on the semaphore behind sem_fd, on the context's
 * queue or stream, after all work submitted there earlier. Returns once
 * enqueued; does not wait for the GPU.
 *
 * How the fd is mapped back to a semaphore: the library remembers every fd that
 * AsyncRT_Create_timeline_semaphore_fd() returned together with a private
 * duplicate of it. sem_fd is accepted only if it refers to the same open file
 * description as one of those duplicates (checked with kcmp(2); where the
 * kernel has no kcmp, the fd number must be the one returned and its
 * device/inode must match). dup()s of a returned fd are accepted too where
 * kcmp exists. A closed fd gives -EBADF; an fd of anything else, or one whose
 * number was reused after close, gives -EINVAL. A signal never reaches a
 * semaphore other than the one the fd was created for.
 *
 * Errors:  -EBADF   sem_fd is not an open fd.
 *          -EINVAL  sem_fd is not a semaphore fd created by this library, or
 *                   value is not greater than the last value signalled.
 *          -EIO     the device refused the submission (device lost).
 */
IFD_API int AsyncRT_Signal_timeline_semaphore_fd(
    int         sem_fd,
    uint64_t    value);

/*
 * Exports the image's memory as a dma-buf with its DRM layout: fourcc from the
 * format table (ifd_format_query), modifier 0 (DRM_FORMAT_MOD_LINEAR), stride =
 * row pitch.
 * Errors:  -EINVAL  bad handle or out-pointer, or a format with no DRM fourcc
 *                   (16F/32F formats other than RGBA16F).
 *          -EOPNOTSUPP the driver cannot export this memory as a dma-buf.
 */
IFD_API int AsyncRT_DeviceBuffer_export_dmabuf(
    const void* device_buffer_handle,
    int*        out_dmabuf_fd,
    uint64_t*   out_size_bytes,
    uint32_t*   out_stride_bytes,
    uint32_t*   out_width,
    uint32_t*   out_height,
    uint32_t*   out_fourcc,
    uint64_t*   out_modifier);

#ifdef __cplusplus
}
#endif

#endif /* INTEROP_FD_ASYNCRT_H */
