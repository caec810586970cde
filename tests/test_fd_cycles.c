/* 1,000 create / export / import / destroy cycles leave the number of open
 * fds unchanged, and every import still sees the right bytes. */
#include <errno.h>
#include <unistd.h>

#include "test_util.h"
#include "vk_consumer.h"

#define CYCLES 1000

int main(void) {
  ifd_context *ctx = test_context_or_skip(IFD_BACKEND_VULKAN);
  vkc consumer;
  REQUIRE(vkc_open(&consumer, 0) == 0);
  int fds = test_count_fds();
  uint8_t pixels[32 * 32 * 16];
  static uint8_t imported[1 << 20];
  int wrong = 0;
  for (int i = 0; i < CYCLES; i++) {
    MAX_Format format = (MAX_Format)(1 + i % 11);
    ifd_format_info fi;
    ifd_format_query(format, &fi);
    ifd_image *image = NULL;
    REQUIRE(ifd_image_create(ctx, 32, 32, format, &image) == 0);
    size_t pitch = 32 * fi.bytes_per_pixel;
    test_fill_pattern(pixels, pitch, 32, 32, format, (uint32_t)i);
    REQUIRE(ifd_image_upload(image, pixels, pitch) == 0);
    int fd = -1;
    uint64_t size;
    uint32_t row_pitch, w, h;
    MAX_Format f;
    REQUIRE(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &row_pitch, &w, &h, &f) == 0);
    REQUIRE(size <= sizeof(imported));
    if (vkc_read_via_buffer(&consumer, fd, size, imported) != 0) {
      close(fd);
      wrong++;
    } else if (memcmp(imported + 31 * row_pitch, pixels + 31 * pitch, pitch) != 0) {
      wrong++; /* the last row, which a wrong pitch gets wrong */
    }
    /* A second export that is closed unused must not leak either. */
    REQUIRE(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &row_pitch, &w, &h, &f) == 0);
    close(fd);
    ifd_image_destroy(image);
  }
  CHECK(wrong == 0);
  int after = test_count_fds();
  printf("%d cycles: open fds before %d, after %d, wrong imports %d\n", CYCLES, fds, after, wrong);
  CHECK(after == fds);
  vkc_close(&consumer);
  ifd_context_destroy(ctx);
  return test_finish("fd_cycles");
}
