/* One producer-to-consumer chain, as the demo and the self-test run it: the
 * CPPN producer on an interop_fd context writes frames into a ring; the ring
 * is exported as fds and imported by a presenter (its own Vulkan device or GL
 * context), which draws each frame. */
#ifndef IFD_TOOLS_PIPELINE_H
#define IFD_TOOLS_PIPELINE_H

#include "producer/cppn.h"
#include "interop_fd/interop_fd.h"
#include "present/present.h"
#include "producer/producer.h"

typedef struct {
  consumer_api consumer;
  uint32_t width, height;
  MAX_Format format;
  uint32_t ring;  /* frames in flight, 1..8 (MAILBOX: 3..8) */
  ifd_ring_mode mode; /* FIFO: every frame drawn; MAILBOX: the newest */
  VkQueueGlobalPriorityKHR priority; /* the Vulkan presenter's queue (0: default) */
  window *win;    /* NULL: headless */
  bool vsync;
  PFN_vkGetInstanceProcAddr importer_gipa;   /* NULL: default */
  ifd_gl_get_proc_address importer_get_proc; /* NULL: default */
  /* No presenter: the ring is for a consumer elsewhere (demo --serve). Then
   * only pipeline_produce and pipeline_finish apply. */
  bool no_presenter;
  uint64_t begin_timeout_ns; /* pipeline_produce's wait for a free slot (0: 10 s) */
} pipeline_config;

typedef struct {
  ifd_context *ctx; /* borrowed */
  ifd_context_native native;
  cppn_params params;
  producer *prod;
  ifd_ring *ring;
  presenter *pres;
  bool timelines; /* the ring has exportable timelines */
  uint64_t begin_timeout_ns;
  uint32_t width, height, pitch;
  MAX_Format format;
} pipeline;

/* Sets up producer, ring, export and import. Errors as the parts; on failure
 * nothing is left (the fds of a failed import are closed). */
int pipeline_create(pipeline *pl, ifd_context *ctx, const pipeline_config *cfg);
void pipeline_destroy(pipeline *pl); /* waits for both sides; leaves ctx */

/* Produces the next frame: begins it (FIFO: waiting, host polling, for a
 * free ring slot up to the configured timeout, -ETIMEDOUT then with nothing
 * begun; MAILBOX: never for the presenter), enqueues the kernel with
 * `args` (its size/pitch/format fields are filled in here) and ends it.
 * *out_k: the frame number (1, 2, ...). Any thread; one at a time. */
int pipeline_produce(pipeline *pl, cppn_frame_args *args, uint64_t *out_k);

/* FIFO: produces the next frame and draws it. rgba: as presenter_draw. */
int pipeline_step(pipeline *pl, cppn_frame_args *args, uint8_t *rgba, uint64_t *out_k);

/* MAILBOX: takes the newest frame produced since the last one taken, waiting
 * up to timeout_ns for one (-EAGAIN/-ETIMEDOUT: none newer), to be drawn
 * next with pipeline_draw. The presenter's thread, while another may call
 * pipeline_produce. */
int pipeline_take(pipeline *pl, uint64_t timeout_ns, uint64_t *out_k);

/* Draws frame k and, without timelines, hands it back to the producer.
 * rgba: as presenter_draw. */
int pipeline_draw(pipeline *pl, uint64_t k, uint8_t *rgba);

/* Blocks until both sides (or the producer alone) are idle. */
int pipeline_finish(pipeline *pl);

/* True where the context's device is a CPU (Mesa's lavapipe). The presenter
 * picks the device with the producer's UUID, so the consumer is that CPU too.
 * The demo and the self-test use it to size their defaults: a CPU draws the
 * network a thousand times slower than a GPU. CUDA devices are never CPUs. */
bool device_is_cpu(const ifd_context_native *n);

/* "cuda" / "vulkan", "vk" / "gl". */
const char *backend_name(ifd_backend b);
const char *consumer_name(consumer_api c);

#endif
