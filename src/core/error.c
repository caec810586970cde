#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[1024];

const char *ifd_last_error(void) { return last_error; }

/* Formats into a local buffer first: the arguments may point into last_error
 * (wrapping the previous message, e.g. ifd_fail(rc, "...: %s", ifd_last_error())). */
int ifd_fail(int err, const char *fmt, ...) {
  char msg[sizeof(last_error)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  memcpy(last_error, msg, sizeof(msg));
  return err;
}

int ifd_fail_prefix(int err, const char *fmt, ...) {
  char prefix[256], old[sizeof(last_error)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof(prefix), fmt, ap);
  va_end(ap);
  /* A message that already names the caller (an inner check that was given
   * the caller's name) keeps its one prefix: no "fn: fn: ...". */
  size_t n = strlen(prefix);
  if (strncmp(last_error, prefix, n) == 0 &&
      (last_error[n] == ':' || last_error[n] == '(' || last_error[n] == ' '))
    return err;
  memcpy(old, last_error, sizeof(old));
  snprintf(last_error, sizeof(last_error), "%s: %s", prefix, old);
  return err;
}
