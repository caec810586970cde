#include "gl_env.h"

#include <stdio.h>
#include <string.h>

#include "common/egl_kit.h"
#include "interop_fd/gl.h"
#include "common/tool_error.h"
#include "common/gl_kit.h"

static egl_kit_context g_ctx; /* the test's context, zeroed when closed */

/* Whole-token search in a space-separated extension list. */
bool gle_has_ext(const char *list, const char *name) { return egl_kit_has_token(list, name); }

void gle_close(void) { egl_kit_close(&g_ctx); }

static GLuint compile(GLenum type, const char *src) {
  GLuint s = gl_compile(type, src);
  if (!s) fprintf(stderr, "shader compile failed: %s\n", tool_last_error());
  return s;
}

/* One triangle covering the viewport; each fragment fetches the texel under
 * it, so the framebuffer becomes a copy of the texture as GL sees it (with the
 * format's swizzle, which applies to texelFetch too). */
static GLuint link_with(const char *fs) {
  static const char *vs =
      "#version 450 core\n"
      "void main() {\n"
      "  vec2 p = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);\n"
      "  gl_Position = vec4(p, 0.0, 1.0);\n"
      "}\n";
  GLuint v = compile(GL_VERTEX_SHADER, vs), f = compile(GL_FRAGMENT_SHADER, fs);
  GLuint p = glCreateProgram();
  glAttachShader(p, v);
  glAttachShader(p, f);
  glLinkProgram(p);
  glDeleteShader(v); /* only flagged: freed with the program */
  glDeleteShader(f);
  GLint ok = 0;
  glGetProgramiv(p, GL_LINK_STATUS, &ok);
  if (!ok) glDeleteProgram(p);
  return ok ? p : 0;
}

static GLuint make_program(void) {
  return link_with("#version 450 core\n"
                   "layout(binding = 0) uniform sampler2D tex;\n"
                   "layout(location = 0) out vec4 out_color;\n"
                   "void main() { out_color = texelFetch(tex, ivec2(gl_FragCoord.xy), 0); }\n");
}

/* The snippet exactly as gl.h documents it, pasted after the #version line. */
GLuint gle_buffer_program(void) {
  return link_with("#version 450 core\n"
                   "#define IFD_FRAME_BINDING 0\n" IFD_GL_BUFFER_GLSL
                   "layout(location = 0) uniform uint format;\n"
                   "layout(location = 1) uniform uint row_pitch;\n"
                   "layout(location = 0) out vec4 out_color;\n"
                   "void main() {\n"
                   "  out_color = ifd_frame_fetch(format, row_pitch, ivec2(gl_FragCoord.xy));\n"
                   "}\n");
}


/* Any device: the device platform first (the only one on a GPU server with
 * no display), then Mesa's surfaceless platform (the CPU machines). */
bool gle_open(char *why, size_t why_size) {
  if (egl_kit_open(&g_ctx, NULL) != 0) {
    snprintf(why, why_size, "%s", tool_last_error());
    return false;
  }
  printf("EGL %s: %s, %s\n",
         g_ctx.device == EGL_KIT_SURFACELESS ? "surfaceless platform" : "device platform",
         (const char *)glGetString(GL_RENDERER), (const char *)glGetString(GL_VERSION));
  return true;
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

/* Draws with prog reading texture unit 0 (tex) or storage buffer binding 0
 * (buffer), whichever is not 0. */
static GLenum draw(GLuint prog, GLuint tex, GLuint buffer, uint32_t w, uint32_t h, float *px) {
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
    if (tex) glBindTextureUnit(0, tex);
    if (buffer) glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, buffer);
    glDrawArrays(GL_TRIANGLES, 0, 3);
    glNamedFramebufferReadBuffer(fbo, GL_COLOR_ATTACHMENT0);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    /* Row 0 of the read-back is gl_FragCoord.y = 0.5, i.e. texel row 0. */
    glReadPixels(0, 0, (GLsizei)w, (GLsizei)h, GL_RGBA, GL_FLOAT, px);
    err = glGetError();
    glBindTextureUnit(0, 0);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, 0);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
  }
  glDeleteFramebuffers(1, &fbo);
  glDeleteTextures(1, &target);
  while (glGetError() != GL_NO_ERROR) continue;
  return err;
}

GLenum gle_draw(GLuint prog, GLuint tex, uint32_t w, uint32_t h, float *px) {
  return draw(prog, tex, 0, w, h, px);
}

GLenum gle_draw_buffer(GLuint prog, GLuint buffer, uint32_t format, uint32_t row_pitch,
                       uint32_t w, uint32_t h, float *px) {
  glProgramUniform1ui(prog, 0, format);
  glProgramUniform1ui(prog, 1, row_pitch);
  return draw(prog, 0, buffer, w, h, px);
}
