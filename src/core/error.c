#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[1024];

const char *ifd_last_error(void) { return last_error; }

int ifd_fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof(last_error), fmt, ap);
  va_end(ap);
  return err;
}

int ifd_fail_prefix(int err, const char *fmt, ...) {
  char prefix[256], old[sizeof(last_error)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof(prefix), fmt, ap);
  va_end(ap);
  memcpy(old, last_error, sizeof(old));
  snprintf(last_error, sizeof(last_error), "%s: %s", prefix, old);
  return err;
}
