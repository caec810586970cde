/* The format table against the real Vulkan and GL headers: the core writes
 * those enum values as numbers, so this is where a typo would show. */
#include <GL/gl.h>
#include <GL/glext.h>
#include <vulkan/vulkan.h>

#include <errno.h>

#include "test_util.h"

static const struct {
  MAX_Format format;
  const char *name;
  uint32_t bpp, channels, srgb, is_float, gl_internal, gl_format, gl_type;
  VkFormat vk;
  const char *fourcc; /* NULL where DRM has none */
} want[] = {
    {MAX_FMT_R8, "r8", 1, 1, 0, 0, GL_R8, GL_RED, GL_UNSIGNED_BYTE, VK_FORMAT_R8_UNORM, "R8  "},
    {MAX_FMT_RG8, "rg8", 2, 2, 0, 0, GL_RG8, GL_RG, GL_UNSIGNED_BYTE, VK_FORMAT_R8G8_UNORM, "GR88"},
    {MAX_FMT_RGBA8, "rgba8", 4, 4, 0, 0, GL_RGBA8, GL_RGBA, GL_UNSIGNED_BYTE,
     VK_FORMAT_R8G8B8A8_UNORM, "AB24"},
    {MAX_FMT_BGRA8, "bgra8", 4, 4, 0, 0, GL_RGBA8, GL_RGBA, GL_UNSIGNED_BYTE,
     VK_FORMAT_B8G8R8A8_UNORM, "AR24"},
    {MAX_FMT_SRGBA8, "srgba8", 4, 4, 1, 0, GL_SRGB8_ALPHA8, GL_RGBA, GL_UNSIGNED_BYTE,
     VK_FORMAT_R8G8B8A8_SRGB, "AB24"},
    {MAX_FMT_R16F, "r16f", 2, 1, 0, 1, GL_R16F, GL_RED, GL_HALF_FLOAT, VK_FORMAT_R16_SFLOAT, NULL},
    {MAX_FMT_RG16F, "rg16f", 4, 2, 0, 1, GL_RG16F, GL_RG, GL_HALF_FLOAT, VK_FORMAT_R16G16_SFLOAT,
     NULL},
    {MAX_FMT_RGBA16F, "rgba16f", 8, 4, 0, 1, GL_RGBA16F, GL_RGBA, GL_HALF_FLOAT,
     VK_FORMAT_R16G16B16A16_SFLOAT, "AB4H"},
    {MAX_FMT_R32F, "r32f", 4, 1, 0, 1, GL_R32F, GL_RED, GL_FLOAT, VK_FORMAT_R32_SFLOAT, NULL},
    {MAX_FMT_RG32F, "rg32f", 8, 2, 0, 1, GL_RG32F, GL_RG, GL_FLOAT, VK_FORMAT_R32G32_SFLOAT, NULL},
    {MAX_FMT_RGBA32F, "rgba32f", 16, 4, 0, 1, GL_RGBA32F, GL_RGBA, GL_FLOAT,
     VK_FORMAT_R32G32B32A32_SFLOAT, NULL},
};

int main(void) {
  /* The seed's enum values are ABI. */
  CHECK(MAX_FMT_R8 == 1 && MAX_FMT_RG8 == 2 && MAX_FMT_RGBA8 == 3 && MAX_FMT_BGRA8 == 4);
  CHECK(MAX_FMT_SRGBA8 == 5 && MAX_FMT_R16F == 6 && MAX_FMT_RG16F == 7 && MAX_FMT_RGBA16F == 8);
  CHECK(MAX_FMT_R32F == 9 && MAX_FMT_RG32F == 10 && MAX_FMT_RGBA32F == 11);

  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    ifd_format_info fi;
    CHECK_RC(ifd_format_query(want[i].format, &fi), 0);
    CHECK(fi.format == want[i].format);
    CHECK(strcmp(fi.name, want[i].name) == 0);
    CHECK(fi.bytes_per_pixel == want[i].bpp && fi.channels == want[i].channels);
    CHECK(fi.is_srgb == want[i].srgb && fi.is_float == want[i].is_float);
    CHECK(fi.gl_internal_format == want[i].gl_internal);
    CHECK(fi.gl_format == want[i].gl_format && fi.gl_type == want[i].gl_type);
    CHECK(fi.vk_format == (uint32_t)want[i].vk);
    uint32_t fourcc = 0;
    if (want[i].fourcc) memcpy(&fourcc, want[i].fourcc, 4);
    CHECK(fi.drm_fourcc == fourcc);
    /* Swizzles: one channel -> (r,r,r,1), two -> (r,g,0,1). */
    if (fi.channels == 1) {
      CHECK(fi.gl_swizzle[0] == GL_RED && fi.gl_swizzle[1] == GL_RED &&
            fi.gl_swizzle[2] == GL_RED && fi.gl_swizzle[3] == GL_ONE);
      CHECK(fi.vk_swizzle[0] == IFD_SWIZZLE_R && fi.vk_swizzle[1] == IFD_SWIZZLE_R &&
            fi.vk_swizzle[2] == IFD_SWIZZLE_R && fi.vk_swizzle[3] == IFD_SWIZZLE_ONE);
    } else if (fi.channels == 2) {
      CHECK(fi.gl_swizzle[0] == GL_RED && fi.gl_swizzle[1] == GL_GREEN &&
            fi.gl_swizzle[2] == GL_ZERO && fi.gl_swizzle[3] == GL_ONE);
      CHECK(fi.vk_swizzle[2] == IFD_SWIZZLE_ZERO && fi.vk_swizzle[3] == IFD_SWIZZLE_ONE);
    } else if (fi.format == MAX_FMT_BGRA8) {
      CHECK(fi.gl_swizzle[0] == GL_BLUE && fi.gl_swizzle[2] == GL_RED);
    } else {
      CHECK(fi.gl_swizzle[0] == GL_RED && fi.gl_swizzle[3] == GL_ALPHA);
    }
    MAX_Format by_name = 0;
    CHECK_RC(ifd_format_from_name(want[i].name, &by_name), 0);
    CHECK(by_name == want[i].format);
  }

  ifd_format_info fi;
  const int bad[] = {0, 12, 99, -1};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK_RC(ifd_format_query((MAX_Format)bad[i], &fi), -EINVAL);
  CHECK(strstr(ifd_last_error(), "unknown MAX_Format") != NULL);
  CHECK_RC(ifd_format_query(MAX_FMT_RGBA8, NULL), -EINVAL);
  MAX_Format f;
  CHECK_RC(ifd_format_from_name("rgb8", &f), -EINVAL);
  CHECK_RC(ifd_format_from_name(NULL, &f), -EINVAL);
  CHECK_RC(ifd_format_from_name("RGBA16F", &f), 0);
  CHECK(f == MAX_FMT_RGBA16F);
  return test_finish("format_table");
}
