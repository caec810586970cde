/* misuse_core: the producer API used in the wrong order gets an error with a
 * message, never a crash or a silent success.
 *   - ifd_context_destroy before ifd_ring_destroy: later ring calls return
 *     -EINVAL saying the context was destroyed first; ifd_ring_destroy is
 *     safe (ASan: no use after free, no double free, no leak; fds counted).
 *   - ifd_last_error() holds only the last failing call's message, and a
 *     message names its function once ("fn: fn: ..." never).
 * The producer is IFD_TEST_BACKEND (vulkan by default: lavapipe on the CPU). */
#include <errno.h>
#include <unistd.h>

#include "test_util.h"

static void context_destroyed_first(void) {
  int fds_before = test_count_fds();
  ifd_context *ctx = test_producer_context_or_skip();
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(ctx, 2, 64, 32, MAX_FMT_RGBA8, &ring) == 0);
  uint64_t k = 0;
  ifd_image *img = NULL;
  CHECK_RC(ifd_ring_begin_frame(ring, 1000000000ull, &k, &img), 0);
  CHECK(k == 1 && img != NULL);
  CHECK_RC(ifd_ring_end_frame(ring, 1), 0);
  ifd_ring_desc d;
  CHECK_RC(ifd_ring_export(ring, &d), 0);
  ifd_ring_desc_close(&d);

  ifd_context_destroy(ctx); /* the wrong order */

  k = 0;
  img = (ifd_image *)&k; /* must stay untouched */
  CHECK_RC(ifd_ring_begin_frame(ring, 1000000ull, &k, &img), -EINVAL);
  test_check_message("ifd_ring_begin_frame", "context was destroyed first");
  CHECK(k == 0 && img == (ifd_image *)&k);
  CHECK_RC(ifd_ring_end_frame(ring, 2), -EINVAL);
  test_check_message("ifd_ring_end_frame", "context was destroyed first");
  CHECK_RC(ifd_ring_release_frame(ring, 1), -EINVAL);
  test_check_message("ifd_ring_release_frame", "context was destroyed first");
  CHECK_RC(ifd_ring_export(ring, &d), -EINVAL);
  test_check_message("ifd_ring_export", "context was destroyed first");
  CHECK(d.ready_fd == -1 && d.frames[0].memory_fd == -1);
  CHECK(ifd_ring_count(ring) == 0);
  CHECK(ifd_ring_image(ring, 0) == NULL);
  CHECK(ifd_ring_ready(ring) == NULL && ifd_ring_release(ring) == NULL);
  ifd_ring_destroy(ring); /* frees the ring only */
  CHECK_RC(ifd_ring_end_frame(ring, 2), -EINVAL); /* now an unknown handle */
  test_check_message("ifd_ring_end_frame", "not a live handle");
  ifd_ring_destroy(ring); /* a second destroy is refused, not a double free */
  CHECK(test_count_fds() == fds_before);

  /* Two rings, one destroyed before the context, one after: both fine. */
  ctx = test_producer_context_or_skip();
  ifd_ring *a = NULL, *b = NULL;
  REQUIRE(ifd_ring_create(ctx, 1, 16, 16, MAX_FMT_R8, &a) == 0);
  REQUIRE(ifd_ring_create(ctx, 3, 16, 16, MAX_FMT_R8, &b) == 0);
  ifd_ring_destroy(a);
  ifd_context_destroy(ctx);
  CHECK_RC(ifd_ring_begin_frame(b, 0, &k, &img), -EINVAL);
  ifd_ring_destroy(b);
  CHECK(test_count_fds() == fds_before);
}

static void last_error_is_the_last_call(void) {
  ifd_context *ctx = test_producer_context_or_skip();
  ifd_ring *ring = NULL;
  /* A first failure with a message of its own... */
  CHECK_RC(ifd_ring_create(ctx, 99, 64, 32, MAX_FMT_RGBA8, &ring), -EINVAL);
  test_check_message("ifd_ring_create", "count 99");
  REQUIRE(ifd_ring_create(ctx, 2, 64, 32, MAX_FMT_RGBA8, &ring) == 0);
  /* A success (here without timelines on lavapipe, an internal fallback)
   * leaves the last failure's message as it was. */
  CHECK(strstr(ifd_last_error(), "count 99") != NULL);
  /* ...is not part of the next failure's message. */
  CHECK_RC(ifd_ring_end_frame(ring, 5), -EINVAL);
  test_check_message("ifd_ring_end_frame", "never begun");
  CHECK(strstr(ifd_last_error(), "99") == NULL);

  /* A ring's image is destroyed only with its ring: refused, still live. */
  ifd_image *img = ifd_ring_image(ring, 0);
  ifd_image_destroy(img);
  test_check_message("ifd_image_destroy", "belongs to a ring");
  CHECK(strstr(ifd_last_error(), "count 99") == NULL);
  CHECK(ifd_image_width(img) == 64);
  ifd_ring_desc d;
  CHECK_RC(ifd_ring_export(ring, &d), 0);
  ifd_ring_desc_close(&d);
  if (ifd_ring_release(ring)) {
    ifd_timeline_destroy(ifd_ring_release(ring));
    test_check_message("ifd_timeline_destroy", "belongs to a ring");
    uint64_t v = 1;
    CHECK_RC(ifd_timeline_value(ifd_ring_release(ring), &v), 0);
  }
  /* Failures that pass through an inner call name each function once. */
  CHECK_RC(ifd_image_create(ctx, 8, 8, MAX_FMT_R8, &img), 0);
  ifd_image_destroy(img);
  int fd = -1;
  uint64_t size;
  uint32_t pitch, w, h;
  MAX_Format f;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(img, &fd, &size, &pitch, &w, &h, &f), -EINVAL);
  test_check_message("AsyncRT_DeviceBuffer_export_fd", "not a live handle");
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(-1, 1), -EBADF);
  test_check_message("AsyncRT_Signal_timeline_semaphore_fd", NULL);
  ifd_timeline *tl = NULL;
  int rc = ifd_timeline_create(ctx, 0, &tl);
  if (rc == 0) {
    CHECK_RC(ifd_timeline_signal(tl, 0), -EINVAL); /* not above the initial value */
    test_check_message("ifd_timeline_signal", "not above");
    ifd_timeline_destroy(tl);
  } else {
    CHECK_RC(rc, -EOPNOTSUPP);
    test_check_message("ifd_timeline_create", NULL);
  }
  /* A success leaves the last failure's message alone (documented). */
  char before[256];
  snprintf(before, sizeof(before), "%s", ifd_last_error());
  CHECK(ifd_ring_count(ring) == 2);
  CHECK(strcmp(before, ifd_last_error()) == 0);
  ifd_ring_destroy(ring);
  ifd_context_destroy(ctx);
}

int main(void) {
  /* Count fds from after one context: the CUDA driver keeps the fds it opens
   * for the first context (/dev/nvidia*) until the process exits. */
  ifd_context_destroy(test_producer_context_or_skip());
  context_destroyed_first();
  last_error_is_the_last_call();
  return test_finish("misuse_core");
}
