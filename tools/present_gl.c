/* The OpenGL consumer: a GL 4.5 core context (the window's, or a surfaceless
 * EGL one on the producer's device), an interop_fd GL importer, and a
 * fullscreen-triangle draw of each imported frame into the window or an
 * offscreen RGBA8 framebuffer. Waits and signals are enqueued in GL's command
 * stream (GL_NV_timeline_semaphore), so nothing blocks the CPU. */
#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "present.h"
#include "tool_error.h"

typedef struct {
  presenter base;
  window *win;
  bool vsync;
  EGLDisplay dpy;
  EGLContext ctx;
  ifd_gl_importer *importer;
  ifd_gl_ring *ring;
  GLuint program, vao;
  GLint loc_size, loc_srgb, loc_flip;
  GLuint fbo, target; /* headless */
} glp;

static bool has_token(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *s = list; s && (s = strstr(s, name)); s += n)
    if ((s == list || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0')) return true;
  return false;
}

/* ------------------------------------------------------------------ EGL */

static void egl_close(glp *p) {
  if (p->dpy == EGL_NO_DISPLAY) return;
  eglMakeCurrent(p->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  if (p->ctx != EGL_NO_CONTEXT) eglDestroyContext(p->dpy, p->ctx);
  eglTerminate(p->dpy);
  eglReleaseThread();
  p->dpy = EGL_NO_DISPLAY;
  p->ctx = EGL_NO_CONTEXT;
}

/* True if the current context's GL device is `uuid` (or GL cannot say). */
static bool same_device(const uint8_t uuid[16]) {
  if (!epoxy_has_gl_extension("GL_EXT_memory_object")) return true;
  GLubyte gl_uuid[GL_UUID_SIZE_EXT] = {0};
  glGetUnsignedBytei_vEXT(GL_DEVICE_UUID_EXT, 0, gl_uuid);
  return memcmp(gl_uuid, uuid, 16) == 0;
}

/* A surfaceless GL 4.5 core context on dpy, current, on the producer's device. */
static int try_display(glp *p, EGLDisplay dpy, const char *platform, const uint8_t uuid[16]) {
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
    egl_close(p);
    return tool_fail(-ENODEV, "%s: no surfaceless desktop GL", platform);
  }
  const EGLint attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 4, EGL_CONTEXT_MINOR_VERSION, 5,
                          EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                          EGL_NONE};
  if (!eglBindAPI(EGL_OPENGL_API) ||
      (p->ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, attrs)) == EGL_NO_CONTEXT ||
      !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, p->ctx)) {
    int rc = tool_fail(-ENODEV, "%s: no GL 4.5 core context (0x%04x)", platform, eglGetError());
    egl_close(p);
    return rc;
  }
  if (!same_device(uuid)) {
    egl_close(p);
    return tool_fail(-EXDEV, "%s: GL runs on another device than the producer", platform);
  }
  return 0;
}

/* The device platform first (the only one on a GPU server with no display),
 * then Mesa's surfaceless platform (the CPU machines). */
