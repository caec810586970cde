/* The CUDA side of `interop-fd bench` (bench_cuda.h). */
#include "bench/bench_cuda.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/cuda_kit.h"
#include "common/tool_error.h"

/* tools/bench/cuda/bench.ptx, embedded at build time. */
extern const char ifd_tool_bench_ptx[];

#define PINGPONG_ROUNDS 200

/* Mapped host memory shared with the kernels. */
typedef struct {
  uint64_t stamps[BENCH_STAMP_SLOTS];
  uint64_t marks[BENCH_STAMP_SLOTS];
  uint32_t pos[BENCH_STAMP_SLOTS][2 * BENCH_SAMPLES];
  uint32_t gathered[BENCH_STAMP_SLOTS][4 * BENCH_SAMPLES];
  uint32_t flag, ack;
  uint32_t gate;         /* bench_cuda_gate_open's value */
  uint64_t times[PINGPONG_ROUNDS];
} shared_block;

struct bench_cuda {
  ifd_context *ctx;
  ifd_context_native native;
  const cuda_kit *cu;
  CUstream stream;
  CUmodule module;
  CUfunction pattern, stamp, gather, pingpong;
  shared_block *host;    /* mapped */
  CUdeviceptr host_dev;  /* its device address */
  CUdeviceptr counter;   /* the pattern kernel's block counter */
  CUevent events[BENCH_STAMP_SLOTS];
  CUevent timers[BENCH_TIMERS]; /* keep time, for the floors */
  uint32_t gate;                /* the value the stream's gate waits for */
};

struct bench_cuda_lane {
  bench_cuda *b;
  CUcontext own;       /* created for the lane; NULL on the bench's context */
  CUcontext context;
  CUstream stream;
  ifd_context *ctx;
};

static int cu_fail(const bench_cuda *b, CUresult r, const char *what) {
  const char *name = "CUDA_ERROR_UNKNOWN";
  b->cu->cuGetErrorName(r, &name);
  return tool_fail(r == CUDA_ERROR_OUT_OF_MEMORY ? -ENOMEM : -EIO, "bench: %s failed: %s (%d)",
                   what, name, (int)r);
}

static int push(const bench_cuda *b) {
  CUresult r = b->cu->cuCtxPushCurrent((CUcontext)b->native.cu_context);
  return r == CUDA_SUCCESS ? 0 : cu_fail(b, r, "cuCtxPushCurrent");
}

static void pop(const bench_cuda *b) {
  CUcontext dummy;
  b->cu->cuCtxPopCurrent(&dummy);
}

/* Runs `call` (a CUresult expression) with the context current. */
#define CU_CALL(b, call, what)                                  \
  do {                                                          \
    int rc_ = push(b);                                          \
    if (rc_ != 0) return rc_;                                   \
    CUresult r_ = (call);                                       \
    pop(b);                                                     \
    if (r_ != CUDA_SUCCESS) return cu_fail(b, r_, what);        \
  } while (0)

static int create_objects(bench_cuda *b) {
  const cuda_kit *cu = b->cu;
  CU_CALL(b, cu->cuModuleLoadData(&b->module, ifd_tool_bench_ptx), "cuModuleLoadData(bench.ptx)");
  struct {
    CUfunction *fn;
    const char *name;
  } k[] = {{&b->pattern, "bench_pattern"},
           {&b->stamp, "bench_stamp"},
           {&b->gather, "bench_gather"},
           {&b->pingpong, "bench_pingpong"}};
  for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
    CU_CALL(b, cu->cuModuleGetFunction(k[i].fn, b->module, k[i].name), k[i].name);
  void *host = NULL;
  CU_CALL(b, cu->cuMemAllocHost(&host, sizeof(shared_block)), "cuMemAllocHost");
  b->host = host;
  memset(b->host, 0, sizeof(*b->host));
  CU_CALL(b, cu->cuMemHostGetDevicePointer(&b->host_dev, host, 0), "cuMemHostGetDevicePointer");
  CU_CALL(b, b->cu->cuMemAlloc(&b->counter, 4), "cuMemAlloc(counter)");
  CU_CALL(b, cu->cuMemsetD8Async(b->counter, 0, 4, b->stream), "cuMemsetD8Async");
  for (int i = 0; i < BENCH_STAMP_SLOTS; i++)
    CU_CALL(b, cu->cuEventCreate(&b->events[i], CU_EVENT_DISABLE_TIMING), "cuEventCreate");
  for (int i = 0; i < BENCH_TIMERS; i++)
    CU_CALL(b, cu->cuEventCreate(&b->timers[i], CU_EVENT_DEFAULT), "cuEventCreate(timer)");
  return bench_cuda_sync(b);
}

