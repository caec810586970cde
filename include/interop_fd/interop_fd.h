/*
 * interop_fd: export GPU memory and timeline semaphores as POSIX fds so that
 * OpenGL and Vulkan can present what compute code wrote, with no CPU copy.
 *
 * Conventions, for every function below unless it says otherwise:
 *  - Returns 0 on success or a negative errno. On failure ifd_last_error()
 *    holds a message for the calling thread, out-pointers are left untouched
 *    (out-fds are preset to -1 on entry) and nothing leaks.
 *  - Handles are opaque. Destroying NULL is a no-op. A handle that was
 *    destroyed is detected and refused with -EINVAL as long as its address has
 *    not been reused by a new object of the same kind.
 *  - Threads: any thread may call any function; the library serialises work
 *    on one context internally. Objects must not be destroyed while another
 *    thread still uses them.
 *  - Blocking: only functions documented "Blocks: yes" wait for the GPU.
 *  - fds: every fd returned is new, close-on-exec and owned by the caller.
 *
 * This header includes only <stdint.h> and <stddef.h>: plain structs and
 * literal enums, so that bindings can be written mechanically.
 */
#ifndef INTEROP_FD_H
#define INTEROP_FD_H

#include <stddef.h>
#include <stdint.h>

#include "asyncrt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IFD_VERSION_MAJOR 0
#define IFD_VERSION_MINOR 1
#define IFD_VERSION_PATCH 0

typedef struct ifd_context ifd_context;
typedef struct ifd_image ifd_image;
typedef struct ifd_timeline ifd_timeline;

typedef enum {
  IFD_BACKEND_AUTO = 0,   /* CUDA where it works, else Vulkan */
  IFD_BACKEND_CUDA = 1,   /* NVIDIA driver API, libcuda.so.1 loaded at run time */
  IFD_BACKEND_VULKAN = 2  /* any Vulkan 1.2 driver with VK_KHR_external_memory_fd */
} ifd_backend;

/* ------------------------------------------------------------------ errors */

/* The message of the calling thread's last failure ("" if none). The pointer
 * stays valid until the next failing call on the same thread. Never NULL. */
IFD_API const char *ifd_last_error(void);

/* ------------------------------------------------------------------ formats */

typedef enum {
  IFD_SWIZZLE_R = 0, IFD_SWIZZLE_G = 1, IFD_SWIZZLE_B = 2, IFD_SWIZZLE_A = 3,
  IFD_SWIZZLE_ZERO = 4, IFD_SWIZZLE_ONE = 5
} ifd_swizzle;

typedef struct {
  MAX_Format format;
  const char *name;            /* lower case: "r8", "rgba16f", ... */
  uint32_t bytes_per_pixel;
  uint32_t channels;           /* 1, 2 or 4 */
  uint32_t is_srgb;            /* 1 for SRGBA8 */
  uint32_t is_float;           /* 1 for the 16F and 32F formats */
  uint32_t gl_internal_format; /* GL_R8, GL_RGBA16F, ... (GL_RGBA8 for BGRA8) */
  uint32_t gl_format;          /* matching client format, e.g. GL_RED, GL_RGBA */
  uint32_t gl_type;            /* GL_UNSIGNED_BYTE, GL_HALF_FLOAT, GL_FLOAT */
  int32_t gl_swizzle[4];       /* for GL_TEXTURE_SWIZZLE_RGBA: expands to RGBA
                                  and, for BGRA8, swaps R and B */
  uint32_t vk_format;          /* VkFormat, e.g. VK_FORMAT_B8G8R8A8_UNORM */
  uint8_t vk_swizzle[4];       /* ifd_swizzle per output R,G,B,A, for a
                                  VkComponentMapping on vk_format */
  uint32_t drm_fourcc;         /* DRM_FORMAT_*, 0 where none exists */
} ifd_format_info;

/* Fills *out for one of the 11 formats. The expansion to RGBA is: R -> (r,r,r,1),
 * RG -> (r,g,0,1), 4-channel formats as stored.
 * Errors: -EINVAL unknown format or NULL out. */
IFD_API int ifd_format_query(MAX_Format format, ifd_format_info *out);

