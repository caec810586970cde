/* The tools' libcuda table (cuda_kit.h). */
#include "common/cuda_kit.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "common/tool_error.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static cuda_kit g_table;
static int g_err;
static char g_why[256];

static void load_once(void) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    g_err = -ENOENT;
    snprintf(g_why, sizeof(g_why),
             "cannot load libcuda.so.1 (is the NVIDIA driver installed?): %s", dlerror());
    return;
  }
  const char *missing = NULL;
#define CUDA_KIT_LOAD(name, symbol, params)                                    \
  *(void **)&g_table.name = dlsym(lib, symbol);                                \
  if (!g_table.name && !missing) missing = symbol;
  CUDA_KIT_FNS(CUDA_KIT_LOAD)
#undef CUDA_KIT_LOAD
  if (missing) {
    g_err = -ENODEV;
    snprintf(g_why, sizeof(g_why), "libcuda.so.1 lacks %s (driver too old?)", missing);
    return; /* lib stays open: the library may hold it too, and closing is no help */
  }
  CUresult r = g_table.cuInit(0);
  if (r != CUDA_SUCCESS) {
    g_err = -ENODEV;
    snprintf(g_why, sizeof(g_why), "cuInit failed: %s", cuda_kit_error_name(&g_table, r));
  }
}

int cuda_kit_load(const cuda_kit **out) {
  *out = NULL;
  pthread_once(&g_once, load_once);
  if (g_err != 0) return tool_fail(g_err, "%s", g_why);
  *out = &g_table;
  return 0;
}

const char *cuda_kit_error_name(const cuda_kit *cu, CUresult r) {
  static _Thread_local char buf[32];
  const char *name = NULL;
  if (cu && cu->cuGetErrorName && cu->cuGetErrorName(r, &name) == CUDA_SUCCESS && name)
    return name;
  snprintf(buf, sizeof(buf), "CUresult %d", (int)r);
  return buf;
}

int cuda_kit_fail(const cuda_kit *cu, CUresult r, const char *what) {
  int err = r == CUDA_ERROR_OUT_OF_MEMORY   ? -ENOMEM
            : r == CUDA_ERROR_INVALID_VALUE ? -EINVAL
                                            : -EIO;
  return tool_fail(err, "%s failed: %s (%d)", what, cuda_kit_error_name(cu, r), (int)r);
}
