/* The CUDA backend on a real NVIDIA GPU, images:
 * kernels write every format into CUDA images; read back by
 * ifd_image_download and by a second Vulkan device (imported buffer and
 * linear image), every pixel.
 * Skips (exit 77) with the reason where there is no CUDA device, and checks
 * that it leaves no fd behind (cuda_test_main). Kernels:
 * tests/cuda/test_kernels.cu. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cuda_env.h"

/* The bytes of the allocation outside the pixels (row padding, the tail) must
 * still hold `fill`: the kernel wrote inside each row only. */
static int check_outside_pixels(const uint8_t *mem, uint64_t size, uint32_t pitch, uint32_t w,
                                uint32_t h, uint32_t bpp, uint8_t fill, const char *label) {
  uint64_t end = size / 4 * 4; /* what the fill_u32 pre-fill covered */
  for (uint64_t off = 0; off < end; off++) {
    uint64_t y = off / pitch, x_byte = off % pitch;
    if (y < h && x_byte < (uint64_t)w * bpp) continue;
    if (mem[off] != fill) {
      fprintf(stderr, "%s: byte %llu (row %llu, byte %llu of the row) outside the pixels is %02x,"
              " expected the pre-fill %02x\n", label, (unsigned long long)off,
              (unsigned long long)y, (unsigned long long)x_byte, mem[off], fill);
      return 1;
    }
  }
  return 0;
}

static void check_cuda_image(cuda_env *e, vkc *consumer, MAX_Format format, uint32_t w,
                             uint32_t h, uint32_t seed) {
  test_image_case t;
  test_image_case_begin(&t, format, w, h);
  const char *label = t.label;
  const uint32_t bpp = t.fi.bytes_per_pixel;
  const uint8_t prefill = 0xA5;

  ifd_image *image = NULL;
  CHECK_RC(ifd_image_create(e->ctx, w, h, format, &image), 0);
  if (!image) return;
  ifd_image_native in;
  CHECK_RC(ifd_image_native_handles(image, &in), 0);
  const uint32_t pitch = ifd_image_row_pitch(image);
  const uint64_t size = ifd_image_size(image);
  CHECK(in.backend == IFD_BACKEND_CUDA && in.cu_device_ptr != 0);
  CHECK(in.row_pitch == pitch && in.size == size);
  CHECK(pitch >= w * bpp && pitch % bpp == 0 && size >= (uint64_t)pitch * h);

  /* Pre-fill the whole allocation so that the pattern must come from the
   * kernel and the bytes around the pixels can be checked. */
  CU_CHECK(tk_fill_u32(&e->k, e->stream, in.cu_device_ptr, (unsigned)(size / 4),
                       0x01010101u * prefill));
  CU_CHECK(tk_fill_pattern(&e->k, e->stream, in.cu_device_ptr, pitch, w, h, format, seed));

  size_t ref_pitch = (size_t)w * bpp;
  uint8_t *ref = malloc(ref_pitch * h), *back = malloc(ref_pitch * h), *imported = malloc(size);
  REQUIRE(ref && back && imported);
  test_fill_pattern(ref, ref_pitch, w, h, format, seed);
  /* No timeline: the download is ordered after the stream's kernels. */
  CHECK_RC(ifd_image_download(image, back, ref_pitch), 0);
  test_failures += test_compare_bytes(back, ref_pitch, ref, ref_pitch, w, h,
                                      bpp, "ifd_image_download", label);

  int fd = -1;
  uint64_t esize = 0;
  uint32_t epitch = 0, ow = 0, oh = 0;
  MAX_Format of = 0;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &esize, &epitch, &ow, &oh, &of), 0);
  CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(ow == w && oh == h && of == format && epitch == pitch && esize == size);
  if (vkc_read_export(consumer, VKC_BUFFER, fd, size, &t.fi, w, h, imported, label) != 0) {
    test_failures++;
  } else {
    test_failures +=
        test_compare_bytes(imported, pitch, ref, ref_pitch, w, h, bpp, "imported buffer", label);
    test_failures += check_outside_pixels(imported, size, pitch, w, h, bpp, prefill, label);
  }

  /* A linear VkImage on the consumer side sees the same pixels only if the
   * exporter's pitch is the device's own linear layout; it comes back tightly
   * packed. */
  fd = -1;
  CHECK_RC(AsyncRT_DeviceBuffer_export_fd(image, &fd, &esize, &epitch, &ow, &oh, &of), 0);
  if (vkc_read_export(consumer, VKC_LINEAR_IMAGE, fd, size, &t.fi, w, h, imported, label) != 0)
    test_failures++;
  else
    test_failures += test_compare_bytes(imported, ref_pitch, ref, ref_pitch, w, h, bpp,
                                        "imported linear image", label);

  /* The host path of the CUDA backend too: upload another pattern, read it back. */
  test_fill_pattern(ref, ref_pitch, w, h, format, seed + 1);
  CHECK_RC(ifd_image_upload(image, ref, ref_pitch), 0);
  CHECK_RC(ifd_image_download(image, back, ref_pitch), 0);
  test_failures += test_compare_bytes(back, ref_pitch, ref, ref_pitch, w, h,
                                      bpp, "upload + download", label);

  test_image_case_end(&t, pitch, size);
  free(imported);
  free(ref);
  free(back);
  ifd_image_destroy(image);
}

static void mode_images(void) {
  static const struct {
    MAX_Format format;
    uint32_t w, h;
  } cases[] = {
      {MAX_FMT_RGBA8, 64, 64},   {MAX_FMT_RGBA8, 61, 37},   {MAX_FMT_RGBA8, 1920, 1080},
      {MAX_FMT_R8, 64, 64},      {MAX_FMT_R8, 61, 37},      {MAX_FMT_RGBA16F, 64, 64},
      {MAX_FMT_RGBA16F, 61, 37}, {MAX_FMT_RG8, 29, 13},     {MAX_FMT_BGRA8, 29, 13},
      {MAX_FMT_SRGBA8, 29, 13},  {MAX_FMT_R16F, 29, 13},    {MAX_FMT_RG16F, 29, 13},
      {MAX_FMT_R32F, 29, 13},    {MAX_FMT_RG32F, 29, 13},   {MAX_FMT_RGBA32F, 29, 13},
  };
  cuda_env e;
  env_open(&e);
  vkc consumer;
  open_consumer_on(&consumer, &e.nat);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    check_cuda_image(&e, &consumer, cases[i].format, cases[i].w, cases[i].h,
                     (uint32_t)(i * 10 + 3));
  vkc_close(&consumer);
  env_close(&e);
}

int main(void) { return cuda_test_main("images", mode_images, false); }