/* The format whose `name` is `name` (case-insensitive), e.g. "rgba8".
 * Errors: -EINVAL unknown name or NULL pointer. */
IFD_API int ifd_format_from_name(const char *name, MAX_Format *out);

/* ------------------------------------------------------------------ context */

/* Creates a context on device `device_index` (0 = first) of `backend`.
 * IFD_BACKEND_AUTO tries CUDA and falls back to Vulkan; the message of a CUDA
 * failure is kept in ifd_last_error() only if Vulkan fails too.
 * Blocks: while the driver initialises (milliseconds).
 * Errors: -EINVAL bad backend, negative index or NULL out.
 *         -ENODEV no such device, or the backend's library is missing.
 *         -EOPNOTSUPP the device lacks what export needs (message says what).
 *         -ENOMEM, -EIO driver failures. */
IFD_API int ifd_context_create(ifd_backend backend, int device_index, ifd_context **out);

/* Waits for the context's queue or stream to go idle, then destroys every image
 * and timeline still alive on it (those created through
 * AsyncRT_Create_timeline_semaphore_fd and those of its rings included) and the
 * context. Their handles become invalid: later calls with them return -EINVAL.
 * A ring of the context stays a handle but is invalidated: every later call
 * with it returns -EINVAL ("the ring's context was destroyed first"), its
 * accessors return 0/NULL, and ifd_ring_destroy frees what is left of it
 * (destroy rings first to avoid this). A device-side wait for a consumer's
 * release that has not come (a consumer that stopped) is released from the
 * host first, as ifd_ring_destroy does, so a dead consumer cannot keep this
 * call waiting. fds already exported stay valid for their importers.
 * Blocks: yes, until the device is idle. */
IFD_API void ifd_context_destroy(ifd_context *ctx);

/* Adopts an existing CUDA context (CUcontext) and stream (CUstream; NULL = the
 * legacy default stream) without taking ownership: ifd_context_destroy leaves
 * both alive. All of the context's work, signals and waits are ordered on that
 * stream. Works with the context and stream of a Mojo DeviceContext, PyTorch
 * or CuPy. Errors: -EINVAL NULL cu_context or out; -ENODEV no libcuda. */
IFD_API int ifd_context_create_cuda(void *cu_context, void *cu_stream, ifd_context **out);

IFD_API ifd_backend ifd_context_backend(const ifd_context *ctx); /* AUTO if invalid */

/* Native handles of the context, for producer code that records its own work.
 * Fields of the other backend are zero. Vulkan handles are given as integers
 * (dispatchable ones as pointer values) so this header stays vendor-free. */
typedef struct {
  ifd_backend backend;
  /* CUDA */
  void *cu_context;            /* CUcontext */
  void *cu_stream;             /* CUstream on which all work is ordered */
  int cu_device;               /* CUdevice */
  /* Vulkan (also filled for CUDA, which keeps a Vulkan device for semaphores) */
  void *vk_instance;           /* VkInstance */
  void *vk_physical_device;    /* VkPhysicalDevice */
  void *vk_device;             /* VkDevice */
  void *vk_queue;              /* VkQueue; submit to it only inside
                                  ifd_context_lock()/ifd_context_unlock() */
  uint32_t vk_queue_family;
  uint8_t device_uuid[16];     /* VkPhysicalDeviceIDProperties::deviceUUID */
  char device_name[256];
} ifd_context_native;

IFD_API int ifd_context_native_handles(const ifd_context *ctx, ifd_context_native *out);

/* Serialise your own submissions to the context's VkQueue with the library's. */
IFD_API int ifd_context_lock(ifd_context *ctx);
IFD_API void ifd_context_unlock(ifd_context *ctx);

/* ------------------------------------------------------------------ images */

/* Creates a device-local, exportable, single-plane linear image.
 * row_pitch >= width * bytes_per_pixel and a multiple of bytes_per_pixel. Where
 * the device supports linear images of the format, row_pitch is the pitch of
 * the device's own VK_IMAGE_TILING_LINEAR image of this format and size, so a
 * consumer can bind such an image to the imported memory with no copy;
 * elsewhere it is width * bytes_per_pixel rounded up to 256.
 * size >= row_pitch * height, with room for drivers that pad the height.
 * Contents are undefined until written.
 * Errors: -EINVAL NULL ctx/out, width or height 0, unknown format.
 *         -EOVERFLOW width * height * bytes_per_pixel too large.
 *         -ENOMEM out of device memory. -EOPNOTSUPP format not usable. */