static int egl_open(glp *p, const uint8_t uuid[16]) {
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

/* ------------------------------------------------------------------ program */

static GLuint compile(GLenum type, const char *src) {
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

/* The same draw as tools/shaders/present.frag; `flip` because GL's window
 * origin is at the bottom while frames store their top row first. */
static int make_program(glp *p) {
  static const char *vs =
      "#version 450 core\n"
      "void main() {\n"
      "  vec2 q = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);\n"
      "  gl_Position = vec4(q, 0.0, 1.0);\n"
      "}\n";
  static const char *fs =
      "#version 450 core\n"
      "layout(binding = 0) uniform sampler2D frame;\n"
      "uniform vec2 target_size;\n"
      "uniform int srgb_encode;\n"
      "uniform int flip;\n"
      "out vec4 out_color;\n"
      "vec3 encode(vec3 c) {\n"
      "  c = clamp(c, 0.0, 1.0);\n"
      "  return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(vec3(0.0031308), c));\n"
      "}\n"
      "void main() {\n"
      "  vec2 uv = gl_FragCoord.xy / target_size;\n"
      "  if (flip != 0) uv.y = 1.0 - uv.y;\n"
      "  vec4 c = texture(frame, uv);\n"
      "  if (srgb_encode != 0) c.rgb = encode(c.rgb);\n"
      "  out_color = c;\n"
      "}\n";
  GLuint v = compile(GL_VERTEX_SHADER, vs);
  GLuint f = v ? compile(GL_FRAGMENT_SHADER, fs) : 0;
  if (!f) {
    if (v) glDeleteShader(v);
    return -EIO;
  }
  p->program = glCreateProgram();
  glAttachShader(p->program, v);
  glAttachShader(p->program, f);
  glLinkProgram(p->program);
  glDeleteShader(v);
  glDeleteShader(f);
  GLint ok = 0;
  glGetProgramiv(p->program, GL_LINK_STATUS, &ok);
  if (!ok) return tool_fail(-EIO, "GL program does not link");
  p->loc_size = glGetUniformLocation(p->program, "target_size");
  p->loc_srgb = glGetUniformLocation(p->program, "srgb_encode");
  p->loc_flip = glGetUniformLocation(p->program, "flip");
  glCreateVertexArrays(1, &p->vao); /* core profile draws need one, even empty */
  return 0;
}

/* ------------------------------------------------------------------ ops */

static void gl_destroy(presenter *base) {
  glp *p = (glp *)base;
  bool current = p->win || p->ctx != EGL_NO_CONTEXT;
  if (current) glFinish();
  ifd_gl_ring_destroy(p->ring);
  ifd_gl_importer_destroy(p->importer);
  if (current) {
    if (p->fbo) glDeleteFramebuffers(1, &p->fbo);
    if (p->target) glDeleteTextures(1, &p->target);
    if (p->vao) glDeleteVertexArrays(1, &p->vao);
    if (p->program) glDeleteProgram(p->program);
  }
  egl_close(p);
  free(p);
}

static int gl_import(presenter *base, ifd_ring_desc *desc) {
  glp *p = (glp *)base;
  if (p->ring) return tool_fail(-EINVAL, "a ring is already imported");
  if (!p->win) {
    glCreateTextures(GL_TEXTURE_2D, 1, &p->target);
    glTextureStorage2D(p->target, 1, GL_RGBA8, (GLsizei)p->base.width, (GLsizei)p->base.height);
    glCreateFramebuffers(1, &p->fbo);
    glNamedFramebufferTexture(p->fbo, GL_COLOR_ATTACHMENT0, p->target, 0);
    if (glCheckNamedFramebufferStatus(p->fbo, GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
      return tool_fail(-EIO, "RGBA8 framebuffer incomplete");
  }
  bool timelines = desc->ready_fd >= 0; /* consumed by the import */
  int rc = ifd_gl_ring_import(p->importer, desc, IFD_GL_PATH_AUTO, &p->ring);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  ifd_gl_frame_native fh;
  ifd_gl_frame_native_handles(ifd_gl_ring_frame(p->ring, 1), &fh);
  p->base.path_name = fh.path == IFD_GL_PATH_LINEAR ? "LINEAR" : "COPY";
  p->base.timelines = timelines;
  return 0;
}

static int gl_draw(presenter *base, uint64_t k, uint8_t *rgba) {
  glp *p = (glp *)base;
  if (!p->ring || k == 0) return tool_fail(-EINVAL, "no ring imported, or frame 0");
  if (rgba && p->win) return tool_fail(-EINVAL, "read-back is for headless targets");
  GLuint tex = 0;
  int rc = ifd_gl_ring_acquire(p->ring, k, &tex);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  uint32_t w = p->base.width, h = p->base.height;
  if (p->win) window_framebuffer_size(p->win, &w, &h);
  glBindFramebuffer(GL_FRAMEBUFFER, p->win ? 0 : p->fbo);
  glViewport(0, 0, (GLsizei)w, (GLsizei)h);
  glUseProgram(p->program);
  glBindVertexArray(p->vao);
  glUniform2f(p->loc_size, (float)w, (float)h);
  glUniform1i(p->loc_srgb, p->base.srgb_frames);
  glUniform1i(p->loc_flip, p->win != NULL);
  glBindTextureUnit(0, tex);
  if (w && h) glDrawArrays(GL_TRIANGLES, 0, 3);
  glBindTextureUnit(0, 0);
  rc = ifd_gl_ring_release(p->ring, k);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  if (p->win) {
    window_swap(p->win);
  } else if (rgba) {
    glNamedFramebufferReadBuffer(p->fbo, GL_COLOR_ATTACHMENT0);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, (GLsizei)w, (GLsizei)h, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
  }
  GLenum err = glGetError();
  if (err != GL_NO_ERROR) return tool_fail(-EIO, "GL error 0x%04x while drawing frame %llu", err,
                                           (unsigned long long)k);
  return 0;
}

static int gl_finish(presenter *base) {
  (void)base;
  glFinish();
  return 0;
}

static const present_ops gl_ops = {gl_destroy, gl_import, gl_draw, gl_finish};

int present_gl_create(const present_config *cfg, presenter **out) {
  glp *p = calloc(1, sizeof(*p));
  if (!p) return tool_fail(-ENOMEM, "out of memory");
  p->base.ops = &gl_ops;
  p->win = cfg->win;
  p->vsync = cfg->vsync;
  p->dpy = EGL_NO_DISPLAY;
  p->ctx = EGL_NO_CONTEXT;
  int rc = 0;
  if (p->win) {
    window_swap_interval(p->win, p->vsync ? 1 : 0);
    if (!same_device(cfg->device_uuid))
      rc = tool_fail(-EXDEV, "the window's GL runs on another device than the producer");
  } else {
    rc = egl_open(p, cfg->device_uuid);
  }
  if (rc == 0) {
    const char *renderer = (const char *)glGetString(GL_RENDERER);
    snprintf(p->base.device_name, sizeof(p->base.device_name), "%s", renderer ? renderer : "?");
    ifd_gl_get_proc_address gp = cfg->importer_get_proc;
    if (!gp && p->win) gp = window_gl_get_proc(p->win);
    if (ifd_gl_importer_create(gp, &p->importer) != 0)
      rc = tool_fail(-ENODEV, "%s", ifd_last_error());
  }
  if (rc == 0) rc = make_program(p);
  if (rc != 0) {
    gl_destroy(&p->base);
    return rc;
  }
  *out = &p->base;
  return 0;
}
