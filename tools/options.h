/* The interop-fd command line: one parser for every subcommand, so the same
 * option means the same thing everywhere and a bad one is always refused. */
#ifndef IFD_TOOLS_OPTIONS_H
#define IFD_TOOLS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "interop_fd/interop_fd.h"
#include "present/present.h"

typedef enum { CMD_DEMO, CMD_INFO, CMD_SELFTEST, CMD_BENCH, CMD_VIEW, CMD_HELP } tool_command;

/* A global queue priority to ask for (VK_KHR/EXT_global_priority); the values
 * are VkQueueGlobalPriorityKHR's. */
typedef enum { TOOL_PRIORITY_NONE = 0, TOOL_PRIORITY_HIGH = 512, TOOL_PRIORITY_REALTIME = 1024 } tool_priority;

typedef struct {
  tool_command command;
  ifd_backend backend;   /* --backend auto|cuda|vulkan (AUTO) */
  consumer_api consumer; /* --consumer vk|gl (vk) */
  bool consumer_given;
  uint32_t width, height; /* --size WxH (0: the default for the device) */
  MAX_Format format;      /* --format (rgba8) */
  uint64_t frames;        /* --frames N (0: not given) */
  bool frames_given;
  const char *out_dir;    /* --out DIR (NULL: not given) */
  uint32_t save;          /* --save N: PNG files to write (4) */
  uint32_t ring;          /* --ring N: frames in flight (3; MAILBOX: 4) */
  bool ring_given;
  int device;             /* --device N (0) */
  bool headless;          /* --headless: no window even with a display */
  bool vsync;             /* --vsync */
  /* bench */
  bool size_given, format_given;
  uint32_t paths;         /* --paths: bit (1 << bench_path) per path (all) */
  uint32_t modes;         /* --modes: bit (1 << bench_mode) per mode (both) */
  int break_path;         /* --break PATH: corrupt that path's frames (-1: none) */
  bool host_wait;         /* --handoff host: consumers wait on the host, then submit */
  tool_priority priority; /* --priority high|realtime: the Vulkan consumer's queue (NONE) */
  /* --mode fifo|mailbox: demo: the ring's mode (FIFO); bench: the path table
   * (fifo) or the mailbox scenario (mailbox) only (both when not given) */
  ifd_ring_mode mode;
  bool mode_given;
  /* across processes: demo --serve PATH serves its ring; view --connect PATH
   * draws one served elsewhere */
  const char *serve_path;   /* --serve (NULL: the demo presents in-process) */
  const char *connect_path; /* --connect (view: required) */
  bool wait;                /* --wait: view reconnects when the producer ends */
  double timeout_s;         /* --timeout S: view's wait for the producer (10) */
} tool_options;

/* Parses argv (argv[0] is the program). On a bad command line returns -EINVAL
 * with the reason in tool_last_error(); the caller prints it and the usage. */
int options_parse(int argc, char **argv, tool_options *out);
void options_usage(FILE *f);

#endif
