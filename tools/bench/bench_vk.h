/* The Vulkan consumer of `interop-fd bench`: its own instance and device on
 * the producer's GPU (matched by UUID), like an application would have. For
 * each frame it records one command buffer: a timestamp (its first use of the
 * frame), what makes the frame readable (interop_fd's copy into an OPTIMAL
 * image, the LINEAR image's acquire, or the CPU round trip's upload), a
 * compute dispatch that samples BENCH_SAMPLES pixels into host-visible
 * memory, and a closing timestamp. */
#ifndef IFD_TOOLS_BENCH_VK_H
#define IFD_TOOLS_BENCH_VK_H

#include <stdbool.h>
#include <stdint.h>

#include "bench/bench_common.h"
#include "interop_fd/vulkan.h"

typedef struct bench_vk bench_vk;

/* priority: 0, or the global queue priority to ask for (HIGH, REALTIME):
 * the highest one granted from there down to HIGH is taken, else the
 * default (bench_vk_priority says which). */
int bench_vk_create(const uint8_t uuid[16], VkQueueGlobalPriorityKHR priority, bench_vk **out);
void bench_vk_destroy(bench_vk *v); /* waits for its work */
/* The device's name and its driver's version string. */
const char *bench_vk_device_name(const bench_vk *v);
const char *bench_vk_driver_info(const bench_vk *v);
/* The queue's global priority granted (0: the default) and *why not the one
 * asked for ("" if granted). */
VkQueueGlobalPriorityKHR bench_vk_priority(const bench_vk *v, const char **why);

/* host CLOCK_MONOTONIC ns = consumer timestamp ns + *offset, within *spread
 * ns (VK_EXT_calibrated_timestamps). -EOPNOTSUPP where the device has no
 * calibrated timestamps: latency cannot be measured then. */
int bench_vk_calibrate(bench_vk *v, int64_t *offset, uint64_t *spread);

/* interop_fd's path: imports the ring (consumes desc's fds on success). */
int bench_vk_ring_import(bench_vk *v, ifd_ring_desc *desc, ifd_vk_path path);
void bench_vk_ring_drop(bench_vk *v); /* waits, then destroys the import */
/* The imported ring (NULL if none), for a MAILBOX consumer's takes. */
ifd_vk_ring *bench_vk_ring(bench_vk *v);
/* Records frame k's command buffer (before the frame is ready). */
int bench_vk_ring_record(bench_vk *v, uint64_t k, const uint32_t pos[2 * BENCH_SAMPLES]);
/* Waits on the host until ready >= k (interop_fd's polling wait). */
int bench_vk_ring_wait_ready(bench_vk *v, uint64_t k);
/* Submits frame k's command buffer; it signals release = k. gpu_wait: also
 * wait for ready = k on the device. */
int bench_vk_ring_submit(bench_vk *v, uint64_t k, bool gpu_wait);
/* Waits until frame k's command buffer is done and reads what it saw. */
int bench_vk_ring_collect(bench_vk *v, uint64_t k, bench_seen *seen);

/* The CPU round trip: `slots` staging buffers and OPTIMAL images. */
int bench_vk_upload_setup(bench_vk *v, uint32_t slots, uint32_t width, uint32_t height,
                          MAX_Format format);
void bench_vk_upload_drop(bench_vk *v);
/* Host-visible memory of slot s, width * bpp bytes per row. Valid once the
 * slot's previous frame was collected. */
void *bench_vk_upload_staging(bench_vk *v, uint32_t s);
int bench_vk_upload_submit(bench_vk *v, uint32_t s, const uint32_t pos[2 * BENCH_SAMPLES]);
int bench_vk_upload_collect(bench_vk *v, uint32_t s, bench_seen *seen);

/* ---------------------------------------------------------------- floors
 * (bench_vk_floor.c). Only between runs, with no frames in flight: they use
 * slot 0's command buffer, fence and timestamps. */

/* The ping-pong floor: imports the timeline of *fd (-1 in *fd once taken),
 * then submissions that wait for one value and signal the next, with no work.
 * bench_vk_pingpong_drop waits for the queue and destroys the import. */
int bench_vk_pingpong_import(bench_vk *v, int *fd);
int bench_vk_pingpong_submit(bench_vk *v, uint64_t wait_value, uint64_t signal_value);
void bench_vk_pingpong_drop(bench_vk *v);

/* One tiny submission (a timestamp, a 4-byte fill, a timestamp), polled until
 * done. *wait_us: from just before vkQueueSubmit on the host to the GPU's
 * first timestamp (put on the host's clock by `offset`, from
 * bench_vk_calibrate); *run_us: its GPU time. */
int bench_vk_slice_probe(bench_vk *v, int64_t offset, double *wait_us, double *run_us);

#endif
