#include "producer.h"

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include "test_util.h"

int tp_open(tp_producer *p, ifd_backend backend) {
  memset(p, 0, sizeof(*p));
  int rc = ifd_context_create(backend, 0, &p->ctx);
  if (rc != 0) return rc;
  if (ifd_context_backend(p->ctx) != IFD_BACKEND_CUDA) return 0;
  ifd_context_native n;
  REQUIRE(cuda_kit_load(&p->cu) == 0 && ifd_context_native_handles(p->ctx, &n) == 0);
  p->cu_ctx = n.cu_context;
  p->stream = n.cu_stream;
  REQUIRE(p->cu->cuCtxPushCurrent(p->cu_ctx) == CUDA_SUCCESS);
  REQUIRE(tk_load(p->cu, &p->k) == CUDA_SUCCESS);
  CUcontext dummy;
  p->cu->cuCtxPopCurrent(&dummy);
  return 0;
}

void tp_close(tp_producer *p) {
  if (p->cu) {
    p->cu->cuCtxPushCurrent(p->cu_ctx);
    tk_unload(&p->k);
    CUcontext dummy;
    p->cu->cuCtxPopCurrent(&dummy);
  }
  ifd_context_destroy(p->ctx);
  memset(p, 0, sizeof(*p));
}

int tp_write(tp_producer *p, ifd_image *img, MAX_Format fmt, uint32_t w, uint32_t h,
             uint32_t pitch, uint32_t seed) {
  if (p->cu) {
    ifd_image_native n;
    REQUIRE(ifd_image_native_handles(img, &n) == 0);
    REQUIRE(p->cu->cuCtxPushCurrent(p->cu_ctx) == CUDA_SUCCESS);
    int r = tk_fill_pattern(&p->k, p->stream, n.cu_device_ptr, pitch, w, h, fmt, seed);
    CUcontext dummy;
    p->cu->cuCtxPopCurrent(&dummy);
    return r == CUDA_SUCCESS ? 0 : -EIO;
  }
  uint32_t iw = ifd_image_width(img), ih = ifd_image_height(img);
  ifd_format_info fi;
  ifd_format_query(ifd_image_format(img), &fi);
  /* The image's own layout, or raw bytes laid over an R8 image's rows. */
  bool raw = ifd_image_format(img) != fmt || iw != w;
  size_t row = raw ? (size_t)iw * fi.bytes_per_pixel : pitch;
  size_t rows = raw ? ih : h;
  uint8_t *host = calloc(rows, row);
  REQUIRE(host);
  REQUIRE((size_t)pitch * h <= row * rows);
  test_fill_pattern(host, pitch, w, h, fmt, seed);
  int rc = ifd_image_upload(img, host, row);
  free(host);
  return rc;
}

int tp_fill(tp_producer *p, ifd_image *img, uint32_t seed) {
  return tp_write(p, img, ifd_image_format(img), ifd_image_width(img), ifd_image_height(img),
                  ifd_image_row_pitch(img), seed);
}

void tp_finish(tp_producer *p) {
  if (p->cu) {
    p->cu->cuCtxPushCurrent(p->cu_ctx);
    REQUIRE(p->cu->cuStreamSynchronize(p->stream) == CUDA_SUCCESS);
    CUcontext dummy;
    p->cu->cuCtxPopCurrent(&dummy);
  }
}

void *tp_ring_thread_main(void *arg) {
  tp_ring_thread *t = arg;
  for (uint64_t i = 0; i < t->frames && t->rc == 0; i++) {
    uint64_t k = 0;
    ifd_image *img = NULL;
    t->rc = ifd_ring_begin_frame(t->ring, 10 * TEST_SEC, &k, &img);
    if (t->rc == 0) t->rc = tp_fill(t->p, img, (uint32_t)k);
    if (t->rc == 0) t->rc = ifd_ring_end_frame(t->ring, k);
    if (t->rc != 0)
      snprintf(t->error, sizeof(t->error), "frame %llu: %s", (unsigned long long)k,
               ifd_last_error());
    else
      atomic_store(&t->ended, k);
  }
  return NULL;
}

int tp_ring_thread_wait_ended(tp_ring_thread *t, uint64_t k) {
  for (int i = 0; i < 10 * 100000 && atomic_load(&t->ended) < k; i++) {
    if (t->rc != 0) return -1;
    usleep(10);
  }
  return atomic_load(&t->ended) >= k ? 0 : -1;
}
