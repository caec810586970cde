/* The OpenGL consumer of `interop-fd bench` (bench_gl.h). */
#include "bench/bench_gl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/egl_kit.h"
#include "common/gl_kit.h"
#include "common/tool_error.h"

#define SLOTS 8
#define IO_STRIDE 1024u
#define IO_POS_BYTES (8u * BENCH_SAMPLES)
#define IO_TEXEL_BYTES (16u * BENCH_SAMPLES)
#define WAIT_NS (10ull * 1000 * 1000 * 1000)

struct bench_gl {
  egl_kit_context egl;
  GLuint program;
  GLuint io;
  uint8_t *io_mapped;
  GLuint queries[2 * SLOTS];  /* per slot: timestamps before the upload, after the sampling */
  GLuint elapsed[SLOTS];      /* per slot: GL_TIME_ELAPSED of the upload */
  uint32_t slots, width, height;
  MAX_Format format;
  GLenum type;
  GLuint pbo[SLOTS], tex[SLOTS];
  GLsync fence[SLOTS];
};

/* tools/bench/shaders/bench_sample.comp, for GL. */
static const char *sample_cs =
    "#version 450 core\n"
    "layout(local_size_x = 32) in;\n"
    "layout(binding = 0) uniform sampler2D frame;\n"
    "layout(std430, binding = 1) buffer Io { uvec2 pos[32]; vec4 texel[32]; } io;\n"
    "void main() {\n"
    "  uint i = gl_LocalInvocationID.x;\n"
    "  io.texel[i] = texelFetch(frame, ivec2(io.pos[i]), 0);\n"
    "}\n";

static int gl_check(const char *what) {
  GLenum e = glGetError();
  return e == GL_NO_ERROR ? 0 : tool_fail(-EIO, "bench GL consumer: GL error 0x%04x in %s", e, what);
}

void bench_gl_destroy(bench_gl *g) {
  if (!g) return;
  if (g->egl.ctx) {
    glFinish();
    bench_gl_drop(g);
    if (g->io_mapped) glUnmapNamedBuffer(g->io);
    if (g->io) glDeleteBuffers(1, &g->io);
    if (g->queries[0]) glDeleteQueries(2 * SLOTS, g->queries);
    if (g->elapsed[0]) glDeleteQueries(SLOTS, g->elapsed);
    if (g->program) glDeleteProgram(g->program);
  }
  egl_kit_close(&g->egl);
  free(g);
}

int bench_gl_create(const uint8_t uuid[16], bench_gl **out) {
  bench_gl *g = calloc(1, sizeof(*g));
  if (!g) return tool_fail(-ENOMEM, "bench GL consumer: out of memory");
  int rc = egl_kit_open(&g->egl, uuid);
  if (rc == 0) {
    GLuint cs = gl_compile(GL_COMPUTE_SHADER, sample_cs);
    if (!cs) {
      rc = -EIO;
    } else {
      g->program = glCreateProgram();
      glAttachShader(g->program, cs);
      glLinkProgram(g->program);
      glDeleteShader(cs);
      GLint ok = 0;
      glGetProgramiv(g->program, GL_LINK_STATUS, &ok);
      if (!ok) rc = tool_fail(-EIO, "bench GL consumer: the sampling program does not link");
    }
  }
  if (rc == 0) {
    glCreateBuffers(1, &g->io);
    GLbitfield flags = GL_MAP_READ_BIT | GL_MAP_WRITE_BIT | GL_MAP_PERSISTENT_BIT | GL_MAP_COHERENT_BIT;
    glNamedBufferStorage(g->io, IO_STRIDE * SLOTS, NULL, flags);
    g->io_mapped = glMapNamedBufferRange(g->io, 0, IO_STRIDE * SLOTS, flags);
    glGenQueries(2 * SLOTS, g->queries);
    glGenQueries(SLOTS, g->elapsed);
    rc = gl_check("creating the sampling buffer");
    if (rc == 0 && !g->io_mapped) rc = tool_fail(-EIO, "bench GL consumer: cannot map its buffer");
  }
  if (rc != 0) {
    bench_gl_destroy(g);
    return rc;
  }
  *out = g;
  return 0;
}

int bench_gl_calibrate(bench_gl *g, int64_t *offset, uint64_t *spread) {
  (void)g;
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 50; i++) {
    GLint64 t = 0;
    uint64_t t0 = tool_now_ns();
    glGetInteger64v(GL_TIMESTAMP, &t);
    uint64_t t1 = tool_now_ns();
    if (t1 - t0 < best) {
      best = t1 - t0;
      *offset = (int64_t)(t0 + (t1 - t0) / 2) - (int64_t)t;
    }
  }
  *spread = best;
  return gl_check("glGetInteger64v(GL_TIMESTAMP)");
}

