/* gl_import: every format and a few awkward sizes go producer -> OPAQUE_FD ->
 * OpenGL exactly the way a consumer would take them (GL_EXT_memory_object_fd,
 * a linear texture on the imported memory), and the result is checked through
 * what GL renders from that texture, never through a buffer read-back: a
 * buffer view of imported memory can look right while textures do not (see
 * docs/platform-facts.md), and textures are what consumers use.
 *
 * Needs EGL with a desktop GL 4.5 core context and no surface: the device
 * platform (NVIDIA with no display) or Mesa's surfaceless platform (llvmpipe
 * on the CPU machines). Skips where neither, or GL_EXT_memory_object_fd, is
 * available. */
#include "gl_env.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "test_util.h"


/* Counts a failure if GL raised an error since the last call; drains the queue. */
static bool gl_ok(const char *label, const char *what) {
  GLenum e = glGetError();
  if (e == GL_NO_ERROR) return true;
  while (glGetError() != GL_NO_ERROR) continue;
  fprintf(stderr, "%s: %s raised GL error 0x%04x\n", label, what, e);
  test_failures++;
  return false;
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
  GLuint mem = 0, tex = 0;
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
  px = malloc((size_t)w * h * 4 * sizeof(float));
  REQUIRE(px);
  GLenum err = gle_draw(prog, tex, w, h, px);
  if (err != GL_NO_ERROR) {
    fprintf(stderr, "%s: draw and glReadPixels raised GL error 0x%04x\n", label, err);
    test_failures++;
  } else {
    test_compare_image(label, px, fmt, w, h, seed);
  }

done:
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
  char why[256];
  if (!gle_open(why, sizeof(why))) SKIP("no surfaceless EGL desktop GL 4.5 core context: %s", why);
  if (!epoxy_has_gl_extension("GL_EXT_memory_object") ||
      !epoxy_has_gl_extension("GL_EXT_memory_object_fd")) {
    gle_close();
    SKIP("the GL driver has no GL_EXT_memory_object_fd: nothing can import an fd");
  }

  /* This test imports into linear-tiled textures, the only layout that
   * matches an exporter's row pitch. Drivers that refuse linear tiling
   * (NVIDIA: GL_INVALID_VALUE, docs/platform-facts.md) need the consumer API's
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
      char renderer[200];
      snprintf(renderer, sizeof(renderer), "%s", (const char *)glGetString(GL_RENDERER));
      gle_close();
      SKIP("%s refuses GL_LINEAR_TILING_EXT (GL error 0x%04x): it cannot sample an exporter's "
           "linear layout directly", renderer, err);
    }
  }

  ifd_context *ctx = NULL;
  int rc = ifd_context_create(IFD_BACKEND_VULKAN, 0, &ctx);
  if (rc == -ENODEV) {
    gle_close();
    SKIP("no Vulkan device: %s", ifd_last_error());
  }
  REQUIRE(rc == 0);

  GLuint prog = gle_program();
  REQUIRE(prog != 0 && glGetError() == GL_NO_ERROR);

  const int fds_after_setup = test_count_fds();
  static const uint32_t sizes[][2] = {{64, 64}, {61, 37}, {1, 1}, {7, 300}, {1920, 1080}};
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++)
    for (uint32_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      if (s == 4 && f != MAX_FMT_RGBA8) continue; /* one large image is enough */
      run_case(ctx, prog, (MAX_Format)f, sizes[s][0], sizes[s][1], (uint32_t)f * 10 + s);
    }

  gle_program_free(prog);
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
  gle_close();
  return test_finish("gl_import");
}
