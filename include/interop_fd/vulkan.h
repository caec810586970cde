/*
 * interop_fd/vulkan.h: import frames exported by interop_fd (or any producer
 * that fills an ifd_frame_desc) into the application's own Vulkan device.
 *
 * The conventions of interop_fd.h hold: 0 or a negative errno, a message in
 * ifd_last_error(), out-pointers untouched on failure, NULL destroys are
 * no-ops, destroyed handles refused with -EINVAL.
 *
 * What the application's device needs (ifd_vk_required_device_extensions):
 *  - Vulkan 1.2 (external memory is core since 1.1; timeline semaphores 1.2,
 *    with VkPhysicalDeviceVulkan12Features::timelineSemaphore enabled for the
 *    timeline calls),
 *  - VK_KHR_external_memory_fd enabled, and VK_KHR_external_semaphore_fd for
 *    timelines. An importer checks for them (through vkGetDeviceProcAddr,
 *    which returns NULL for extensions not enabled) and fails with -EOPNOTSUPP
 *    naming what is missing.
 *
 * Two paths from the imported memory to a sampled image:
 *  - IFD_VK_PATH_COPY: the memory becomes a VkBuffer; each update records a
 *    copy into an OPTIMAL VkImage owned by the frame (one device-side copy,
 *    the fastest layout to sample). Works wherever the memory imports.
 *  - IFD_VK_PATH_LINEAR: a VK_IMAGE_TILING_LINEAR VkImage is bound directly to
 *    the imported memory: no copy at all. Only where the driver can sample the
 *    format with linear tiling, its own row pitch for that image equals the
 *    frame's row_pitch, and the memory is imported with a memory type the host
 *    could map; otherwise import fails with -EOPNOTSUPP saying which. On
 *    NVIDIA's driver (580, H200) a linear image on imported memory of a
 *    device-local type that is not host-visible sampled zeros or scrambled
 *    bytes; through a host-visible type, exact bytes (docs/linear-images.md).
 *    CUDA-exported memory can take such a type. Vulkan-exported memory must
 *    be imported with the type it was allocated with, which on NVIDIA is not
 *    host-visible: LINEAR is refused there. An application that imports frame
 *    memory for linear images itself should follow the same rule.
 *  - IFD_VK_PATH_AUTO: LINEAR only where it was verified to sample exactly
 *    (NVIDIA with CUDA-exported memory; Mesa's lavapipe), COPY everywhere
 *    else, including when desc->exporter is unknown.
 *
 * Queue family ownership: imported memory belongs to VK_QUEUE_FAMILY_EXTERNAL
 * while the producer writes it. ifd_vk_frame_cmd_acquire records the acquire
 * barrier from VK_QUEUE_FAMILY_EXTERNAL (and for COPY the copy and a release
 * of the buffer back to the producer); ifd_vk_frame_cmd_release records the
 * release after the last read of a LINEAR image. Recording both around your
 * reads is all the spec asks of you.
 *
 * Synchronisation: import the producer's timelines with ifd_vk_timeline_import
 * and wait on the device: add ifd_vk_timeline_semaphore() at value k to your
 * VkSubmitInfo's wait list (stage TRANSFER for COPY, your shader stage for
 * LINEAR) and submit before the frame is ready. That is the fast path: on an
 * H200 (driver 580) such work starts ~9 us after the producer's signal,
 * while work submitted by the host after it saw the value (host wait, then
 * vkQueueSubmit) starts ~160 us later, the time the GPU takes to switch to a
 * context that had no work queued (`interop-fd bench --handoff host`).
 * ifd_vk_timeline_host_wait is for the host's own needs (reading results,
 * pacing): it polls and wakes in microseconds where vkWaitSemaphores on
 * NVIDIA waits ~10 ms for values another API signals. For rings
 * (ifd_ring_desc) follow the protocol in interop_fd.h; ifd_vk_ring_* wrap it.
 */
#ifndef INTEROP_FD_VULKAN_H
#define INTEROP_FD_VULKAN_H

#include <vulkan/vulkan.h>

#include "interop_fd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifd_vk_importer ifd_vk_importer;
typedef struct ifd_vk_frame ifd_vk_frame;
typedef struct ifd_vk_timeline ifd_vk_timeline;
typedef struct ifd_vk_ring ifd_vk_ring;

