/* The consumer API end to end, every format and awkward sizes through one
 * importer: test_consumer_vk (ifd_vk_frame_import) and test_consumer_gl
 * (ifd_gl_frame_import) are this file built with IFD_TEST_CONSUMER_GL 0 and 1.
 * A producer (IFD_TEST_BACKEND: vulkan by default, so CI runs it on
 * lavapipe/llvmpipe) writes with host uploads; each frame is imported on each
 * path (auto, copy, linear, and Vulkan's copy-transfer or GL's copy-upload
 * and buffer), drawn into an offscreen framebuffer and compared pixel by
 * pixel with the reference pattern (GL's buffer path through gl.h's
 * IFD_GL_BUFFER_GLSL); open fds are counted. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "consumer_env.h"

int main(void) {
  const bool gl = IFD_TEST_CONSUMER_GL;
  producer p;
  consumer c;
  consumer_env_open(&p, &c, gl);
  const int fds_start = test_count_fds();
  static const uint32_t sizes[][2] = {{64, 64}, {61, 37}, {1, 1}, {7, 300}};
  int unavailable = 0, cases = 0;
  /* Vulkan has a fourth path: COPY by vkCmdCopyBufferToImage (COPY itself
   * copies by compute where the device can); GL a fourth, COPY by
   * pixel-unpack upload, and a fifth, the buffer with no copy. */
  const int last_path = gl ? IFD_GL_PATH_BUFFER : IFD_VK_PATH_COPY_TRANSFER;
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++)
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++)
      for (int path = 0; path <= last_path; path++, cases++)
        unavailable += run_case(&p, &c, (MAX_Format)f, sizes[s][0], sizes[s][1], path,
                                (uint32_t)(f * 10 + s), false);
  for (int path = 0; path <= last_path; path++, cases++)
    unavailable += run_case(&p, &c, MAX_FMT_RGBA8, 1920, 1080, path, 7, false);
  printf("%d cases, %d with an explicit path unavailable, %d copied by compute\n", cases,
         unavailable, copies_by_compute);
  /* vkr_open takes a Vulkan 1.3 device, and its graphics queue computes:
   * the compute copy must have served every format and size on COPY. */
  if (!gl)
    CHECK(copies_by_compute >= (MAX_FMT_RGBA32F - MAX_FMT_R8 + 1) * (int)ARRAY_LEN(sizes));
  /* The test's GL 4.5 context has every piece of the compute copy: where GL
   * could import the memory as a buffer (not on llvmpipe, where COPY is
   * n/a), COPY must have copied by compute, never by upload. */
  if (gl) CHECK_RC(gl_copies_uploaded, 0);
  const int fds_end = test_count_fds();
  if (fds_end != fds_start) {
    fprintf(stderr, "open fds: %d at start, %d at the end\n", fds_start, fds_end);
    test_failures++;
  }
  consumer_close(&c);
  tp_close(&p);
  return test_finish(gl ? "consumer_gl" : "consumer_vk");
}
