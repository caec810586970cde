/* The GL COPY path's compute copy: gl_copy.h says what it does. GL's
 * pixel-unpack upload (glTextureSubImage2D from a buffer) is the fallback,
 * in gl_frame.c; this copy is the same shader as the Vulkan COPY path's
 * (src/consumer/shaders/copy.comp), compiled by the driver from GLSL. */
#include "gl_import_internal.h"

/* The integer formats of each texel size: the view's internal format and the
 * shader's image format qualifier. Each is in the same view class as every
 * format of its size (the GL spec's view classes for glTextureView), sRGB
 * included. */
static const struct {
  GLenum internal_format;
  const char *qualifier;
} int_formats[5] = {
    {GL_R8UI, "r8ui"}, {GL_R16UI, "r16ui"}, {GL_R32UI, "r32ui"},
    {GL_RG32UI, "rg32ui"}, {GL_RGBA32UI, "rgba32ui"},
};

/* Prefixed with the #version line and GROUP, TEXEL_BYTES, RUN and FORMAT. */
static const char copy_body[] =
    "layout(local_size_x = GROUP, local_size_y = GROUP) in;\n"
    "layout(std430, binding = 0) readonly buffer Rows { uint words[]; };\n"
    "layout(binding = 0, FORMAT) uniform writeonly uimage2D dst;\n"
    "layout(location = 0) uniform uvec3 frame; // width, height, row pitch in bytes\n"
    "void main() {\n"
    "  uint y = gl_GlobalInvocationID.y;\n"
    "  if (y >= frame.y) return;\n"
    "  // Each step copies a group's width of adjacent texels, so the loads and\n"
    "  // stores of neighbouring invocations stay adjacent in memory.\n"
    "  uint x0 = gl_WorkGroupID.x * RUN * gl_WorkGroupSize.x + gl_LocalInvocationID.x;\n"
    "  for (uint i = 0u; i < RUN; i++) {\n"
    "    uint x = x0 + i * gl_WorkGroupSize.x;\n"
    "    if (x >= frame.x) return;\n"
    "    uint offset = y * frame.z + x * TEXEL_BYTES;\n"
    "    uint w = offset >> 2;\n"
    "    uvec4 texel = uvec4(0u);\n"
    "    if (TEXEL_BYTES == 1u) {\n"
    "      texel.x = (words[w] >> ((offset & 3u) * 8u)) & 0xffu;\n"
    "    } else if (TEXEL_BYTES == 2u) {\n"
    "      texel.x = (words[w] >> ((offset & 2u) * 8u)) & 0xffffu;\n"
    "    } else if (TEXEL_BYTES == 4u) {\n"
    "      texel.x = words[w];\n"
    "    } else if (TEXEL_BYTES == 8u) {\n"
    "      texel.xy = uvec2(words[w], words[w + 1u]);\n"
    "    } else {\n"
    "      texel = uvec4(words[w], words[w + 1u], words[w + 2u], words[w + 3u]);\n"
    "    }\n"
    "    imageStore(dst, ivec2(x, y), texel);\n"
    "  }\n"
    "}\n";

int ifd_glc_copy_fits(const ifd_gl_importer *imp, uint32_t texel_bytes, uint64_t size,
                      uint32_t width, uint32_t height, char *why, size_t why_size) {
  uint32_t groups[2];
  ifd_copy_groups(width, height, texel_bytes, groups);
  const char *no = NULL;
  if (!imp->compute)
    no = "the context lacks OpenGL 4.3's compute shaders, storage buffers or texture views";
  else if (ifd_copy_size_index(texel_bytes) < 0)
    no = "no integer format has the texel's size";
  else if (size % 4 != 0 || size > (uint64_t)imp->max_ssbo_bytes || size > UINT32_MAX)
    no = "the frame's memory exceeds GL_MAX_SHADER_STORAGE_BLOCK_SIZE (or is not whole words)";
  else if (groups[0] > (uint32_t)imp->max_groups[0] || groups[1] > (uint32_t)imp->max_groups[1])
    no = "the frame needs more work groups than GL_MAX_COMPUTE_WORK_GROUP_COUNT";
  if (no && why) snprintf(why, why_size, "%s", no);
  return no == NULL;
}