typedef enum {
  IFD_VK_PATH_AUTO = 0,   /* LINEAR where verified for this driver and
                             exporter, else COPY */
  IFD_VK_PATH_COPY = 1,   /* VkBuffer on the memory, copied into an OPTIMAL
                             image: by a compute shader where the device can
                             (below), else as COPY_TRANSFER */
  IFD_VK_PATH_LINEAR = 2, /* LINEAR VkImage on the memory, no copy */
  IFD_VK_PATH_COPY_TRANSFER = 3 /* COPY with vkCmdCopyBufferToImage, even
                                   where the compute copy could run */
} ifd_vk_path;
/* The COPY path's compute copy moves the frame near memory speed (on an H200,
 * 4K RGBA8 in ~28 us, against ~360 us for vkCmdCopyBufferToImage). COPY
 * takes it when the importer's device reports all of: compute on
 * queue_family_index, storage images (optimal tiling) of the integer format
 * of the texel's size (R8/R16/R32/R32G32/R32G32B32A32 _UINT), a
 * MUTABLE_FORMAT image of the frame's size, and maxStorageBufferRange
 * covering the frame, and where the copy's pipeline, storage view and
 * descriptors can be made (a device out of memory for them, or refusing the
 * shader, is not an import failure). Otherwise COPY copies with
 * vkCmdCopyBufferToImage; ifd_vk_frame_native's `path` says which ran (COPY
 * or COPY_TRANSFER). The bytes are copied unchanged either way. */

/* Every device extension the importer uses, and whether it is required. */
typedef struct {
  const char *name;     /* e.g. "VK_KHR_external_memory_fd" */
  uint32_t required;    /* 1: ifd_vk_importer_create fails without it.
                           0: optional; without it the importer works, but
                           ifd_vk_timeline_import fails with -EOPNOTSUPP and
                           imported rings have no timelines. */
  const char *purpose;  /* what it is for, e.g. "importing timeline semaphores" */
} ifd_vk_device_extension;

/* The extensions to enable on the application's VkDevice: *count entries
 * (count may be NULL), required ones first. Enable every required one, and
 * each optional one the device has (vkEnumerateDeviceExtensionProperties).
 * Today: VK_KHR_external_memory and VK_KHR_external_memory_fd (required),
 * VK_KHR_external_semaphore_fd (optional: timelines; Mesa's lavapipe lacks
 * it). Timelines also need VkPhysicalDeviceVulkan12Features::timelineSemaphore.
 * Static storage; never fails, never NULL. */
IFD_API const ifd_vk_device_extension *ifd_vk_device_extensions(uint32_t *count);

/* The same names as ifd_vk_device_extensions, in the same order, without
 * saying which are optional: kept for compatibility. The first two
 * (VK_KHR_external_memory, VK_KHR_external_memory_fd) are required; the last
 * (VK_KHR_external_semaphore_fd) is optional and needed only for timelines,
 * so do not fail where a device lacks it. Static strings; count may be NULL. */
IFD_API const char *const *ifd_vk_required_device_extensions(uint32_t *count);

typedef struct {
  VkInstance instance;
  VkPhysicalDevice physical_device;
  VkDevice device;
  uint32_t queue_family_index;  /* the family whose queue runs your reads; must
                                   exist on physical_device (-EINVAL if not) */
  /* NULL: the vkGetInstanceProcAddr of libvulkan.so.1 (dlopen()ed). Pass
   * yours if you load Vulkan another way (volk, a static loader). */
  PFN_vkGetInstanceProcAddr get_instance_proc_addr;
} ifd_vk_device_info;

/* Creates an importer for the application's device; it keeps no reference
 * beyond the handles in info and owns nothing of them. The instance must be
 * created with VkApplicationInfo::apiVersion >= VK_API_VERSION_1_2 and the
 * device must support Vulkan 1.2: with a lower apiVersion the loader and
 * driver hide the 1.2 entry points.
 * Errors: -EINVAL NULL info/out or handles, or queue_family_index is not one
 *         of the physical device's queue families; -ENODEV no Vulkan loader;
 *         -EOPNOTSUPP a required extension or Vulkan 1.2 missing (the message
 *         names the missing entry point and, where an apiVersion below 1.2 is
 *         the cause, says "apiVersion" and the device's version). */
IFD_API int ifd_vk_importer_create(const ifd_vk_device_info *info, ifd_vk_importer **out);
/* Destroys the importer and, with it, every frame, timeline and ring it made
 * that is still alive (their Vulkan objects are destroyed on the device, so
 * call this before vkDestroyDevice, once the device no longer uses them).
 * Destroying the children first is the normal order. Children destroyed with
 * their importer stay known: every later call with them returns -EINVAL
 * saying "its importer was destroyed first", accessors return 0/NULL, and
 * their own destroy calls are then safe no-ops that touch nothing of the
 * device. */
IFD_API void ifd_vk_importer_destroy(ifd_vk_importer *importer);
/* The device's VkPhysicalDeviceIDProperties::deviceUUID. */
IFD_API int ifd_vk_importer_device_uuid(const ifd_vk_importer *importer, uint8_t out[16]);