void bench_cuda_destroy(bench_cuda *b) {
  if (!b) return;
  if (b->cu && push(b) == 0) {
    bench_cuda_gate_open(b); /* a gate left closed would hold the stream */
    b->cu->cuStreamSynchronize(b->stream);
    for (int i = 0; i < BENCH_STAMP_SLOTS; i++)
      if (b->events[i]) b->cu->cuEventDestroy(b->events[i]);
    for (int i = 0; i < BENCH_TIMERS; i++)
      if (b->timers[i]) b->cu->cuEventDestroy(b->timers[i]);
    if (b->counter) b->cu->cuMemFree(b->counter);
    if (b->host) b->cu->cuMemFreeHost(b->host);
    if (b->module) b->cu->cuModuleUnload(b->module);
    pop(b);
  }
  free(b);
}

int bench_cuda_create(ifd_context *ctx, bench_cuda **out) {
  if (ifd_context_backend(ctx) != IFD_BACKEND_CUDA)
    return tool_fail(-ENODEV, "bench: the producer must be a CUDA context");
  bench_cuda *b = calloc(1, sizeof(*b));
  if (!b) return tool_fail(-ENOMEM, "bench: out of memory");
  b->ctx = ctx;
  int rc = ifd_context_native_handles(ctx, &b->native);
  if (rc != 0) rc = tool_fail(rc, "bench: %s", ifd_last_error());
  if (rc == 0 && (rc = cuda_kit_load(&b->cu)) != 0)
    rc = tool_fail(rc, "bench: %s", tool_last_error());
  b->stream = (CUstream)b->native.cu_stream;
  if (rc == 0) rc = create_objects(b);
  if (rc != 0) {
    bench_cuda_destroy(b);
    return rc;
  }
  *out = b;
  return 0;
}

int bench_cuda_driver_version(bench_cuda *b) {
  int v = 0;
  b->cu->cuDriverGetVersion(&v);
  return v;
}

int bench_cuda_sync(bench_cuda *b) {
  CU_CALL(b, b->cu->cuStreamSynchronize(b->stream), "cuStreamSynchronize");
  return 0;
}

/* ------------------------------------------------------------------ clocks */

int bench_cuda_calibrate(bench_cuda *b, int64_t *offset, uint64_t *spread) {
  shared_block *h = b->host;
  volatile uint32_t *flag = &h->flag, *ack = &h->ack;
  *flag = 0;
  *ack = 0;
  CUdeviceptr base = b->host_dev;
  CUdeviceptr dflag = base + offsetof(shared_block, flag);
  CUdeviceptr dack = base + offsetof(shared_block, ack);
  CUdeviceptr dtimes = base + offsetof(shared_block, times);
  unsigned rounds = PINGPONG_ROUNDS;
  void *kp[] = {&dflag, &dack, &dtimes, &rounds};
  int rc = ifd_context_lock(b->ctx);
  if (rc != 0) return tool_fail(rc, "bench: %s", ifd_last_error());
  rc = push(b);
  if (rc == 0) {
    CUresult r = b->cu->cuLaunchKernel(b->pingpong, 1, 1, 1, 1, 1, 1, 0, b->stream, kp, NULL);
    pop(b);
    if (r != CUDA_SUCCESS) rc = cu_fail(b, r, "cuLaunchKernel(bench_pingpong)");
  }
  uint64_t best = UINT64_MAX;
  int64_t best_offset = 0;
  for (unsigned i = 0; i < rounds && rc == 0; i++) {
    uint64_t t0 = tool_now_ns();
    atomic_thread_fence(memory_order_seq_cst);
    *flag = i + 1;
    atomic_thread_fence(memory_order_seq_cst);
    while (*ack != i + 1) {
      if (tool_now_ns() - t0 > 1000000000ull) {
        *flag = 0xffffffffu;
        rc = tool_fail(-ETIMEDOUT, "bench: the clock calibration kernel did not answer");
        break;
      }
    }
    uint64_t t1 = tool_now_ns();
    if (rc == 0 && t1 - t0 < best) {
      best = t1 - t0;
      best_offset = (int64_t)(t0 + (t1 - t0) / 2) - (int64_t)h->times[i];
    }
  }
  ifd_context_unlock(b->ctx);
  int rc2 = bench_cuda_sync(b);
  if (rc == 0) rc = rc2;
  if (rc != 0) return rc;
  *offset = best_offset;
  *spread = best;
  return 0;
}

