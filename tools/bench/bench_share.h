/* The cross-process scenario of `interop-fd bench` (bench_share.c): the
 * handoff latency of a ring served over a Unix socket (interop_fd/share.h)
 * to a Vulkan viewer in another process, against the same viewer as a thread
 * of this process, measured alike in one run: one frame in flight, from the
 * frame kernel's last block to the viewer's first command on the frame (the
 * zero-copy-direct latency of the main table), both on the host's clock. */
#ifndef IFD_TOOLS_BENCH_SHARE_H
#define IFD_TOOLS_BENCH_SHARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
  bool measured;
  char why[320];
  uint32_t width, height, frames;
  /* latency in us: [0] a viewer thread in this process, [1] a viewer process */
  double p50[2], p99[2], mean[2];
  uint64_t wrong; /* frames whose samples were not the pattern (must be 0) */
} bench_share;

void bench_share_print(const bench_share *s, FILE *f);
/* ,"share": {...} */
void bench_share_json(const bench_share *s, FILE *f);

/* The viewer process: `interop-fd bench-share-viewer PATH FD FRAMES`, spawned
 * by the scenario (FD: its end of the channel). Returns the exit status. */
int bench_share_viewer_main(int argc, char **argv);

#endif
