/* The CUDA backend on a real NVIDIA GPU, adopt:
 * ifd_context_create_cuda on the test's own context and stream: work
 * is ordered on that stream, which survives.
 * Skips (exit 77) with the reason where there is no CUDA device, and checks
 * that it leaves no fd behind (cuda_test_main). Kernels:
 * tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cuda_env.h"

static void mode_adopt(void) {
  /* The library's own context only to get the driver table; then our own. */
  ifd_context_destroy(create_cuda_or_skip());
  const cuda_kit *cu = g_cu;
  CUdevice dev = 0;
  CUcontext pctx = NULL;
  CUstream stream = NULL;
  CU_REQUIRE(cu->cuDeviceGet(&dev, 0));
  CU_REQUIRE(cu->cuDevicePrimaryCtxRetain(&pctx, dev));
  CU_REQUIRE(cu->cuCtxPushCurrent(pctx));
  CU_REQUIRE(cu->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  tk_kernels k;
  CU_REQUIRE(tk_load(cu, &k));

  ifd_context *bad = (ifd_context *)(uintptr_t)0x1;
  CHECK_RC(ifd_context_create_cuda(NULL, stream, &bad), -EINVAL);
  CHECK(bad == (ifd_context *)(uintptr_t)0x1); /* untouched on failure */

  ifd_context *ictx = NULL;
  REQUIRE(ifd_context_create_cuda(pctx, stream, &ictx) == 0);
  ifd_context_native nat;
  CHECK_RC(ifd_context_native_handles(ictx, &nat), 0);
  CHECK(nat.backend == IFD_BACKEND_CUDA && ifd_context_backend(ictx) == IFD_BACKEND_CUDA);
  CHECK(nat.cu_context == (void *)pctx && nat.cu_stream == (void *)stream && nat.cu_device == dev);

  /* Objects first: creating them may wait for the stream, which is about to
   * be parked. */
  enum { W = 61, H = 37 };
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(ictx, W, H, MAX_FMT_RGBA16F, &img) == 0);
  ifd_image_native in;
  REQUIRE(ifd_image_native_handles(img, &in) == 0);
  ifd_timeline *tl = NULL;
  REQUIRE(ifd_timeline_create(ictx, 0, &tl) == 0);

  /* Park our stream behind a host-controlled gate, then write and signal: if
   * the signal were on any other stream, it would land before the gate opens. */
  uint32_t *word = NULL;
  CUdeviceptr word_dev = 0;
  CU_REQUIRE(cu->cuMemAllocHost((void **)&word, sizeof(*word)));
  __atomic_store_n(word, 0u, __ATOMIC_SEQ_CST);
  CU_REQUIRE(cu->cuMemHostGetDevicePointer(&word_dev, word, 0));
  CU_CHECK(cu->cuStreamWaitValue32(stream, word_dev, 1, CU_STREAM_WAIT_VALUE_GEQ));
  CU_CHECK(tk_fill_pattern(&k, stream, in.cu_device_ptr, in.row_pitch, W, H, MAX_FMT_RGBA16F, 7));
  CHECK_RC(ifd_timeline_signal(tl, 1), 0);
  test_sleep_ns(50 * MS);
  uint64_t v = 99;
  CHECK_RC(ifd_timeline_value(tl, &v), 0);
  CHECK(v == 0); /* behind the gate on our stream */
  __atomic_store_n(word, 1u, __ATOMIC_SEQ_CST);
  CHECK_RC(ifd_timeline_host_wait(tl, 1, 5 * SEC), 0);
  uint8_t ref[W * H * 8], back[W * H * 8];
  test_fill_pattern(ref, W * 8, W, H, MAX_FMT_RGBA16F, 7);
  CHECK_RC(ifd_image_download(img, back, W * 8), 0);
  test_failures += test_compare_bytes(back, W * 8, ref, W * 8, W, H, 8,
                                      "ifd_image_download", "adopted");

  /* Destroying the ifd context leaves our context and stream alive. */
  ifd_context_destroy(ictx);
  CU_CHECK(cu->cuStreamQuery(stream));
  /* ... and usable: a kernel on it writes the pinned word (the image's memory
   * went with the ifd context, so it must not be touched any more). */
  CU_CHECK(tk_fill_u32(&k, stream, word_dev, 1, 0xC0FFEEu));
  CU_CHECK(cu->cuStreamSynchronize(stream));
  CHECK(__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0xC0FFEEu);

  /* The legacy default stream (NULL) is accepted too. */
  ifd_context *dflt = NULL;
  CHECK_RC(ifd_context_create_cuda(pctx, NULL, &dflt), 0);
  if (dflt) {
    CHECK_RC(ifd_context_native_handles(dflt, &nat), 0);
    CHECK(nat.cu_context == (void *)pctx && nat.cu_stream == NULL);
    ifd_context_destroy(dflt);
  }
  CU_CHECK(cu->cuCtxSynchronize());

  tk_unload(&k);
  CU_CHECK(cu->cuMemFreeHost(word));
  CU_CHECK(cu->cuStreamDestroy(stream));
  CUcontext popped = NULL;
  CU_CHECK(cu->cuCtxPopCurrent(&popped));
  CHECK(popped == pctx);
  CU_CHECK(cu->cuDevicePrimaryCtxRelease(dev));
}

int main(void) { return cuda_test_main("adopt", mode_adopt, false); }