/* ------------------------------------------------------------------ kernels */

static int launch(bench_cuda *b, CUfunction f, const char *name, unsigned gx, unsigned gy,
                  unsigned bx, unsigned by, void **kp) {
  int rc = ifd_context_lock(b->ctx); /* after the context's own earlier work */
  if (rc != 0) return tool_fail(rc, "bench: %s", ifd_last_error());
  rc = push(b);
  if (rc == 0) {
    CUresult r = b->cu->cuLaunchKernel(f, gx, gy, 1, bx, by, 1, 0, b->stream, kp, NULL);
    pop(b);
    if (r != CUDA_SUCCESS) rc = cu_fail(b, r, name);
  }
  ifd_context_unlock(b->ctx);
  return rc;
}

int bench_cuda_pattern(bench_cuda *b, uint64_t dptr, uint32_t pitch, uint32_t width,
                       uint32_t height, uint32_t format, uint32_t k) {
  uint32_t slot = k % BENCH_STAMP_SLOTS;
  ((volatile uint64_t *)b->host->stamps)[slot] = 0;
  CUdeviceptr base = dptr, stamp = b->host_dev + offsetof(shared_block, stamps) + 8 * slot;
  CUdeviceptr counter = b->counter;
  unsigned w = width, h = height, f = format, frame = k, p = pitch;
  void *kp[] = {&base, &p, &w, &h, &f, &frame, &stamp, &counter};
  return launch(b, b->pattern, "cuLaunchKernel(bench_pattern)", (w + 31) / 32, (h + 7) / 8, 32, 8,
                kp);
}

uint64_t bench_cuda_stamp(const bench_cuda *b, uint32_t k) {
  return ((volatile const uint64_t *)b->host->stamps)[k % BENCH_STAMP_SLOTS];
}

int bench_cuda_mark(bench_cuda *b, uint32_t i) {
  i %= BENCH_STAMP_SLOTS;
  ((volatile uint64_t *)b->host->marks)[i] = 0;
  CUdeviceptr p = b->host_dev + offsetof(shared_block, marks) + 8 * i;
  void *kp[] = {&p};
  return launch(b, b->stamp, "cuLaunchKernel(bench_stamp)", 1, 1, 1, 1, kp);
}

uint64_t bench_cuda_mark_value(const bench_cuda *b, uint32_t i) {
  return ((volatile const uint64_t *)b->host->marks)[i % BENCH_STAMP_SLOTS];
}

int bench_cuda_gather(bench_cuda *b, uint64_t dptr, uint32_t pitch, uint32_t format, uint32_t i,
                      const uint32_t pos[2 * BENCH_SAMPLES]) {
  i %= BENCH_STAMP_SLOTS;
  memcpy(b->host->pos[i], pos, sizeof(b->host->pos[i]));
  memset(b->host->gathered[i], 0xff, sizeof(b->host->gathered[i]));
  atomic_thread_fence(memory_order_seq_cst);
  CUdeviceptr base = dptr;
  CUdeviceptr dpos = b->host_dev + offsetof(shared_block, pos) + sizeof(b->host->pos[0]) * i;
  CUdeviceptr dout =
      b->host_dev + offsetof(shared_block, gathered) + sizeof(b->host->gathered[0]) * i;
  unsigned p = pitch, f = format, count = BENCH_SAMPLES;
  void *kp[] = {&base, &p, &f, &dpos, &count, &dout};
  return launch(b, b->gather, "cuLaunchKernel(bench_gather)", 1, 1, BENCH_SAMPLES, 1, kp);
}

void bench_cuda_gathered(const bench_cuda *b, uint32_t i, uint32_t texel[BENCH_SAMPLES][4]) {
  i %= BENCH_STAMP_SLOTS;
  atomic_thread_fence(memory_order_seq_cst);
  memcpy(texel, (const void *)b->host->gathered[i], sizeof(b->host->gathered[i]));
}

/* ------------------------------------------------------------------ memory */

int bench_cuda_alloc(bench_cuda *b, size_t bytes, uint64_t *dptr) {
  CUdeviceptr p = 0;
  CU_CALL(b, b->cu->cuMemAlloc(&p, bytes), "cuMemAlloc");
  *dptr = p;
  return 0;
}

void bench_cuda_free(bench_cuda *b, uint64_t dptr) {
  if (!dptr || push(b) != 0) return;
  b->cu->cuMemFree(dptr);
  pop(b);
}

int bench_cuda_host_alloc(bench_cuda *b, size_t bytes, void **p) {
  CU_CALL(b, b->cu->cuMemAllocHost(p, bytes), "cuMemAllocHost");
  return 0;
}

