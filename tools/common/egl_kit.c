/* Headless EGL/GL by device UUID (egl_kit.h). */
#define EGL_EGL_PROTOTYPES 0

#include "common/egl_kit.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/tool_error.h"

/* The few GL enums queried here (values of GL/glext.h), so no GL header is needed. */
#define KIT_GL_EXTENSIONS 0x1F03
#define KIT_GL_NUM_EXTENSIONS 0x821D
#define KIT_GL_NUM_DEVICE_UUIDS_EXT 0x9596
#define KIT_GL_DEVICE_UUID_EXT 0x9597

/* EGL 1.2 entry points every libEGL exports, then extensions (may be NULL). */
#define EGL_KIT_CORE_FNS(X)                         \
  X(eglGetError, PFNEGLGETERRORPROC)                \
  X(eglQueryString, PFNEGLQUERYSTRINGPROC)          \
  X(eglInitialize, PFNEGLINITIALIZEPROC)            \
  X(eglTerminate, PFNEGLTERMINATEPROC)              \
  X(eglBindAPI, PFNEGLBINDAPIPROC)                  \
  X(eglChooseConfig, PFNEGLCHOOSECONFIGPROC)        \
  X(eglCreateContext, PFNEGLCREATECONTEXTPROC)      \
  X(eglDestroyContext, PFNEGLDESTROYCONTEXTPROC)    \
  X(eglMakeCurrent, PFNEGLMAKECURRENTPROC)          \
  X(eglReleaseThread, PFNEGLRELEASETHREADPROC)
#define EGL_KIT_EXT_FNS(X)                                        \
  X(eglQueryDevicesEXT, PFNEGLQUERYDEVICESEXTPROC)                \
  X(eglQueryDeviceStringEXT, PFNEGLQUERYDEVICESTRINGEXTPROC)      \
  X(eglQueryDeviceAttribEXT, PFNEGLQUERYDEVICEATTRIBEXTPROC)      \
  X(eglQueryDeviceBinaryEXT, PFNEGLQUERYDEVICEBINARYEXTPROC)      \
  X(eglGetPlatformDisplayEXT, PFNEGLGETPLATFORMDISPLAYEXTPROC)

static struct {
  int loaded; /* 0: not tried; 1: usable; < 0: the error */
  char why[256];
  PFNEGLGETPROCADDRESSPROC get_proc;
#define EGL_KIT_DECLARE(name, type) type name;
  EGL_KIT_CORE_FNS(EGL_KIT_DECLARE)
  EGL_KIT_EXT_FNS(EGL_KIT_DECLARE)
#undef EGL_KIT_DECLARE
  EGLDeviceEXT devices[EGL_KIT_MAX_DEVICES];
  int n_devices;
} g;

int egl_kit_load(void) {
  if (g.loaded == 0) {
    void *lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      snprintf(g.why, sizeof(g.why), "cannot load libEGL.so.1: %s", dlerror());
      g.loaded = -ENOENT;
    } else {
      g.get_proc = (PFNEGLGETPROCADDRESSPROC)dlsym(lib, "eglGetProcAddress");
      const char *missing = g.get_proc ? NULL : "eglGetProcAddress";
#define EGL_KIT_CORE(name, type)                                               \
  g.name = (type)dlsym(lib, #name);                                            \
  if (!g.name && !missing) missing = #name;
      EGL_KIT_CORE_FNS(EGL_KIT_CORE)
#undef EGL_KIT_CORE
      if (missing) {
        snprintf(g.why, sizeof(g.why), "libEGL.so.1 lacks %s", missing);
        g.loaded = -ENODEV;
        dlclose(lib);
      } else {
#define EGL_KIT_EXT(name, type) g.name = (type)g.get_proc(#name);
        EGL_KIT_EXT_FNS(EGL_KIT_EXT)
#undef EGL_KIT_EXT
        g.loaded = 1; /* stays loaded: contexts and epoxy's dispatch use it */
      }
    }
  }
  return g.loaded == 1 ? 0 : tool_fail(g.loaded, "%s", g.why);
}