IFD_API int ifd_image_create(ifd_context *ctx, uint32_t width, uint32_t height, MAX_Format format,
                     ifd_image **out);
/* Destroys the image; its handle is invalid at once. Its memory goes once no
 * work queued on the context can use it: this waits for the context's
 * queue/stream to go idle, except while that queue/stream waits on the device
 * for a consumer's ring release that has not come (it could not go idle): then
 * the memory is freed by a later destroy that finds the queue free, or by
 * ifd_context_destroy. fds already exported stay valid for their importers.
 * An image of a ring is destroyed only with its ring: destroying it here is
 * refused (the message says so, the handle stays valid).
 * Blocks: until the context is idle, never on a consumer that stopped. */
IFD_API void ifd_image_destroy(ifd_image *image);

/* Accessors return 0 for a NULL or destroyed image. */
IFD_API uint32_t ifd_image_width(const ifd_image *image);
IFD_API uint32_t ifd_image_height(const ifd_image *image);
IFD_API MAX_Format ifd_image_format(const ifd_image *image); /* 0 if invalid */
IFD_API uint32_t ifd_image_row_pitch(const ifd_image *image);
IFD_API uint64_t ifd_image_size(const ifd_image *image);
IFD_API ifd_context *ifd_image_context(const ifd_image *image);

/* Native handles of the image, so producer code can write into it. */
typedef struct {
  ifd_backend backend;
  uint64_t cu_device_ptr;      /* CUdeviceptr of the first byte (CUDA) */
  uint64_t vk_buffer;          /* VkBuffer covering the whole image (Vulkan) */
  uint64_t vk_memory;          /* VkDeviceMemory (Vulkan) */
  uint64_t size;
  uint32_t row_pitch;
} ifd_image_native;

IFD_API int ifd_image_native_handles(const ifd_image *image, ifd_image_native *out);

/* Host copies for tests and tools, never part of a frame path: they stage
 * through host memory and wait for the device. On the Vulkan backend the copy
 * acquires the memory from VK_QUEUE_FAMILY_EXTERNAL and releases it back, as
 * consumers do.
 * src_row_pitch/dst_row_pitch: bytes between rows of the host buffer, at least
 * width * bytes_per_pixel.
 * Blocks: yes, until the copy is done (after all earlier work on the context).
 * Where the context's queue/stream waits on the device for a ring's release
 * (ifd_ring_begin_frame), the copy first waits, up to 10 s, for that release
 * to land, without holding the context, so a consumer thread or a ring's
 * server can release it meanwhile.
 * Errors: -EINVAL bad handle, NULL pixels, pitch too small. -EIO device lost.
 *         -ETIMEDOUT the release the queue waits for did not come in 10 s. */
IFD_API int ifd_image_upload(ifd_image *image, const void *pixels, size_t src_row_pitch);
IFD_API int ifd_image_download(ifd_image *image, void *pixels, size_t dst_row_pitch);

/* ------------------------------------------------------------------ timelines */

/* Creates an exportable timeline semaphore at initial_value.
 * Errors: -EINVAL bad ctx/out. -EOPNOTSUPP the device cannot export timeline
 *         semaphores (e.g. Mesa's lavapipe); the message says why.
 *         -ENOMEM, -EMFILE, -EIO the driver could not create or export one
 *         more semaphore. */
IFD_API int ifd_timeline_create(ifd_context *ctx, uint64_t initial_value, ifd_timeline **out);

/* Imports a timeline semaphore fd (OPAQUE_FD) created elsewhere, e.g. by a
 * consumer that signals "done reading frame N", so the producer can wait for it
 * on the device. fd ownership: on success the library owns fd (it is closed or
 * consumed by the driver); on failure the caller still owns it.
 * Errors: -EINVAL bad ctx/out; -EBADF fd is not open; -EOPNOTSUPP the device
 *         cannot import semaphores; -EIO the fd is of a kind no driver exports
 *         (a pipe, /dev/null, ...) or the driver refused it.
 * Not detected: NVIDIA's driver (580) accepted a CUDA memory fd as a
 * semaphore, in Vulkan and in CUDA alike, and nothing the library can see in
 * the fd tells the two apart: pass only fds exported as semaphores. */
