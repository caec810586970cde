/* The wire protocol's bytes (docs/protocol.md): one message per
 * SOCK_SEQPACKET record, every integer little-endian whatever the host,
 * every payload of one exact size.
 *
 * Header, 16 bytes, every message:
 *   offset size field
 *        0    4 magic           0x52444649 ("IFDR")
 *        4    2 version         1 (HELLO: 1 in every version, see below)
 *        6    2 type            ifd_wire_type, 1..6
 *        8    4 payload length  exactly the type's size below
 *       12    4 fd count        fds sent with it (SCM_RIGHTS)
 *
 * Payloads (offsets from the payload's start):
 *   HELLO    208  0 u32 min_version, 4 u32 max_version, 8 char name[200]
 *   RING      72  0 u32 count, 4 u32 width, 8 u32 height, 12 u32 format,
 *                 16 u32 row_pitch, 20 u32 flags, 24 u32 mode,
 *                 28 u32 exporter, 32 u64 size, 40 u64 ended,
 *                 48 u64 released, 56 u8 device_uuid[16]
 *   REFUSE   204  0 i32 error, 4 char reason[200]
 *   READY      8  0 u64 frame
 *   RELEASE    8  0 u64 frame
 *   GONE       0
 *
 * Text is NUL-terminated within its 200 bytes and zero after the NUL, so a
 * message has one encoding (the fuzzer's round trip holds) and a sender never
 * leaks the rest of its buffer. HELLO's layout and its header's version 1
 * never change, so every server can read every viewer's range and answer
 * RING or REFUSE.
 *
 * Every refusal names its rule ("wire: rule <id>: ..."), the ids of
 * docs/protocol.md; tests match the id, never the sentence. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "share/wire.h"

#define MAX_EXTENT 16384u
#define MAX_ERRNO 4095u /* the largest errno Linux returns */

static const struct {
  const char *name;
  uint32_t payload; /* bytes */
} types[] = {
    [IFD_WIRE_HELLO] = {"HELLO", 8 + IFD_WIRE_TEXT},
    [IFD_WIRE_RING] = {"RING", 72},
    [IFD_WIRE_REFUSE] = {"REFUSE", 4 + IFD_WIRE_TEXT},
    [IFD_WIRE_READY] = {"READY", 8},
    [IFD_WIRE_RELEASE] = {"RELEASE", 8},
    [IFD_WIRE_GONE] = {"GONE", 0},
};

static bool type_known(uint32_t t) { return t >= IFD_WIRE_HELLO && t <= IFD_WIRE_GONE; }

/* Byte order by shifts: the same bytes on any host, no alignment needed. */
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

/* Who checks: the receiver (parse: "wire", -EPROTO) or a sender checking
 * what it is about to send (encode: "wire encode", -EINVAL). */
typedef struct {
  const char *fn;
  int err;
} checker;

static int IFD_PRINTF(3, 4) refuse(const checker *c, const char *rule, const char *fmt, ...) {
  char detail[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof(detail), fmt, ap);
  va_end(ap);
  return ifd_fail(c->err, "%s: rule %s: %s", c->fn, rule, detail);
}

uint32_t ifd_wire_ring_fds(const ifd_wire_ring *r) {
  return r->count + ((r->flags & IFD_WIRE_RING_TIMELINES) ? 2u : 0u) +
         (r->mode == IFD_RING_MAILBOX ? 1u : 0u);
}

void ifd_wire_ring_from_desc(const ifd_ring_desc *d, uint64_t ended, uint64_t released,
                             bool timelines, ifd_wire_msg *msg, int fds[IFD_WIRE_MAX_FDS]) {
  const ifd_frame_desc *f = &d->frames[0];
  memset(msg, 0, sizeof(*msg));
  msg->type = IFD_WIRE_RING;
  ifd_wire_ring *r = &msg->u.ring;
  r->count = d->count;
  r->width = f->width;
  r->height = f->height;
  r->format = f->format;
  r->row_pitch = f->row_pitch;
  r->flags = timelines ? IFD_WIRE_RING_TIMELINES : 0;
  r->mode = d->mode;
  r->exporter = f->exporter;
  r->size = f->size;
  r->ended = ended;
  r->released = released;
  memcpy(r->device_uuid, f->device_uuid, sizeof(r->device_uuid));
  uint32_t n = 0;
  for (uint32_t i = 0; i < d->count; i++) fds[n++] = d->frames[i].memory_fd;
  if (timelines) {
    fds[n++] = d->ready_fd;
    fds[n++] = d->release_fd;
  }
  if (d->mode == IFD_RING_MAILBOX) fds[n++] = d->control_fd;
  msg->nfds = n;
}