bool egl_kit_has_token(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && (p = strstr(p, name)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
  return false;
}

const char *egl_kit_client_extensions(void) {
  if (g.loaded != 1) return NULL;
  const char *client = g.eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  g.eglGetError(); /* EGL without client extensions leaves an error behind */
  return client && client[0] ? client : NULL;
}

/* ------------------------------------------------------------------ devices */

int egl_kit_device_count(void) {
  g.n_devices = 0;
  const char *client = egl_kit_client_extensions();
  if (!g.eglQueryDevicesEXT || !(egl_kit_has_token(client, "EGL_EXT_device_enumeration") ||
                                 egl_kit_has_token(client, "EGL_EXT_device_base")))
    return 0;
  EGLint n = 0;
  if (!g.eglQueryDevicesEXT(EGL_KIT_MAX_DEVICES, g.devices, &n)) n = 0;
  g.n_devices = n;
  return n;
}

static bool device_ok(int device) { return device >= 0 && device < g.n_devices; }

const char *egl_kit_device_string(int device, int name) {
  if (!device_ok(device) || !g.eglQueryDeviceStringEXT) return NULL;
  const char *s = g.eglQueryDeviceStringEXT(g.devices[device], name);
  if (!s) g.eglGetError(); /* a query the device lacks leaves an error behind */
  return s;
}

bool egl_kit_device_attrib(int device, int attribute, intptr_t *value) {
  EGLAttrib v = 0;
  if (!device_ok(device) || !g.eglQueryDeviceAttribEXT ||
      !g.eglQueryDeviceAttribEXT(g.devices[device], attribute, &v)) {
    if (g.loaded == 1) g.eglGetError();
    return false;
  }
  *value = (intptr_t)v;
  return true;
}

bool egl_kit_device_uuid(int device, uint8_t uuid[16]) {
  EGLint size = 0;
  const char *ext = egl_kit_device_string(device, EGL_EXTENSIONS);
  if (!egl_kit_has_token(ext, "EGL_EXT_device_persistent_id") || !g.eglQueryDeviceBinaryEXT)
    return false;
  if (!g.eglQueryDeviceBinaryEXT(g.devices[device], EGL_DEVICE_UUID_EXT, 16, uuid, &size) ||
      size != 16) {
    g.eglGetError();
    return false;
  }
  return true;
}

/* ------------------------------------------------------------------ contexts */

void egl_kit_close(egl_kit_context *c) {
  if (!c->dpy) return;
  g.eglMakeCurrent(c->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  if (c->ctx) g.eglDestroyContext(c->dpy, c->ctx);
  g.eglTerminate(c->dpy);
  g.eglReleaseThread(); /* the thread's EGL state, or leak checkers see it */
  c->dpy = NULL;
  c->ctx = NULL;
}

void egl_kit_release_thread(void) {
  if (g.loaded == 1) g.eglReleaseThread();
}

void (*egl_kit_proc(const char *name))(void) {
  return g.loaded == 1 ? g.get_proc(name) : NULL;
}

int egl_kit_open_display(egl_kit_context *c, int device) {
  memset(c, 0, sizeof(*c));
  c->device = device;
  int rc = egl_kit_load();
  if (rc != 0) return rc;
  if (device != EGL_KIT_SURFACELESS && !device_ok(device))
    return tool_fail(-ENODEV, "no EGL device %d", device);
  EGLDisplay dpy = EGL_NO_DISPLAY;
  if (g.eglGetPlatformDisplayEXT)
    dpy = device == EGL_KIT_SURFACELESS
              ? g.eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL)
              : g.eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, g.devices[device], NULL);
  if (dpy == EGL_NO_DISPLAY)
    return tool_fail(-ENODEV, "no EGL display (0x%04x)", g.eglGetError());
  if (!g.eglInitialize(dpy, NULL, NULL))
    return tool_fail(-ENODEV, "eglInitialize failed (0x%04x)", g.eglGetError());
  c->dpy = dpy;
  const char *ext = g.eglQueryString(dpy, EGL_EXTENSIONS);
  /* No surface is ever made, so any config that renders desktop GL will do;
   * EGL_KHR_no_config_context spares the choice altogether. */
  EGLConfig cfg = EGL_NO_CONFIG_KHR;
  EGLint ncfg = 0;
  const EGLint cfg_attrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE};
  const EGLint ctx_attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 4, EGL_CONTEXT_MINOR_VERSION, 5,
                              EGL_CONTEXT_OPENGL_PROFILE_MASK,
                              EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE};
  if (!egl_kit_has_token(ext, "EGL_KHR_surfaceless_context")) {
    rc = tool_fail(-ENODEV, "the display has no EGL_KHR_surfaceless_context");
  } else if (!egl_kit_has_token(ext, "EGL_KHR_no_config_context") &&
             (!g.eglChooseConfig(dpy, cfg_attrs, &cfg, 1, &ncfg) || ncfg < 1)) {
    rc = tool_fail(-ENODEV, "no EGL config renders desktop OpenGL");
  } else if (!g.eglBindAPI(EGL_OPENGL_API) ||
             (c->ctx = g.eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attrs)) ==
                 EGL_NO_CONTEXT) {
    rc = tool_fail(-ENODEV, "no OpenGL 4.5 core context (0x%04x)", g.eglGetError());
  } else if (!g.eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, c->ctx)) {
    rc = tool_fail(-ENODEV, "eglMakeCurrent failed (0x%04x)", g.eglGetError());
  } else {
    return 0;
  }
  egl_kit_close(c);
  return rc;
}

