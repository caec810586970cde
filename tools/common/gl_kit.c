/* GL helpers on whatever GL context is current (gl_kit.h). */
#include "common/gl_kit.h"

#include <errno.h>
#include <string.h>

#include "common/tool_error.h"

/* Through libepoxy rather than egl_kit_gl_on_device: the window's context may
 * be GLX, where eglGetProcAddress has nothing to say. */
bool gl_context_same_device(const uint8_t uuid[16]) {
  if (!epoxy_has_gl_extension("GL_EXT_memory_object")) return true;
  GLubyte gl_uuid[GL_UUID_SIZE_EXT] = {0};
  glGetUnsignedBytei_vEXT(GL_DEVICE_UUID_EXT, 0, gl_uuid);
  return memcmp(gl_uuid, uuid, 16) == 0;
}

GLuint gl_compile(GLenum type, const char *src) {
  GLuint s = glCreateShader(type);
  glShaderSource(s, 1, &src, NULL);
  glCompileShader(s);
  GLint ok = 0;
  glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[512] = "";
    glGetShaderInfoLog(s, sizeof(log), NULL, log);
    tool_fail(-EIO, "GL shader does not compile: %s", log);
    glDeleteShader(s);
    return 0;
  }
  return s;
}
