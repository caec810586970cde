#include "common/stop_signal.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
  if (stop_requested) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  stop_requested = 1;
}

void stop_signal_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

bool stop_signal_received(void) { return stop_requested != 0; }