void bench_cuda_host_free(bench_cuda *b, void *p) {
  if (!p || push(b) != 0) return;
  b->cu->cuMemFreeHost(p);
  pop(b);
}

int bench_cuda_copy_dtod(bench_cuda *b, uint64_t dst, uint64_t src, size_t bytes) {
  CU_CALL(b, b->cu->cuMemcpyDtoDAsync(dst, src, bytes, b->stream), "cuMemcpyDtoDAsync");
  return 0;
}

int bench_cuda_copy_dtoh(bench_cuda *b, void *dst, uint64_t src, size_t bytes) {
  CU_CALL(b, b->cu->cuMemcpyDtoHAsync(dst, src, bytes, b->stream), "cuMemcpyDtoHAsync");
  return 0;
}

int bench_cuda_event_record(bench_cuda *b, uint32_t i) {
  CU_CALL(b, b->cu->cuEventRecord(b->events[i % BENCH_STAMP_SLOTS], b->stream), "cuEventRecord");
  return 0;
}

int bench_cuda_event_wait(bench_cuda *b, uint32_t i) {
  CU_CALL(b, b->cu->cuEventSynchronize(b->events[i % BENCH_STAMP_SLOTS]), "cuEventSynchronize");
  return 0;
}

/* ------------------------------------------------------------------ GL interop */

int bench_cuda_gl_register(bench_cuda *b, unsigned gl_buffer, void **res) {
  CUgraphicsResource r = NULL;
  CU_CALL(b, b->cu->cuGraphicsGLRegisterBuffer(&r, gl_buffer, CU_GRAPHICS_REGISTER_FLAGS_WRITE_DISCARD),
          "cuGraphicsGLRegisterBuffer");
  *res = r;
  return 0;
}

void bench_cuda_gl_unregister(bench_cuda *b, void *res) {
  if (!res || push(b) != 0) return;
  b->cu->cuGraphicsUnregisterResource((CUgraphicsResource)res);
  pop(b);
}

int bench_cuda_gl_map(bench_cuda *b, void *res, uint64_t *dptr, size_t *bytes) {
  CUgraphicsResource r = res;
  CU_CALL(b, b->cu->cuGraphicsMapResources(1, &r, b->stream), "cuGraphicsMapResources");
  CUdeviceptr p = 0;
  size_t n = 0;
  int rc = push(b);
  if (rc != 0) return rc;
  CUresult e = b->cu->cuGraphicsResourceGetMappedPointer(&p, &n, r);
  if (e != CUDA_SUCCESS) b->cu->cuGraphicsUnmapResources(1, &r, b->stream);
  pop(b);
  if (e != CUDA_SUCCESS) return cu_fail(b, e, "cuGraphicsResourceGetMappedPointer");
  *dptr = p;
  *bytes = n;
  return 0;
}

int bench_cuda_gl_unmap(bench_cuda *b, void *res) {
  CUgraphicsResource r = res;
  CU_CALL(b, b->cu->cuGraphicsUnmapResources(1, &r, b->stream), "cuGraphicsUnmapResources");
  return 0;
}

/* ------------------------------------------------------------------ floors */

int bench_cuda_timer_record(bench_cuda *b, uint32_t i) {
  int rc = ifd_context_lock(b->ctx); /* in order with the library's work on the stream */
  if (rc != 0) return tool_fail(rc, "bench: %s", ifd_last_error());
  rc = push(b);
  if (rc == 0) {
    CUresult r = b->cu->cuEventRecord(b->timers[i % BENCH_TIMERS], b->stream);
    pop(b);
    if (r != CUDA_SUCCESS) rc = cu_fail(b, r, "cuEventRecord(timer)");
  }
  ifd_context_unlock(b->ctx);
  return rc;
}

int bench_cuda_timer_elapsed(bench_cuda *b, uint32_t from, uint32_t to, double *us) {
  float ms = 0;
  CU_CALL(b, b->cu->cuEventSynchronize(b->timers[to % BENCH_TIMERS]), "cuEventSynchronize(timer)");
  CU_CALL(b, b->cu->cuEventElapsedTime(&ms, b->timers[from % BENCH_TIMERS], b->timers[to % BENCH_TIMERS]),
          "cuEventElapsedTime");
  *us = (double)ms * 1e3;
  return 0;
}