IFD_API int ifd_timeline_import_fd(ifd_context *ctx, int fd, ifd_timeline **out);

/* Destroys the timeline. Its exported fds stay valid for their importers.
 * Work already enqueued may still signal or wait on it, so the semaphore
 * itself goes once the context's queue/stream is idle, as for
 * ifd_image_destroy. A ring's ready or release timeline is destroyed only
 * with its ring (refused here, as for images). Blocks: as ifd_image_destroy. */
IFD_API void ifd_timeline_destroy(ifd_timeline *tl);

/* Exports a new OPAQUE_FD of the semaphore; the caller owns it.
 * Errors: -EINVAL bad handle, -EMFILE, -EIO. */
IFD_API int ifd_timeline_export_fd(ifd_timeline *tl, int *out_fd);

/* Enqueues "signal value" on the context's queue/stream after all earlier work.
 * Does not block. Errors: -EINVAL bad handle or value not above the last
 * signalled one; -EIO submission failed. */
IFD_API int ifd_timeline_signal(ifd_timeline *tl, uint64_t value);

/* Enqueues a device-side wait for value: later work on the context's
 * queue/stream starts only once the semaphore reaches value. Does not block. */
IFD_API int ifd_timeline_wait(ifd_timeline *tl, uint64_t value);

/* Waits on the host until the semaphore reaches value or timeout_ns passes.
 * Blocks: yes. Errors: -ETIMEDOUT (not reached in time), -EINVAL, -EIO. */
IFD_API int ifd_timeline_host_wait(ifd_timeline *tl, uint64_t value, uint64_t timeout_ns);

/* The semaphore's current value. Errors: -EINVAL, -EIO. */
IFD_API int ifd_timeline_value(ifd_timeline *tl, uint64_t *out_value);

/* ------------------------------------------------------------------ frames */

/* What a consumer needs to import one frame: a plain struct that can cross a
 * process boundary (send the fds with SCM_RIGHTS, copy the rest). Consumers
 * take it to ifd_vk_frame_import (interop_fd/vulkan.h) or ifd_gl_frame_import
 * (interop_fd/gl.h).
 *
 * fd ownership: every fd in a filled-in description belongs to whoever holds
 * the struct. Import functions take the fds they consume and set those fields
 * to -1, so a description can always be cleaned up with ifd_frame_desc_close. */
typedef struct {
  int memory_fd;            /* OPAQUE_FD of the memory; -1 if none */
  uint64_t size;            /* bytes the fd covers, >= row_pitch * height */
  uint32_t row_pitch;       /* bytes from one row to the next */
  uint32_t width, height;   /* pixels */
  MAX_Format format;
  ifd_backend exporter;     /* the API that allocated the memory (CUDA or
                               VULKAN); AUTO = unknown. Consumers use it to
                               pick paths verified for that exporter. */
  int timeline_fd;          /* optional OPAQUE_FD of a timeline semaphore the
                               producer signals when the frame is written; -1 */
  uint8_t device_uuid[16];  /* the exporting device (VkPhysicalDeviceIDProperties
                               ::deviceUUID); all zero: unknown, not checked */
} ifd_frame_desc;

/* Fills *out for image with a new memory fd (timeline_fd = -1). The caller owns
 * the fd, through *out. Errors: -EINVAL bad image or NULL out; -EMFILE; -EIO. */
IFD_API int ifd_image_describe(ifd_image *image, ifd_frame_desc *out);

/* Closes the fds still held by desc (fields >= 0) and sets them to -1. NULL is
 * a no-op. */
IFD_API void ifd_frame_desc_close(ifd_frame_desc *desc);

/* ------------------------------------------------------------------ rings */

