/* The GPU tests' own kernels (tests/cuda/test_kernels.cu), loaded from the
 * PTX that the build embeds as `ifd_test_kernels_ptx`, and launched through
 * the tools' dlopen()ed CUDA table (tools/common/cuda_kit.h), so no test needs
 * cuda.h, libcudart or the library's private headers.
 *
 * Every function needs the CUDA context of the stream current on the calling
 * thread (cuCtxPushCurrent with ifd_context_native_handles().cu_context, and
 * cuCtxPopCurrent after), and the module belongs to the context that was
 * current at tk_load. They return a CUresult: 0 (CUDA_SUCCESS) or the
 * driver's error, after printing which call failed to stderr. Launches are
 * asynchronous: a fault in a kernel shows up in later calls on the stream. */
#ifndef IFD_TEST_CUDA_KERNELS_H
#define IFD_TEST_CUDA_KERNELS_H

#include "common/cuda_kit.h"
#include "interop_fd/interop_fd.h"

/* The .ptx file as a NUL-terminated string; defined by a file the build generates. */
extern const char ifd_test_kernels_ptx[];

typedef struct {
  const cuda_kit *cu;
  CUmodule module;
  CUfunction fill_pattern, fill_u32, trap;
} tk_kernels;

int tk_load(const cuda_kit *cu, tk_kernels *out);
void tk_unload(tk_kernels *k); /* errors ignored: the context may be poisoned */

/* Writes test_fill_pattern()'s bytes for (format, seed) into the w x h image
 * at `base` with row pitch `pitch`; bytes beyond w * bpp of a row are left alone. */
int tk_fill_pattern(tk_kernels *k, CUstream stream, CUdeviceptr base, unsigned pitch, unsigned w,
                    unsigned h, MAX_Format format, unsigned seed);

/* p[0 .. n_words) = value. */
int tk_fill_u32(tk_kernels *k, CUstream stream, CUdeviceptr p, unsigned n_words, unsigned value);

/* A kernel that executes `trap`: poisons the context for the rest of the process. */
int tk_trap(tk_kernels *k, CUstream stream);

/* "CUDA_ERROR_X" for r, or "CUresult N" where the driver has no name for it. */
const char *tk_error_name(const cuda_kit *cu, CUresult r);

#endif
