/* PNG files of the demo's frames, through libpng. */
#ifndef IFD_TOOLS_PNG_WRITE_H
#define IFD_TOOLS_PNG_WRITE_H

#include <stdint.h>

/* Writes w x h RGBA8 pixels (row 0 at the top) to path, as an RGBA PNG. Errors: -EIO with libpng's message. */
int png_write_rgba(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h);

#endif
