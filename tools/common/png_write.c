#include "common/png_write.h"

#include <errno.h>
#include <png.h>
#include <string.h>

#include "common/tool_error.h"

int png_write_rgba(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h) {
  png_image img;
  memset(&img, 0, sizeof(img));
  img.version = PNG_IMAGE_VERSION;
  img.width = w;
  img.height = h;
  img.format = PNG_FORMAT_RGBA;
  if (!png_image_write_to_file(&img, path, 0, rgba, (png_int_32)(w * 4), NULL))
    return tool_fail(-EIO, "cannot write %s: %s", path, img.message);
  return 0;
}
