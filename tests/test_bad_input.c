/* Bad input gets a clear error code and message, never a crash, and leaks no
 * fd: NULL handles and out-pointers, zero sizes, unknown formats, destroyed
 * handles, closed and foreign fds, and destroying NULL. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "test_util.h"

static void contexts(void) {
  ifd_context *ctx = NULL;
  CHECK_FAILS(ifd_context_create((ifd_backend)7, 0, &ctx), -EINVAL);
  CHECK_FAILS(ifd_context_create(IFD_BACKEND_VULKAN, -1, &ctx), -EINVAL);
  CHECK_FAILS(ifd_context_create(IFD_BACKEND_VULKAN, 0, NULL), -EINVAL);
  CHECK_FAILS(ifd_context_create(IFD_BACKEND_VULKAN, 999, &ctx), -ENODEV);
  CHECK(ctx == NULL);
  CHECK_FAILS(ifd_context_create_cuda(NULL, NULL, &ctx), -EINVAL);
  ifd_context_native native;
  CHECK_FAILS(ifd_context_native_handles(NULL, &native), -EINVAL);
  ifd_context_destroy(NULL); /* no-op */
  ifd_image_destroy(NULL);
  ifd_timeline_destroy(NULL);
}

static void images(ifd_context *ctx) {
  ifd_image *image = NULL;
  CHECK_FAILS(ifd_image_create(NULL, 4, 4, MAX_FMT_RGBA8, &image), -EINVAL);
  CHECK_FAILS(ifd_image_create(ctx, 4, 4, MAX_FMT_RGBA8, NULL), -EINVAL);
  CHECK_FAILS(ifd_image_create(ctx, 0, 4, MAX_FMT_RGBA8, &image), -EINVAL);
  CHECK_FAILS(ifd_image_create(ctx, 4, 0, MAX_FMT_RGBA8, &image), -EINVAL);
  const int bad_formats[] = {0, 12, 99};
  for (size_t i = 0; i < 3; i++)
    CHECK_FAILS(ifd_image_create(ctx, 4, 4, (MAX_Format)bad_formats[i], &image), -EINVAL);
  CHECK_FAILS(ifd_image_create(ctx, 70000, 70000, MAX_FMT_RGBA32F, &image), -EOVERFLOW);
  CHECK_FAILS(ifd_image_create(ctx, UINT32_MAX, 1, MAX_FMT_R8, &image), -EOVERFLOW);
  CHECK(image == NULL);

  REQUIRE(ifd_image_create(ctx, 16, 8, MAX_FMT_RGBA8, &image) == 0);
  uint8_t pixels[16 * 8 * 4] = {0};
  CHECK_FAILS(ifd_image_upload(image, NULL, 64), -EINVAL);
  CHECK_FAILS(ifd_image_upload(image, pixels, 63), -EINVAL); /* pitch below a row */
  CHECK_FAILS(ifd_image_download(image, pixels, SIZE_MAX / 2), -EOVERFLOW);
  CHECK_FAILS(ifd_image_download(NULL, pixels, 64), -EINVAL);

  int fd = 123;
  uint64_t size;
  uint32_t pitch, w, h, fourcc;
  uint64_t modifier;
  MAX_Format format;
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_fd(NULL, &fd, &size, &pitch, &w, &h, &format), -EINVAL);
  CHECK(fd == -1); /* out-fds are preset to -1 */
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_fd(image, &fd, NULL, &pitch, &w, &h, &format), -EINVAL);
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_fd(image, NULL, &size, &pitch, &w, &h, &format), -EINVAL);
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &pitch, &w, &h, NULL), -EINVAL);
  CHECK(fd == -1);
  /* A pointer that is not an image at all. */
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_fd(ctx, &fd, &size, &pitch, &w, &h, &format), -EINVAL);
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_dmabuf(image, &fd, &size, &pitch, &w, &h, &fourcc, NULL),
              -EINVAL);

  /* dma-buf: a format without a fourcc is refused whatever the driver. */
  ifd_image *half = NULL;
  REQUIRE(ifd_image_create(ctx, 8, 8, MAX_FMT_R16F, &half) == 0);
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_dmabuf(half, &fd, &size, &pitch, &w, &h, &fourcc,
                                                 &modifier), -EINVAL);
  CHECK(strstr(ifd_last_error(), "fourcc") != NULL);
  ifd_image_destroy(half);
  int rc = AsyncRT_DeviceBuffer_export_dmabuf(image, &fd, &size, &pitch, &w, &h, &fourcc, &modifier);
  if (rc == 0) {
    off_t end = lseek(fd, 0, SEEK_END);
    CHECK(end < 0 || (uint64_t)end >= (uint64_t)pitch * h);
    CHECK(modifier == 0 && fourcc != 0);
    close(fd);
  } else {
    CHECK(rc == -EOPNOTSUPP && fd == -1);
    printf("note: dma-buf export not supported here: %s\n", ifd_last_error());
  }

  /* A destroyed image is detected. */
  ifd_image_destroy(image);
  CHECK_FAILS(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &pitch, &w, &h, &format), -EINVAL);
  CHECK(strstr(ifd_last_error(), "not a live handle") != NULL);
  CHECK_FAILS(ifd_image_upload(image, pixels, 64), -EINVAL);
  CHECK(ifd_image_width(image) == 0 && ifd_image_size(image) == 0 && ifd_image_format(image) == 0);
  ifd_image_destroy(image); /* a second destroy is refused quietly */
  ifd_image_native in;
  CHECK_FAILS(ifd_image_native_handles(image, &in), -EINVAL);
}