/* A ring of frames in flight: `count` images that a producer fills in turn
 * while a consumer reads the previous ones, synchronised by two timeline
 * semaphores. The value protocol, which every consumer follows:
 *
 *   - Frames are numbered 1, 2, 3, ...; frame k lives in image (k - 1) % count.
 *   - ready:   the producer signals value k once frame k is completely written.
 *   - release: the consumer signals value k once it no longer reads frame k
 *              (its copy or its last draw that samples the image is done).
 *   - The producer starts writing frame k only after release >= k - count, so
 *     it never overwrites an image still being read, and it may run up to
 *     count - 1 frames ahead of the consumer.
 *   - Both values only grow. A consumer that skips frames (e.g. presents only
 *     the newest) still signals release = k for the newest frame it used,
 *     which releases every older one too.
 *
 * Where the device cannot export timeline semaphores (Mesa's lavapipe), the
 * ring has none: ifd_ring_end_frame then waits on the host until the frame is
 * written, and the consumer (in the same process) hands frames back with
 * ifd_ring_release_frame.
 *
 * That is the FIFO mode: the consumer sees every frame, and a slow consumer
 * slows the producer down to its pace. */
typedef struct ifd_ring ifd_ring;

/* Latest-frame rings (IFD_RING_MAILBOX): the producer never waits for a
 * slower consumer, and the consumer always gets the newest complete frame.
 * Frame numbers, ready = k and release = k keep their meaning above; what
 * changes is which slot holds frame k, which the library chooses:
 *
 *   - The slots are owned by three parties at any time: the consumer holds
 *     one ("held", the frame it took last), the mailbox holds one ("box"),
 *     and the producer owns the other count - 2 (count >= 3).
 *   - ifd_ring_end_frame(k) publishes the slot of frame k in the box, marked
 *     fresh, with one atomic exchange, and the producer takes back the slot
 *     that was there. If that one was fresh, its frame was never taken: the
 *     producer may write it again at once. If not, it is the slot the
 *     consumer gave back, which held the consumer's previous frame j: it is
 *     written again only after release >= j (a device-side wait with
 *     timelines, as in FIFO; a host wait without).
 *   - A take (ifd_vk_ring_take_latest, ifd_gl_ring_take_latest) swaps the
 *     consumer's held slot with the box if the box is fresh, with one atomic
 *     compare-exchange, and gives the consumer frame k.
 *   - ifd_ring_begin_frame writes into one of the producer's own slots,
 *     preferring one whose release has landed, then the least recently
 *     written.
 *
 * Invariants (tests/test_ring_mailbox.c checks them):
 *   1. The producer, the box and the consumer own distinct slots: the
 *      producer never writes the slot the consumer reads (never torn).
 *   2. A frame is published only after ifd_ring_end_frame queued ready = k
 *      (or, without timelines, after it is written): a take never returns a
 *      frame not ended, and ready >= k makes it complete on the device.
 *   3. Takes are strictly increasing, and a take returns the newest frame
 *      ended before it (a frame ended later replaces it in the box).
 *   4. A slot the consumer read is written again only after release >= the
 *      frame read from it. A frame never taken needs no release.
 *   5. The producer blocks only where every slot it owns still waits for a
 *      release: with count = 3, when the consumer takes a new frame before
 *      its release of the previous one landed. It never waits for a consumer
 *      that does not take. With timelines it waits on the device, and its
 *      host blocks only for an earlier device-side wait of this ring still
 *      unmet, when another is needed or `count` frames are queued behind it
 *      (so at most one such wait is queued, and a consumer that died with a
 *      release in flight cannot make the queue grow); without, for the
 *      release itself.
 *
 * The state is one page of shared memory (a sealed memfd) that
 * ifd_ring_desc.control_fd carries, so the consumer may live in another
 * process; an import checks it (size, seals, magic, version, slots) and
 * never trusts it. One consumer per ring: two consumers would share its
 * held slot. A consumer that stops taking, or dies, leaves the producer
 * running on the other slots; the frame it held stays unreleased, as in
 * FIFO, until ifd_ring_destroy releases what the device waits for.
 *
 * Taking a frame (ifd_vk_ring_take_latest, ifd_gl_ring_take_latest, on the
 * consumer's imported ring; int take(ring, uint64_t timeout_ns, uint64_t
 * *out_frame)): takes the newest frame the producer ended since this
 * consumer's last take, sets *out_frame = k, and gives the frame taken
 * before back to the producer; the consumer's ring then gives the slot of
 * frame k, and of the frame taken before it until the next take
 * (ifd_vk_ring_frame, ifd_gl_ring_frame). Release the frame you took before
 * taking the next one: the producer writes its slot again only after that
 * release, and with count = 3 waits for it. One consumer per ring, one thread
 * at a time.
 * Blocks: up to timeout_ns (0: only looks), polling the shared state.
 * A producer in another process that dies is not seen: its ring is not
 * destroyed, so takes go on answering -EAGAIN/-ETIMEDOUT, never -EPIPE.
 * Errors: -EAGAIN (timeout 0) or -ETIMEDOUT (timeout > 0) no frame newer
 *         than the last taken has ended: keep using the last one; -EPIPE
 *         none newer and the producer's ring was destroyed; -EINVAL NULL
 *         out_frame, or a FIFO ring; -EIO the shared state is malformed (a
 *         broken or hostile producer process). */
