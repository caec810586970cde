/* The tools' one clock: CLOCK_MONOTONIC, the clock the bench calibrates the
 * GPUs' timers against and the demo and progress lines time with. */
#ifndef IFD_TOOLS_CLOCK_H
#define IFD_TOOLS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t tool_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double tool_now_s(void) { return (double)tool_now_ns() * 1e-9; }

static inline void tool_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#endif
