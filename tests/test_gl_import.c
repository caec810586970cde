/* gl_import: every format and a few awkward sizes go producer -> OPAQUE_FD ->
 * OpenGL exactly the way a consumer would take them (GL_EXT_memory_object_fd,
 * a linear texture on the imported memory), and the result is checked through
 * what GL renders from that texture, never through a buffer read-back: a
 * buffer view of imported memory can look right while textures do not (see
 * FINDINGS.md), and textures are what consumers use.
 *
 * Needs EGL with a desktop GL 4.5 core context and no surface: the device
 * platform (NVIDIA with no display) or Mesa's surfaceless platform (llvmpipe
 * on the CPU machines). Skips where neither, or GL_EXT_memory_object_fd, is
 * available. */
#include <epoxy/egl.h>
#include <epoxy/gl.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "test_util.h"

#define MAX_BAD_LINES 3 /* mismatch lines printed per image */

static EGLDisplay g_dpy = EGL_NO_DISPLAY;
static EGLContext g_ctx = EGL_NO_CONTEXT;
static char g_why[256] = "no EGL platform tried"; /* last setup failure, for SKIP */

/* Whole-token search in a space-separated extension list. */
static bool has_ext(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && (p = strstr(p, name)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
  return false;
}

static void egl_release(void) {
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
  if (!has_ext(ext, "EGL_KHR_surfaceless_context")) {
    snprintf(g_why, sizeof(g_why), "%s: no EGL_KHR_surfaceless_context", platform);
    egl_release();
    return false;
  }
  /* No surface is ever made, so any config that renders desktop GL will do;
   * EGL_KHR_no_config_context spares the choice altogether. */
  EGLConfig cfg = EGL_NO_CONFIG_KHR;
  EGLint ncfg = 0;
  const EGLint cfg_attrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE};
  if (!has_ext(ext, "EGL_KHR_no_config_context") &&
      (!eglChooseConfig(dpy, cfg_attrs, &cfg, 1, &ncfg) || ncfg < 1)) {
    snprintf(g_why, sizeof(g_why), "%s: no EGL config renders desktop GL", platform);
    egl_release();
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
    egl_release();
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
  if (!has_ext(client, "EGL_EXT_platform_base")) {
    snprintf(g_why, sizeof(g_why), "no EGL_EXT_platform_base");
    return false;
  }
  if (has_ext(client, "EGL_EXT_platform_device") &&
      (has_ext(client, "EGL_EXT_device_enumeration") || has_ext(client, "EGL_EXT_device_base"))) {
    EGLDeviceEXT devs[16];
    EGLint n = 0;
    if (eglQueryDevicesEXT(16, devs, &n))
      for (EGLint i = 0; i < n; i++)
        if (try_display(eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devs[i], NULL),
                        "device platform"))
          return true;
  }
  if (has_ext(client, "EGL_MESA_platform_surfaceless") &&
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
  REQUIRE(ok);
  return s;
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
  REQUIRE(ok);
  return p;
}

/* Counts a failure if GL raised an error since the last call; drains the queue. */
static bool gl_ok(const char *label, const char *what) {
  GLenum e = glGetError();
  if (e == GL_NO_ERROR) return true;
  while (glGetError() != GL_NO_ERROR) continue;
  fprintf(stderr, "%s: %s raised GL error 0x%04x\n", label, what, e);
  test_failures++;
  return false;
}

/* Compares every pixel of the rendered copy with the reference pattern. */
static void compare(const char *label, const float *px, MAX_Format fmt, uint32_t w, uint32_t h,
                    uint32_t seed) {
  float tol = test_tolerance(fmt);
  uint64_t bad = 0;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      const float *got = px + ((size_t)y * w + x) * 4;
      float want[4];
      test_expected_rgba(fmt, x, y, seed, want);
      bool ok = true;
      for (int c = 0; c < 4; c++) ok = ok && fabsf(got[c] - want[c]) <= tol; /* NaN fails */
      if (ok) continue;
      if (bad++ < MAX_BAD_LINES)
        fprintf(stderr, "%s: pixel (%u,%u) got (%g,%g,%g,%g) expected (%g,%g,%g,%g) tol %g\n",
                label, x, y, got[0], got[1], got[2], got[3], want[0], want[1], want[2],
                want[3], tol);
    }
  if (bad) {
    fprintf(stderr, "%s: %llu of %llu pixels wrong\n", label, (unsigned long long)bad,
            (unsigned long long)w * h);
    test_failures++;
  }
}

