/* The checks of every test: CHECK counts a failure and goes on, REQUIRE stops
 * the test, SKIP exits with CTest's skip code and the reason, test_finish
 * turns the count into the exit code. Each failure prints file:line, the
 * expression and the library's last message. */
#ifndef IFD_TEST_CHECK_H
#define IFD_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interop_fd/interop_fd.h"

/* CTest's SKIP_RETURN_CODE for every test. */
#define TEST_SKIP 77

/* Failed checks of the whole program: one counter for all its files (a weak
 * definition, so that the test and its helper .c share it). */
__attribute__((weak)) int test_failures = 0;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, \
              #cond, ifd_last_error());                                               \
      test_failures++;                                                                \
    }                                                                                 \
  } while (0)

/* expr must return `want`: 0, or the negative errno of the failure expected
 * (-EINVAL); a failure names both errnos. */
#define CHECK_RC(expr, want)                                                              \
  do {                                                                                    \
    int rc_ = (expr), want_ = (want);                                                     \
    if (rc_ != want_) {                                                                   \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s) (last error: %s)\n",  \
              __FILE__, __LINE__, #expr, rc_, test_rc_name(rc_), want_,                   \
              test_rc_name(want_), ifd_last_error());                                     \
      test_failures++;                                                                    \
    }                                                                                     \
  } while (0)

/* expr must fail with `want` (a negative errno) and leave a message. */
#define CHECK_FAILS(expr, want)             \
  do {                                      \
    CHECK_RC(expr, want);                   \
    CHECK(ifd_last_error()[0] != '\0');     \
  } while (0)

/* Stops the test at once: for setup failures that make the rest meaningless.
 * _exit, not exit: the exit handlers of a GPU driver can wait for a queue
 * that a failed check left waiting (a release never signalled), and the
 * test would then hang until its watchdog instead of failing now. */
#define REQUIRE(cond)                                                                     \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s (last error: %s)\n", __FILE__, __LINE__, \
              #cond, ifd_last_error());                                                   \
      fflush(NULL);                                                                       \
      _exit(1);                                                                           \
    }                                                                                     \
  } while (0)

/* SKIP("lavapipe cannot export semaphores: %s", why): prints the reason on
 * stdout and exits TEST_SKIP. The first argument is a string literal, so
 * every skip says why. */
#define SKIP(...)                  \
  do {                             \
    printf("SKIP: " __VA_ARGS__);  \
    printf("\n");                  \
    fflush(stdout);                \
    exit(TEST_SKIP);               \
  } while (0)

/* "Invalid argument" for -EINVAL, for failure messages. */
static inline const char *test_rc_name(int rc) {
  if (rc > 0) return "positive";
  return rc == 0 ? "success" : strerror(-rc);
}

static inline int test_finish(const char *name) {
  if (test_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

/* Checks that the last message starts with fn, names it once ("fn: fn: ..."
 * never) and contains needle (if not NULL). The needle is a stable fragment of
 * the message (a name, a value, "timed out"), never a whole sentence, so that
 * rewording a message does not break a test. */
static inline void test_check_message(const char *fn, const char *needle) {
  const char *m = ifd_last_error();
  size_t n = strlen(fn);
  int ok = strncmp(m, fn, n) == 0 && strstr(m + n, fn) == NULL &&
           (!needle || strstr(m, needle) != NULL);
  if (!ok) {
    fprintf(stderr, "message of %s is wrong (want one prefix%s%s): \"%s\"\n", fn,
            needle ? " and " : "", needle ? needle : "", m);
    test_failures++;
  }
}

/* The producer backend of a test: IFD_TEST_BACKEND=cuda or auto, else
 * Vulkan (lavapipe on the CPU machines). */
static inline ifd_backend test_backend_from_env(void) {
  const char *b = getenv("IFD_TEST_BACKEND");
  if (b && strcmp(b, "cuda") == 0) return IFD_BACKEND_CUDA;
  if (b && strcmp(b, "auto") == 0) return IFD_BACKEND_AUTO;
  return IFD_BACKEND_VULKAN;
}

#endif
