/* The demo's producer: runs the network of cppn.h on the context's own device
 * and writes its frames, with the CUDA kernel (tools/producer/cuda/cppn.cu, embedded
 * PTX) on a CUDA context or the compute shader (tools/producer/shaders/cppn.comp,
 * embedded SPIR-V) on a Vulkan one: producer.c holds what both share,
 * producer_cuda.c and producer_vk.c one backend each (producer_backend.h).
 *
 * Every function returns 0 or a negative errno with a message in
 * tool_last_error() (tool_error.h). A producer is used by one thread at a time
 * and must be destroyed before its context. */
#ifndef IFD_TOOLS_PRODUCER_H
#define IFD_TOOLS_PRODUCER_H

#include <stdint.h>

#include "producer/cppn.h"
#include "interop_fd/interop_fd.h"

typedef struct producer producer;

/* Loads the kernel on ctx's backend (CUDA: the embedded PTX through
 * cuModuleLoadData, inside the context's CUcontext; Vulkan: a compute pipeline
 * on the context's VkDevice) and uploads the weights once (Vulkan: a
 * host-visible storage buffer; CUDA: nothing, they go to every launch by
 * value). Blocks: while the driver compiles the kernel.
 * Errors: -EINVAL bad arguments; -ENODEV no libcuda; -ENOMEM; -EIO. */
int producer_create(ifd_context *ctx, const cppn_params *params, producer **out);

/* Waits for the producer's own work to finish, then frees it. NULL is a no-op. */
void producer_destroy(producer *p);

/* Enqueues the kernel writing the frame `args` describes into `image`, on the
 * context's stream (CUDA) or queue (Vulkan), after all work queued there
 * before; does not wait. Only the first width * bytes_per_pixel bytes of each
 * row are written; the row padding keeps its contents. Ending the frame with
 * ifd_ring_end_frame (or signalling a timeline) afterwards publishes it
 * complete and visible to importers in other devices and APIs: on Vulkan the
 * writes are made available to all later work on the queue and the buffer is
 * released to VK_QUEUE_FAMILY_EXTERNAL (and acquired back before each write),
 * matching the consumer side's ifd_vk_frame_cmd_acquire/release.
 * Blocks: only on Vulkan, when all 8 command slots are in flight, until the
 * oldest is done.
 * Errors: -EINVAL image not of the producer's context, or args->width,
 *         height, row_pitch or format differ from the image's, or an unknown
 *         mode; -EIO launch or submission failed. */
int producer_draw(producer *p, ifd_image *image, const cppn_frame_args *args);

/* Blocks until all work submitted by this producer is done.
 * Errors: -EIO the device failed (lost device, faulting kernel). */
int producer_finish(producer *p);

/* Test hook (Vulkan): caps the bytes of the frame bound per dispatch below the
 * device's maxStorageBufferRange, so that the banded path that large frames
 * take can be tested on small ones. 0 restores the device's limit. No effect on
 * CUDA. */
void producer_test_limit_range(producer *p, uint32_t max_bytes);

/* Test hook: draws as producer_draw does, but lays the frame args describes
 * (any size, format and row_pitch: a multiple of the format's bytes per pixel,
 * at least width * bytes_per_pixel, with row_pitch * height within the
 * image's memory) over the memory of `image`, whatever the image's own size
 * and format. So a test can read back the row padding through a wider image
 * and draw with pitches no library image has (no multiple of 4).
 * Errors: as producer_draw, except the checks against the image's own size,
 * pitch and format. */
int producer_test_draw_over(producer *p, ifd_image *image, const cppn_frame_args *args);

#endif