static void timelines(ifd_context *ctx) {
  ifd_timeline *tl = NULL;
  uint64_t v;
  int fd = 5;
  CHECK_FAILS(ifd_timeline_create(NULL, 0, &tl), -EINVAL);
  CHECK_FAILS(ifd_timeline_create(ctx, 0, NULL), -EINVAL);
  CHECK_FAILS(ifd_timeline_signal(NULL, 1), -EINVAL);
  CHECK_FAILS(ifd_timeline_wait(NULL, 1), -EINVAL);
  CHECK_FAILS(ifd_timeline_host_wait(NULL, 1, 0), -EINVAL);
  CHECK_FAILS(ifd_timeline_value(NULL, &v), -EINVAL);
  CHECK_FAILS(ifd_timeline_export_fd(NULL, &fd), -EINVAL);
  CHECK(fd == -1);
  CHECK_FAILS(AsyncRT_Create_timeline_semaphore_fd(NULL, 0, &fd), -EINVAL);
  CHECK_FAILS(AsyncRT_Create_timeline_semaphore_fd(ctx, 0, NULL), -EINVAL);

  /* Signals through fds that are not ours. */
  CHECK_FAILS(AsyncRT_Signal_timeline_semaphore_fd(-1, 1), -EBADF);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(devnull >= 0);
  CHECK_FAILS(AsyncRT_Signal_timeline_semaphore_fd(devnull, 1), -EINVAL);
  close(devnull);
  CHECK_FAILS(AsyncRT_Signal_timeline_semaphore_fd(devnull, 1), -EBADF); /* now closed */
  CHECK_FAILS(ifd_timeline_import_fd(ctx, devnull, &tl), -EBADF);
  CHECK_FAILS(ifd_timeline_import_fd(ctx, -1, &tl), -EBADF);
}

int main(void) {
  int fds = test_count_fds();
  contexts();
  ifd_context *ctx = test_context_or_skip(IFD_BACKEND_VULKAN);
  int fds_ctx = test_count_fds();
  images(ctx);
  timelines(ctx);
  CHECK(test_count_fds() == fds_ctx);

  /* Handles die with their context. */
  ifd_image *image = NULL;
  REQUIRE(ifd_image_create(ctx, 4, 4, MAX_FMT_R8, &image) == 0);
  ifd_context_destroy(ctx);
  CHECK_FAILS(ifd_image_upload(image, "xxxxxxxxxxxxxxxx", 4), -EINVAL);
  CHECK(ifd_image_context(image) == NULL);
  ifd_image *other = NULL;
  CHECK_FAILS(ifd_image_create(ctx, 4, 4, MAX_FMT_R8, &other), -EINVAL);
  ifd_context_destroy(ctx); /* destroyed twice: refused, no crash */
  CHECK(test_count_fds() == fds);
  return test_finish("bad_input");
}
