/* The tests' producer: an interop_fd context (IFD_TEST_BACKEND picks the
 * backend) that writes the reference pattern of tests/test_util.h into images,
 * with a CUDA kernel on the context's stream or, on the Vulkan backend, a
 * blocking host upload. Test code only. */
#ifndef IFD_TEST_PRODUCER_H
#define IFD_TEST_PRODUCER_H

#include <stdatomic.h>

#include "cuda_kernels.h"

typedef struct {
  ifd_context *ctx;
  const cuda_kit *cu; /* CUDA producer only */
  tk_kernels k;
  CUcontext cu_ctx;
  CUstream stream;
} tp_producer;

/* Opens a context of `backend` (and loads the test kernels on CUDA).
 * Returns ifd_context_create's result. */
int tp_open(tp_producer *p, ifd_backend backend);
void tp_close(tp_producer *p);

/* Writes the pattern of `seed` as a w x h `fmt` frame with row pitch `pitch`
 * into img's memory: a kernel enqueued on the context's stream (CUDA), or a
 * blocking upload (Vulkan). On Vulkan the frame's layout must be img's own,
 * or img an R8 image whose rows are contiguous (the bytes are laid over it).
 * Returns 0 or a negative errno. */
int tp_write(tp_producer *p, ifd_image *img, MAX_Format fmt, uint32_t w, uint32_t h,
             uint32_t pitch, uint32_t seed);

/* The pattern of `seed` in img's own format, size and pitch. */
int tp_fill(tp_producer *p, ifd_image *img, uint32_t seed);

/* Waits until the writes enqueued so far are done (CUDA; Vulkan writes block). */
void tp_finish(tp_producer *p);

/* A producer thread on a ring: frames 1..`frames`, each begun, filled with
 * the pattern of seed k (tp_fill) and ended. It stops at the first failure,
 * with rc and error saying which frame and why. */
typedef struct {
  tp_producer *p;
  ifd_ring *ring;
  uint64_t frames;
  _Atomic uint64_t ended; /* the last frame ended */
  int rc;
  char error[512];
} tp_ring_thread;

/* The thread's function (pthread_create), given a tp_ring_thread. */
void *tp_ring_thread_main(void *arg);

/* Without timelines a consumer learns from the producer that frame k was
 * ended (in this process; the ring's host hand-over): waits up to about 10 s
 * for it. Returns 0, or -1 when the thread failed or the time ran out. */
int tp_ring_thread_wait_ended(tp_ring_thread *t, uint64_t k);

#endif