/* Imports one frame. Checks before touching the fd: desc->format is one of
 * the 11, size >= row_pitch * height, row_pitch >= width * bytes per pixel
 * and a multiple of it, the device UUID matches (unless desc's is all zero),
 * and the fd is a memory fd this device accepts.
 * fd ownership: on success desc->memory_fd is consumed and set to -1; on
 * failure it is untouched and still yours. desc->timeline_fd is never touched
 * (import it with ifd_vk_timeline_import).
 * Errors: -EINVAL bad desc, or memory_fd is of a kind no driver exports
 *         (a pipe, socket, folder, /dev/null, ...); -EXDEV the memory belongs
 *         to another device (UUIDs differ); -EBADF memory_fd not open;
 *         -EOPNOTSUPP the path cannot be used here, or the frame is larger
 *         than the device's largest image of that kind (the message says
 *         why); -ENOMEM; -EIO the
 *         driver refused the fd (e.g. not a memory fd). */
IFD_API int ifd_vk_frame_import(ifd_vk_importer *importer, ifd_frame_desc *desc,
                                ifd_vk_path path, ifd_vk_frame **out);
/* The frame must not be in use by the device any more. */
IFD_API void ifd_vk_frame_destroy(ifd_vk_frame *frame);

typedef struct {
  ifd_vk_path path;           /* COPY (by compute), COPY_TRANSFER or LINEAR,
                                 never AUTO */
  VkImage image;              /* what to sample */
  VkImageView view;           /* with the format's swizzle: R8 samples as
                                 (r,r,r,1), RG8 as (r,g,0,1), BGRA8 as RGBA */
  VkFormat format;            /* e.g. VK_FORMAT_R8G8B8A8_SRGB for SRGBA8 */
  VkImageLayout layout;       /* the layout after ifd_vk_frame_cmd_acquire:
                                 SHADER_READ_ONLY_OPTIMAL (COPY, COPY_TRANSFER),
                                 GENERAL (LINEAR) */
  VkBuffer buffer;            /* COPY: the buffer on the imported memory */
  VkDeviceMemory memory;      /* the imported memory */
  uint32_t width, height;
  MAX_Format max_format;
} ifd_vk_frame_native;

IFD_API int ifd_vk_frame_native_handles(const ifd_vk_frame *frame, ifd_vk_frame_native *out);

/* Records into cmd (recording, on the importer's queue family, outside a
 * render pass) what makes the producer's latest contents readable by stages
 * dst_stages with dst_access:
 *  COPY:   acquire the buffer from VK_QUEUE_FAMILY_EXTERNAL, copy it into the
 *          OPTIMAL image, release the buffer back to VK_QUEUE_FAMILY_EXTERNAL,
 *          transition the image to SHADER_READ_ONLY_OPTIMAL. Once this command
 *          buffer completes, the producer may overwrite the memory.
 *          The compute copy (path COPY in ifd_vk_frame_native) binds its own
 *          compute pipeline, descriptor set 0 and push constants in cmd: bind
 *          your compute state again after this call if you dispatch later in
 *          the same command buffer (graphics state is untouched).
 *  LINEAR: acquire the image from VK_QUEUE_FAMILY_EXTERNAL in GENERAL layout
 *          (the layout of memory the producer writes as a linear buffer; the
 *          image is created UNDEFINED, as external memory requires, and
 *          every acquire, the first included, names GENERAL). The same
 *          commands whichever of several recorded acquires runs first.
 * Errors: -EINVAL bad frame or NULL cmd. */
IFD_API int ifd_vk_frame_cmd_acquire(ifd_vk_frame *frame, VkCommandBuffer cmd,
                                     VkPipelineStageFlags dst_stages, VkAccessFlags dst_access);

/* Records the release back to VK_QUEUE_FAMILY_EXTERNAL after your last read
 * (src_stages) of a LINEAR frame; nothing for COPY (its buffer was released
 * by the acquire). Errors: -EINVAL. */
IFD_API int ifd_vk_frame_cmd_release(ifd_vk_frame *frame, VkCommandBuffer cmd,
                                     VkPipelineStageFlags src_stages);

/* ---------------------------------------------------------------- timelines */

/* Imports a timeline semaphore fd (OPAQUE_FD).
 * fd ownership: on success *fd is consumed and set to -1; on failure it is
 * untouched. Errors: -EINVAL; -EBADF not open; -EOPNOTSUPP no
 * VK_KHR_external_semaphore_fd or timeline semaphores; -EIO the fd is of a
 * kind no driver exports (a pipe, /dev/null, ...) or the driver refused it.
 * Not detected: NVIDIA's driver (580) accepted a CUDA memory fd as a
 * semaphore; pass only fds exported as semaphores. */
