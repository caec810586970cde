/* internal: calls the fd -> timeline mapping of src/core/semaphore_fds.c
 * (core/internal.h) directly, since no CPU driver exports a semaphore fd that
 * would reach it through the public API. */
/* The rule that maps an fd back to its timeline (semaphore_fds.c), tested
 * with ordinary fds standing in for semaphore fds, since CPU drivers cannot
 * export semaphores: a registered fd and its dups map to their timeline; a
 * closed fd is -EBADF; a reused number or a foreign fd is -EINVAL. Links the
 * static library for the internal functions. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/internal.h"
#include "test_util.h"

int main(void) {
  int fds = test_count_fds();
  ifd_timeline *a = (ifd_timeline *)(uintptr_t)0x1000, *b = (ifd_timeline *)(uintptr_t)0x2000;
  int pa[2], pb[2];
  REQUIRE(pipe2(pa, O_CLOEXEC) == 0 && pipe2(pb, O_CLOEXEC) == 0);
  CHECK_RC(ifd_semfd_register(pa[0], a), 0);
  CHECK_RC(ifd_semfd_register(pb[0], b), 0);

  ifd_timeline *got = NULL;
  CHECK_RC(ifd_semfd_lookup(pa[0], &got), 0);
  CHECK(got == a);
  CHECK_RC(ifd_semfd_lookup(pb[0], &got), 0);
  CHECK(got == b);
  CHECK_RC(ifd_semfd_lookup(pa[1], &got), -EINVAL); /* the other end: another file */

  int d = dup(pa[0]);
  got = NULL;
  int rc = ifd_semfd_lookup(d, &got);
  if (rc == 0) CHECK(got == a); /* kcmp present */
  else CHECK(rc == -EINVAL);    /* without kcmp only the returned number counts */
  printf("dup of a registered fd: %s\n", rc == 0 ? "accepted (kcmp)" : "refused (no kcmp)");
  close(d);

  /* Close a's fd and put another pipe on the same number. */
  int number = pa[0];
  close(pa[0]);
  CHECK_RC(ifd_semfd_lookup(number, &got), -EBADF);
  CHECK(strstr(ifd_last_error(), "dup()") != NULL);
  int pc[2];
  REQUIRE(pipe2(pc, O_CLOEXEC) == 0);
  int reused = pc[0] == number ? pc[0] : (dup2(pc[0], number) == number ? number : -1);
  REQUIRE(reused == number);
  got = NULL;
  CHECK_RC(ifd_semfd_lookup(number, &got), -EINVAL);
  CHECK(got == NULL);

  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK_RC(ifd_semfd_lookup(devnull, &got), -EINVAL);
  CHECK_RC(ifd_semfd_lookup(-3, &got), -EBADF);

  ifd_semfd_forget(b);
  CHECK_RC(ifd_semfd_lookup(pb[0], &got), -EINVAL);
  ifd_semfd_forget(a);

  /* The public entry point applies the same rule. */
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(devnull, 1), -EINVAL);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(pb[0], 1), -EINVAL);

  close(devnull);
  if (pc[0] != number) close(pc[0]);
  close(number);
  close(pc[1]);
  close(pa[1]);
  close(pb[0]);
  close(pb[1]);
  CHECK(test_count_fds() == fds);
  return test_finish("semaphore_fd_mapping");
}