void ifd_wire_ring_to_desc(const ifd_wire_ring *r, const int *fds, ifd_ring_desc *d) {
  memset(d, 0, sizeof(*d));
  d->count = r->count;
  uint32_t n = 0;
  for (uint32_t i = 0; i < IFD_RING_MAX_FRAMES; i++) {
    ifd_frame_desc *f = &d->frames[i];
    f->memory_fd = f->timeline_fd = -1;
    if (i >= r->count) continue;
    f->memory_fd = fds[n++];
    f->size = r->size;
    f->row_pitch = r->row_pitch;
    f->width = r->width;
    f->height = r->height;
    f->format = r->format;
    f->exporter = r->exporter;
    memcpy(f->device_uuid, r->device_uuid, sizeof(f->device_uuid));
  }
  d->ready_fd = d->release_fd = d->control_fd = -1;
  if (r->flags & IFD_WIRE_RING_TIMELINES) {
    d->ready_fd = fds[n++];
    d->release_fd = fds[n++];
  }
  d->mode = r->mode;
  if (r->mode == IFD_RING_MAILBOX) d->control_fd = fds[n++];
}

/* text: NUL-terminated within IFD_WIRE_TEXT bytes, zero after the NUL. */
static int check_text(const checker *c, const char *type, const uint8_t *p, char *out) {
  const uint8_t *nul = memchr(p, 0, IFD_WIRE_TEXT);
  if (!nul) return refuse(c, "text", "%s's text has no NUL in its %u bytes", type, IFD_WIRE_TEXT);
  for (const uint8_t *q = nul + 1; q < p + IFD_WIRE_TEXT; q++)
    if (*q) return refuse(c, "text-padding", "%s's text has byte %u after its NUL not zero",
                          type, (unsigned)(q - p));
  memcpy(out, p, IFD_WIRE_TEXT);
  return 0;
}

static int parse_hello(const checker *c, const uint8_t *p, ifd_wire_hello *h) {
  h->min_version = get32(p);
  h->max_version = get32(p + 4);
  if (h->min_version < 1 || h->min_version > h->max_version)
    return refuse(c, "hello-versions", "HELLO's range [%u, %u] is empty or starts at 0",
                  h->min_version, h->max_version);
  return check_text(c, "HELLO", p + 8, h->name);
}

static int parse_refuse(const checker *c, const uint8_t *p, ifd_wire_refuse *r) {
  uint32_t error = get32(p);
  if (error < 1 || error > MAX_ERRNO)
    return refuse(c, "refuse-error", "REFUSE's error %u is not an errno (1..%u)", error,
                  MAX_ERRNO);
  r->error = (int32_t)error;
  return check_text(c, "REFUSE", p + 4, r->reason);
}

/* The RING's values, in the order of the payload; each is range-checked
 * before it is stored in an enum or used in arithmetic. */