IFD_API int ifd_vk_timeline_import(ifd_vk_importer *importer, int *fd, ifd_vk_timeline **out);
IFD_API void ifd_vk_timeline_destroy(ifd_vk_timeline *timeline);
/* For VkSubmitInfo wait/signal lists (with VkTimelineSemaphoreSubmitInfo). */
IFD_API VkSemaphore ifd_vk_timeline_semaphore(const ifd_vk_timeline *timeline);
/* Waits on the host until value is reached, polling the counter (spins
 * ~200 us, then sleeps in 10-250 us steps with 1 us timer slack). Blocks: yes.
 * Errors: -ETIMEDOUT with a message naming value and current value; -EIO. */
IFD_API int ifd_vk_timeline_host_wait(ifd_vk_timeline *timeline, uint64_t value,
                                      uint64_t timeout_ns);
/* vkSignalSemaphore from the host. Errors: -EINVAL not above the current value; -EIO. */
IFD_API int ifd_vk_timeline_host_signal(ifd_vk_timeline *timeline, uint64_t value);
IFD_API int ifd_vk_timeline_value(ifd_vk_timeline *timeline, uint64_t *out_value);

/* ---------------------------------------------------------------- rings */

/* Imports every frame of desc (same path for all), its two timelines and,
 * for a MAILBOX ring, its shared state (control_fd, mapped and checked
 * before any other fd is used).
 * fd ownership: on success every fd of desc is consumed and set to -1; on
 * failure none is.
 * Errors: as ifd_vk_frame_import and ifd_vk_timeline_import; -EINVAL count
 *         out of 1..8, frames that differ in size or format, only one of
 *         ready_fd/release_fd given, an unknown mode, or a control_fd that
 *         is not a MAILBOX ring's shared state of this count (wrong kind of
 *         fd, size, seals, magic or version: the message says which). */
IFD_API int ifd_vk_ring_import(ifd_vk_importer *importer, ifd_ring_desc *desc, ifd_vk_path path,
                               ifd_vk_ring **out);
IFD_API void ifd_vk_ring_destroy(ifd_vk_ring *ring);
IFD_API uint32_t ifd_vk_ring_count(const ifd_vk_ring *ring);
/* The frame that holds frame number k (k >= 1): slot (k - 1) % count in a
 * FIFO ring; in a MAILBOX ring that of the last take or of the one before
 * (interop_fd.h, "Taking a frame"), NULL for any other k. */
IFD_API ifd_vk_frame *ifd_vk_ring_frame(const ifd_vk_ring *ring, uint64_t k);
IFD_API ifd_vk_timeline *ifd_vk_ring_ready(const ifd_vk_ring *ring);   /* NULL if none */
IFD_API ifd_vk_timeline *ifd_vk_ring_release(const ifd_vk_ring *ring); /* NULL if none */

/* MAILBOX rings: takes the newest frame ended since this consumer's last
 * take (interop_fd.h, "Taking a frame": blocking, errors). Then proceed as
 * in FIFO with ifd_vk_ring_frame(ring, k): wait for ready >= k on the device
 * (or ifd_vk_ring_wait_ready), read, and signal release = k on the device
 * (without timelines: ifd_ring_release_frame(k) in the producer's process).
 * -EINVAL also for a bad ring. */
IFD_API int ifd_vk_ring_take_latest(ifd_vk_ring *ring, uint64_t timeout_ns, uint64_t *out_frame);

/* Host wait until frame k is ready (ready >= k). Blocks: yes, up to
 * timeout_ns (0: only looks). In a MAILBOX ring without timelines a frame
 * taken is always written, in any process: this returns 0 at once.
 * A ring without timelines has nothing on the device to poll. Where its
 * producer's ring lives in this process (ifd_ring_export's note), this waits
 * until the producer ended frame k (ifd_ring_end_frame: written), so a frame
 * never produced is never reported ready. Otherwise (a producer in another
 * process, or a driver whose memory fds do not identify the ring) it
 * returns 0 at once: the producer must then hand over only written frames.
 * Errors: -ETIMEDOUT frame k not ready in time (message says how far the
 *         producer got); -EPIPE the producer's ring in this process was
 *         destroyed before ending frame k; -EINVAL k == 0, k not a frame
 *         taken (MAILBOX), or the ring's importer was destroyed first. */
IFD_API int ifd_vk_ring_wait_ready(ifd_vk_ring *ring, uint64_t k, uint64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif /* INTEROP_FD_VULKAN_H */
