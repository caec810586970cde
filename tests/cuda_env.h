/* Shared set-up of the CUDA backend's GPU tests (test_cuda_*.c): the
 * library's own CUDA context with the test kernels loaded, a Vulkan context or
 * device on the same GPU (matched by UUID), and cuda_test_main, which runs one
 * behaviour with the skip, the watchdog, a warm-up and the fd check around it.
 * Images are compared byte by byte with test_compare_bytes (harness/pattern.h).
 *
 * CUDA is driven directly (streams, host memory, traps) through the tools'
 * own libcuda table (tools/common/cuda_kit.h), not the library's. */
#ifndef IFD_TEST_CUDA_ENV_H
#define IFD_TEST_CUDA_ENV_H

#include <stdbool.h>

#include "common/cuda_kit.h"
#include "cuda_kernels.h"
#include "test_util.h"
#include "vk_consumer.h"

#define MS TEST_MS /* nanoseconds */
#define SEC TEST_SEC

extern const cuda_kit *g_cu; /* the tools' CUDA table, once a context exists */

/* A CUDA call that must succeed: CU_CHECK counts a failure and goes on,
 * CU_REQUIRE stops the test; both name the call and the CUDA error. */
#define CU_CALL_(call, kind, on_fail)                                                   \
  do {                                                                                  \
    CUresult r_ = (call);                                                               \
    if (r_ != CUDA_SUCCESS) {                                                           \
      fprintf(stderr, "%s:%d: " kind " failed: %s: %s\n", __FILE__, __LINE__, #call,    \
              tk_error_name(g_cu, r_));                                                 \
      on_fail;                                                                          \
    }                                                                                   \
  } while (0)
#define CU_REQUIRE(call) CU_CALL_(call, "REQUIRE", exit(1))
#define CU_CHECK(call) CU_CALL_(call, "CHECK", test_failures++)

/* The library's own CUDA context, made current on this thread, with the test
 * kernels loaded into it. */
typedef struct {
  ifd_context *ctx;
  ifd_context_native nat;
  CUstream stream;
  tk_kernels k;
} cuda_env;

/* A CUDA ifd context, or a skip where there is no CUDA device. */
ifd_context *create_cuda_or_skip(void);
void env_open(cuda_env *e);
void env_close(cuda_env *e);

/* A Vulkan ifd context on the same GPU as the CUDA one (matched by UUID), or a
 * skip where there is none. */
ifd_context *create_vulkan_ctx_on(const ifd_context_native *cuda_nat);

/* The consumer side: a second VkDevice on the CUDA device, as another process
 * would open it. */
void open_consumer_on(vkc *c, const ifd_context_native *cuda_nat);

/* Runs one behaviour: line-buffered output, a watchdog under CTest's timeout,
 * a warm-up cycle (which skips where there is no CUDA device), then `run`,
 * then the fd check: no fd opened and left open, none closed that the test
 * did not own. With `tolerate_driver_nodes`, new NVIDIA device nodes (kept by
 * the driver around a poisoned context) are listed but not counted. */
int cuda_test_main(const char *name, void (*run)(void), bool tolerate_driver_nodes);

#endif
