/* Host waits by polling. Drivers do not wake a host waiting on a semaphore
 * signalled by another API promptly (NVIDIA: about every 10 ms,
 * docs/platform-facts.md),
 * so the library polls the value itself: a short spin for frame-rate waits,
 * then sleeps that grow with the time already waited, so a long wait costs
 * little CPU. */
#include <errno.h>
#include <sys/prctl.h>
#include <time.h>

#include "internal.h"

#define SPIN_NS 200000ull      /* busy-poll this long first */
#define SHORT_PHASE_NS 2000000ull
#define SHORT_SLEEP_NS 10000L  /* then sleep 10 us between checks... */
#define LONG_SLEEP_NS 250000L  /* ...and 250 us once 2 ms have passed */
#define SLACK_NS 1000L         /* timer slack while sleeping (default 50 us) */

uint64_t ifd_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ifd_deadline_ns(uint64_t timeout_ns) {
  uint64_t now = ifd_now_ns();
  return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* While it sleeps, the thread's timer slack is lowered to SLACK_NS (Linux's
 * default of 50 us would stretch each 10 us sleep to ~60 us,
 * docs/platform-facts.md)
 * and restored before returning. */
int ifd_poll(int (*check)(void *arg), void *arg, uint64_t timeout_ns) {
  uint64_t start = ifd_now_ns();
  int old_slack = -1;
  int rc;
  for (;;) {
    int r = check(arg);
    if (r != 0) {
      rc = r < 0 ? r : 0;
      break;
    }
    uint64_t waited = ifd_now_ns() - start;
    if (waited >= timeout_ns) {
      rc = -ETIMEDOUT;
      break;
    }
    if (waited < SPIN_NS) {
      for (int i = 0; i < 64; i++) cpu_relax();
      continue;
    }
    if (old_slack < 0) {
      old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
      if (old_slack >= 0) prctl(PR_SET_TIMERSLACK, SLACK_NS, 0, 0, 0);
    }
    uint64_t left = timeout_ns - waited;
    long nap = waited < SHORT_PHASE_NS ? SHORT_SLEEP_NS : LONG_SLEEP_NS;
    if ((uint64_t)nap > left) nap = (long)left;
    struct timespec ts = {0, nap};
    nanosleep(&ts, NULL);
  }
  if (old_slack >= 0) prctl(PR_SET_TIMERSLACK, (unsigned long)old_slack, 0, 0, 0);
  return rc;
}
