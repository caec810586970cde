/* Every format and odd sizes: upload a per-pixel pattern, export with the
 * seed's function, import into a second Vulkan device as a buffer and as a
 * linear image, and compare every byte of every pixel. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "test_util.h"
#include "vk_consumer.h"

static const struct { uint32_t w, h; } sizes[] = {{64, 64}, {61, 37}, {1, 1}, {7, 300}, {1920, 1080}};

static bool linear_known_bad;

static void check_image(ifd_context *ctx, vkc *consumer, MAX_Format format, uint32_t w,
                        uint32_t h, uint32_t seed) {
  test_image_case t;
  test_image_case_begin(&t, format, w, h);
  const uint32_t bpp = t.fi.bytes_per_pixel;

  ifd_image *image = NULL;
  CHECK_RC(ifd_image_create(ctx, w, h, format, &image), 0);
  if (!image) return;
  size_t ref_pitch = (size_t)w * bpp;
  uint8_t *ref = malloc(ref_pitch * h);
  uint8_t *back = malloc(ref_pitch * h);
  REQUIRE(ref && back);
  test_fill_pattern(ref, ref_pitch, w, h, format, seed);
  CHECK_RC(ifd_image_upload(image, ref, ref_pitch), 0);
  CHECK_RC(ifd_image_download(image, back, ref_pitch), 0);
  test_failures += test_compare_bytes(back, ref_pitch, ref, ref_pitch, w, h, bpp,
                                      "ifd_image_download", t.label);

  int fd = -1;
  uint64_t size = 0;
  uint32_t pitch = 0, ow = 0, oh = 0;
  MAX_Format of = 0;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &pitch, &ow, &oh, &of), 0);
  CHECK(fd >= 0);
  CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(ow == w && oh == h && of == format);
  CHECK(pitch == ifd_image_row_pitch(image) && size == ifd_image_size(image));
  CHECK(pitch >= w * bpp && pitch % bpp == 0);
  CHECK(size >= (uint64_t)pitch * h);

  uint8_t *imported = malloc(size);
  REQUIRE(imported);
  if (vkc_read_export(consumer, VKC_BUFFER, fd, size, &t.fi, w, h, imported, t.label) != 0)
    test_failures++;
  else
    test_failures += test_compare_bytes(imported, pitch, ref, ref_pitch, w, h, bpp,
                                        "imported buffer", t.label);

  /* A linear image on the consumer side sees the same pixels only if the
   * exporter's pitch equals the device's linear layout. Not on NVIDIA, where
   * this memory's type makes linear images read wrong bytes (see main). */
  if (!linear_known_bad) {
    fd = -1;
    CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &pitch, &ow, &oh, &of), 0);
    if (vkc_read_export(consumer, VKC_LINEAR_IMAGE, fd, size, &t.fi, w, h, imported, t.label) != 0)
      test_failures++;
    else
      test_failures += test_compare_bytes(imported, ref_pitch, ref, ref_pitch, w, h, bpp,
                                          "imported linear image", t.label);
  }
  test_image_case_end(&t, pitch, size);
  free(imported);
  free(ref);
  free(back);
  ifd_image_destroy(image);
}

int main(void) {
  ifd_context *ctx = test_context_or_skip(IFD_BACKEND_VULKAN);
  vkc consumer;
  REQUIRE(vkc_open(&consumer, 0) == 0);
  VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &drv};
  vkGetPhysicalDeviceProperties2(consumer.dev.physical, &p2);
  if (drv.driverID == VK_DRIVER_ID_NVIDIA_PROPRIETARY) {
    /* This memory has NVIDIA's device-local type, which the host cannot map;
     * a linear image on it reads scrambled bytes (driver 580, H200), while
     * buffer reads are exact. The consumer API refuses LINEAR there
     * (docs/linear-images.md). */
    linear_known_bad = true;
    printf("linear-image reads not run: NVIDIA's driver reads Vulkan-exported memory (a "
           "device-local type the host cannot map) wrongly through linear images; buffer reads "
           "still checked\n");
  }
  int fds = test_count_fds();

  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++)
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      if (sizes[s].w == 1920 && f != MAX_FMT_RGBA8 && f != MAX_FMT_R8) continue;
      check_image(ctx, &consumer, (MAX_Format)f, sizes[s].w, sizes[s].h, (uint32_t)(f * 10 + s));
    }

  CHECK(test_count_fds() == fds);
  vkc_close(&consumer);
  ifd_context_destroy(ctx);
  return test_finish("vk_import");
}