int ifd_glc_copy_view(ifd_gl_importer *imp, uint32_t texture, uint32_t texel_bytes,
                      uint32_t *view) {
  int i = ifd_copy_size_index(texel_bytes);
  if (i < 0) return ifd_fail(-EINVAL, "no integer format of %u bytes", texel_bytes);
  GLuint v = 0;
  ifd_glc_error(imp);
  imp->glGenTextures(1, &v); /* glTextureView needs a name never bound */
  imp->glTextureView(v, GL_TEXTURE_2D, texture, int_formats[i].internal_format, 0, 1, 0, 1);
  GLenum e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR) {
    imp->glDeleteTextures(1, &v);
    ifd_glc_error(imp);
    return ifd_glc_fail(e, "glTextureView (integer view for the compute copy)");
  }
  *view = v;
  return 0;
}

/* Deletes a shader that did not compile or a program that did not link,
 * and says why, with GL's log. */
static int build_failed(ifd_gl_importer *imp, GLuint object, bool program) {
  char log[512] = "";
  if (program) imp->glGetProgramInfoLog(object, (GLsizei)sizeof(log), NULL, log);
  else imp->glGetShaderInfoLog(object, (GLsizei)sizeof(log), NULL, log);
  if (program) imp->glDeleteProgram(object);
  else imp->glDeleteShader(object);
  ifd_glc_error(imp);
  return ifd_fail(-EIO, "%s: the compute copy's shader did not %s: %s", imp->renderer,
                  program ? "link" : "compile", log);
}

/* The program for a texel size, made on first use. */
static int program_of(ifd_gl_importer *imp, int i, GLuint *out) {
  if (imp->copy_programs[i]) {
    *out = imp->copy_programs[i];
    return 0;
  }
  static const uint32_t sizes[5] = {1, 2, 4, 8, 16};
  char head[160];
  snprintf(head, sizeof(head),
           "#version 430 core\n#define GROUP %u\n#define TEXEL_BYTES %uu\n#define RUN %uu\n"
           "#define FORMAT %s\n",
           IFD_COPY_GROUP, sizes[i], ifd_copy_run(sizes[i]), int_formats[i].qualifier);
  const GLchar *src[2] = {head, copy_body};
  GLuint sh = imp->glCreateShader(GL_COMPUTE_SHADER);
  imp->glShaderSource(sh, 2, src, NULL);
  imp->glCompileShader(sh);
  GLint ok = 0;
  imp->glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
  if (!ok) return build_failed(imp, sh, false);
  GLuint prog = imp->glCreateProgram();
  imp->glAttachShader(prog, sh);
  imp->glLinkProgram(prog);
  imp->glDeleteShader(sh); /* only flagged: freed with the program */
  imp->glGetProgramiv(prog, GL_LINK_STATUS, &ok);
  if (!ok) return build_failed(imp, prog, true);
  GLenum e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR) {
    imp->glDeleteProgram(prog);
    ifd_glc_error(imp);
    return ifd_glc_fail(e, "building the compute copy's program");
  }
  imp->copy_programs[i] = *out = prog;
  return 0;
}

/* What the copy changes, saved before and put back after. */
typedef struct {
  GLint program, ssbo, ssbo_0;
  GLint64 ssbo_0_start, ssbo_0_size;
  GLint image_name, image_level, image_layered, image_layer, image_access, image_format;
} saved_state;

