#include "common/tool_error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char message[1024];

int tool_fail(int err, const char *fmt, ...) {
  char buf[sizeof(message)]; /* fmt's arguments may point into message */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  snprintf(message, sizeof(message), "%s", buf);
  return err;
}

const char *tool_last_error(void) { return message; }
