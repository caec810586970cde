/* internal: drives the GL COPY path's compute copy (src/consumer/gl_copy.h)
 * on an ordinary GL buffer, since llvmpipe cannot make a buffer of imported
 * memory and so never reaches it through ifd_gl_frame_import.
 * gl_copy: for every format and awkward sizes and row pitches, the pattern is
 * put in a GL buffer, (1) copied by ifd_glc_copy_run into a texture of the
 * format (swizzled as the library's), drawn and compared pixel by pixel, and
 * (2) drawn straight from the buffer through gl.h's IFD_GL_BUFFER_GLSL (the
 * BUFFER path's snippet) and compared. The copy must restore the program,
 * storage buffer bindings and image unit 0 it touches, and its programs keep
 * the importer from being destroyed without its context. Needs a GL 4.5
 * context (EGL device or surfaceless platform); skips without one. */
#include <errno.h>
#include <string.h>

#include "consumer/gl_copy.h"
#include "gl_env.h"
#include "test_util.h"

/* Sets state the copy touches to values it would not leave by accident. */
typedef struct {
  GLint program, ssbo, ssbo_0, image_name, image_access, image_format;
  GLint64 ssbo_0_start, ssbo_0_size;
} state;

static void read_state(state *s) {
  glGetIntegerv(GL_CURRENT_PROGRAM, &s->program);
  glGetIntegerv(GL_SHADER_STORAGE_BUFFER_BINDING, &s->ssbo);
  glGetIntegeri_v(GL_SHADER_STORAGE_BUFFER_BINDING, 0, &s->ssbo_0);
  glGetInteger64i_v(GL_SHADER_STORAGE_BUFFER_START, 0, &s->ssbo_0_start);
  glGetInteger64i_v(GL_SHADER_STORAGE_BUFFER_SIZE, 0, &s->ssbo_0_size);
  glGetIntegeri_v(GL_IMAGE_BINDING_NAME, 0, &s->image_name);
  glGetIntegeri_v(GL_IMAGE_BINDING_ACCESS, 0, &s->image_access);
  glGetIntegeri_v(GL_IMAGE_BINDING_FORMAT, 0, &s->image_format);
}

