#include "cuda_kernels.h"

#include <stdio.h>
#include <string.h>

const char *tk_error_name(const cuda_kit *cu, CUresult r) { return cuda_kit_error_name(cu, r); }

static CUresult report(const cuda_kit *cu, CUresult r, const char *what) {
  if (r != CUDA_SUCCESS) fprintf(stderr, "tk: %s failed: %s\n", what, tk_error_name(cu, r));
  return r;
}

int tk_load(const cuda_kit *cu, tk_kernels *out) {
  memset(out, 0, sizeof(*out));
  out->cu = cu;
  /* The driver JIT-compiles the compute_75 PTX for the device here. */
  CUresult r = report(cu, cu->cuModuleLoadData(&out->module, ifd_test_kernels_ptx),
                      "cuModuleLoadData(test kernels PTX)");
  if (r != CUDA_SUCCESS) return r;
  static const char *const names[] = {"fill_pattern", "fill_u32", "trap_kernel"};
  CUfunction *fns[] = {&out->fill_pattern, &out->fill_u32, &out->trap};
  for (int i = 0; i < 3; i++) {
    r = report(cu, cu->cuModuleGetFunction(fns[i], out->module, names[i]), names[i]);
    if (r != CUDA_SUCCESS) {
      tk_unload(out);
      return r;
    }
  }
  return CUDA_SUCCESS;
}

void tk_unload(tk_kernels *k) {
  if (k->cu && k->module) k->cu->cuModuleUnload(k->module);
  k->module = NULL;
  k->fill_pattern = k->fill_u32 = k->trap = NULL;
}

int tk_fill_pattern(tk_kernels *k, CUstream stream, CUdeviceptr base, unsigned pitch, unsigned w,
                    unsigned h, MAX_Format format, unsigned seed) {
  unsigned fmt = (unsigned)format;
  /* kernelParams: one pointer per kernel parameter, to a value of its exact type */
  void *params[] = {&base, &pitch, &w, &h, &fmt, &seed};
  return report(k->cu,
                k->cu->cuLaunchKernel(k->fill_pattern, (w + 15) / 16, (h + 15) / 16, 1, 16, 16, 1,
                                      0, stream, params, NULL),
                "cuLaunchKernel(fill_pattern)");
}

int tk_fill_u32(tk_kernels *k, CUstream stream, CUdeviceptr p, unsigned n_words, unsigned value) {
  unsigned blocks = (n_words + 255) / 256;
  if (blocks > 4096) blocks = 4096; /* the kernel strides over the rest */
  if (blocks == 0) blocks = 1;
  void *params[] = {&p, &n_words, &value};
  return report(k->cu,
                k->cu->cuLaunchKernel(k->fill_u32, blocks, 1, 1, 256, 1, 1, 0, stream, params,
                                      NULL),
                "cuLaunchKernel(fill_u32)");
}

int tk_trap(tk_kernels *k, CUstream stream) {
  return report(k->cu,
                k->cu->cuLaunchKernel(k->trap, 1, 1, 1, 1, 1, 1, 0, stream, NULL, NULL),
                "cuLaunchKernel(trap_kernel)");
}
