/* The part of the CUDA driver API that interop_fd uses, declared here so that
 * nothing needs cuda.h: libcuda.so.1 is dlopen()ed at run time (a user's
 * machine may have no CUDA toolkit: docs/platform-facts.md). Types and values
 * are copied from cuda.h (CUDA 12/13 ABI). No test compares them with the
 * header: on 2026-11-30 every value, struct size and field offset here was
 * compared by hand with CUDA 13.0's cuda.h and matched; check any change the
 * same way. */
#ifndef IFD_CUDA_API_H
#define IFD_CUDA_API_H

#include <stddef.h>
#include <stdint.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUextSemaphore_st *CUexternalSemaphore;
typedef unsigned long long CUdeviceptr;
typedef unsigned long long CUmemGenericAllocationHandle;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_READY = 600,
  CUDA_ERROR_NOT_SUPPORTED = 801,
};

enum {
  CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED = 102,
  CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED = 103,
  CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED = 114,
  CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED = 124,
};

#define CU_STREAM_NON_BLOCKING 0x1
#define CU_EVENT_BLOCKING_SYNC 0x1
#define CU_EVENT_DISABLE_TIMING 0x2
#define CU_MEM_ALLOCATION_TYPE_PINNED 0x1
#define CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR 0x1
#define CU_MEM_LOCATION_TYPE_DEVICE 0x1
#define CU_MEM_ACCESS_FLAGS_PROT_READWRITE 0x3
#define CU_MEM_ALLOC_GRANULARITY_MINIMUM 0x0
#define CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD 0x1
#define CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_SEMAPHORE_FD 9
#define CU_MEMORYTYPE_HOST 0x1
#define CU_MEMORYTYPE_DEVICE 0x2
#define CU_STREAM_WAIT_VALUE_GEQ 0x0

typedef struct {
  int type;
  int id;
} CUmemLocation;

typedef struct {
  int type;
  int requestedHandleTypes;
  CUmemLocation location;
  void *win32HandleMetaData;
  struct {
    unsigned char compressionType;
    unsigned char gpuDirectRDMACapable;
    unsigned short usage;
    unsigned char reserved[4];
  } allocFlags;
} CUmemAllocationProp;

typedef struct {
  CUmemLocation location;
  int flags;
} CUmemAccessDesc;

typedef struct {
  int type;
  union {
    int fd;
    struct {
      void *handle;
      const void *name;
    } win32;
    const void *nvSciSyncObj;
  } handle;
  unsigned int flags;
  unsigned int reserved[16];
} CUDA_EXTERNAL_SEMAPHORE_HANDLE_DESC;

/* CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS and _WAIT_PARAMS share one layout: a
 * 72-byte params block whose first field is the fence value, then flags and
 * 16 reserved words. Only the fence value is used here; the rest (nvSciSync,
 * keyedMutex, reserved) stays zero. */
typedef struct {
  struct {
    struct {
      unsigned long long value;
    } fence;
    unsigned long long rest[8]; /* nvSciSync, keyedMutex, reserved */
  } params;
  unsigned int flags;
  unsigned int reserved[16];
} ifd_cu_semaphore_params;
_Static_assert(sizeof(ifd_cu_semaphore_params) == 144, "the driver API's layout");
typedef ifd_cu_semaphore_params CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS;
typedef ifd_cu_semaphore_params CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS;

typedef struct {
  size_t srcXInBytes, srcY;
  int srcMemoryType;
  const void *srcHost;
  CUdeviceptr srcDevice;
  void *srcArray;
  size_t srcPitch;
  size_t dstXInBytes, dstY;
  int dstMemoryType;
  void *dstHost;
  CUdeviceptr dstDevice;
  void *dstArray;
  size_t dstPitch;
  size_t WidthInBytes, Height;
} CUDA_MEMCPY2D;

