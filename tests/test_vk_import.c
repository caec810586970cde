/* Every format and odd sizes: upload a per-pixel pattern, export with the
 * seed's function, import into a second Vulkan device as a buffer and as a
 * linear image, and compare every byte of every pixel. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "test_util.h"
#include "vk_consumer.h"

static const struct { uint32_t w, h; } sizes[] = {{64, 64}, {61, 37}, {1, 1}, {7, 300}, {1920, 1080}};

/* Compares image rows at `pitch` with the reference rows at `ref_pitch`. */
static int compare(const uint8_t *got, size_t pitch, const uint8_t *ref, size_t ref_pitch,
                   uint32_t w, uint32_t h, uint32_t bpp, const char *what, const char *label) {
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++)
      if (memcmp(got + y * pitch + x * bpp, ref + y * ref_pitch + x * bpp, bpp) != 0) {
        fprintf(stderr, "%s via %s: first wrong pixel (%u,%u)\n", label, what, x, y);
        return 1;
      }
  return 0;
}

static bool linear_known_bad;

static void check_image(ifd_context *ctx, vkc *consumer, MAX_Format format, uint32_t w,
                        uint32_t h, uint32_t seed) {
  ifd_format_info fi;
  REQUIRE(ifd_format_query(format, &fi) == 0);
  char label[64];
  snprintf(label, sizeof(label), "%s %ux%u", fi.name, w, h);
  int before = test_failures;

  ifd_image *image = NULL;
  CHECK_RC(ifd_image_create(ctx, w, h, format, &image), 0);
  if (!image) return;
  size_t ref_pitch = (size_t)w * fi.bytes_per_pixel;
  uint8_t *ref = malloc(ref_pitch * h);
  uint8_t *back = malloc(ref_pitch * h);
  REQUIRE(ref && back);
  test_fill_pattern(ref, ref_pitch, w, h, format, seed);
  CHECK_RC(ifd_image_upload(image, ref, ref_pitch), 0);
  CHECK_RC(ifd_image_download(image, back, ref_pitch), 0);
  test_failures += compare(back, ref_pitch, ref, ref_pitch, w, h, fi.bytes_per_pixel,
                           "ifd_image_download", label);

  int fd = -1;
  uint64_t size = 0;
  uint32_t pitch = 0, ow = 0, oh = 0;
  MAX_Format of = 0;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &pitch, &ow, &oh, &of), 0);
  CHECK(fd >= 0);
  CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(ow == w && oh == h && of == format);
  CHECK(pitch == ifd_image_row_pitch(image) && size == ifd_image_size(image));
  CHECK(pitch >= w * fi.bytes_per_pixel && pitch % fi.bytes_per_pixel == 0);
  CHECK(size >= (uint64_t)pitch * h);

  uint8_t *imported = malloc(size);
  REQUIRE(imported);
  if (fd >= 0 && vkc_read_via_buffer(consumer, fd, size, imported) == 0) {
    test_failures += compare(imported, pitch, ref, ref_pitch, w, h, fi.bytes_per_pixel,
                             "imported buffer", label);
  } else {
    fprintf(stderr, "%s: buffer import failed\n", label);
    test_failures++;
    if (fd >= 0) close(fd);
  }

  /* A linear image on the consumer side sees the same pixels only if the
   * exporter's pitch equals the device's linear layout. Not on NVIDIA, where
   * this memory's type makes linear images read wrong bytes (see main). */
  if (linear_known_bad) goto end;
  fd = -1;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &size, &pitch, &ow, &oh, &of), 0);
  if (fd >= 0 && vkc_read_via_linear_image(consumer, fd, size, w, h, (VkFormat)fi.vk_format,
                                           fi.bytes_per_pixel, imported) == 0) {
    test_failures += compare(imported, ref_pitch, ref, ref_pitch, w, h, fi.bytes_per_pixel,
                             "imported linear image", label);
  } else {
    fprintf(stderr, "%s: linear image import failed\n", label);
    test_failures++;
    if (fd >= 0) close(fd);
  }
end:
  printf("%-6s %-16s pitch %-6u size %-9llu\n", test_failures == before ? "PASS" : "FAIL", label,
         pitch, (unsigned long long)size);
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
  vkGetPhysicalDeviceProperties2(consumer.physical, &p2);
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
