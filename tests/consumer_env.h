/* Shared set-up of the consumer API tests (test_consumer_*.c,
 * test_acceptance.c): a producer (tests/producer.h) and one consumer, Vulkan
 * or GL, behind the same calls, and run_case, one export -> import -> draw ->
 * compare. */
#ifndef IFD_TEST_CONSUMER_ENV_H
#define IFD_TEST_CONSUMER_ENV_H

#include <stdbool.h>

#include "gl_env.h"
#include "interop_fd/gl.h"
#include "interop_fd/vulkan.h"
#include "producer.h"
#include "test_util.h"
#include "vk_render.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef tp_producer producer; /* tests/producer.h */

/* One consumer, Vulkan or GL, behind the same three calls. */
typedef struct {
  bool gl;
  vkr vk;
  ifd_gl_importer *gli;
  GLuint prog;
  GLuint buffer_prog; /* draws BUFFER frames through IFD_GL_BUFFER_GLSL */
  float *px; /* GL read-back */
  size_t px_size;
} consumer;

/* "auto", "copy", "linear" or "copy-transfer" for path 0/1/2/3. */
const char *path_name(int p);
/* The name of path p of c's API: GL's 3 and 4 are "copy-upload" and "buffer". */
const char *consumer_path_name(const consumer *c, int p);
/* Frames run_case drew that the COPY path copied by compute. */
extern int copies_by_compute;
/* GL frames run_case imported on COPY (explicitly) that took the upload:
 * where the context has OpenGL 4.3 (the tests' 4.5 context always does) and
 * the frame fits its limits, COPY must copy by compute. */
extern int gl_copies_uploaded;
bool fd_open(int fd);

/* Opens a Vulkan (vk_gipa, NULL for the loader's) or GL (gl_get_proc) consumer;
 * -1 with the reason in `why` where there is none. */
int consumer_open(consumer *c, bool gl, PFN_vkGetInstanceProcAddr vk_gipa,
                  ifd_gl_get_proc_address gl_get_proc, char *why, size_t n);
void consumer_close(consumer *c);
/* Opens IFD_TEST_BACKEND's producer and a consumer (GL or Vulkan, the
 * default entry points); exits with SKIP's code and the reason where either
 * is missing. */
void consumer_env_open(producer *p, consumer *c, bool gl);
/* Imports desc as a frame (Vulkan or GL), path 0/1/2 = auto/copy/linear,
 * 3 = Vulkan's copy-transfer or GL's copy-upload, 4 = GL's buffer. */
int consumer_import(consumer *c, ifd_frame_desc *d, int path, void **out);
void consumer_destroy(consumer *c, void *frame);
/* The GL read-back buffer, grown to w * h RGBA floats. */
float *consumer_gl_pixels(consumer *c, uint32_t w, uint32_t h);
/* The path the frame took, or -1. */
int frame_path(consumer *c, void *frame);
/* Draws the frame (after ifd_gl_frame_update for GL; a GL BUFFER frame
 * through IFD_GL_BUFFER_GLSL) and returns the read-back, w * h RGBA floats,
 * or NULL. */
const float *consumer_draw(consumer *c, void *frame, uint32_t w, uint32_t h);

/* Export -> import (one path) -> draw -> compare. Returns 1 if an explicit
 * path was unavailable (-EOPNOTSUPP), else 0. */
int run_case(producer *p, consumer *c, MAX_Format fmt, uint32_t w, uint32_t h, int path,
             uint32_t seed, bool quiet);

#endif
