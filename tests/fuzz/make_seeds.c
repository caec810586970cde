/* Writes fuzz_wire's seed corpus: one valid message of each type, encoded
 * by the library, behind the control byte of fuzz.h, as <dir>/<type>.
 * Usage: fuzz_wire_seeds DIR. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "interop_fd/interop_fd.h"
#include "share/wire.h"
#include "fuzz.h"

static int write_seed(const char *dir, const char *name, const ifd_wire_msg *m) {
  uint8_t buf[1 + IFD_WIRE_MAX_MESSAGE];
  int n = ifd_wire_encode(m, buf + 1, IFD_WIRE_MAX_MESSAGE);
  if (n < 0) {
    fprintf(stderr, "fuzz_wire_seeds: %s: %s\n", name, ifd_last_error());
    return 1;
  }
  buf[0] = IFD_FUZZ_CONTROL(m->nfds);
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, (size_t)n + 1, f) != (size_t)n + 1 || fclose(f) != 0) {
    fprintf(stderr, "fuzz_wire_seeds: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fuzz_wire_seeds DIR\n");
    return 2;
  }
  const ifd_wire_msg seeds[] = {
      {.type = IFD_WIRE_HELLO, .u.hello = {1, 1, "interop-fd view"}},
      /* MAILBOX with timelines: 3 frames + ready + release + control. */
      {.type = IFD_WIRE_RING, .nfds = 6,
       .u.ring = {.count = 3, .width = 640, .height = 480, .format = MAX_FMT_RGBA8,
                  .row_pitch = 2560, .flags = IFD_WIRE_RING_TIMELINES, .mode = IFD_RING_MAILBOX,
                  .exporter = IFD_BACKEND_VULKAN, .size = 2560 * 480, .ended = 9, .released = 8,
                  .device_uuid = {0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
                                  0x5a, 0x5a, 0x5a, 0x5a, 0x5a}}},
      {.type = IFD_WIRE_REFUSE,
       .u.refuse = {EPROTO, "the viewer speaks protocol versions 2..3, this server 1"}},
      {.type = IFD_WIRE_READY, .u.frame = 10},
      {.type = IFD_WIRE_RELEASE, .u.frame = 9},
      {.type = IFD_WIRE_GONE},
  };
  const char *names[] = {"hello", "ring", "refuse", "ready", "release", "gone"};
  int bad = 0;
  for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
    bad |= write_seed(argv[1], names[i], &seeds[i]);
  return bad;
}
