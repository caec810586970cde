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
  ifd_wire_msg m;
  int bad = 0;
  memset(&m, 0, sizeof(m));
  m.type = IFD_WIRE_HELLO;
  m.u.hello.min_version = 1;
  m.u.hello.max_version = 1;
  strcpy(m.u.hello.name, "interop-fd view");
  bad |= write_seed(argv[1], "hello", &m);

  memset(&m, 0, sizeof(m));
  m.type = IFD_WIRE_RING;
  ifd_wire_ring *r = &m.u.ring;
  r->count = 3;
  r->width = 640;
  r->height = 480;
  r->format = MAX_FMT_RGBA8;
  r->row_pitch = 2560;
  r->flags = IFD_WIRE_RING_TIMELINES;
  r->mode = IFD_RING_MAILBOX;
  r->exporter = IFD_BACKEND_VULKAN;
  r->size = 2560 * 480;
  r->ended = 9;
  r->released = 8;
  memset(r->device_uuid, 0x5a, sizeof(r->device_uuid));
  m.nfds = ifd_wire_ring_fds(r);
  bad |= write_seed(argv[1], "ring", &m);

  memset(&m, 0, sizeof(m));
  m.type = IFD_WIRE_REFUSE;
  m.u.refuse.error = EPROTO;
  strcpy(m.u.refuse.reason, "the viewer speaks versions 2..3, this server 1..1");
  bad |= write_seed(argv[1], "refuse", &m);

  memset(&m, 0, sizeof(m));
  m.type = IFD_WIRE_READY;
  m.u.frame = 10;
  bad |= write_seed(argv[1], "ready", &m);
  m.type = IFD_WIRE_RELEASE;
  m.u.frame = 9;
  bad |= write_seed(argv[1], "release", &m);

  memset(&m, 0, sizeof(m));
  m.type = IFD_WIRE_GONE;
  bad |= write_seed(argv[1], "gone", &m);
  return bad;
}
