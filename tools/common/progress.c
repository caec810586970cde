#include "common/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"

void progress_begin(progress *p) {
  memset(p, 0, sizeof(*p));
  p->tty = isatty(STDOUT_FILENO) == 1;
  p->period_s = p->tty ? PROGRESS_TTY_PERIOD_S : PROGRESS_LOG_PERIOD_S;
  p->start_s = p->last_s = tool_now_s();
}

double progress_elapsed(const progress *p) { return tool_now_s() - p->start_s; }

bool progress_due(const progress *p) { return tool_now_s() - p->last_s >= p->period_s; }

void progress_print(progress *p, const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
  if (p->tty) {
    /* Blanks cover what is left of a longer previous line. */
    int pad = p->shown > len ? (int)(p->shown - len) : 0;
    printf("\r%s%*s", line, pad, "");
    if (pad) printf("\r%s", line);
    p->shown = len ? len : 1;
  } else {
    printf("%s\n", line);
  }
  fflush(stdout);
  p->last_s = tool_now_s();
}

void progress_end(progress *p, bool keep) {
  if (!p->shown) return;
  if (keep) printf("\n");
  else printf("\r%*s\r", (int)p->shown, "");
  fflush(stdout);
  p->shown = 0;
}
