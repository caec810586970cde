/* The one table of formats: every other place reads it. GL and Vulkan enum
 * values are written as numbers so the core needs no vendor header; the test
 * test_format_table checks each against the real headers. */
#include <errno.h>
#include <strings.h>

#include "internal.h"

/* GL enums */
#define GL_ZERO_ 0x0000
#define GL_ONE_ 0x0001
#define GL_RED_ 0x1903
#define GL_GREEN_ 0x1904
#define GL_BLUE_ 0x1905
#define GL_ALPHA_ 0x1906
#define GL_RGBA_ 0x1908
#define GL_RG_ 0x8227
#define GL_UNSIGNED_BYTE_ 0x1401
#define GL_HALF_FLOAT_ 0x140B
#define GL_FLOAT_ 0x1406
#define GL_R8_ 0x8229
#define GL_RG8_ 0x822B
#define GL_RGBA8_ 0x8058
#define GL_SRGB8_ALPHA8_ 0x8C43
#define GL_R16F_ 0x822D
#define GL_RG16F_ 0x822F
#define GL_RGBA16F_ 0x881A
#define GL_R32F_ 0x822E
#define GL_RG32F_ 0x8230
#define GL_RGBA32F_ 0x8814

/* VkFormat values */
#define VK_R8_UNORM 9
#define VK_R8G8_UNORM 16
#define VK_R8G8B8A8_UNORM 37
#define VK_R8G8B8A8_SRGB 43
#define VK_B8G8R8A8_UNORM 44
#define VK_R16_SFLOAT 76
#define VK_R16G16_SFLOAT 83
#define VK_R16G16B16A16_SFLOAT 97
#define VK_R32_SFLOAT 100
#define VK_R32G32_SFLOAT 103
#define VK_R32G32B32A32_SFLOAT 109

/* DRM fourccs are four characters, little-endian. SRGBA8 has the byte layout
 * of ABGR8888; DRM carries colour space out of band. */
#define FOURCC(a, b, c, d) \
  ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define DRM_R8 FOURCC('R', '8', ' ', ' ')
#define DRM_GR88 FOURCC('G', 'R', '8', '8')
#define DRM_ABGR8888 FOURCC('A', 'B', '2', '4')
#define DRM_ARGB8888 FOURCC('A', 'R', '2', '4')
#define DRM_ABGR16161616F FOURCC('A', 'B', '4', 'H')

#define SWZ_GL_R {GL_RED_, GL_RED_, GL_RED_, GL_ONE_}
#define SWZ_GL_RG {GL_RED_, GL_GREEN_, GL_ZERO_, GL_ONE_}
#define SWZ_GL_RGBA {GL_RED_, GL_GREEN_, GL_BLUE_, GL_ALPHA_}
#define SWZ_GL_BGRA {GL_BLUE_, GL_GREEN_, GL_RED_, GL_ALPHA_}
#define SWZ_VK_R {IFD_SWIZZLE_R, IFD_SWIZZLE_R, IFD_SWIZZLE_R, IFD_SWIZZLE_ONE}
#define SWZ_VK_RG {IFD_SWIZZLE_R, IFD_SWIZZLE_G, IFD_SWIZZLE_ZERO, IFD_SWIZZLE_ONE}
#define SWZ_VK_RGBA {IFD_SWIZZLE_R, IFD_SWIZZLE_G, IFD_SWIZZLE_B, IFD_SWIZZLE_A}

