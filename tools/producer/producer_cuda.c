/* The demo's producer on a CUDA context (producer.h): the embedded PTX of
 * tools/producer/cuda/cppn.cu, launched on the context's stream inside its
 * CUcontext, through the tools' libcuda table (common/cuda_kit.h). */
#include <errno.h>

#include "common/cuda_kit.h"
#include "common/tool_error.h"
#include "producer/producer_backend.h"

/* Generated at build time from tools/producer/cuda/cppn.ptx
 * (cmake/embed_file.cmake): the bytes plus a NUL. */
extern const char ifd_tool_cppn_ptx[];

typedef struct {
  producer base;
  const cuda_kit *cu;
  CUmodule module;
  CUfunction kernel;
} cuda_producer;

static int cu_fail(const cuda_producer *p, CUresult r, const char *what) {
  int err = cuda_kit_fail(p->cu, r, what);
  return tool_fail(err, "producer: %s", tool_last_error());
}

static int cuda_push(cuda_producer *p) {
  CUresult r = p->cu->cuCtxPushCurrent((CUcontext)p->base.native.cu_context);
  return r == CUDA_SUCCESS ? 0 : cu_fail(p, r, "cuCtxPushCurrent");
}

static void cuda_pop(cuda_producer *p) {
  CUcontext dummy;
  p->cu->cuCtxPopCurrent(&dummy);
}

static int cuda_create(producer *base) {
  cuda_producer *p = (cuda_producer *)base;
  if (cuda_kit_load(&p->cu) != 0) return tool_fail(-ENODEV, "producer: %s", tool_last_error());
  int rc = cuda_push(p);
  if (rc != 0) return rc;
  /* The driver JIT-compiles the compute_75 PTX for the device here. */
  CUresult r = p->cu->cuModuleLoadData(&p->module, ifd_tool_cppn_ptx);
  if (r != CUDA_SUCCESS) {
    rc = cu_fail(p, r, "cuModuleLoadData(cppn.ptx)");
  } else {
    r = p->cu->cuModuleGetFunction(&p->kernel, p->module, "cppn_frame");
    if (r != CUDA_SUCCESS) rc = cu_fail(p, r, "cuModuleGetFunction(cppn_frame)");
  }
  cuda_pop(p);
  return rc;
}

static int cuda_finish(producer *base) {
  cuda_producer *p = (cuda_producer *)base;
  int rc = cuda_push(p);
  if (rc != 0) return rc;
  CUresult r = p->cu->cuStreamSynchronize((CUstream)p->base.native.cu_stream);
  cuda_pop(p);
  return r == CUDA_SUCCESS ? 0 : cu_fail(p, r, "cuStreamSynchronize");
}

static void cuda_destroy(producer *base) {
  cuda_producer *p = (cuda_producer *)base;
  if (!p->cu || !p->module) return;
  cuda_finish(base);
  if (cuda_push(p) == 0) {
    p->cu->cuModuleUnload(p->module);
    cuda_pop(p);
  }
  p->module = NULL;
}

static int cuda_draw(producer *base, const ifd_image_native *img, const cppn_frame_args *args,
                     uint32_t bpp) {
  cuda_producer *p = (cuda_producer *)base;
  (void)bpp; /* the kernel reads the format from args */
  cppn_frame_args a = *args;
  unsigned long long frame = img->cu_device_ptr;
  /* kernelParams: one pointer per parameter, to a value of its exact type;
   * the weights (2768 bytes) go by value, well within the 4 KiB limit. */
  void *kp[] = {&p->base.params, &a, &frame};
  int rc = ifd_context_lock(p->base.ctx); /* after the context's earlier work */
  if (rc != 0) return tool_fail(rc, "producer: %s", ifd_last_error());
  rc = cuda_push(p);
  if (rc == 0) {
    const unsigned n = PRODUCER_LOCAL_SIZE;
    CUresult r = p->cu->cuLaunchKernel(p->kernel, (a.width + n - 1) / n, (a.height + n - 1) / n, 1,
                                       n, n, 1, 0, (CUstream)p->base.native.cu_stream, kp, NULL);
    if (r != CUDA_SUCCESS) rc = cu_fail(p, r, "cuLaunchKernel(cppn_frame)");
    cuda_pop(p);
  }
  ifd_context_unlock(p->base.ctx);
  return rc;
}

const producer_ops producer_cuda_ops = {sizeof(cuda_producer), cuda_create, cuda_destroy,
                                        cuda_draw, cuda_finish};