/* Export -> import -> render -> compare for one image. GL objects of the
 * iteration are all deleted before returning, so the loop is also a leak test. */
static void run_case(ifd_context *ctx, GLuint prog, MAX_Format fmt, uint32_t w, uint32_t h,
                     uint32_t seed) {
  int failures_before = test_failures;
  ifd_format_info info;
  CHECK_RC(ifd_format_query(fmt, &info), 0);
  char label[64];
  snprintf(label, sizeof(label), "%s %ux%u", info.name, w, h);

  ifd_image *img = NULL;
  GLuint mem = 0, tex = 0, target = 0, fbo = 0;
  void *host = NULL;
  float *px = NULL;
  int fd = -1;
  uint64_t size = 0;
  uint32_t pitch = 0, ow = 0, oh = 0;
  MAX_Format ofmt = 0;
  int rc = ifd_image_create(ctx, w, h, fmt, &img);
  if (rc != 0) {
    fprintf(stderr, "%s: ifd_image_create: %d (%s)\n", label, rc, ifd_last_error());
    test_failures++;
    goto done;
  }
  size_t host_pitch = (size_t)w * info.bytes_per_pixel;
  host = malloc(host_pitch * h);
  REQUIRE(host);
  test_fill_pattern(host, host_pitch, w, h, fmt, seed);
  CHECK_RC(ifd_image_upload(img, host, host_pitch), 0); /* blocks until written */

  rc = AsyncRT_DeviceBuffer_export_fd(img, &fd, &size, &pitch, &ow, &oh, &ofmt);
  CHECK_RC(rc, 0);
  if (rc != 0) goto done;
  CHECK(ow == w && oh == h && ofmt == fmt);
  CHECK(pitch == ifd_image_row_pitch(img));
  CHECK(size == ifd_image_size(img));
  CHECK(pitch >= w * info.bytes_per_pixel);
  CHECK(size >= (uint64_t)pitch * h);
  CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
  if (fd < 0) goto done;

  /* The consumer's side. GL owns fd once the import succeeds; if it fails the
   * fd is still ours to close. */
  glCreateMemoryObjectsEXT(1, &mem);
  glImportMemoryFdEXT(mem, size, GL_HANDLE_TYPE_OPAQUE_FD_EXT, fd);
  if (!gl_ok(label, "glImportMemoryFdEXT")) {
    close(fd);
    goto done;
  }
  glCreateTextures(GL_TEXTURE_2D, 1, &tex);
  /* Tiling must be set before storage: the exporter's layout is linear. */
  glTextureParameteri(tex, GL_TEXTURE_TILING_EXT, GL_LINEAR_TILING_EXT);
  gl_ok(label, "GL_TEXTURE_TILING_EXT = GL_LINEAR_TILING_EXT");
  glTextureStorageMem2DEXT(tex, 1, info.gl_internal_format, (GLsizei)w, (GLsizei)h, mem, 0);
  if (!gl_ok(label, "glTextureStorageMem2DEXT")) goto done;
  GLint swizzle[4] = {info.gl_swizzle[0], info.gl_swizzle[1], info.gl_swizzle[2],
                      info.gl_swizzle[3]};
  glTextureParameteriv(tex, GL_TEXTURE_SWIZZLE_RGBA, swizzle);
  glTextureParameteri(tex, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTextureParameteri(tex, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  gl_ok(label, "texture parameters");

  /* RGBA32F target: holds every format's values unclamped and unrounded. */
  glCreateTextures(GL_TEXTURE_2D, 1, &target);
  glTextureStorage2D(target, 1, GL_RGBA32F, (GLsizei)w, (GLsizei)h);
  glCreateFramebuffers(1, &fbo);
  glNamedFramebufferTexture(fbo, GL_COLOR_ATTACHMENT0, target, 0);
  if (glCheckNamedFramebufferStatus(fbo, GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
    fprintf(stderr, "%s: RGBA32F framebuffer incomplete\n", label);
    test_failures++;
    goto done;
  }
  /* A sentinel no format produces, so pixels the draw missed cannot pass. */
  const GLfloat sentinel[4] = {-100.0f, -100.0f, -100.0f, -100.0f};
  glClearNamedFramebufferfv(fbo, GL_COLOR, 0, sentinel);
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glViewport(0, 0, (GLsizei)w, (GLsizei)h);
  glUseProgram(prog);
  glBindTextureUnit(0, tex);
  glDrawArrays(GL_TRIANGLES, 0, 3);
  px = malloc((size_t)w * h * 4 * sizeof(float));
  REQUIRE(px);
  glNamedFramebufferReadBuffer(fbo, GL_COLOR_ATTACHMENT0);
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  /* Row 0 of the read-back is gl_FragCoord.y = 0.5, i.e. texel row 0. */
  glReadPixels(0, 0, (GLsizei)w, (GLsizei)h, GL_RGBA, GL_FLOAT, px);
  if (gl_ok(label, "draw and glReadPixels")) compare(label, px, fmt, w, h, seed);

done:
  glBindTextureUnit(0, 0);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  if (fbo) glDeleteFramebuffers(1, &fbo);
  if (target) glDeleteTextures(1, &target);
  if (tex) glDeleteTextures(1, &tex);
  if (mem) glDeleteMemoryObjectsEXT(1, &mem);
  gl_ok(label, "cleanup");
  ifd_image_destroy(img);
  free(px);
  free(host);
  printf("%s %-8s %4ux%-4u (pitch %u)\n", test_failures == failures_before ? "PASS" : "FAIL",
         info.name, w, h, pitch);
}

int main(void) {
  if (!egl_setup()) SKIP("no surfaceless EGL desktop GL 4.5 core context: %s", g_why);
  if (!epoxy_has_gl_extension("GL_EXT_memory_object") ||
      !epoxy_has_gl_extension("GL_EXT_memory_object_fd")) {
    egl_release();
    SKIP("the GL driver has no GL_EXT_memory_object_fd: nothing can import an fd");
  }

  /* This test imports into linear-tiled textures, the only layout that
   * matches an exporter's row pitch. Drivers that refuse linear tiling
   * (NVIDIA: GL_INVALID_VALUE, see FINDINGS.md) need the consumer API's
   * buffer-copy path instead, which its own tests cover. */
  {
    GLuint probe = 0;
    while (glGetError() != GL_NO_ERROR) {
    }
    glCreateTextures(GL_TEXTURE_2D, 1, &probe);
    glTextureParameteri(probe, GL_TEXTURE_TILING_EXT, GL_LINEAR_TILING_EXT);
    GLenum err = glGetError();
    glDeleteTextures(1, &probe);
    if (err != GL_NO_ERROR) {
      char why[200];
      snprintf(why, sizeof(why), "%s", (const char *)glGetString(GL_RENDERER));
      egl_release();
      SKIP("%s refuses GL_LINEAR_TILING_EXT (GL error 0x%04x): it cannot sample an exporter's "
           "linear layout directly", why, err);
    }
  }

  ifd_context *ctx = NULL;
  int rc = ifd_context_create(IFD_BACKEND_VULKAN, 0, &ctx);
  if (rc == -ENODEV) {
    egl_release();
    SKIP("no Vulkan device: %s", ifd_last_error());
  }
  REQUIRE(rc == 0);

  GLuint prog = make_program();
  GLuint vao = 0; /* core profile draws need a VAO, even with no attributes */
  glCreateVertexArrays(1, &vao);
  glBindVertexArray(vao);
  REQUIRE(glGetError() == GL_NO_ERROR);

  const int fds_after_setup = test_count_fds();
  static const uint32_t sizes[][2] = {{64, 64}, {61, 37}, {1, 1}, {7, 300}, {1920, 1080}};
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++)
    for (uint32_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      if (s == 4 && f != MAX_FMT_RGBA8) continue; /* one large image is enough */
      run_case(ctx, prog, (MAX_Format)f, sizes[s][0], sizes[s][1], (uint32_t)f * 10 + s);
    }

  glBindVertexArray(0);
  glDeleteVertexArrays(1, &vao);
  glUseProgram(0);
  glDeleteProgram(prog);
  ifd_context_destroy(ctx);
  /* Every exported fd went to GL, which must have let go of it when the
   * memory object was deleted; nothing else may have opened one. */
  const int fds_at_end = test_count_fds();
  if (fds_at_end != fds_after_setup) {
    fprintf(stderr, "open fds: %d after setup, %d at the end\n", fds_after_setup, fds_at_end);
    test_failures++;
  } else {
    printf("open fds: %d after setup and at the end\n", fds_at_end);
  }
  egl_release();
  return test_finish("gl_import");
}
