/* interop-fd: the demo, its viewer in another process, device information,
 * the self-test and the benchmark of interop_fd. One command table; each
 * command lives in a folder of its own and returns the process's exit status. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_share.h"
#include "common/out_dir.h"
#include "common/tool_error.h"
#include "demo/demo.h"
#include "info/info.h"
#include "options.h"
#include "selftest/selftest.h"
#include "view/view.h"

static int run_help(const tool_options *o) {
  (void)o;
  options_usage(stdout);
  return 0;
}

static int run_info(const tool_options *o) {
  (void)o;
  return info_run(stdout) == 0 ? 0 : 1;
}

static int run_demo(const tool_options *o) {
  if (demo_run_main(o) == 0) return 0;
  fprintf(stderr, "interop-fd demo: %s\n", tool_last_error());
  return 1;
}

typedef struct {
  int (*run)(const tool_options *o); /* the process's exit status */
  bool checks_out_dir;               /* --out is created and checked first */
} command;

static const command commands[] = {
    [CMD_DEMO] = {run_demo, true},
    [CMD_INFO] = {run_info, false},
    [CMD_SELFTEST] = {selftest_main, false},
    [CMD_BENCH] = {bench_run_main, true},
    [CMD_VIEW] = {view_main, true},
    [CMD_HELP] = {run_help, false},
};

/* Mesa prints warnings without a runtime folder; any writable one will do. */
static void ensure_runtime_dir(void) {
  const char *d = getenv("XDG_RUNTIME_DIR");
  if (!d || !*d) setenv("XDG_RUNTIME_DIR", "/tmp", 1);
}

int main(int argc, char **argv) {
  /* Not a user command: the viewer process of bench's cross-process
   * scenario, which the bench starts as this executable. */
  if (argc > 1 && strcmp(argv[1], "bench-share-viewer") == 0)
    return bench_share_viewer_main(argc - 1, argv + 1);
  tool_options o;
  if (options_parse(argc, argv, &o) != 0 ||
      (commands[o.command].checks_out_dir && o.out_dir && tool_out_dir(o.out_dir) != 0)) {
    fprintf(stderr, "interop-fd: %s\n\n", tool_last_error());
    options_usage(stderr);
    return 2;
  }
  ensure_runtime_dir();
  return commands[o.command].run(&o);
}
