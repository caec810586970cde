#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_common.h"
#include "common/tool_error.h"

#define MAX_SIDE 16384u

void options_usage(FILE *f) {
  fputs(
      "usage: interop-fd demo     [--backend auto|cuda|vulkan] [--consumer vk|gl] [--size WxH]\n"
      "                           [--format FMT] [--frames N] [--out DIR] [--save N] [--ring N]\n"
      "                           [--device N] [--headless] [--vsync] [--mode fifo|mailbox]\n"
      "                           [--priority high|realtime]\n"
      "       interop-fd demo     --serve PATH [--backend auto|cuda|vulkan] [--size WxH]\n"
      "                           [--format FMT] [--frames N] [--ring N] [--device N]\n"
      "                           [--mode fifo|mailbox] [--wait]\n"
      "       interop-fd view     --connect PATH [--consumer vk|gl] [--out DIR] [--frames N]\n"
      "                           [--wait] [--timeout S] [--headless] [--vsync]\n"
      "       interop-fd info\n"
      "       interop-fd selftest [--backend auto|cuda|vulkan] [--consumer vk|gl] [--frames N]\n"
      "       interop-fd bench    [--size WxH] [--format rgba8|rgba16f] [--paths P,...]\n"
      "                           [--modes throughput,latency] [--frames N] [--ring N] [--out DIR]\n"
      "                           [--device N] [--handoff host|gpu] [--break PATH]\n"
      "                           [--priority high|realtime] [--mode fifo|mailbox]\n"
      "       interop-fd help\n"
      "\n"
      "demo      a neural network (a CPPN) draws every frame on the GPU (CUDA kernel or Vulkan\n"
      "          compute shader); a Vulkan or GL consumer shows it through interop_fd's\n"
      "          zero-copy path. With a display: a window with a live frame rate. Headless:\n"
      "          writes a few frames as PNG files and prints frames/s and frame times.\n"
      "          With --serve PATH: no consumer here; the ring is served on the Unix socket\n"
      "          PATH to a viewer in another process (view), until --frames or Ctrl-C.\n"
      "view      connects to a demo --serve (or any ifd_ring_serve) and draws its frames:\n"
      "          a window with the live frame rate, or headless every frame drawn as a PNG\n"
      "          file in --out (each named by its frame number)\n"
      "info      backends, devices, handle types, and whether zero-copy works from X to Y here\n"
      "selftest  the acceptance checks this machine can run; a pass/fail/skip table\n"
      "bench     interop_fd's handoff against the CPU round trip, CUDA's GL interop and the\n"
      "          memory floor, on the same frames: a table, bench.json and bench.svg in --out\n"
      "\n"
      "  --backend   producer: auto (CUDA, else Vulkan), cuda, vulkan          [auto]\n"
      "  --consumer  vk or gl                                        [demo: vk; selftest: both]\n"
      "  --size      frame size, e.g. 1920x1080       [1920x1080 on a GPU, 480x270 on a CPU]\n"
      "  --format    r8 rg8 rgba8 bgra8 srgba8 r16f rg16f rgba16f r32f rg32f rgba32f  [rgba8]\n"
      "  --frames    frames to draw (demo in a window: until closed; headless 300,\n"
      "              120 on a CPU; selftest's animation check 10000, 300 on a CPU;\n"
      "              demo --serve: until stopped; view: until the producer ends)\n"
      "  --out       folder for PNG files (headless)  [interop-fd-frames; view: interop-fd-view]\n"
      "  --save      how many frames to write, spread over the run, first and last included [4]\n"
      "  --ring      frames in flight, 1..8 (mailbox: 3..8)             [3; mailbox: 4]\n"
      "  --device    device index of the backend                                  [0]\n"
      "  --headless  no window even where a display is\n"
      "  --vsync     in a window, wait for the display's refresh\n"
      "  --mode      fifo: the consumer draws every frame; mailbox: the producer runs free\n"
      "              and the consumer draws the newest frame at its own pace       [fifo]\n"
      "  --serve     demo: serve the ring on this socket path instead of drawing it here\n"
      "  --connect   view: the socket path of the producer's server\n"
      "  --wait      view: when the producer ends or dies, wait for it to serve again\n"
      "              and go on (reconnects for --timeout each time); demo --serve:\n"
      "              produce the first frame only once a viewer is attached\n"
      "  --timeout   view: seconds to wait to connect and for each next frame       [10]\n"
      "  --priority  the Vulkan consumer's queue asks this global priority\n"
      "              (VK_KHR/EXT_global_priority; the highest granted down to high,\n"
      "              else the default; the output says which)                 [not asked]\n"
      "bench:\n"
      "  --size, --format   one size / format only       [1920x1080 and 3840x2160; rgba8, rgba16f]\n"
      "  --paths     zero-copy-copy,zero-copy-direct,cpu-roundtrip,cuda-gl-interop,floor  [all]\n"
      "  --modes     throughput (pipelined), latency (one frame in flight)              [both]\n"
      "  --frames    frames per run (the CPU round trip runs a tenth)                 [2000]\n"
      "  --ring      frames in flight in throughput mode                             [3]\n"
      "  --out       folder for bench.json and bench.svg                      [bench-out]\n"
      "  --handoff   gpu: the consumer submits before the frame is ready, with a\n"
      "              device-side wait (default); host: it polls ready, then submits\n"
      "  --break     deliberately corrupt one path's frames, to see the checks refuse it\n"
      "  --priority  as for demo; also measures the time-slice floor at that priority\n"
      "  --mode      fifo: only the paths (every frame consumed); mailbox: only the\n"
      "              mailbox scenario (a consumer at 60/120/240 frames/s)        [both]\n",
      f);
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  if (!s || !isdigit((unsigned char)*s))
    return tool_fail(-EINVAL, "%s needs a number from %llu to %llu", opt, (unsigned long long)min,
                     (unsigned long long)max);
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < min || v > max)
    return tool_fail(-EINVAL, "%s: '%s' is not a number from %llu to %llu", opt, s,
                     (unsigned long long)min, (unsigned long long)max);
  *out = v;
  return 0;
}

