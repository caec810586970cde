/* The CUDA backend on a real NVIDIA GPU, dmabuf:
 * AsyncRT_DeviceBuffer_export_dmabuf layout and errors.
 * Skips (exit 77) with the reason where there is no CUDA device, and checks
 * that it leaves no fd behind (cuda_test_main). Kernels:
 * tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cuda_env.h"

static void mode_dmabuf(void) {
  cuda_env e;
  env_open(&e);
  ifd_format_info fi;
  REQUIRE(ifd_format_query(MAX_FMT_RGBA8, &fi) == 0);
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 1920, 1080, MAX_FMT_RGBA8, &img) == 0);
  int fd = -1;
  uint64_t size = 0, modifier = 99;
  uint32_t stride = 0, w = 0, h = 0, fourcc = 0;
  CHECK_RC(AsyncRT_DeviceBuffer_export_dmabuf(img, &fd, &size, &stride, &w, &h, &fourcc, &modifier),
           0);
  CHECK(fd >= 0);
  if (fd >= 0) {
    off_t end = lseek(fd, 0, SEEK_END);
    printf("dmabuf rgba8 1920x1080: size %llu, dma-buf %lld bytes, stride %u, fourcc %.4s\n",
           (unsigned long long)size, (long long)end, stride, (const char *)&fourcc);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(end >= (off_t)stride * 1080);
    CHECK(end >= (off_t)size); /* an importer may import all `size` bytes */
    close(fd);
  }
  CHECK(fourcc == fi.drm_fourcc && modifier == 0);
  CHECK(stride == ifd_image_row_pitch(img) && size == ifd_image_size(img));
  CHECK(w == 1920 && h == 1080);
  ifd_image_destroy(img);

  /* Every format: those with a fourcc export, the others are -EINVAL. */
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++) {
    REQUIRE(ifd_format_query((MAX_Format)f, &fi) == 0);
    img = NULL;
    CHECK_RC(ifd_image_create(e.ctx, 64, 64, (MAX_Format)f, &img), 0);
    if (!img) continue;
    fd = 42;
    fourcc = 0;
    int rc =
        AsyncRT_DeviceBuffer_export_dmabuf(img, &fd, &size, &stride, &w, &h, &fourcc, &modifier);
    if (fi.drm_fourcc == 0) {
      CHECK_RC(rc, -EINVAL);
      CHECK(fd == -1);
    } else {
      CHECK_RC(rc, 0);
      CHECK(fd >= 0 && fourcc == fi.drm_fourcc && stride == ifd_image_row_pitch(img));
    }
    if (fd >= 0) close(fd);
    ifd_image_destroy(img);
  }
  img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 64, 64, MAX_FMT_R16F, &img) == 0);
  fd = 42;
  CHECK_RC(AsyncRT_DeviceBuffer_export_dmabuf(img, &fd, &size, &stride, &w, &h, &fourcc, &modifier),
           -EINVAL);
  CHECK(fd == -1);
  ifd_image_destroy(img);
  env_close(&e);
}

int main(void) { return cuda_test_main("dmabuf", mode_dmabuf, false); }
