#include "gl_env.h"

#include <stdio.h>
#include <string.h>

static EGLDisplay g_dpy = EGL_NO_DISPLAY;
static EGLContext g_ctx = EGL_NO_CONTEXT;
static char g_why[256] = "no EGL platform tried"; /* last setup failure, for SKIP */

/* Whole-token search in a space-separated extension list. */
bool gle_has_ext(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && (p = strstr(p, name)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
  return false;
}

void gle_close(void) {
  if (g_dpy == EGL_NO_DISPLAY) return;
  eglMakeCurrent(g_dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  if (g_ctx != EGL_NO_CONTEXT) eglDestroyContext(g_dpy, g_ctx);
  eglTerminate(g_dpy);
  eglReleaseThread();
  g_dpy = EGL_NO_DISPLAY;
  g_ctx = EGL_NO_CONTEXT;
}

/* Initialises dpy and makes a surfaceless GL 4.5 core context current on it.
 * On failure leaves nothing behind and says why in g_why. */
static bool try_display(EGLDisplay dpy, const char *platform) {
  if (dpy == EGL_NO_DISPLAY) {
    snprintf(g_why, sizeof(g_why), "%s: no EGL display (0x%04x)", platform, eglGetError());
    return false;
  }
  if (!eglInitialize(dpy, NULL, NULL)) {
    snprintf(g_why, sizeof(g_why), "%s: eglInitialize failed (0x%04x)", platform, eglGetError());
    return false;
  }
  g_dpy = dpy;
  const char *ext = eglQueryString(dpy, EGL_EXTENSIONS);
  if (!gle_has_ext(ext, "EGL_KHR_surfaceless_context")) {
    snprintf(g_why, sizeof(g_why), "%s: no EGL_KHR_surfaceless_context", platform);
    gle_close();
    return false;
  }
  /* No surface is ever made, so any config that renders desktop GL will do;
   * EGL_KHR_no_config_context spares the choice altogether. */
  EGLConfig cfg = EGL_NO_CONFIG_KHR;
  EGLint ncfg = 0;
  const EGLint cfg_attrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE};
  if (!gle_has_ext(ext, "EGL_KHR_no_config_context") &&
      (!eglChooseConfig(dpy, cfg_attrs, &cfg, 1, &ncfg) || ncfg < 1)) {
    snprintf(g_why, sizeof(g_why), "%s: no EGL config renders desktop GL", platform);
    gle_close();
    return false;
  }
  const EGLint ctx_attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 4, EGL_CONTEXT_MINOR_VERSION, 5,
                              EGL_CONTEXT_OPENGL_PROFILE_MASK,
                              EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE};
  if (!eglBindAPI(EGL_OPENGL_API) ||
      (g_ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attrs)) == EGL_NO_CONTEXT ||
      !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, g_ctx)) {
    snprintf(g_why, sizeof(g_why), "%s: no current GL 4.5 core context (0x%04x)", platform,
             eglGetError());
    gle_close();
    return false;
  }
  printf("EGL %s: %s, %s\n", platform, (const char *)glGetString(GL_RENDERER),
         (const char *)glGetString(GL_VERSION));
  return true;
}

/* The device platform first: it is the only one on a GPU server with no
 * display. Mesa's surfaceless platform is what the CPU machines have. */
static bool egl_setup(void) {
  const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (!client) {
    snprintf(g_why, sizeof(g_why), "EGL has no client extensions (no platform displays)");
    return false;
  }
  if (!gle_has_ext(client, "EGL_EXT_platform_base")) {
    snprintf(g_why, sizeof(g_why), "no EGL_EXT_platform_base");
    return false;
  }
  if (gle_has_ext(client, "EGL_EXT_platform_device") &&
      (gle_has_ext(client, "EGL_EXT_device_enumeration") || gle_has_ext(client, "EGL_EXT_device_base"))) {
    EGLDeviceEXT devs[16];
    EGLint n = 0;
    if (eglQueryDevicesEXT(16, devs, &n))
      for (EGLint i = 0; i < n; i++)
        if (try_display(eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devs[i], NULL),
                        "device platform"))
          return true;
  }
  if (gle_has_ext(client, "EGL_MESA_platform_surfaceless") &&
      try_display(eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY,
                                           NULL),
                  "surfaceless platform"))
    return true;
  return false;
}

