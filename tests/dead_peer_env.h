/* Shared set-up of the dead-peer tests (test_dead_peer_*.c): a peer that
 * stops must not wedge the other side. Each runs its behaviour through
 * test_context_main (harness/context.h): a context of the IFD_TEST_BACKEND
 * backend, open fds counted around it; a watchdog turns a hang into a failure
 * naming the step that hung. */
#ifndef IFD_TEST_DEAD_PEER_ENV_H
#define IFD_TEST_DEAD_PEER_ENV_H

#include <stdbool.h>

#include "interop_fd/vulkan.h"
#include "test_util.h"
#include "vk_render.h"

#define MS TEST_MS
/* The timeout of the waits that must time out. */
#define TIMEOUT (200 * MS)
/* How late a timed-out wait may return: polling steps are <= 250 us, the
 * rest is scheduling on a loaded 2-core CI machine under ASan. */
#define LATE (300 * MS)

/* The call timed out: -ETIMEDOUT, not much later than timeout_ns, with a
 * message. */
void check_timed_out(const char *what, int rc, uint64_t t0, uint64_t timeout_ns);

/* A 2-frame w x h RGBA8 ring of ctx that has timelines, or a skip: "the ring
 * has no timelines on this device: <why_needed>". */
ifd_ring *ring_with_timelines_or_skip(ifd_context *ctx, uint32_t w, uint32_t h,
                                      const char *why_needed);

/* Frames in flight on two rings of one context. */
typedef struct {
  ifd_ring *open;     /* frame 1 begun, not ended */
  ifd_ring *held;     /* frames ended, never released (and, with timelines,
                         device-side waits for those releases enqueued) */
  int memory_fd;      /* an exported image, still held by the "consumer" */
} in_flight;

void start_frames(ifd_context *ctx, in_flight *f);
/* ifd_context_destroy with those frames in flight: returns in bounded time. */
void destroy_context_in_flight(ifd_context *ctx);

#endif
