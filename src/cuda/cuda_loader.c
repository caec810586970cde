/* Loads libcuda.so.1 at run time: the library has no link-time dependency on
 * CUDA and runs where only the NVIDIA driver (or no driver) is installed. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "../core/internal.h"
#include "cuda_api.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static ifd_cuda_api api;
static const ifd_cuda_api *loaded;
static char why[512];

static void load(void) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(why, sizeof(why), "cannot load libcuda.so.1 (is the NVIDIA driver installed?): %s",
             dlerror());
    return;
  }
  const char *missing = NULL;
#define IFD_CUDA_LOAD(name, symbol, params)                                  \
  *(void **)&api.name = dlsym(lib, symbol);                                  \
  if (!api.name && !missing) missing = symbol;
  IFD_CUDA_FNS(IFD_CUDA_LOAD)
#undef IFD_CUDA_LOAD
  if (missing) {
    snprintf(why, sizeof(why), "libcuda.so.1 lacks %s: the driver is too old", missing);
    dlclose(lib);
    return;
  }
  CUresult r = api.cuInit(0);
  if (r != CUDA_SUCCESS) {
    const char *name = "unknown";
    api.cuGetErrorName(r, &name);
    snprintf(why, sizeof(why), "cuInit failed: %s (%d)", name, r);
    dlclose(lib);
    return;
  }
  loaded = &api; /* kept loaded for the life of the process */
}

const ifd_cuda_api *ifd_cuda_api_get(int *err) {
  pthread_once(&once, load);
  if (!loaded) {
    *err = ifd_fail(-ENODEV, "CUDA backend: %s", why);
    return NULL;
  }
  *err = 0;
  return loaded;
}

int ifd_cuda_fail(const ifd_cuda_api *cu, CUresult r, const char *what) {
  const char *name = "CUDA_ERROR_UNKNOWN", *text = "";
  cu->cuGetErrorName(r, &name);
  cu->cuGetErrorString(r, &text);
  int err;
  switch (r) {
    case CUDA_ERROR_INVALID_VALUE:
    case CUDA_ERROR_INVALID_HANDLE:
    case CUDA_ERROR_INVALID_CONTEXT: err = -EINVAL; break;
    case CUDA_ERROR_OUT_OF_MEMORY: err = -ENOMEM; break;
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_INVALID_DEVICE: err = -ENODEV; break;
    case CUDA_ERROR_NOT_SUPPORTED: err = -EOPNOTSUPP; break;
    default: err = -EIO; break;
  }
  return ifd_fail(err, "%s: %s (%d: %s)", what, name, r, text);
}
