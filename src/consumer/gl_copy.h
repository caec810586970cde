/* The GL COPY path's compute copy (gl_copy.c): a compute shader reads the
 * frame's rows from a buffer bound as a shader storage buffer and writes them
 * with imageStore into a view of the texture in the unsigned-integer format
 * of the texel's size (GL_R8UI, GL_R16UI, GL_R32UI, GL_RG32UI, GL_RGBA32UI),
 * so the bytes land unchanged whatever the format (sRGB included: a view has
 * no sRGB decode or encode). Private to the library; free of GL headers so
 * that a test with its own GL loader can drive it on an ordinary buffer. */
#ifndef IFD_GL_COPY_H
#define IFD_GL_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "interop_fd/gl.h"

/* 1 where the compute copy can move a `size`-byte buffer holding a w x h
 * frame of texel_bytes-sized texels into a texture on this importer's
 * context, else 0 with the reason in why (why_size bytes). */
int ifd_glc_copy_fits(const ifd_gl_importer *imp, uint32_t texel_bytes, uint64_t size,
                      uint32_t width, uint32_t height, char *why, size_t why_size);

/* Makes *view, a view of `texture` (immutable storage, one level, an internal
 * format of texel_bytes bytes) in the integer format of that size.
 * Errors: -EIO GL raised an error. */
int ifd_glc_copy_view(ifd_gl_importer *imp, uint32_t texture, uint32_t texel_bytes,
                      uint32_t *view);

/* Enqueues the copy of a w x h frame with rows row_pitch bytes apart (a
 * multiple of texel_bytes) from `buffer` into `view`, then a memory barrier
 * that makes the writes visible to sampling, image loads, texture reads and
 * framebuffer use. The program of that texel size is made on first use.
 * The program, storage buffer binding 0 (indexed and generic) and image unit
 * 0 are restored. Errors: -EIO the shader did not build (message has the log)
 * or GL raised an error; -ENOMEM GL_OUT_OF_MEMORY. */
int ifd_glc_copy_run(ifd_gl_importer *imp, uint32_t buffer, uint32_t view, uint32_t texel_bytes,
                     uint32_t width, uint32_t height, uint32_t row_pitch);

/* Deletes the importer's copy programs (its context current); issues no GL
 * where there are none. */
void ifd_glc_copy_release(ifd_gl_importer *imp);

#endif