static GLuint compile(GLenum type, const char *src) {
  GLuint s = glCreateShader(type);
  glShaderSource(s, 1, &src, NULL);
  glCompileShader(s);
  GLint ok = 0;
  glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[1024] = "";
    glGetShaderInfoLog(s, sizeof(log), NULL, log);
    fprintf(stderr, "shader compile failed: %s\n", log);
  }
  return ok ? s : 0;
}

/* One triangle covering the viewport; each fragment fetches the texel under
 * it, so the framebuffer becomes a copy of the texture as GL sees it (with the
 * format's swizzle, which applies to texelFetch too). */
static GLuint make_program(void) {
  static const char *vs =
      "#version 450 core\n"
      "void main() {\n"
      "  vec2 p = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);\n"
      "  gl_Position = vec4(p, 0.0, 1.0);\n"
      "}\n";
  static const char *fs =
      "#version 450 core\n"
      "layout(binding = 0) uniform sampler2D tex;\n"
      "layout(location = 0) out vec4 out_color;\n"
      "void main() { out_color = texelFetch(tex, ivec2(gl_FragCoord.xy), 0); }\n";
  GLuint v = compile(GL_VERTEX_SHADER, vs), f = compile(GL_FRAGMENT_SHADER, fs);
  GLuint p = glCreateProgram();
  glAttachShader(p, v);
  glAttachShader(p, f);
  glLinkProgram(p);
  glDeleteShader(v); /* only flagged: freed with the program */
  glDeleteShader(f);
  GLint ok = 0;
  glGetProgramiv(p, GL_LINK_STATUS, &ok);
  return ok ? p : 0;
}


bool gle_open(char *why, size_t why_size) {
  bool ok = egl_setup();
  if (!ok) snprintf(why, why_size, "%s", g_why);
  return ok;
}

static GLuint g_vao;

GLuint gle_program(void) {
  GLuint p = make_program();
  if (!p) return 0;
  glCreateVertexArrays(1, &g_vao); /* core profile draws need a VAO, even with no attributes */
  glBindVertexArray(g_vao);
  return p;
}

void gle_program_free(GLuint prog) {
  glBindVertexArray(0);
  glDeleteVertexArrays(1, &g_vao);
  g_vao = 0;
  glUseProgram(0);
  glDeleteProgram(prog);
}

GLenum gle_draw(GLuint prog, GLuint tex, uint32_t w, uint32_t h, float *px) {
  GLuint target = 0, fbo = 0;
  GLenum err = GL_NO_ERROR;
  glCreateTextures(GL_TEXTURE_2D, 1, &target);
  glTextureStorage2D(target, 1, GL_RGBA32F, (GLsizei)w, (GLsizei)h);
  glCreateFramebuffers(1, &fbo);
  glNamedFramebufferTexture(fbo, GL_COLOR_ATTACHMENT0, target, 0);
  if (glCheckNamedFramebufferStatus(fbo, GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
    fprintf(stderr, "RGBA32F framebuffer incomplete\n");
    err = GL_INVALID_FRAMEBUFFER_OPERATION;
  } else {
    /* A sentinel no format produces, so pixels the draw missed cannot pass. */
    const GLfloat sentinel[4] = {-100.0f, -100.0f, -100.0f, -100.0f};
    glClearNamedFramebufferfv(fbo, GL_COLOR, 0, sentinel);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glViewport(0, 0, (GLsizei)w, (GLsizei)h);
    glUseProgram(prog);
    glBindTextureUnit(0, tex);
    glDrawArrays(GL_TRIANGLES, 0, 3);
    glNamedFramebufferReadBuffer(fbo, GL_COLOR_ATTACHMENT0);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    /* Row 0 of the read-back is gl_FragCoord.y = 0.5, i.e. texel row 0. */
    glReadPixels(0, 0, (GLsizei)w, (GLsizei)h, GL_RGBA, GL_FLOAT, px);
    err = glGetError();
    glBindTextureUnit(0, 0);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
  }
  glDeleteFramebuffers(1, &fbo);
  glDeleteTextures(1, &target);
  while (glGetError() != GL_NO_ERROR) continue;
  return err;
}