/* Seconds, a decimal number from 0.01 to 3600 (e.g. 2 or 0.5). */
static int parse_seconds(const char *opt, const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  double v = isdigit((unsigned char)*s) ? strtod(s, &end) : 0.0;
  if (!end || errno || *end || !(v >= 0.01 && v <= 3600.0))
    return tool_fail(-EINVAL, "%s: '%s' is not a number of seconds from 0.01 to 3600", opt, s);
  *out = v;
  return 0;
}

static int parse_size(const char *s, uint32_t *w, uint32_t *h) {
  const char *x = s ? strchr(s, 'x') : NULL;
  if (!x) return tool_fail(-EINVAL, "--size: '%s' is not WxH (e.g. 1920x1080)", s ? s : "");
  char wbuf[16];
  size_t n = (size_t)(x - s);
  if (n == 0 || n >= sizeof(wbuf)) return tool_fail(-EINVAL, "--size: '%s' is not WxH", s);
  memcpy(wbuf, s, n);
  wbuf[n] = '\0';
  uint64_t a, b;
  if (parse_u64("--size width", wbuf, 1, MAX_SIDE, &a) != 0 ||
      parse_u64("--size height", x + 1, 1, MAX_SIDE, &b) != 0)
    return tool_fail(-EINVAL, "--size: '%s' is not WxH with sides from 1 to %u", s, MAX_SIDE);
  *w = (uint32_t)a;
  *h = (uint32_t)b;
  return 0;
}

/* --paths a,b or --modes a,b: names of bench paths or modes, as a bit mask. */
static int parse_list(const char *opt, const char *val, uint32_t *mask) {
  bool paths = opt[2] == 'p';
  uint32_t m = 0;
  const char *s = val;
  while (*s) {
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    char name[32];
    if (n == 0 || n >= sizeof(name)) return tool_fail(-EINVAL, "%s: '%s' is not a list of names", opt, val);
    memcpy(name, s, n);
    name[n] = '\0';
    int i = paths ? bench_path_from_name(name) : bench_mode_from_name(name);
    if (i < 0)
      return tool_fail(-EINVAL, "%s: '%s' is not one of %s", opt, name,
                       paths ? "zero-copy-copy zero-copy-direct cpu-roundtrip cuda-gl-interop floor"
                             : "throughput latency");
    m |= 1u << i;
    s += n + (comma ? 1 : 0);
    if (comma && !*s) return tool_fail(-EINVAL, "%s: '%s' ends with a comma", opt, val);
  }
  *mask = m;
  return 0;
}

/* Which options each command takes. */
static bool allowed(tool_command c, const char *opt) {
  static const char *const demo[] = {"--backend", "--consumer", "--size", "--format", "--frames",
                                     "--out", "--save", "--ring", "--device", "--headless",
                                     "--vsync", "--mode", "--priority", "--serve", "--wait", NULL};
  static const char *const view[] = {"--connect", "--consumer", "--out",      "--frames",
                                     "--wait",    "--timeout",  "--headless", "--vsync", NULL};
  static const char *const selftest[] = {"--backend", "--consumer", "--frames", "--device", NULL};
  static const char *const bench[] = {"--size",  "--format", "--paths",   "--modes", "--frames",
                                      "--ring",  "--out",    "--device",  "--handoff", "--break",
                                      "--priority", "--mode", NULL};
  const char *const *list = c == CMD_DEMO       ? demo
                            : c == CMD_SELFTEST ? selftest
                            : c == CMD_BENCH    ? bench
                            : c == CMD_VIEW     ? view
                                                : NULL;
  for (; list && *list; list++)
    if (strcmp(*list, opt) == 0) return true;
  return false;
}

