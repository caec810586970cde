/* The tests' OpenGL consumer application: a surfaceless EGL context with
 * desktop GL 4.5 core (the device platform on a GPU server with no display,
 * Mesa's surfaceless platform on the CPU machines) and a draw of a texture
 * into an RGBA32F framebuffer that is read back, so checks see what GL
 * samples. Test code only: the context comes from the tools' EGL kit
 * (tools/common/egl_kit.h), GL calls go through libepoxy. */
#ifndef IFD_TEST_GL_ENV_H
#define IFD_TEST_GL_ENV_H

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Makes a context current. On failure leaves nothing behind and says why. */
bool gle_open(char *why, size_t why_size);
void gle_close(void);
/* Whole-token search in a space-separated extension list. */
bool gle_has_ext(const char *list, const char *name);

/* The blit program and an empty VAO, bound. */
GLuint gle_program(void);
void gle_program_free(GLuint prog);

/* A program that draws a BUFFER frame through gl.h's IFD_GL_BUFFER_GLSL,
 * the documented snippet itself: uniforms 0 (format) and 1 (row pitch) are
 * set by gle_draw_buffer. 0 on failure. */
GLuint gle_buffer_program(void);

/* As gle_draw, but reads pixel (x, y) of `buffer` (storage buffer binding
 * 0) through gle_buffer_program's `prog`, as a frame of MAX_Format `format`
 * with rows row_pitch bytes apart. */
GLenum gle_draw_buffer(GLuint prog, GLuint buffer, uint32_t format, uint32_t row_pitch,
                       uint32_t w, uint32_t h, float *px);

/* Draws texture `tex` (texelFetch, so its swizzle applies) into a w x h
 * RGBA32F framebuffer cleared to -100 and reads every pixel into px (w*h*4
 * floats, row 0 = texel row 0). Returns the first GL error or GL_NO_ERROR. */
GLenum gle_draw(GLuint prog, GLuint tex, uint32_t w, uint32_t h, float *px);

#endif