typedef enum { IFD_RING_FIFO = 0, IFD_RING_MAILBOX = 1 } ifd_ring_mode;

#define IFD_RING_MAX_FRAMES 8

typedef struct {
  uint32_t count;                          /* frames in the ring, 1..8 */
  ifd_frame_desc frames[IFD_RING_MAX_FRAMES]; /* [0, count); timeline_fd -1 */
  int ready_fd;                            /* OPAQUE_FD timeline; -1 if none */
  int release_fd;                          /* OPAQUE_FD timeline; -1 if none */
  ifd_ring_mode mode;                      /* FIFO or MAILBOX */
  int control_fd;                          /* MAILBOX: the shared state (a memfd).
                                              FIFO: -1 from ifd_ring_export, and
                                              never read or closed, so a zeroed
                                              FIFO description stays safe */
} ifd_ring_desc;

/* Creates `count` (1..8) images of the same size and format, and, where the
 * device can export them, the ready and release timelines (both at 0). A
 * FIFO ring: ifd_ring_create_mode(..., IFD_RING_FIFO, out).
 * Errors: as ifd_image_create and ifd_timeline_create; -EINVAL count out of
 *         range. */
IFD_API int ifd_ring_create(ifd_context *ctx, uint32_t count, uint32_t width, uint32_t height,
                            MAX_Format format, ifd_ring **out);

/* As ifd_ring_create, in `mode`. MAILBOX also creates the shared state (a
 * memfd of one page, held by the ring until ifd_ring_destroy).
 * Errors: as ifd_ring_create; -EINVAL an unknown mode, or MAILBOX with
 *         count < 3 (the producer, the mailbox and the consumer each need a
 *         slot); -EMFILE and the like for the memfd. */
IFD_API int ifd_ring_create_mode(ifd_context *ctx, uint32_t count, uint32_t width,
                                 uint32_t height, MAX_Format format, ifd_ring_mode mode,
                                 ifd_ring **out);

/* The ring's mode; IFD_RING_FIFO if ring is not a live ring. */
IFD_API ifd_ring_mode ifd_ring_get_mode(const ifd_ring *ring);

/* Destroys the images and timelines (waits for the context to be idle). fds
 * already exported stay valid for their importers. Safe after
 * ifd_context_destroy of the ring's context: it then frees only the ring. */
IFD_API void ifd_ring_destroy(ifd_ring *ring);

IFD_API uint32_t ifd_ring_count(const ifd_ring *ring);                /* 0 if invalid */
IFD_API ifd_image *ifd_ring_image(const ifd_ring *ring, uint32_t i);  /* NULL if invalid */
IFD_API ifd_timeline *ifd_ring_ready(const ifd_ring *ring);   /* NULL without timelines */
IFD_API ifd_timeline *ifd_ring_release(const ifd_ring *ring); /* NULL without timelines */