int bench_cuda_gate_close(bench_cuda *b) {
  CUdeviceptr word = b->host_dev + offsetof(shared_block, gate);
  int rc = ifd_context_lock(b->ctx);
  if (rc != 0) return tool_fail(rc, "bench: %s", ifd_last_error());
  rc = push(b);
  if (rc == 0) {
    CUresult r = b->cu->cuStreamWaitValue32(b->stream, word, b->gate + 1, CU_STREAM_WAIT_VALUE_GEQ);
    pop(b);
    if (r != CUDA_SUCCESS) rc = cu_fail(b, r, "cuStreamWaitValue32(gate)");
  }
  ifd_context_unlock(b->ctx);
  if (rc == 0) b->gate++;
  return rc;
}

void bench_cuda_gate_open(bench_cuda *b) {
  atomic_thread_fence(memory_order_seq_cst);
  ((volatile shared_block *)b->host)->gate = b->gate;
  atomic_thread_fence(memory_order_seq_cst);
}

int bench_cuda_copy_time(bench_cuda *b, size_t bytes, uint32_t rounds, double *us) {
  if (rounds < 1 || rounds >= BENCH_TIMERS) return tool_fail(-EINVAL, "bench: bad copy rounds");
  uint64_t src = 0, dst = 0;
  int rc = bench_cuda_alloc(b, bytes, &src);
  if (rc == 0) rc = bench_cuda_alloc(b, bytes, &dst);
  for (uint32_t i = 0; i < 4 && rc == 0; i++) rc = bench_cuda_copy_dtod(b, dst, src, bytes); /* warm */
  /* Behind a gate, so that the copies run back to back on the GPU. */
  if (rc == 0) rc = bench_cuda_gate_close(b);
  if (rc == 0) rc = bench_cuda_timer_record(b, 0);
  for (uint32_t i = 1; i <= rounds && rc == 0; i++) {
    rc = bench_cuda_copy_dtod(b, dst, src, bytes);
    if (rc == 0) rc = bench_cuda_timer_record(b, i);
  }
  bench_cuda_gate_open(b);
  for (uint32_t i = 1; i <= rounds && rc == 0; i++) rc = bench_cuda_timer_elapsed(b, i - 1, i, &us[i - 1]);
  int rc2 = bench_cuda_sync(b);
  if (rc == 0) rc = rc2;
  bench_cuda_free(b, dst);
  bench_cuda_free(b, src);
  return rc;
}

void bench_cuda_lane_destroy(bench_cuda_lane *l) {
  if (!l) return;
  ifd_context_destroy(l->ctx); /* waits for the stream; leaves it and the context to us */
  const cuda_kit *cu = l->b->cu;
  if (l->stream && cu->cuCtxPushCurrent(l->context) == CUDA_SUCCESS) {
    cu->cuStreamSynchronize(l->stream);
    cu->cuStreamDestroy(l->stream);
    CUcontext dummy;
    cu->cuCtxPopCurrent(&dummy);
  }
  if (l->own) cu->cuCtxDestroy(l->own);
  free(l);
}

int bench_cuda_lane_create(bench_cuda *b, bool same_context, bench_cuda_lane **out) {
  bench_cuda_lane *l = calloc(1, sizeof(*l));
  if (!l) return tool_fail(-ENOMEM, "bench: out of memory");
  l->b = b;
  const cuda_kit *cu = b->cu;
  CUresult r = CUDA_SUCCESS;
  const char *what = "cuCtxPushCurrent";
  if (same_context) {
    l->context = (CUcontext)b->native.cu_context;
    r = cu->cuCtxPushCurrent(l->context);
  } else {
    what = "cuCtxCreate"; /* the new context is made current */
    r = cu->cuCtxCreate(&l->own, 0, (CUdevice)b->native.cu_device);
    l->context = l->own;
  }
  if (r == CUDA_SUCCESS) {
    what = "cuStreamCreate";
    r = cu->cuStreamCreate(&l->stream, CU_STREAM_NON_BLOCKING);
    CUcontext dummy;
    cu->cuCtxPopCurrent(&dummy);
  }
  int rc = r == CUDA_SUCCESS ? 0 : cu_fail(b, r, what);
  if (rc == 0) {
    rc = ifd_context_create_cuda(l->context, l->stream, &l->ctx);
    if (rc != 0) rc = tool_fail(rc, "bench: ifd_context_create_cuda: %s", ifd_last_error());
  }
  if (rc != 0) {
    bench_cuda_lane_destroy(l);
    return rc;
  }
  *out = l;
  return 0;
}

ifd_context *bench_cuda_lane_context(const bench_cuda_lane *l) { return l->ctx; }

ifd_context *bench_cuda_context(const bench_cuda *b) { return b->ctx; }
