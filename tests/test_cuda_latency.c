/* The CUDA backend on a real NVIDIA GPU, latency:
 * host wake-up latency of ifd_timeline_host_wait for a
 * CUDA-signalled value, against cuStreamSynchronize.
 * Skips (exit 77) with the reason where there is no CUDA device, and checks
 * that it leaves no fd behind (cuda_test_main). Kernels:
 * tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cuda_env.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void percentiles(double *v, int n, double *p50, double *p99) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  *p50 = v[n / 2];
  int i99 = n * 99 / 100;
  *p99 = v[i99 < n ? i99 : n - 1];
}

static void mode_latency(void) {
  enum { ITER = 2000, WARM = 20 };
  cuda_env e;
  env_open(&e);
  const cuda_kit *cu = g_cu;
  /* A pinned host word the stream waits on: the host opens the gate at t0. */
  uint32_t *word = NULL;
  CUdeviceptr word_dev = 0;
  CU_REQUIRE(cu->cuMemAllocHost((void **)&word, sizeof(*word)));
  __atomic_store_n(word, 0u, __ATOMIC_SEQ_CST);
  CU_REQUIRE(cu->cuMemHostGetDevicePointer(&word_dev, word, 0));
  ifd_timeline *tl = NULL;
  REQUIRE(ifd_timeline_create(e.ctx, 0, &tl) == 0);

  static double wait_us[ITER], sync_us[ITER];
  int n_wait = 0, n_sync = 0, timeouts = 0, early = 0, errors = 0;
  uint32_t gate = 0;
  for (int i = 0; i < WARM + ITER; i++) {
    gate++;
    CUresult r = cu->cuStreamWaitValue32(e.stream, word_dev, gate, CU_STREAM_WAIT_VALUE_GEQ);
    int rc = ifd_timeline_signal(tl, gate);
    if (r != CUDA_SUCCESS || rc != 0) {
      fprintf(stderr, "iteration %d: cuStreamWaitValue32 %s, ifd_timeline_signal %d (%s)\n", i,
              tk_error_name(cu, r), rc, ifd_last_error());
      __atomic_store_n(word, gate, __ATOMIC_SEQ_CST);
      errors++;
      break;
    }
    test_sleep_ns(200000); /* let the stream park on the gate */
    uint64_t v = 0;
    if (ifd_timeline_value(tl, &v) == 0 && v >= gate) early++; /* the gate did not hold */
    uint64_t t0 = test_now_ns();
    __atomic_store_n(word, gate, __ATOMIC_SEQ_CST);
    rc = ifd_timeline_host_wait(tl, gate, SEC);
    uint64_t t1 = test_now_ns();
    if (rc == -ETIMEDOUT) timeouts++;
    else if (rc != 0) errors++;
    if (timeouts + errors > 5) { /* 2,000 one-second timeouts would outlast CTest */
      fprintf(stderr, "iteration %d: host_wait keeps failing: %d (%s)\n", i, rc,
              ifd_last_error());
      break;
    }
    if (i >= WARM) wait_us[n_wait++] = (double)(t1 - t0) / 1e3;
  }
  /* Reference: the same gate, the host waiting with cuStreamSynchronize. */
  for (int i = 0; i < WARM + ITER; i++) {
    gate++;
    CUresult r = cu->cuStreamWaitValue32(e.stream, word_dev, gate, CU_STREAM_WAIT_VALUE_GEQ);
    if (r != CUDA_SUCCESS) {
      fprintf(stderr, "reference %d: cuStreamWaitValue32: %s\n", i, tk_error_name(cu, r));
      errors++;
      break;
    }
    test_sleep_ns(200000);
    uint64_t t0 = test_now_ns();
    __atomic_store_n(word, gate, __ATOMIC_SEQ_CST);
    r = cu->cuStreamSynchronize(e.stream);
    uint64_t t1 = test_now_ns();
    if (r != CUDA_SUCCESS) {
      fprintf(stderr, "reference %d: cuStreamSynchronize: %s\n", i, tk_error_name(cu, r));
      errors++;
      break;
    }
    if (i >= WARM) sync_us[n_sync++] = (double)(t1 - t0) / 1e3;
  }
  __atomic_store_n(word, gate, __ATOMIC_SEQ_CST); /* no gate stays closed */
  CHECK(errors == 0);
  CHECK(timeouts == 0);
  CHECK(early == 0);
  CHECK(n_wait == ITER && n_sync == ITER);
  if (n_wait > 0 && n_sync > 0) {
    double w50, w99, s50, s99;
    percentiles(wait_us, n_wait, &w50, &w99);
    percentiles(sync_us, n_sync, &s50, &s99);
    printf("latency host_wait p50=%.1f p99=%.1f us; reference cuStreamSynchronize p50=%.1f "
           "p99=%.1f us\n", w50, w99, s50, s99);
    printf("(%d + %d samples; %d host waits timed out; %d gates opened early)\n", n_wait, n_sync,
           timeouts, early);
    const char *assert_env = getenv("IFD_LATENCY_ASSERT");
    if (assert_env && strcmp(assert_env, "1") == 0) CHECK(w50 < 200.0);
  }
  CU_CHECK(cu->cuStreamSynchronize(e.stream));
  CU_CHECK(cu->cuMemFreeHost(word));
  ifd_timeline_destroy(tl);
  env_close(&e);
}

int main(void) { return cuda_test_main("latency", mode_latency, false); }
