/* Time in tests: a monotonic clock, a sleep that survives signals, and a
 * watchdog that turns a hang into a failure naming the step that hung. */
#ifndef IFD_TEST_CLOCK_H
#define IFD_TEST_CLOCK_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TEST_MS 1000000ull  /* nanoseconds */
#define TEST_SEC 1000000000ull

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t test_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * TEST_SEC + (uint64_t)ts.tv_nsec;
}

/* The same in seconds, for rates and printed times. */
static inline double test_now_s(void) { return (double)test_now_ns() * 1e-9; }

static inline void test_sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / TEST_SEC), (long)(ns % TEST_SEC)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---- watchdog ---- */

/* What the program is doing while the watchdog runs (one per program). */
__attribute__((weak)) const char *volatile test_watched = "";

static inline void test_on_watchdog(int sig) {
  (void)sig;
  static const char head[] = "HANG: no return within the watchdog's limit from: ";
  ssize_t r = write(2, head, sizeof(head) - 1);
  r = write(2, test_watched, strlen(test_watched));
  r = write(2, "\n", 1);
  (void)r;
  _exit(1);
}

/* A wait that never ends (a semaphore never signalled, a peer gone) would
 * otherwise only show up as CTest's timeout, with no hint: after `seconds`
 * the program prints `what` and exits 1. test_unwatch() stops it. */
static inline void test_watch(const char *what, unsigned seconds) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = test_on_watchdog;
  sigaction(SIGALRM, &sa, NULL);
  test_watched = what;
  alarm(seconds);
}

static inline void test_unwatch(void) { alarm(0); }

#endif
