/* A test that runs on one context of the backend IFD_TEST_BACKEND names. */
#ifndef IFD_TEST_CONTEXT_H
#define IFD_TEST_CONTEXT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "harness/check.h"
#include "harness/clock.h"
#include "harness/fds.h"
#include "interop_fd/interop_fd.h"

/* A context of `backend` (device 0), or a skip naming the backend where it
 * has no device (-ENODEV); any other failure stops the test. */
static inline ifd_context *test_context_or_skip(ifd_backend backend) {
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(backend, 0, &ctx);
  if (rc == -ENODEV)
    SKIP("no %s device: %s",
         backend == IFD_BACKEND_CUDA     ? "CUDA"
         : backend == IFD_BACKEND_VULKAN ? "Vulkan"
                                         : "CUDA or Vulkan",
         ifd_last_error());
  REQUIRE(rc == 0);
  return ctx;
}

/* A context of the backend IFD_TEST_BACKEND names, as a producer: a skip
 * where there is no device (-ENODEV) or the device cannot export
 * (-EOPNOTSUPP); any other failure stops the test. */
static inline ifd_context *test_producer_context_or_skip(void) {
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(test_backend_from_env(), 0, &ctx);
  if (rc == -ENODEV || rc == -EOPNOTSUPP) SKIP("no producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  return ctx;
}

/* Creates a first context and destroys it (drivers keep fds open from their
 * first initialisation to process exit, CUDA's cuInit), counts the open fds,
 * creates the context `run` gets and runs it, destroys the context unless
 * `run_destroys_context`, and checks that the count is back. Skips where the
 * backend has no device. Context creation and destruction run under the
 * watchdog (test_watch), so a hang there names the step. */
static inline int test_context_main(const char *name, void (*run)(ifd_context *ctx),
                                    bool run_destroys_context) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* in order with stderr, and kept if the watchdog fires */
  ifd_backend backend = test_backend_from_env();
  test_watch("creating and destroying a first context", 60);
  ifd_context *ctx = test_context_or_skip(backend);
  ifd_context_destroy(ctx);
  int fds = test_count_fds();
  REQUIRE(ifd_context_create(backend, 0, &ctx) == 0);
  test_unwatch();
  run(ctx);
  if (!run_destroys_context) {
    test_watch("ifd_context_destroy", 20);
    ifd_context_destroy(ctx);
    test_unwatch();
  }
  int now = test_count_fds();
  if (now != fds) fprintf(stderr, "%d fds open, %d at the start\n", now, fds);
  CHECK(now == fds);
  return test_finish(name);
}

#endif
