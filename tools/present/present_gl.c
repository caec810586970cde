/* The OpenGL consumer: a GL 4.5 core context (the window's, or a surfaceless
 * EGL one on the producer's device), an interop_fd GL importer, and a
 * fullscreen-triangle draw of each imported frame into the window or an
 * offscreen RGBA8 framebuffer. Waits and signals are enqueued in GL's command
 * stream (GL_NV_timeline_semaphore), so nothing blocks the CPU. */
#include <epoxy/gl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/egl_kit.h"
#include "common/gl_kit.h"
#include "present/present.h"
#include "common/tool_error.h"

typedef struct {
  presenter base;
  window *win;
  bool vsync;
  egl_kit_context egl; /* headless: our own EGL context */
  ifd_gl_importer *importer;
  ifd_gl_ring *ring;
  GLuint program, vao;
  GLint loc_size, loc_srgb, loc_flip;
  GLuint fbo, target; /* headless */
} glp;

/* The same draw as tools/present/shaders/present.frag; `flip` because GL's window
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
  GLuint v = gl_compile(GL_VERTEX_SHADER, vs);
  GLuint f = v ? gl_compile(GL_FRAGMENT_SHADER, fs) : 0;
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
  bool current = p->win || p->egl.ctx != NULL;
  if (current) glFinish();
  ifd_gl_ring_destroy(p->ring);
  ifd_gl_importer_destroy(p->importer);
  if (current) {
    if (p->fbo) glDeleteFramebuffers(1, &p->fbo);
    if (p->target) glDeleteTextures(1, &p->target);
    if (p->vao) glDeleteVertexArrays(1, &p->vao);
    if (p->program) glDeleteProgram(p->program);
  }
  egl_kit_close(&p->egl);
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
  /* A FIFO ring's frames are known now; a MAILBOX ring's once taken. */
  ifd_gl_frame_native fh;
  if (ifd_gl_frame_native_handles(ifd_gl_ring_frame(p->ring, 1), &fh) == 0)
    p->base.path_name = present_path_label(CONSUMER_GL, (int)fh.path);
  p->base.timelines = timelines;
  return 0;
}

static int gl_take(presenter *base, uint64_t timeout_ns, uint64_t *k) {
  glp *p = (glp *)base;
  int rc = ifd_gl_ring_take_latest(p->ring, timeout_ns, k);
  return rc == 0 ? 0 : tool_fail(rc, "%s", ifd_last_error());
}

static int gl_draw(presenter *base, uint64_t k, uint8_t *rgba) {
  glp *p = (glp *)base;
  if (!p->ring || k == 0) return tool_fail(-EINVAL, "no ring imported, or frame 0");
  if (rgba && p->win) return tool_fail(-EINVAL, "read-back is for headless targets");
  GLuint tex = 0;
  int rc = ifd_gl_ring_acquire(p->ring, k, &tex);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  ifd_gl_frame_native fh;
  if (ifd_gl_frame_native_handles(ifd_gl_ring_frame(p->ring, k), &fh) == 0)
    p->base.path_name = present_path_label(CONSUMER_GL, (int)fh.path);
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

static int gl_create(presenter *base, const present_config *cfg) {
  glp *p = (glp *)base;
  p->win = cfg->win;
  p->vsync = cfg->vsync;
  int rc = 0;
  if (p->win) {
    window_swap_interval(p->win, p->vsync ? 1 : 0);
    if (!gl_context_same_device(cfg->device_uuid))
      rc = tool_fail(-EXDEV, "the window's GL runs on another device than the producer");
  } else {
    rc = egl_kit_open(&p->egl, cfg->device_uuid);
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
  return rc;
}

const present_ops present_gl_ops = {sizeof(glp), gl_create, gl_destroy, gl_import, gl_draw,
                                    gl_take,      gl_finish};
