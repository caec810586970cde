/* Headless GL contexts for the tool (gl_context.h). */
#include "present/gl_context.h"

#include <errno.h>
#include <string.h>

#include "common/tool_error.h"

static bool has_token(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *s = list; s && (s = strstr(s, name)); s += n)
    if ((s == list || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0')) return true;
  return false;
}

/* ------------------------------------------------------------------ EGL */

void gl_context_close(gl_context *p) {
  if (p->dpy == EGL_NO_DISPLAY) return;
  eglMakeCurrent(p->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  if (p->ctx != EGL_NO_CONTEXT) eglDestroyContext(p->dpy, p->ctx);
  eglTerminate(p->dpy);
  eglReleaseThread();
  p->dpy = EGL_NO_DISPLAY;
  p->ctx = EGL_NO_CONTEXT;
}

/* True if the current context's GL device is `uuid` (or GL cannot say). */
bool gl_context_same_device(const uint8_t uuid[16]) {
  if (!epoxy_has_gl_extension("GL_EXT_memory_object")) return true;
  GLubyte gl_uuid[GL_UUID_SIZE_EXT] = {0};
  glGetUnsignedBytei_vEXT(GL_DEVICE_UUID_EXT, 0, gl_uuid);
  return memcmp(gl_uuid, uuid, 16) == 0;
}

/* A surfaceless GL 4.5 core context on dpy, current, on the producer's device. */
static int try_display(gl_context *p, EGLDisplay dpy, const char *platform, const uint8_t uuid[16]) {
  if (dpy == EGL_NO_DISPLAY) return tool_fail(-ENODEV, "%s: no EGL display", platform);
  if (!eglInitialize(dpy, NULL, NULL))
    return tool_fail(-ENODEV, "%s: eglInitialize failed (0x%04x)", platform, eglGetError());
  p->dpy = dpy;
  const char *ext = eglQueryString(dpy, EGL_EXTENSIONS);
  EGLConfig cfg = EGL_NO_CONFIG_KHR;
  EGLint ncfg = 0;
  const EGLint cfg_attrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE};
  if (!has_token(ext, "EGL_KHR_surfaceless_context") ||
      (!has_token(ext, "EGL_KHR_no_config_context") &&
       (!eglChooseConfig(dpy, cfg_attrs, &cfg, 1, &ncfg) || ncfg < 1))) {
    gl_context_close(p);
    return tool_fail(-ENODEV, "%s: no surfaceless desktop GL", platform);
  }
  const EGLint attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 4, EGL_CONTEXT_MINOR_VERSION, 5,
                          EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                          EGL_NONE};
  if (!eglBindAPI(EGL_OPENGL_API) ||
      (p->ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, attrs)) == EGL_NO_CONTEXT ||
      !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, p->ctx)) {
    int rc = tool_fail(-ENODEV, "%s: no GL 4.5 core context (0x%04x)", platform, eglGetError());
    gl_context_close(p);
    return rc;
  }
  if (!gl_context_same_device(uuid)) {
    gl_context_close(p);
    return tool_fail(-EXDEV, "%s: GL runs on another device than the producer", platform);
  }
  return 0;
}

/* The device platform first (the only one on a GPU server with no display),
 * then Mesa's surfaceless platform (the CPU machines). */
int gl_context_open(gl_context *p, const uint8_t uuid[16]) {
  const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (!client || !has_token(client, "EGL_EXT_platform_base"))
    return tool_fail(-ENODEV, "EGL has no platform displays (no libEGL or no driver)");
  int rc = tool_fail(-ENODEV, "no EGL device or surfaceless platform");
  if (has_token(client, "EGL_EXT_platform_device") && has_token(client, "EGL_EXT_device_enumeration")) {
    EGLDeviceEXT devs[16];
    EGLint n = 0;
    if (eglQueryDevicesEXT(16, devs, &n))
      for (EGLint i = 0; i < n; i++)
        if ((rc = try_display(p, eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devs[i], NULL),
                              "EGL device", uuid)) == 0)
          return 0;
  }
  if (has_token(client, "EGL_MESA_platform_surfaceless"))
    rc = try_display(p, eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL),
                     "EGL surfaceless", uuid);
  return rc;
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