/* The options whose value is one word of a list. */
typedef struct {
  const char *opt;
  const char *words[3]; /* NULL after the last */
  int values[3];
} word_option;

static const word_option word_options[] = {
    {"--backend", {"auto", "cuda", "vulkan"}, {IFD_BACKEND_AUTO, IFD_BACKEND_CUDA, IFD_BACKEND_VULKAN}},
    {"--consumer", {"vk", "gl"}, {CONSUMER_VK, CONSUMER_GL}},
    {"--handoff", {"host", "gpu"}, {true, false}},
    {"--priority", {"high", "realtime"}, {TOOL_PRIORITY_HIGH, TOOL_PRIORITY_REALTIME}},
    {"--mode", {"fifo", "mailbox"}, {IFD_RING_FIFO, IFD_RING_MAILBOX}},
};

static void set_word(tool_options *o, const char *opt, int v) {
  if (strcmp(opt, "--backend") == 0) o->backend = (ifd_backend)v;
  else if (strcmp(opt, "--consumer") == 0) o->consumer = (consumer_api)v, o->consumer_given = true;
  else if (strcmp(opt, "--handoff") == 0) o->host_wait = v != 0;
  else if (strcmp(opt, "--mode") == 0) o->mode = (ifd_ring_mode)v, o->mode_given = true;
  else o->priority = (tool_priority)v;
}

/* Sets w's option from val, or refuses it: "<opt>: '<val>' is not a, b or c". */
static int parse_word(tool_options *o, const word_option *w, const char *val) {
  char list[96] = "";
  size_t n = 0;
  for (int i = 0; i < 3 && w->words[i]; i++) {
    if (strcmp(val, w->words[i]) == 0) return set_word(o, w->opt, w->values[i]), 0;
    const char *sep = i == 0 ? "" : (i == 2 || !w->words[i + 1]) ? " or " : ", ";
    n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", sep, w->words[i]);
  }
  return tool_fail(-EINVAL, "%s: '%s' is not %s", w->opt, val, list);
}

static int parse_option(tool_options *o, const char *opt, const char *val, bool *used_val) {
  *used_val = true;
  if (strcmp(opt, "--headless") == 0) return *used_val = false, o->headless = true, 0;
  if (strcmp(opt, "--vsync") == 0) return *used_val = false, o->vsync = true, 0;
  if (strcmp(opt, "--wait") == 0) return *used_val = false, o->wait = true, 0;
  if (!val) return tool_fail(-EINVAL, "%s needs a value", opt);
  uint64_t v;
  for (size_t i = 0; i < sizeof(word_options) / sizeof(word_options[0]); i++)
    if (strcmp(opt, word_options[i].opt) == 0) return parse_word(o, &word_options[i], val);
  if (strcmp(opt, "--size") == 0) {
    o->size_given = true;
    return parse_size(val, &o->width, &o->height);
  } else if (strcmp(opt, "--format") == 0) {
    ifd_format_info info;
    if (ifd_format_from_name(val, &o->format) != 0 || ifd_format_query(o->format, &info) != 0 ||
        strcmp(info.name, val) != 0)
      return tool_fail(-EINVAL,
                       "--format: '%s' is not one of r8 rg8 rgba8 bgra8 srgba8 r16f rg16f rgba16f "
                       "r32f rg32f rgba32f", val);
    o->format_given = true;
    if (o->command == CMD_BENCH && o->format != MAX_FMT_RGBA8 && o->format != MAX_FMT_RGBA16F)
      return tool_fail(-EINVAL, "--format: bench measures rgba8 and rgba16f, not '%s'", val);
  } else if (strcmp(opt, "--frames") == 0) {
    if (parse_u64(opt, val, 1, UINT64_MAX / 2, &o->frames) != 0) return -EINVAL;
    o->frames_given = true;
  } else if (strcmp(opt, "--out") == 0) {
    if (!*val) return tool_fail(-EINVAL, "--out needs a folder");
    o->out_dir = val;
  } else if (strcmp(opt, "--save") == 0) {
    if (parse_u64(opt, val, 0, 1000, &v) != 0) return -EINVAL;
    o->save = (uint32_t)v;
  } else if (strcmp(opt, "--ring") == 0) {
    if (parse_u64(opt, val, 1, IFD_RING_MAX_FRAMES, &v) != 0) return -EINVAL;
    o->ring = (uint32_t)v;
    o->ring_given = true;
  } else if (strcmp(opt, "--device") == 0) {
    if (parse_u64(opt, val, 0, 63, &v) != 0) return -EINVAL;
    o->device = (int)v;
  } else if (strcmp(opt, "--paths") == 0 || strcmp(opt, "--modes") == 0) {
    return parse_list(opt, val, opt[2] == 'p' ? &o->paths : &o->modes);
  } else if (strcmp(opt, "--serve") == 0 || strcmp(opt, "--connect") == 0) {
    if (!*val) return tool_fail(-EINVAL, "%s needs a socket path", opt);
    *(opt[2] == 's' ? &o->serve_path : &o->connect_path) = val;
  } else if (strcmp(opt, "--timeout") == 0) {
    return parse_seconds(opt, val, &o->timeout_s);
  } else if (strcmp(opt, "--break") == 0) {
    int p = bench_path_from_name(val);
    if (p < 0) return tool_fail(-EINVAL, "--break: '%s' is not a path of bench", val);
    o->break_path = p;
  } else {
    return tool_fail(-EINVAL, "unknown option '%s'", opt);
  }
  return 0;
}