static const ifd_format_info formats[] = {
    {MAX_FMT_R8, "r8", 1, 1, 0, 0, GL_R8_, GL_RED_, GL_UNSIGNED_BYTE_, SWZ_GL_R, VK_R8_UNORM,
     SWZ_VK_R, DRM_R8},
    {MAX_FMT_RG8, "rg8", 2, 2, 0, 0, GL_RG8_, GL_RG_, GL_UNSIGNED_BYTE_, SWZ_GL_RG, VK_R8G8_UNORM,
     SWZ_VK_RG, DRM_GR88},
    {MAX_FMT_RGBA8, "rgba8", 4, 4, 0, 0, GL_RGBA8_, GL_RGBA_, GL_UNSIGNED_BYTE_, SWZ_GL_RGBA,
     VK_R8G8B8A8_UNORM, SWZ_VK_RGBA, DRM_ABGR8888},
    /* GL has no BGRA8 sized internal format: import as RGBA8, swap R and B. */
    {MAX_FMT_BGRA8, "bgra8", 4, 4, 0, 0, GL_RGBA8_, GL_RGBA_, GL_UNSIGNED_BYTE_, SWZ_GL_BGRA,
     VK_B8G8R8A8_UNORM, SWZ_VK_RGBA, DRM_ARGB8888},
    {MAX_FMT_SRGBA8, "srgba8", 4, 4, 1, 0, GL_SRGB8_ALPHA8_, GL_RGBA_, GL_UNSIGNED_BYTE_,
     SWZ_GL_RGBA, VK_R8G8B8A8_SRGB, SWZ_VK_RGBA, DRM_ABGR8888},
    {MAX_FMT_R16F, "r16f", 2, 1, 0, 1, GL_R16F_, GL_RED_, GL_HALF_FLOAT_, SWZ_GL_R, VK_R16_SFLOAT,
     SWZ_VK_R, 0},
    {MAX_FMT_RG16F, "rg16f", 4, 2, 0, 1, GL_RG16F_, GL_RG_, GL_HALF_FLOAT_, SWZ_GL_RG,
     VK_R16G16_SFLOAT, SWZ_VK_RG, 0},
    {MAX_FMT_RGBA16F, "rgba16f", 8, 4, 0, 1, GL_RGBA16F_, GL_RGBA_, GL_HALF_FLOAT_, SWZ_GL_RGBA,
     VK_R16G16B16A16_SFLOAT, SWZ_VK_RGBA, DRM_ABGR16161616F},
    {MAX_FMT_R32F, "r32f", 4, 1, 0, 1, GL_R32F_, GL_RED_, GL_FLOAT_, SWZ_GL_R, VK_R32_SFLOAT,
     SWZ_VK_R, 0},
    {MAX_FMT_RG32F, "rg32f", 8, 2, 0, 1, GL_RG32F_, GL_RG_, GL_FLOAT_, SWZ_GL_RG,
     VK_R32G32_SFLOAT, SWZ_VK_RG, 0},
    {MAX_FMT_RGBA32F, "rgba32f", 16, 4, 0, 1, GL_RGBA32F_, GL_RGBA_, GL_FLOAT_, SWZ_GL_RGBA,
     VK_R32G32B32A32_SFLOAT, SWZ_VK_RGBA, 0},
};

const ifd_format_info *ifd_format_get(MAX_Format format) {
  if ((int)format < 1 || (size_t)format > IFD_ARRAY_LEN(formats)) return NULL;
  return &formats[format - 1];
}

int ifd_format_query(MAX_Format format, ifd_format_info *out) {
  const ifd_format_info *info = ifd_format_get(format);
  if (!info) return ifd_fail(-EINVAL, "ifd_format_query: unknown MAX_Format %d (valid: 1..11)", (int)format);
  if (!out) return ifd_fail(-EINVAL, "ifd_format_query: out is NULL");
  *out = *info;
  return 0;
}

int ifd_format_from_name(const char *name, MAX_Format *out) {
  if (!name || !out) return ifd_fail(-EINVAL, "ifd_format_from_name: NULL argument");
  for (size_t i = 0; i < IFD_ARRAY_LEN(formats); i++) {
    if (strcasecmp(name, formats[i].name) == 0) {
      *out = formats[i].format;
      return 0;
    }
  }
  return ifd_fail(-EINVAL, "unknown format '%s' (known: r8, rg8, rgba8, bgra8, srgba8, r16f, "
                           "rg16f, rgba16f, r32f, rg32f, rgba32f)", name);
}