static void save_state(ifd_gl_importer *imp, saved_state *s) {
  imp->glGetIntegerv(GL_CURRENT_PROGRAM, &s->program);
  imp->glGetIntegerv(GL_SHADER_STORAGE_BUFFER_BINDING, &s->ssbo);
  imp->glGetIntegeri_v(GL_SHADER_STORAGE_BUFFER_BINDING, 0, &s->ssbo_0);
  imp->glGetInteger64i_v(GL_SHADER_STORAGE_BUFFER_START, 0, &s->ssbo_0_start);
  imp->glGetInteger64i_v(GL_SHADER_STORAGE_BUFFER_SIZE, 0, &s->ssbo_0_size);
  imp->glGetIntegeri_v(GL_IMAGE_BINDING_NAME, 0, &s->image_name);
  imp->glGetIntegeri_v(GL_IMAGE_BINDING_LEVEL, 0, &s->image_level);
  imp->glGetIntegeri_v(GL_IMAGE_BINDING_LAYERED, 0, &s->image_layered);
  imp->glGetIntegeri_v(GL_IMAGE_BINDING_LAYER, 0, &s->image_layer);
  imp->glGetIntegeri_v(GL_IMAGE_BINDING_ACCESS, 0, &s->image_access);
  imp->glGetIntegeri_v(GL_IMAGE_BINDING_FORMAT, 0, &s->image_format);
}

static void restore_state(ifd_gl_importer *imp, const saved_state *s) {
  imp->glUseProgram((GLuint)s->program);
  /* A binding made with glBindBufferBase reports start 0 and size 0. */
  if (s->ssbo_0_size > 0)
    imp->glBindBufferRange(GL_SHADER_STORAGE_BUFFER, 0, (GLuint)s->ssbo_0,
                           (GLintptr)s->ssbo_0_start, (GLsizeiptr)s->ssbo_0_size);
  else
    imp->glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, (GLuint)s->ssbo_0);
  imp->glBindBuffer(GL_SHADER_STORAGE_BUFFER, (GLuint)s->ssbo); /* both calls above set it */
  imp->glBindImageTexture(0, (GLuint)s->image_name, s->image_level,
                          s->image_layered ? GL_TRUE : GL_FALSE, s->image_layer,
                          (GLenum)s->image_access, (GLenum)s->image_format);
}

int ifd_glc_copy_run(ifd_gl_importer *imp, uint32_t buffer, uint32_t view, uint32_t texel_bytes,
                     uint32_t width, uint32_t height, uint32_t row_pitch) {
  int i = ifd_copy_size_index(texel_bytes);
  if (i < 0 || !imp->compute)
    return ifd_fail(-EINVAL, "the compute copy cannot copy %u-byte texels here", texel_bytes);
  ifd_glc_error(imp);
  GLuint prog = 0;
  int rc = program_of(imp, i, &prog);
  if (rc != 0) return rc;
  saved_state s;
  save_state(imp, &s);
  imp->glUseProgram(prog);
  imp->glProgramUniform3ui(prog, 0, width, height, row_pitch);
  imp->glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, buffer);
  imp->glBindImageTexture(0, view, 0, GL_FALSE, 0, GL_WRITE_ONLY, int_formats[i].internal_format);
  uint32_t groups[2];
  ifd_copy_groups(width, height, texel_bytes, groups);
  imp->glDispatchCompute(groups[0], groups[1], 1);
  /* Later sampling, image loads, texture reads (glGetTexImage, copies) and
   * framebuffer use of the texture see what the shader wrote. */
  imp->glMemoryBarrier(GL_TEXTURE_FETCH_BARRIER_BIT | GL_SHADER_IMAGE_ACCESS_BARRIER_BIT |
                       GL_TEXTURE_UPDATE_BARRIER_BIT | GL_FRAMEBUFFER_BARRIER_BIT);
  GLenum e = ifd_glc_error(imp);
  restore_state(imp, &s);
  ifd_glc_error(imp);
  return e == GL_NO_ERROR ? 0 : ifd_glc_fail(e, "the compute copy (glDispatchCompute)");
}

void ifd_glc_copy_release(ifd_gl_importer *imp) {
  bool deleted = false; /* no GL at all where no copy ran */
  for (size_t i = 0; i < IFD_ARRAY_LEN(imp->copy_programs); i++) {
    if (!imp->copy_programs[i]) continue;
    imp->glDeleteProgram(imp->copy_programs[i]);
    imp->copy_programs[i] = 0;
    deleted = true;
  }
  if (deleted) ifd_glc_error(imp);
}