/* What only makes sense together: view needs --connect; a demo that serves
 * has no consumer of its own, so the consumer's options are refused there. */
static int check_combination(int argc, char **argv, const tool_options *o) {
  if (o->command == CMD_VIEW && !o->connect_path)
    return tool_fail(-EINVAL, "view needs --connect PATH (the producer's socket)");
  if (o->command == CMD_DEMO && o->wait && !o->serve_path)
    return tool_fail(-EINVAL, "demo --wait waits for a viewer of --serve PATH: give --serve");
  if (o->command != CMD_DEMO || !o->serve_path) return 0;
  static const char *const consumer_side[] = {"--consumer", "--out",   "--save", "--headless",
                                              "--vsync",    "--priority", NULL};
  for (int i = 2; i < argc; i++)
    for (const char *const *c = consumer_side; *c; c++) {
      size_t n = strlen(*c);
      if (strncmp(argv[i], *c, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
        return tool_fail(-EINVAL, "demo --serve draws nothing here: %s is for view", *c);
    }
  return 0;
}

int options_parse(int argc, char **argv, tool_options *o) {
  memset(o, 0, sizeof(*o));
  o->backend = IFD_BACKEND_AUTO;
  o->consumer = CONSUMER_VK;
  o->format = MAX_FMT_RGBA8;
  o->save = 4;
  o->ring = 3;
  o->paths = (1u << BENCH_PATH_COUNT) - 1;
  o->modes = (1u << BENCH_MODE_COUNT) - 1;
  o->break_path = -1;
  o->timeout_s = 10.0;
  if (argc < 2) return tool_fail(-EINVAL, "no command given");
  const char *cmd = argv[1];
  if (strcmp(cmd, "demo") == 0) o->command = CMD_DEMO;
  else if (strcmp(cmd, "info") == 0) o->command = CMD_INFO;
  else if (strcmp(cmd, "selftest") == 0) o->command = CMD_SELFTEST;
  else if (strcmp(cmd, "bench") == 0) o->command = CMD_BENCH;
  else if (strcmp(cmd, "view") == 0) o->command = CMD_VIEW;
  else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
    o->command = CMD_HELP;
  else return tool_fail(-EINVAL, "unknown command '%s'", cmd);
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      o->command = CMD_HELP;
      return 0;
    }
    char opt[32];
    const char *val = NULL;
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (strncmp(arg, "--", 2) != 0 || n >= sizeof(opt))
      return tool_fail(-EINVAL, "unexpected argument '%s'", arg);
    memcpy(opt, arg, n);
    opt[n] = '\0';
    if (!allowed(o->command, opt)) {
      if (allowed(CMD_DEMO, opt) || allowed(CMD_SELFTEST, opt) || allowed(CMD_BENCH, opt) ||
          allowed(CMD_VIEW, opt))
        return tool_fail(-EINVAL, "'%s' takes no option %s", cmd, opt);
      return tool_fail(-EINVAL, "unknown option '%s'", opt);
    }
    val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
    if (!eq && val && strncmp(val, "--", 2) == 0) val = NULL; /* the next option, not a value */
    bool used = false;
    int rc = parse_option(o, opt, val, &used);
    if (rc != 0) return rc;
    if (used && !eq) i++;
    if (!used && eq) return tool_fail(-EINVAL, "%s takes no value", opt);
  }
  return check_combination(argc, argv, o);
}
