/* interop-fd: the demo, device information and the self-test of interop_fd. */
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "demo/demo.h"
#include "info/info.h"
#include "common/options.h"
#include "selftest/selftest.h"
#include "common/tool_error.h"

/* Mesa prints warnings without a runtime folder; any writable one will do. */
static void ensure_runtime_dir(void) {
  const char *d = getenv("XDG_RUNTIME_DIR");
  if (!d || !*d) setenv("XDG_RUNTIME_DIR", "/tmp", 1);
}

int main(int argc, char **argv) {
  tool_options o;
  if (options_parse(argc, argv, &o) != 0) {
    fprintf(stderr, "interop-fd: %s\n\n", tool_last_error());
    options_usage(stderr);
    return 2;
  }
  ensure_runtime_dir();
  switch (o.command) {
  case CMD_HELP:
    options_usage(stdout);
    return 0;
  case CMD_INFO:
    return info_run(stdout) == 0 ? 0 : 1;
  case CMD_SELFTEST:
    return selftest_main(&o);
  case CMD_BENCH:
    if (o.out_dir && demo_check_out_dir(o.out_dir) != 0) {
      fprintf(stderr, "interop-fd: %s\n\n", tool_last_error());
      options_usage(stderr);
      return 2;
    }
    return bench_run_main(&o);
  case CMD_DEMO: {
    if (o.out_dir && demo_check_out_dir(o.out_dir) != 0) {
      fprintf(stderr, "interop-fd: %s\n\n", tool_last_error());
      options_usage(stderr);
      return 2;
    }
    int rc = demo_run_main(&o);
    if (rc != 0) {
      fprintf(stderr, "interop-fd demo: %s\n", tool_last_error());
      return 1;
    }
    return 0;
  }
  }
  return 1;
}