/* Fills *out with new fds for every image, both timelines and (MAILBOX) the
 * shared state, and the mode; the caller owns them (ifd_ring_desc_close
 * closes what no import took). A consumer ring imported in this same
 * process from such a description recognises the ring (where the driver
 * exports memory as distinct files, e.g. Mesa) and learns
 * from it which frames were ended, so that a ring without timelines never
 * hands out a frame that was not produced (ifd_vk_ring_wait_ready,
 * ifd_gl_ring_wait_ready, ifd_gl_ring_acquire).
 * Errors: -EINVAL bad ring or NULL out; -EMFILE; -EIO. On failure no fd is open. */
IFD_API int ifd_ring_export(ifd_ring *ring, ifd_ring_desc *out);

/* Closes the fds still held by desc (frames [0, count), both timelines and,
 * for MAILBOX, control_fd) and sets them to -1. NULL is a no-op. */
IFD_API void ifd_ring_desc_close(ifd_ring_desc *desc);

/* Starts the next frame k (1 for the first call) and returns k and the image
 * to write. FIFO: the image may still be read by the consumer (frame k - count):
 * with timelines, this enqueues on the context's queue/stream a device-side
 * wait until the consumer has released frame k - count (none if it already
 * has), so write the image only with work enqueued there afterwards
 * (ifd_context_native_handles), never from the host or another stream.
 * Work waiting on the device starts within microseconds of the release,
 * where work the host enqueued after a host wait starts only after the GPU
 * switched contexts (~160 us on an H200). Without timelines (lavapipe) the
 * host waits for the release instead.
 * MAILBOX: the image is one of the producer's own slots, one whose release
 * has landed where there is one (see "Latest-frame rings"); the waits are
 * those of FIFO, for the release of the frame the consumer last read there.
 * Blocks: FIFO: only to keep the host within 2 * count frames of the
 * consumer's releases (with timelines), or while the ring is full (without).
 * MAILBOX: only where every slot the producer owns waits for a release
 * (invariant 5): with timelines while an earlier device-side wait of the
 * ring is unmet and another is needed or `count` frames are queued behind
 * it, without for the release itself. And, with timelines, while frame
 * k - count is not written yet on the producer's own device (ready < k -
 * count): the host stays within count frames of its device, so that the
 * newest frame a consumer takes is written within count frames of work, not
 * after everything the host could queue. That wait is on the producer's own
 * device, bounded by 10 s, not timeout_ns; where frame k - count runs behind
 * a device-side wait for a release not met yet, the host waits for that
 * release first, within timeout_ns (-ETIMEDOUT), as for a slot.
 * The waits poll, so they wake within microseconds.
 * ifd_ring_destroy releases any wait still enqueued, so a consumer that stops
 * cannot leave the context unable to go idle.
 * Errors: -EINVAL bad ring (or its context destroyed first) or NULL
 *         pointers, or the previous frame was not ended; -ETIMEDOUT the
 *         consumer did not release the frame the host waits for within
 *         timeout_ns (the frame is not started; call again); -EIO. */
IFD_API int ifd_ring_begin_frame(ifd_ring *ring, uint64_t timeout_ns, uint64_t *out_frame,
                                 ifd_image **out_image);

/* Ends frame k (the value ifd_ring_begin_frame gave): enqueues "ready = k"
 * after all work queued so far on the context's queue or stream, so write the
 * frame on that queue/stream (ifd_context_native_handles) before calling.
 * Without timelines it blocks until that work is done instead. MAILBOX: then
 * publishes frame k as the newest, replacing a frame not taken.
 * Errors: -EINVAL bad ring or k is not the frame begun; -EIO (MAILBOX: also
 *         a shared state that gave back a slot it could not, i.e. one the
 *         producer or the consumer holds: a broken or hostile consumer). */
IFD_API int ifd_ring_end_frame(ifd_ring *ring, uint64_t frame);

/* Releases frame k from the host, for a consumer in this process that has
 * finished reading it: signals release = k (device-side, after the context's
 * queued work; from the host where the context's queue/stream may wait for a
 * release not met yet, which a signal queued behind it could never meet) or,
 * without timelines, records it. In a MAILBOX ring k is a frame taken.
 * Errors: -EINVAL bad ring, k not yet ended, or k below an earlier release. */
IFD_API int ifd_ring_release_frame(ifd_ring *ring, uint64_t frame);

#ifdef __cplusplus
}
#endif

#endif /* INTEROP_FD_H */
