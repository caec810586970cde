/* The tools' and tests' own table of the CUDA driver API: libcuda.so.1 is
 * opened with dlopen at run time, so one binary runs (and says why CUDA is
 * missing) on machines without an NVIDIA driver, and nothing needs cuda.h or
 * the library's private headers.
 *
 * Only what the tools and tests call is declared. Types and values are those
 * of cuda.h (CUDA 12/13 driver ABI; the versioned symbols, e.g.
 * cuMemAlloc_v2, are the ones cuda.h maps the plain names to). The library
 * keeps a table of its own for its backend; both end up in the same loaded
 * libcuda, so contexts and pointers pass freely between them. */
#ifndef IFD_TOOLS_CUDA_KIT_H
#define IFD_TOOLS_CUDA_KIT_H

#include <stddef.h>
#include <stdint.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUgraphicsResource_st *CUgraphicsResource;

/* CUresult values the callers tell apart. */
#define CUDA_SUCCESS 0
#define CUDA_ERROR_INVALID_VALUE 1
#define CUDA_ERROR_OUT_OF_MEMORY 2

/* cuDeviceGetAttribute */
#define CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR 75
#define CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR 76
#define CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED 102
#define CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED 103
#define CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED 114
#define CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED 124

/* Flags */
#define CU_STREAM_NON_BLOCKING 0x1
#define CU_EVENT_DEFAULT 0x0
#define CU_EVENT_DISABLE_TIMING 0x2
#define CU_STREAM_WAIT_VALUE_GEQ 0x0
#define CU_GRAPHICS_REGISTER_FLAGS_WRITE_DISCARD 0x2

/* X(member, exported symbol, parameter list); every entry returns CUresult. */
#define CUDA_KIT_FNS(X)                                                                        \
  X(cuInit, "cuInit", (unsigned int))                                                          \
  X(cuDriverGetVersion, "cuDriverGetVersion", (int *))                                         \
  X(cuGetErrorName, "cuGetErrorName", (CUresult, const char **))                               \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice *, int))                                             \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *))                                             \
  X(cuDeviceGetName, "cuDeviceGetName", (char *, int, CUdevice))                               \
  X(cuDeviceGetUuid, "cuDeviceGetUuid_v2", (uint8_t *, CUdevice))                              \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", (int *, int, CUdevice))                      \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *, CUdevice))             \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice))                     \
  X(cuCtxPushCurrent, "cuCtxPushCurrent_v2", (CUcontext))                                      \
  X(cuCtxPopCurrent, "cuCtxPopCurrent_v2", (CUcontext *))                                      \
  X(cuCtxSynchronize, "cuCtxSynchronize", (void))                                              \
  X(cuCtxCreate, "cuCtxCreate_v2", (CUcontext *, unsigned int, CUdevice))                      \
  X(cuCtxDestroy, "cuCtxDestroy_v2", (CUcontext))                                              \
  X(cuStreamCreate, "cuStreamCreate", (CUstream *, unsigned int))                              \
  X(cuStreamDestroy, "cuStreamDestroy_v2", (CUstream))                                         \
  X(cuStreamSynchronize, "cuStreamSynchronize", (CUstream))                                    \
  X(cuStreamQuery, "cuStreamQuery", (CUstream))                                                \
  X(cuStreamWaitValue32, "cuStreamWaitValue32_v2",                                             \
    (CUstream, CUdeviceptr, uint32_t, unsigned int))                                           \
  X(cuEventCreate, "cuEventCreate", (CUevent *, unsigned int))                                 \
  X(cuEventDestroy, "cuEventDestroy_v2", (CUevent))                                            \
  X(cuEventRecord, "cuEventRecord", (CUevent, CUstream))                                       \
  X(cuEventSynchronize, "cuEventSynchronize", (CUevent))                                       \
  X(cuEventElapsedTime, "cuEventElapsedTime", (float *, CUevent, CUevent))                     \
  X(cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr *, size_t))                                      \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr))                                                  \
  X(cuMemAllocHost, "cuMemAllocHost_v2", (void **, size_t))                                    \
  X(cuMemFreeHost, "cuMemFreeHost", (void *))                                                  \
  X(cuMemHostGetDevicePointer, "cuMemHostGetDevicePointer_v2",                                 \
    (CUdeviceptr *, void *, unsigned int))                                                     \
  X(cuMemsetD8Async, "cuMemsetD8Async", (CUdeviceptr, unsigned char, size_t, CUstream))        \
  X(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", (CUdeviceptr, CUdeviceptr, size_t, CUstream))   \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", (void *, CUdeviceptr, size_t, CUstream))        \
  X(cuModuleLoadData, "cuModuleLoadData", (CUmodule *, const void *))                          \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule))                                              \
  X(cuModuleGetFunction, "cuModuleGetFunction", (CUfunction *, CUmodule, const char *))        \
  X(cuLaunchKernel, "cuLaunchKernel",                                                          \
    (CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,         \
     unsigned int, unsigned int, CUstream, void **, void **))                                  \
  X(cuGraphicsGLRegisterBuffer, "cuGraphicsGLRegisterBuffer",                                  \
    (CUgraphicsResource *, unsigned int, unsigned int))                                        \
  X(cuGraphicsUnregisterResource, "cuGraphicsUnregisterResource", (CUgraphicsResource))        \
  X(cuGraphicsMapResources, "cuGraphicsMapResources",                                          \
    (unsigned int, CUgraphicsResource *, CUstream))                                            \
  X(cuGraphicsUnmapResources, "cuGraphicsUnmapResources",                                      \
    (unsigned int, CUgraphicsResource *, CUstream))                                            \
  X(cuGraphicsResourceGetMappedPointer, "cuGraphicsResourceGetMappedPointer_v2",               \
    (CUdeviceptr *, size_t *, CUgraphicsResource))

typedef struct cuda_kit {
#define CUDA_KIT_DECLARE(name, symbol, params) CUresult(*name) params;
  CUDA_KIT_FNS(CUDA_KIT_DECLARE)
#undef CUDA_KIT_DECLARE
} cuda_kit;

/* Loads libcuda.so.1 once per process, finds every entry point above and
 * calls cuInit(0); later calls return the same table. The library stays
 * loaded for the life of the process.
 * Returns 0 and *out, or with *out = NULL and the message of
 * tool_last_error(): -ENOENT no libcuda.so.1 (no NVIDIA driver installed);
 * -ENODEV it lacks an entry point, or cuInit fails (e.g. no device).
 * Blocks: the first time, while the driver initialises.
 * Threads: any; the first call is made once (pthread_once). */
int cuda_kit_load(const cuda_kit **out);

/* Sets the message "<what> failed: CUDA_ERROR_X (N)" and returns -ENOMEM for
 * CUDA_ERROR_OUT_OF_MEMORY, -EINVAL for CUDA_ERROR_INVALID_VALUE, else -EIO.
 * cu may be NULL (no name then). */
int cuda_kit_fail(const cuda_kit *cu, CUresult r, const char *what);

/* "CUDA_ERROR_X", or "CUresult N" where the driver has no name for it (or cu
 * is NULL). The text lives until the next call on this thread. */
const char *cuda_kit_error_name(const cuda_kit *cu, CUresult r);

#endif
