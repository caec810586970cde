/* GL helpers of the tool's GL consumers (present_gl.c and bench_gl.c). Their
 * headless contexts come from the EGL kit (common/egl_kit.h); these work on
 * whatever GL context is current, the window's included, through libepoxy. */
#ifndef IFD_TOOLS_GL_KIT_H
#define IFD_TOOLS_GL_KIT_H

#include <epoxy/gl.h>
#include <stdbool.h>
#include <stdint.h>

/* True if the current context's GL device is uuid (or GL cannot say). */
bool gl_context_same_device(const uint8_t uuid[16]);

/* A compiled shader, or 0 with the log in tool_last_error(). */
GLuint gl_compile(GLenum type, const char *src);

#endif
