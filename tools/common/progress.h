/* Progress of a long loop on stdout. On a terminal: one line rewritten in
 * place (\r) a few times a second. Otherwise (a pipe, a log file, CTest): a
 * full line every PROGRESS_LOG_PERIOD_S seconds, enough to show the run is
 * alive without flooding the log. Nothing is printed before the first period
 * has passed, so short loops stay silent. */
#ifndef IFD_TOOLS_PROGRESS_H
#define IFD_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define PROGRESS_TTY_PERIOD_S 0.25
#define PROGRESS_LOG_PERIOD_S 5.0

typedef struct {
  bool tty;        /* stdout is a terminal */
  double period_s; /* between two lines */
  double start_s;  /* when progress_begin was called */
  double last_s;   /* when the last line was printed (start_s before any) */
  size_t shown;    /* terminal: length of the line on screen; 0: none */
} progress;

void progress_begin(progress *p);

/* Seconds since progress_begin. */
double progress_elapsed(const progress *p);

/* True when the next line is due (cheap: call it every iteration). */
bool progress_due(const progress *p);

/* Prints a line (printf format, no newline) now, due or not: on a terminal
 * over the previous one, otherwise as a line of its own. */
void progress_print(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the terminal line: keep it (a newline) or erase it, so that what is
 * printed next starts on a clean line. No-op when nothing is on screen. */
void progress_end(progress *p, bool keep);

#endif
