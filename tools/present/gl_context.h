/* A headless OpenGL 4.5 core context on a given GPU through EGL (the device
 * platform, else Mesa's surfaceless one), for the tool's GL consumers:
 * present_gl.c and bench_gl.c. */
#ifndef IFD_TOOLS_GL_CONTEXT_H
#define IFD_TOOLS_GL_CONTEXT_H

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
  EGLDisplay dpy; /* EGL_NO_DISPLAY when closed */
  EGLContext ctx;
} gl_context;

/* Opens a surfaceless GL 4.5 core context on the device whose UUID is uuid and
 * makes it current on the calling thread. Errors: -ENODEV none; -EXDEV GL runs
 * on another device. On failure *p is closed. Set p->dpy = EGL_NO_DISPLAY and
 * p->ctx = EGL_NO_CONTEXT before the first call. */
int gl_context_open(gl_context *p, const uint8_t uuid[16]);
void gl_context_close(gl_context *p); /* a closed context is a no-op */

/* True if the current context's GL device is uuid (or GL cannot say). */
bool gl_context_same_device(const uint8_t uuid[16]);

/* A compiled shader, or 0 with the log in tool_last_error(). */
GLuint gl_compile(GLenum type, const char *src);

#endif