int bench_gl_setup(bench_gl *g, uint32_t slots, uint32_t width, uint32_t height,
                   MAX_Format format, unsigned pbo[]) {
  if (slots < 1 || slots > SLOTS || (format != MAX_FMT_RGBA8 && format != MAX_FMT_RGBA16F))
    return tool_fail(-EINVAL, "bench GL consumer: bad setup");
  g->slots = slots;
  g->width = width;
  g->height = height;
  g->format = format;
  g->type = format == MAX_FMT_RGBA8 ? GL_UNSIGNED_BYTE : GL_HALF_FLOAT;
  GLsizeiptr bytes = (GLsizeiptr)width * height * (format == MAX_FMT_RGBA8 ? 4 : 8);
  glCreateBuffers((GLsizei)slots, g->pbo);
  glCreateTextures(GL_TEXTURE_2D, (GLsizei)slots, g->tex);
  for (uint32_t s = 0; s < slots; s++) {
    glNamedBufferData(g->pbo[s], bytes, NULL, GL_STREAM_DRAW);
    glTextureStorage2D(g->tex[s], 1, format == MAX_FMT_RGBA8 ? GL_RGBA8 : GL_RGBA16F,
                       (GLsizei)width, (GLsizei)height);
    glTextureParameteri(g->tex[s], GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTextureParameteri(g->tex[s], GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    pbo[s] = g->pbo[s];
  }
  return gl_check("creating pixel buffers and textures");
}

void bench_gl_drop(bench_gl *g) {
  if (!g->slots) return;
  glFinish();
  for (uint32_t s = 0; s < g->slots; s++)
    if (g->fence[s]) glDeleteSync(g->fence[s]), g->fence[s] = NULL;
  glDeleteTextures((GLsizei)g->slots, g->tex);
  glDeleteBuffers((GLsizei)g->slots, g->pbo);
  memset(g->tex, 0, sizeof(g->tex));
  memset(g->pbo, 0, sizeof(g->pbo));
  g->slots = 0;
}

int bench_gl_submit(bench_gl *g, uint32_t s, const uint32_t pos[2 * BENCH_SAMPLES]) {
  uint8_t *io = g->io_mapped + (size_t)IO_STRIDE * s;
  memcpy(io, pos, IO_POS_BYTES);
  memset(io + IO_POS_BYTES, 0xff, IO_TEXEL_BYTES);
  glQueryCounter(g->queries[2 * s], GL_TIMESTAMP);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, g->pbo[s]);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glBeginQuery(GL_TIME_ELAPSED, g->elapsed[s]);
  glTextureSubImage2D(g->tex[s], 0, 0, 0, (GLsizei)g->width, (GLsizei)g->height, GL_RGBA, g->type,
                      NULL);
  glEndQuery(GL_TIME_ELAPSED);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
  glUseProgram(g->program);
  glBindTextureUnit(0, g->tex[s]);
  glBindBufferRange(GL_SHADER_STORAGE_BUFFER, 1, g->io, (GLintptr)IO_STRIDE * s,
                    IO_POS_BYTES + IO_TEXEL_BYTES);
  glDispatchCompute(1, 1, 1);
  glMemoryBarrier(GL_CLIENT_MAPPED_BUFFER_BARRIER_BIT);
  glQueryCounter(g->queries[2 * s + 1], GL_TIMESTAMP);
  if (g->fence[s]) glDeleteSync(g->fence[s]);
  g->fence[s] = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
  glFlush();
  return gl_check("uploading and sampling a frame");
}

int bench_gl_collect(bench_gl *g, uint32_t s, bench_seen *seen) {
  if (!g->fence[s]) return tool_fail(-EINVAL, "bench GL consumer: slot %u was not submitted", s);
  uint64_t t0 = tool_now_ns();
  GLenum r;
  while ((r = glClientWaitSync(g->fence[s], GL_SYNC_FLUSH_COMMANDS_BIT, 0)) == GL_TIMEOUT_EXPIRED)
    if (tool_now_ns() - t0 > WAIT_NS) return tool_fail(-ETIMEDOUT, "bench GL consumer: timed out");
  if (r == GL_WAIT_FAILED) return tool_fail(-EIO, "bench GL consumer: glClientWaitSync failed");
  glDeleteSync(g->fence[s]);
  g->fence[s] = NULL;
  GLuint64 t[2] = {0, 0}, upload = 0;
  glGetQueryObjectui64v(g->queries[2 * s], GL_QUERY_RESULT, &t[0]);
  glGetQueryObjectui64v(g->queries[2 * s + 1], GL_QUERY_RESULT, &t[1]);
  glGetQueryObjectui64v(g->elapsed[s], GL_QUERY_RESULT, &upload);
  seen->start_ns = t[0];
  seen->used_ns = t[0] + upload; /* the upload's own GPU time, from GL_TIME_ELAPSED */
  seen->end_ns = t[1];
  seen->has_times = true;
  const uint8_t *texels = g->io_mapped + (size_t)IO_STRIDE * s + IO_POS_BYTES;
  bench_decode_texels((const float *)(const void *)texels, g->format, seen);
  return gl_check("reading a frame's results");
}