static void run_case(ifd_gl_importer *imp, GLuint prog, GLuint buffer_prog, MAX_Format fmt,
                     uint32_t w, uint32_t h, uint32_t seed) {
  int failures_before = test_failures;
  ifd_format_info info;
  CHECK_RC(ifd_format_query(fmt, &info), 0);
  const uint32_t bpp = info.bytes_per_pixel;
  /* Three texels of padding: R8 and RG8 rows start inside a 32-bit word. */
  const uint32_t pitch = (w + 3) * bpp;
  const size_t size = ((size_t)pitch * h + 3) & ~(size_t)3;
  char label[64];
  snprintf(label, sizeof(label), "%s %ux%u pitch %u", info.name, w, h, pitch);
  uint8_t *host = calloc(1, size);
  float *px = malloc((size_t)w * h * 4 * sizeof(float));
  REQUIRE(host && px);
  test_fill_pattern(host, pitch, w, h, fmt, seed);
  GLuint buffer = 0, tex = 0, sentinel_buf = 0, sentinel_tex = 0;
  uint32_t view = 0;
  glCreateBuffers(1, &buffer);
  glNamedBufferStorage(buffer, (GLsizeiptr)size, host, 0);
  glCreateTextures(GL_TEXTURE_2D, 1, &tex);
  glTextureStorage2D(tex, 1, info.gl_internal_format, (GLsizei)w, (GLsizei)h);
  glTextureParameteriv(tex, GL_TEXTURE_SWIZZLE_RGBA, info.gl_swizzle);
  CHECK(glGetError() == GL_NO_ERROR);

  char why[160] = "";
  CHECK(ifd_glc_copy_fits(imp, bpp, size, w, h, why, sizeof(why)));
  if (why[0]) fprintf(stderr, "%s: %s\n", label, why);
  CHECK_RC(ifd_glc_copy_view(imp, tex, bpp, &view), 0);

  /* State the copy must put back: a program, a ranged index-0 binding, a
   * different generic binding and a bound image unit. */
  glCreateBuffers(1, &sentinel_buf);
  glNamedBufferStorage(sentinel_buf, 4096, NULL, 0);
  glCreateTextures(GL_TEXTURE_2D, 1, &sentinel_tex);
  glTextureStorage2D(sentinel_tex, 1, GL_RGBA8, 4, 4);
  glUseProgram(prog);
  glBindBufferRange(GL_SHADER_STORAGE_BUFFER, 0, sentinel_buf, 0, 256);
  glBindBuffer(GL_SHADER_STORAGE_BUFFER, buffer);
  glBindImageTexture(0, sentinel_tex, 0, GL_FALSE, 0, GL_READ_WRITE, GL_RGBA8);
  state before, after;
  read_state(&before);
  CHECK_RC(ifd_glc_copy_run(imp, buffer, view, bpp, w, h, pitch), 0);
  read_state(&after);
  CHECK(memcmp(&before, &after, sizeof(before)) == 0);
  CHECK(after.ssbo_0 == (GLint)sentinel_buf && after.ssbo_0_size == 256 &&
        after.image_name == (GLint)sentinel_tex && after.program == (GLint)prog);
  glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, 0);
  glBindBuffer(GL_SHADER_STORAGE_BUFFER, 0);
  glBindImageTexture(0, 0, 0, GL_FALSE, 0, GL_READ_ONLY, GL_R8);

  char what[96];
  snprintf(what, sizeof(what), "gl compute copy %s", label);
  GLenum e = gle_draw(prog, tex, w, h, px);
  CHECK(e == GL_NO_ERROR);
  if (e == GL_NO_ERROR) test_compare_image(what, px, fmt, w, h, seed);
  snprintf(what, sizeof(what), "gl buffer snippet %s", label);
  e = gle_draw_buffer(buffer_prog, buffer, (uint32_t)fmt, pitch, w, h, px);
  CHECK(e == GL_NO_ERROR);
  if (e == GL_NO_ERROR) test_compare_image(what, px, fmt, w, h, seed);

  GLuint names[3] = {view, tex, sentinel_tex};
  glDeleteTextures(3, names);
  GLuint bufs[2] = {buffer, sentinel_buf};
  glDeleteBuffers(2, bufs);
  CHECK(glGetError() == GL_NO_ERROR);
  free(px);
  free(host);
  printf("%s %s\n", test_failures == failures_before ? "PASS" : "FAIL", label);
}

int main(void) {
  char why[512];
  if (!gle_open(why, sizeof(why))) SKIP("no GL context: %s", why);
  ifd_gl_importer *imp = NULL;
  int rc = ifd_gl_importer_create(NULL, &imp);
  if (rc != 0) {
    gle_close();
    SKIP("ifd_gl_importer_create: %s", ifd_last_error());
  }
  GLuint prog = gle_program(), buffer_prog = gle_buffer_program();
  REQUIRE(prog && buffer_prog);
  static const uint32_t sizes[][2] = {{64, 64}, {61, 37}, {1, 1}, {7, 300}, {300, 7}};
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++)
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
      run_case(imp, prog, buffer_prog, (MAX_Format)f, sizes[s][0], sizes[s][1],
               (uint32_t)(f * 10 + s));
  /* Bad sizes are refused, not copied. */
  CHECK(!ifd_glc_copy_fits(imp, 3, 1024, 8, 8, why, sizeof(why)));
  CHECK_RC(ifd_glc_copy_run(imp, 1, 1, 3, 8, 8, 24), -EINVAL);
  glDeleteProgram(buffer_prog);
  gle_program_free(prog);
  /* The copy programs are the importer's GL objects: with its context not
   * current, destroying it is refused and it stays usable. */
  EGLDisplay dpy = eglGetCurrentDisplay();
  EGLContext ctx = eglGetCurrentContext();
  REQUIRE(eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT));
  ifd_gl_importer_destroy(imp);
  CHECK(strstr(ifd_last_error(), "compute copy's programs") != NULL);
  ifd_frame_desc none = {.memory_fd = -1, .timeline_fd = -1};
  ifd_gl_frame *frame = NULL;
  CHECK_RC(ifd_gl_frame_import(imp, &none, IFD_GL_PATH_AUTO, &frame), -EINVAL);
  CHECK(strstr(ifd_last_error(), "context is not current") != NULL); /* still alive */
  REQUIRE(eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx));
  ifd_gl_importer_destroy(imp); /* deletes the copy programs */
  gle_close();
  return test_finish("gl_copy");
}