static int parse_ring(const checker *c, const uint8_t *p, ifd_wire_ring *r) {
  r->count = get32(p);
  r->width = get32(p + 4);
  r->height = get32(p + 8);
  uint32_t format = get32(p + 12), mode = get32(p + 24), exporter = get32(p + 28);
  r->row_pitch = get32(p + 16);
  r->flags = get32(p + 20);
  r->size = get64(p + 32);
  r->ended = get64(p + 40);
  r->released = get64(p + 48);
  memcpy(r->device_uuid, p + 56, sizeof(r->device_uuid));

  if (r->count < 1 || r->count > IFD_RING_MAX_FRAMES)
    return refuse(c, "count", "RING's count %u is not 1..%d", r->count, IFD_RING_MAX_FRAMES);
  if (r->width < 1 || r->width > MAX_EXTENT)
    return refuse(c, "width", "RING's width %u is not 1..%u", r->width, MAX_EXTENT);
  if (r->height < 1 || r->height > MAX_EXTENT)
    return refuse(c, "height", "RING's height %u is not 1..%u", r->height, MAX_EXTENT);
  const ifd_format_info *info = ifd_format_get((MAX_Format)(format > 0xffff ? 0 : format));
  if (!info) return refuse(c, "format", "RING's format %u is not a known MAX_Format", format);
  r->format = info->format;
  uint32_t bpp = info->bytes_per_pixel, min_pitch = r->width * bpp; /* <= 16384 * 16 */
  if (r->row_pitch < min_pitch || r->row_pitch % bpp != 0)
    return refuse(c, "pitch", "RING's row_pitch %u is below %u x %u bytes (%s) or not a "
                  "multiple of %u", r->row_pitch, r->width, bpp, info->name, bpp);
  /* Cannot overflow: row_pitch < 2^32, height <= 2^14. */
  uint64_t need = (uint64_t)r->row_pitch * r->height;
  if (r->size < need)
    return refuse(c, "size", "RING's size %llu is below row_pitch x height = %llu",
                  (unsigned long long)r->size, (unsigned long long)need);
  if (mode != IFD_RING_FIFO && mode != IFD_RING_MAILBOX)
    return refuse(c, "mode", "RING's mode %u is neither FIFO (0) nor MAILBOX (1)", mode);
  r->mode = (ifd_ring_mode)mode;
  if (r->mode == IFD_RING_MAILBOX && r->count < 3)
    return refuse(c, "mailbox-count", "RING is MAILBOX with count %u (needs >= 3)", r->count);
  if (r->flags & ~IFD_WIRE_RING_TIMELINES)
    return refuse(c, "flags", "RING's flags 0x%x has unknown bits 0x%x", r->flags,
                  r->flags & ~IFD_WIRE_RING_TIMELINES);
  if (exporter > IFD_BACKEND_VULKAN)
    return refuse(c, "exporter", "RING's exporter %u is not AUTO, CUDA or VULKAN (0..2)",
                  exporter);
  r->exporter = (ifd_backend)exporter;
  if (r->released > r->ended)
    return refuse(c, "released", "RING's released %llu is above ended %llu",
                  (unsigned long long)r->released, (unsigned long long)r->ended);
  return 0;
}

static int parse_msg(const checker *c, const uint8_t *buf, size_t len, uint32_t nfds,
                     bool truncated, ifd_wire_msg *out) {
  if (truncated)
    return refuse(c, "truncated", "the message or its fds were cut (MSG_TRUNC/MSG_CTRUNC)");
  if (len < IFD_WIRE_HEADER_SIZE)
    return refuse(c, "header-size", "%zu bytes, shorter than the %u-byte header", len,
                  IFD_WIRE_HEADER_SIZE);
  if (len > IFD_WIRE_MAX_MESSAGE)
    return refuse(c, "message-size", "%zu bytes, over %u", len, IFD_WIRE_MAX_MESSAGE);
  uint32_t magic = get32(buf), version = get16(buf + 4), type = get16(buf + 6);
  uint32_t plen = get32(buf + 8), hfds = get32(buf + 12);
  if (magic != IFD_WIRE_MAGIC)
    return refuse(c, "magic", "0x%08x, want 0x%08x (\"IFDR\")", magic, IFD_WIRE_MAGIC);
  if (version != IFD_WIRE_VERSION)
    return refuse(c, "version", "header version %u, this library speaks %u", version,
                  IFD_WIRE_VERSION);
  if (!type_known(type)) return refuse(c, "type", "unknown type %u (known: 1..6)", type);
  const char *name = types[type].name;
  if (plen != len - IFD_WIRE_HEADER_SIZE)
    return refuse(c, "length", "%s's header says %u payload bytes, %zu came", name, plen,
                  len - IFD_WIRE_HEADER_SIZE);
  if (plen != types[type].payload)
    return refuse(c, "payload-size", "%s's payload is %u bytes, must be %u", name, plen,
                  types[type].payload);
  if (hfds != nfds)
    return refuse(c, "fd-count", "%s's header says %u fds, %u came", name, hfds, nfds);
  if (type != IFD_WIRE_RING && nfds != 0)
    return refuse(c, "fd-count", "%s carries no fds, %u came", name, nfds);

  ifd_wire_msg m;
  memset(&m, 0, sizeof(m));
  m.type = (ifd_wire_type)type;
  m.nfds = nfds;
  const uint8_t *p = buf + IFD_WIRE_HEADER_SIZE;
  int rc = 0;
  switch (m.type) {
  case IFD_WIRE_HELLO: rc = parse_hello(c, p, &m.u.hello); break;
  case IFD_WIRE_REFUSE: rc = parse_refuse(c, p, &m.u.refuse); break;
  case IFD_WIRE_RING:
    rc = parse_ring(c, p, &m.u.ring);
    if (rc == 0 && nfds != ifd_wire_ring_fds(&m.u.ring))
      rc = refuse(c, "fd-count", "RING with count %u, flags 0x%x, mode %u carries %u fds, %u came",
                  m.u.ring.count, m.u.ring.flags, (unsigned)m.u.ring.mode,
                  ifd_wire_ring_fds(&m.u.ring), nfds);
    break;
  case IFD_WIRE_READY:
  case IFD_WIRE_RELEASE:
    m.u.frame = get64(p);
    if (m.u.frame == 0) rc = refuse(c, "frame", "%s of frame 0 (frames start at 1)", name);
    break;
  case IFD_WIRE_GONE: break;
  }
  if (rc < 0) return rc;
  *out = m;
  return 0;
}