/* X(member, exported symbol, parameter list) */
#define IFD_CUDA_FNS(X)                                                                        \
  X(cuInit, "cuInit", (unsigned int))                                                          \
  X(cuDriverGetVersion, "cuDriverGetVersion", (int *))                                         \
  X(cuGetErrorName, "cuGetErrorName", (CUresult, const char **))                               \
  X(cuGetErrorString, "cuGetErrorString", (CUresult, const char **))                           \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice *, int))                                             \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *))                                             \
  X(cuDeviceGetName, "cuDeviceGetName", (char *, int, CUdevice))                               \
  X(cuDeviceGetUuid, "cuDeviceGetUuid_v2", (uint8_t *, CUdevice))                              \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", (int *, int, CUdevice))                      \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *, CUdevice))             \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice))                     \
  X(cuCtxPushCurrent, "cuCtxPushCurrent_v2", (CUcontext))                                      \
  X(cuCtxPopCurrent, "cuCtxPopCurrent_v2", (CUcontext *))                                      \
  X(cuCtxGetDevice, "cuCtxGetDevice", (CUdevice *))                                            \
  X(cuCtxSynchronize, "cuCtxSynchronize", (void))                                              \
  X(cuStreamCreate, "cuStreamCreate", (CUstream *, unsigned int))                              \
  X(cuStreamDestroy, "cuStreamDestroy_v2", (CUstream))                                         \
  X(cuStreamSynchronize, "cuStreamSynchronize", (CUstream))                                    \
  X(cuStreamQuery, "cuStreamQuery", (CUstream))                                                \
  X(cuStreamWaitValue32, "cuStreamWaitValue32_v2", (CUstream, CUdeviceptr, uint32_t, unsigned int)) \
  X(cuEventCreate, "cuEventCreate", (CUevent *, unsigned int))                                 \
  X(cuEventDestroy, "cuEventDestroy_v2", (CUevent))                                            \
  X(cuEventRecord, "cuEventRecord", (CUevent, CUstream))                                       \
  X(cuEventQuery, "cuEventQuery", (CUevent))                                                   \
  X(cuEventSynchronize, "cuEventSynchronize", (CUevent))                                       \
  X(cuMemGetAllocationGranularity, "cuMemGetAllocationGranularity",                            \
    (size_t *, const CUmemAllocationProp *, int))                                              \
  X(cuMemCreate, "cuMemCreate",                                                                \
    (CUmemGenericAllocationHandle *, size_t, const CUmemAllocationProp *, unsigned long long)) \
  X(cuMemRelease, "cuMemRelease", (CUmemGenericAllocationHandle))                              \
  X(cuMemAddressReserve, "cuMemAddressReserve",                                                \
    (CUdeviceptr *, size_t, size_t, CUdeviceptr, unsigned long long))                          \
  X(cuMemAddressFree, "cuMemAddressFree", (CUdeviceptr, size_t))                               \
  X(cuMemMap, "cuMemMap",                                                                      \
    (CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle, unsigned long long))           \
  X(cuMemUnmap, "cuMemUnmap", (CUdeviceptr, size_t))                                           \
  X(cuMemSetAccess, "cuMemSetAccess", (CUdeviceptr, size_t, const CUmemAccessDesc *, size_t))  \
  X(cuMemExportToShareableHandle, "cuMemExportToShareableHandle",                              \
    (void *, CUmemGenericAllocationHandle, int, unsigned long long))                           \
  X(cuMemGetHandleForAddressRange, "cuMemGetHandleForAddressRange",                            \
    (void *, CUdeviceptr, size_t, int, unsigned long long))                                    \
  X(cuMemcpy2DAsync, "cuMemcpy2DAsync_v2", (const CUDA_MEMCPY2D *, CUstream))                  \
  X(cuMemsetD8Async, "cuMemsetD8Async", (CUdeviceptr, unsigned char, size_t, CUstream))        \
  X(cuMemAllocHost, "cuMemAllocHost_v2", (void **, size_t))                                    \
  X(cuMemFreeHost, "cuMemFreeHost", (void *))                                                  \
  X(cuMemHostGetDevicePointer, "cuMemHostGetDevicePointer_v2", (CUdeviceptr *, void *, unsigned int)) \
  X(cuImportExternalSemaphore, "cuImportExternalSemaphore",                                    \
    (CUexternalSemaphore *, const CUDA_EXTERNAL_SEMAPHORE_HANDLE_DESC *))                      \
  X(cuDestroyExternalSemaphore, "cuDestroyExternalSemaphore", (CUexternalSemaphore))           \
  X(cuSignalExternalSemaphoresAsync, "cuSignalExternalSemaphoresAsync",                        \
    (const CUexternalSemaphore *, const CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS *, unsigned int,  \
     CUstream))                                                                                \
  X(cuWaitExternalSemaphoresAsync, "cuWaitExternalSemaphoresAsync",                            \
    (const CUexternalSemaphore *, const CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS *, unsigned int,    \
     CUstream))                                                                                \
  X(cuModuleLoadData, "cuModuleLoadData", (CUmodule *, const void *))                          \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule))                                              \
  X(cuModuleGetFunction, "cuModuleGetFunction", (CUfunction *, CUmodule, const char *))        \
  X(cuLaunchKernel, "cuLaunchKernel",                                                          \
    (CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,         \
     unsigned int, unsigned int, CUstream, void **, void **))

typedef struct {
#define IFD_CUDA_DECLARE(name, symbol, params) CUresult(*name) params;
  IFD_CUDA_FNS(IFD_CUDA_DECLARE)
#undef IFD_CUDA_DECLARE
} ifd_cuda_api;

/* Loads libcuda.so.1 once per process and calls cuInit(0). Returns NULL with
 * the message set (-ENODEV in *err) where the driver is missing or fails. The
 * library stays loaded for the life of the process. */
const ifd_cuda_api *ifd_cuda_api_get(int *err);

/* Maps a CUresult to a negative errno and sets "what: CUDA_ERROR_X (text)". */
int ifd_cuda_fail(const ifd_cuda_api *cu, CUresult r, const char *what);

#endif
