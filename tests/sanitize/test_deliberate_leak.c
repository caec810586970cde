/* Checks that the driver suppressions (tests/sanitize/lsan.supp) cannot hide a
 * leak of our own. Loads and unloads the drivers the other tests use (a
 * lavapipe Vulkan context through the library; an llvmpipe GL context through
 * EGL where the build has GL), so their own leaks are there to be suppressed,
 * then leaks one block from a function of this file. deliberate_leak.sh
 * passes only if LeakSanitizer reports exactly that block, naming the
 * function. Sanitizer build only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop_fd/interop_fd.h"
#ifdef IFD_TEST_WITH_GL
#include "gl_env.h"
#endif

/* Seen by the runner: the size LeakSanitizer must report. */
#define LEAK_SIZE 4321

static void *volatile leak_holder;

/* The leak the suppressions must not hide. noinline: its name must be a frame
 * of the allocation's stack. */
__attribute__((noinline)) static void ifd_deliberately_leaked_block(void) {
  char *p = malloc(LEAK_SIZE);
  if (!p) abort();
  memset(p, 0x5a, LEAK_SIZE);
  leak_holder = p;
  leak_holder = NULL;
}

int main(void) {
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(IFD_BACKEND_VULKAN, 0, &ctx);
  if (rc != 0) {
    /* Not a skip: without the drivers loaded this test proves nothing. */
    fprintf(stderr, "deliberate_leak: ifd_context_create: %d %s\n", rc, ifd_last_error());
    return 1;
  }
  ifd_image *img = NULL;
  rc = ifd_image_create(ctx, 64, 64, MAX_FMT_RGBA8, &img);
  if (rc != 0) {
    fprintf(stderr, "deliberate_leak: ifd_image_create: %d %s\n", rc, ifd_last_error());
    return 1;
  }
  ifd_image_destroy(img);
  ifd_context_destroy(ctx);
  printf("deliberate_leak: lavapipe loaded and released\n");
#ifdef IFD_TEST_WITH_GL
  char why[512];
  if (!gle_open(why, sizeof(why))) {
    fprintf(stderr, "deliberate_leak: no GL context: %s\n", why);
    return 1;
  }
  GLuint prog = gle_program();
  gle_program_free(prog);
  gle_close();
  printf("deliberate_leak: llvmpipe loaded and released\n");
#endif
  ifd_deliberately_leaked_block();
  printf("deliberate_leak: leaked %d bytes in ifd_deliberately_leaked_block\n", LEAK_SIZE);
  return 0;
}