/* Opens a context on one display and keeps it if it runs on uuid. */
static int try_display(egl_kit_context *c, int device, const uint8_t uuid[16]) {
  char platform[32];
  if (device == EGL_KIT_SURFACELESS)
    snprintf(platform, sizeof(platform), "EGL surfaceless");
  else
    snprintf(platform, sizeof(platform), "EGL device %d", device);
  int rc = egl_kit_open_display(c, device);
  if (rc != 0) return tool_fail(rc, "%s: %s", platform, tool_last_error());
  if (uuid && !egl_kit_gl_on_device(uuid)) {
    egl_kit_close(c);
    return tool_fail(-EXDEV, "%s: GL runs on another device than the producer", platform);
  }
  return 0;
}

/* The device platform first (the only one on a GPU server with no display),
 * then Mesa's surfaceless platform (the CPU machines). */
int egl_kit_open(egl_kit_context *c, const uint8_t uuid[16]) {
  memset(c, 0, sizeof(*c));
  int rc = egl_kit_load();
  if (rc != 0) return rc;
  const char *client = egl_kit_client_extensions();
  if (!client)
    return tool_fail(-ENODEV, "EGL reports no client extensions (is an EGL vendor library, "
                              "e.g. Mesa's or NVIDIA's, installed?)");
  if (!egl_kit_has_token(client, "EGL_EXT_platform_base") || !g.eglGetPlatformDisplayEXT)
    return tool_fail(-ENODEV, "EGL has no EGL_EXT_platform_base: no display without a window "
                              "system");
  rc = tool_fail(-ENODEV, "no EGL device or surfaceless platform");
  if (egl_kit_has_token(client, "EGL_EXT_platform_device")) {
    int n = egl_kit_device_count();
    for (int i = 0; i < n; i++)
      if ((rc = try_display(c, i, uuid)) == 0) return 0;
  }
  if (egl_kit_has_token(client, "EGL_MESA_platform_surfaceless"))
    rc = try_display(c, EGL_KIT_SURFACELESS, uuid);
  return rc;
}

/* ------------------------------------------------------------------ GL queries */

int egl_kit_gl_uuids(uint8_t uuids[][16], int max) {
  void (*get_integerv)(unsigned, int *) = (void (*)(unsigned, int *))egl_kit_proc("glGetIntegerv");
  const unsigned char *(*get_stringi)(unsigned, unsigned) =
      (const unsigned char *(*)(unsigned, unsigned))egl_kit_proc("glGetStringi");
  unsigned (*get_error)(void) = (unsigned (*)(void))egl_kit_proc("glGetError");
  void (*get_uuid)(unsigned, unsigned, unsigned char *) =
      (void (*)(unsigned, unsigned, unsigned char *))egl_kit_proc("glGetUnsignedBytei_vEXT");
  if (!get_integerv || !get_stringi || !get_error || !get_uuid) return 0;
  int n_ext = 0;
  bool memory_object = false;
  get_integerv(KIT_GL_NUM_EXTENSIONS, &n_ext);
  for (int i = 0; i < n_ext && !memory_object; i++) {
    const char *e = (const char *)get_stringi(KIT_GL_EXTENSIONS, (unsigned)i);
    memory_object = e && strcmp(e, "GL_EXT_memory_object") == 0;
  }
  if (!memory_object) return 0;
  while (get_error() != 0) continue; /* earlier errors are not ours */
  int n = 0;
  get_integerv(KIT_GL_NUM_DEVICE_UUIDS_EXT, &n);
  if (n > max) n = max;
  for (int i = 0; i < n; i++) get_uuid(KIT_GL_DEVICE_UUID_EXT, (unsigned)i, uuids[i]);
  return get_error() == 0 ? n : 0;
}

bool egl_kit_gl_on_device(const uint8_t uuid[16]) {
  uint8_t uuids[EGL_KIT_MAX_GL_UUIDS][16];
  int n = egl_kit_gl_uuids(uuids, EGL_KIT_MAX_GL_UUIDS);
  return n == 0 || memcmp(uuids[0], uuid, 16) == 0;
}