int ifd_wire_parse(const uint8_t *buf, size_t len, uint32_t nfds, bool truncated,
                   ifd_wire_msg *out) {
  if (!out || (!buf && len > 0)) return ifd_fail(-EINVAL, "wire: NULL out or buf");
  static const checker receiver = {"wire", -EPROTO};
  return parse_msg(&receiver, buf, len, nfds, truncated, out);
}

/* Copies text up to its NUL (all IFD_WIRE_TEXT bytes where there is none,
 * which the check then refuses); the rest of p is already zero. */
static void put_text(uint8_t *p, const char *text) {
  memcpy(p, text, strnlen(text, IFD_WIRE_TEXT));
}

int ifd_wire_encode(const ifd_wire_msg *msg, uint8_t *buf, size_t size) {
  static const checker sender = {"wire encode", -EINVAL};
  if (!msg || !buf) return ifd_fail(-EINVAL, "wire encode: NULL msg or buf");
  if (!type_known((uint32_t)msg->type))
    return refuse(&sender, "type", "unknown type %d (known: 1..6)", (int)msg->type);
  uint32_t len = IFD_WIRE_HEADER_SIZE + types[msg->type].payload;
  if (size < len)
    return ifd_fail(-EINVAL, "wire encode: %s needs %u bytes, the buffer has %zu",
                    types[msg->type].name, len, size);
  memset(buf, 0, len);
  put32(buf, IFD_WIRE_MAGIC);
  put16(buf + 4, IFD_WIRE_VERSION);
  put16(buf + 6, (uint16_t)msg->type);
  put32(buf + 8, types[msg->type].payload);
  put32(buf + 12, msg->nfds);
  uint8_t *p = buf + IFD_WIRE_HEADER_SIZE;
  const ifd_wire_ring *r = &msg->u.ring;
  switch (msg->type) {
  case IFD_WIRE_HELLO:
    put32(p, msg->u.hello.min_version);
    put32(p + 4, msg->u.hello.max_version);
    put_text(p + 8, msg->u.hello.name);
    break;
  case IFD_WIRE_REFUSE:
    put32(p, (uint32_t)msg->u.refuse.error);
    put_text(p + 4, msg->u.refuse.reason);
    break;
  case IFD_WIRE_RING:
    put32(p, r->count);
    put32(p + 4, r->width);
    put32(p + 8, r->height);
    put32(p + 12, (uint32_t)r->format);
    put32(p + 16, r->row_pitch);
    put32(p + 20, r->flags);
    put32(p + 24, (uint32_t)r->mode);
    put32(p + 28, (uint32_t)r->exporter);
    put64(p + 32, r->size);
    put64(p + 40, r->ended);
    put64(p + 48, r->released);
    memcpy(p + 56, r->device_uuid, sizeof(r->device_uuid));
    break;
  case IFD_WIRE_READY:
  case IFD_WIRE_RELEASE: put64(p, msg->u.frame); break;
  case IFD_WIRE_GONE: break;
  }
  /* One set of rules: what the receiver would refuse is not sent. */
  ifd_wire_msg check;
  int rc = parse_msg(&sender, buf, len, msg->nfds, false, &check);
  return rc < 0 ? rc : (int)len;
}
