/* Preloaded by tests/validation/run_validated.sh (LD_PRELOAD) into every
 * process of a validated test, so that the validation layer's log costs the
 * test no fd.
 *
 * Why: the layer (1.3.239) fopen()s its log_filename once per VkInstance and
 * never closes it, so a test that counts its open fds around the creation of
 * a context would see one new fd per instance and report a leak that is the
 * layer's. Here, fopen() of the path named by IFD_VALIDATION_LOG (for example
 * /dev/fd/9, which the wrapper holds open on its log) returns one stream on
 * that already open fd, shared by every instance of the process; fclose() of
 * that stream only flushes it. Every other fopen() and fclose() goes to libc.
 * Nothing else is changed. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The build hides symbols by default; these two must replace libc's. */
#define SHIM_EXPORT __attribute__((visibility("default")))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *shared_log; /* on the inherited fd, once opened */

/* The inherited fd that IFD_VALIDATION_LOG names ("/dev/fd/N"), or -1. */
static int log_fd_for(const char *path) {
  const char *want = getenv("IFD_VALIDATION_LOG");
  if (!path || !want || strcmp(path, want) != 0 || strncmp(want, "/dev/fd/", 8) != 0) return -1;
  char *end;
  long fd = strtol(want + 8, &end, 10);
  return *end == '\0' && fd > 2 && fd < 1024 ? (int)fd : -1;
}

SHIM_EXPORT FILE *fopen(const char *path, const char *mode) {
  int fd = log_fd_for(path);
  if (fd >= 0) {
    pthread_mutex_lock(&lock);
    if (!shared_log) shared_log = fdopen(fd, "w"); /* "w" on an open fd truncates nothing */
    FILE *f = shared_log;
    pthread_mutex_unlock(&lock);
    if (f) return f;
  }
  FILE *(*real)(const char *, const char *) =
      (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
  return real ? real(path, mode) : NULL;
}

SHIM_EXPORT int fclose(FILE *f) {
  pthread_mutex_lock(&lock);
  int shared = f && f == shared_log;
  pthread_mutex_unlock(&lock);
  if (shared) return fflush(f);
  int (*real)(FILE *) = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
  return real ? real(f) : EOF;
}
