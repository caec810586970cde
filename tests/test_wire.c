/* internal: calls the wire protocol's encoder and parser (src/share/wire.h)
 * directly: they are the library's private functions, and most of what they
 * refuse no well-behaved server or viewer would ever send. */
/* The wire protocol (docs/protocol.md): every message type survives
 * encode -> parse -> encode with the same fields and the same bytes, the
 * bytes are the documented little-endian layout, and every rule refuses what
 * breaks it with -EPROTO and a message naming the rule ("rule <id>:"), leaving
 * the output untouched. A sender's encoder refuses the same messages with
 * -EINVAL. Every cut of a valid message is refused, reading only its bytes
 * (each cut lies in a buffer of exactly its size, for ASan). The fuzzer's
 * seeds (tests/fuzz/corpus) are valid messages of their type, so they stay
 * in step with the protocol. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "share/wire.h"
#include "test_util.h"

#define HDR IFD_WIRE_HEADER_SIZE
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
  uint8_t b[IFD_WIRE_MAX_MESSAGE + 1];
  size_t len;
  uint32_t nfds;
} wire_buf;

static ifd_wire_msg ring_msg(void) {
  ifd_wire_msg m;
  memset(&m, 0, sizeof(m));
  m.type = IFD_WIRE_RING;
  ifd_wire_ring *r = &m.u.ring;
  r->count = 3;
  r->width = 64;
  r->height = 32;
  r->format = MAX_FMT_RGBA8;
  r->row_pitch = 256;
  r->flags = IFD_WIRE_RING_TIMELINES;
  r->mode = IFD_RING_FIFO;
  r->exporter = IFD_BACKEND_VULKAN;
  r->size = 256 * 32;
  r->ended = 7;
  r->released = 5;
  for (int i = 0; i < 16; i++) r->device_uuid[i] = (uint8_t)(0xa0 + i);
  m.nfds = ifd_wire_ring_fds(r);
  return m;
}

static ifd_wire_msg simple_msg(ifd_wire_type type) {
  ifd_wire_msg m;
  memset(&m, 0, sizeof(m));
  m.type = type;
  switch (type) {
  case IFD_WIRE_HELLO:
    m.u.hello.min_version = 1;
    m.u.hello.max_version = 3;
    snprintf(m.u.hello.name, sizeof(m.u.hello.name), "viewer pid 1234");
    break;
  case IFD_WIRE_REFUSE:
    m.u.refuse.error = EBUSY;
    snprintf(m.u.refuse.reason, sizeof(m.u.refuse.reason), "another viewer is attached");
    break;
  case IFD_WIRE_READY: m.u.frame = 42; break;
  case IFD_WIRE_RELEASE: m.u.frame = 0x0102030405060708ull; break;
  case IFD_WIRE_RING: return ring_msg();
  case IFD_WIRE_GONE: break;
  }
  return m;
}

static wire_buf encode(const ifd_wire_msg *m) {
  wire_buf w;
  memset(&w, 0, sizeof(w));
  int n = ifd_wire_encode(m, w.b, IFD_WIRE_MAX_MESSAGE);
  REQUIRE(n > 0);
  w.len = (size_t)n;
  w.nfds = m->nfds;
  return w;
}

static void set32(wire_buf *w, size_t off, uint32_t v) {
  for (int i = 0; i < 4; i++) w->b[off + i] = (uint8_t)(v >> (8 * i));
}
static void set64(wire_buf *w, size_t off, uint64_t v) {
  set32(w, off, (uint32_t)v);
  set32(w, off + 4, (uint32_t)(v >> 32));
}

/* Parses a copy of exactly len bytes (an overread is a heap overflow). */
static int parse_exact(const uint8_t *b, size_t len, uint32_t nfds, bool truncated,
                       ifd_wire_msg *out) {
  uint8_t *copy = malloc(len ? len : 1);
  REQUIRE(copy);
  if (len) memcpy(copy, b, len);
  int rc = ifd_wire_parse(copy, len, nfds, truncated, out);
  free(copy);
  return rc;
}

/* w (with w->nfds fds, not truncated) is refused by rule `rule`, and the
 * output is left as it was. */
static void refused_as(const wire_buf *w, bool truncated, const char *rule, int line) {
  ifd_wire_msg out, before;
  memset(&out, 0xab, sizeof(out));
  before = out;
  int rc = parse_exact(w->b, w->len, w->nfds, truncated, &out);
  char needle[64];
  snprintf(needle, sizeof(needle), "rule %s:", rule);
  if (rc != -EPROTO) {
    fprintf(stderr, "line %d: rule %s: parse returned %d, want -EPROTO\n", line, rule, rc);
    test_failures++;
    return;
  }
  test_check_message("wire", needle);
  CHECK(memcmp(&out, &before, sizeof(out)) == 0);
}
#define REFUSED(w, rule) refused_as(&(w), false, rule, __LINE__)

/* A RING with fields changed by `change` (which keeps its fd count right
 * unless the fd count is what it breaks): refused by `rule` on receipt and
 * by the sender's encoder. */
static void ring_refused(void (*change)(ifd_wire_msg *), const char *rule, int line) {
  ifd_wire_msg m = ring_msg();
  wire_buf w = encode(&m);
  change(&m);
  /* Write the changed field's bytes by hand: the encoder would refuse it. */
  const ifd_wire_ring *r = &m.u.ring;
  set32(&w, HDR + 0, r->count);
  set32(&w, HDR + 4, r->width);
  set32(&w, HDR + 8, r->height);
  set32(&w, HDR + 12, (uint32_t)r->format);
  set32(&w, HDR + 16, r->row_pitch);
  set32(&w, HDR + 20, r->flags);
  set32(&w, HDR + 24, (uint32_t)r->mode);
  set32(&w, HDR + 28, (uint32_t)r->exporter);
  set64(&w, HDR + 32, r->size);
  set64(&w, HDR + 40, r->ended);
  set64(&w, HDR + 48, r->released);
  w.nfds = m.nfds;
  set32(&w, 12, w.nfds);
  refused_as(&w, false, rule, line);
  /* The sender's encoder refuses it too. */
  uint8_t b[IFD_WIRE_MAX_MESSAGE];
  int rc = ifd_wire_encode(&m, b, sizeof(b));
  if (rc != -EINVAL) {
    fprintf(stderr, "line %d: rule %s: encode returned %d, want -EINVAL\n", line, rule, rc);
    test_failures++;
  } else {
    char needle[64];
    snprintf(needle, sizeof(needle), "rule %s:", rule);
    test_check_message("wire encode", needle);
  }
}
static void count0(ifd_wire_msg *m) { m->u.ring.count = 0; m->nfds = 2; }
static void count9(ifd_wire_msg *m) { m->u.ring.count = 9; m->nfds = 11; }
static void width0(ifd_wire_msg *m) { m->u.ring.width = 0; }
static void width16385(ifd_wire_msg *m) { m->u.ring.width = 16385; }
static void height0(ifd_wire_msg *m) { m->u.ring.height = 0; }
static void height16385(ifd_wire_msg *m) {
  m->u.ring.height = 16385;
  m->u.ring.size = 256ull * 16385;
}
static void format0(ifd_wire_msg *m) { m->u.ring.format = (MAX_Format)0; }
static void format12(ifd_wire_msg *m) { m->u.ring.format = (MAX_Format)12; }
static void format_huge(ifd_wire_msg *m) { m->u.ring.format = (MAX_Format)0xffffffffu; }
static void pitch_small(ifd_wire_msg *m) { m->u.ring.row_pitch = 252; } /* 63 pixels */
static void pitch_odd(ifd_wire_msg *m) { m->u.ring.row_pitch = 258; }   /* 64.5 pixels */
static void size_small(ifd_wire_msg *m) { m->u.ring.size = 256 * 32 - 1; }
/* 2^30 x 4 = 2^32: a 32-bit product wraps to 0 and would accept size 4096. */
static void size_wraps(ifd_wire_msg *m) {
  m->u.ring.row_pitch = 1u << 30;
  m->u.ring.height = 4;
  m->u.ring.size = 4096;
}
static void mode2(ifd_wire_msg *m) { m->u.ring.mode = (ifd_ring_mode)2; }
static void mailbox2(ifd_wire_msg *m) {
  m->u.ring.mode = IFD_RING_MAILBOX;
  m->u.ring.count = 2;
  m->nfds = ifd_wire_ring_fds(&m->u.ring);
}
static void flags2(ifd_wire_msg *m) { m->u.ring.flags = 3; }
static void flags_top(ifd_wire_msg *m) { m->u.ring.flags = 0x80000000u; m->nfds = 3; }
static void exporter3(ifd_wire_msg *m) { m->u.ring.exporter = (ifd_backend)3; }
static void released_above(ifd_wire_msg *m) { m->u.ring.released = 8; }
static void fds_short(ifd_wire_msg *m) { m->nfds = 4; }   /* 3 frames + 2 timelines = 5 */
static void fds_mailbox(ifd_wire_msg *m) {               /* MAILBOX adds the control fd */
  m->u.ring.mode = IFD_RING_MAILBOX;
}

static void check_round_trips(void) {
  const ifd_wire_type all[] = {IFD_WIRE_HELLO, IFD_WIRE_RING, IFD_WIRE_REFUSE,
                               IFD_WIRE_READY, IFD_WIRE_RELEASE, IFD_WIRE_GONE};
  const size_t sizes[] = {16 + 208, 16 + 72, 16 + 204, 16 + 8, 16 + 8, 16};
  for (size_t i = 0; i < LEN(all); i++) {
    ifd_wire_msg m = simple_msg(all[i]), out;
    wire_buf w = encode(&m);
    CHECK(w.len == sizes[i]);
    memset(&out, 0xcd, sizeof(out));
    CHECK_RC(parse_exact(w.b, w.len, w.nfds, false, &out), 0);
    CHECK(memcmp(&out, &m, sizeof(m)) == 0);
    wire_buf again = encode(&out);
    CHECK(again.len == w.len && memcmp(again.b, w.b, w.len) == 0);
  }
  /* Every RING variant: MAILBOX, no timelines, every format, the extremes. */
  for (uint32_t f = 1; f <= 11; f++) {
    ifd_format_info info;
    REQUIRE(ifd_format_query((MAX_Format)f, &info) == 0);
    ifd_wire_msg m = ring_msg(), out;
    m.u.ring.format = (MAX_Format)f;
    m.u.ring.width = 16384;
    m.u.ring.height = 16384;
    m.u.ring.row_pitch = 16384 * info.bytes_per_pixel;
    m.u.ring.size = (uint64_t)m.u.ring.row_pitch * 16384;
    m.u.ring.mode = f % 2 ? IFD_RING_MAILBOX : IFD_RING_FIFO;
    m.u.ring.count = f % 2 ? 3 + f % 6 : 1;
    m.u.ring.flags = f % 3 ? IFD_WIRE_RING_TIMELINES : 0;
    m.u.ring.exporter = (ifd_backend)(f % 3);
    m.u.ring.ended = m.u.ring.released = UINT64_MAX - f;
    m.nfds = ifd_wire_ring_fds(&m.u.ring);
    CHECK(m.nfds <= IFD_WIRE_MAX_FDS);
    wire_buf w = encode(&m);
    CHECK_RC(parse_exact(w.b, w.len, w.nfds, false, &out), 0);
    CHECK(memcmp(&out, &m, sizeof(m)) == 0);
  }
  /* The product is computed in 64 bits: 2^30 x 4 = 2^32 bytes is enough. */
  ifd_wire_msg big = ring_msg(), out;
  big.u.ring.row_pitch = 1u << 30;
  big.u.ring.height = 4;
  big.u.ring.size = 1ull << 32;
  wire_buf w = encode(&big);
  CHECK_RC(parse_exact(w.b, w.len, w.nfds, false, &out), 0);
  CHECK(out.u.ring.size == 1ull << 32);

  /* fds: count frames, + ready and release, + control for MAILBOX. */
  ifd_wire_ring r = ring_msg().u.ring;
  CHECK(ifd_wire_ring_fds(&r) == 5);
  r.mode = IFD_RING_MAILBOX;
  r.count = 8;
  CHECK(ifd_wire_ring_fds(&r) == IFD_WIRE_MAX_FDS);
  r.flags = 0;
  r.mode = IFD_RING_FIFO;
  CHECK(ifd_wire_ring_fds(&r) == 8);
}

/* The documented bytes: header, and fields at their offsets, little-endian. */
static void check_layout(void) {
  ifd_wire_msg m = simple_msg(IFD_WIRE_RELEASE);
  wire_buf w = encode(&m);
  const uint8_t want[] = {'I', 'F', 'D', 'R', 1, 0, 5, 0, 8, 0, 0, 0, 0, 0, 0, 0,
                          8, 7, 6, 5, 4, 3, 2, 1};
  CHECK(w.len == sizeof(want) && memcmp(w.b, want, sizeof(want)) == 0);

  m = ring_msg();
  w = encode(&m);
  const uint8_t head[] = {'I', 'F', 'D', 'R', 1, 0, 2, 0, 72, 0, 0, 0, 5, 0, 0, 0};
  CHECK(memcmp(w.b, head, sizeof(head)) == 0);
  const uint8_t *p = w.b + HDR;
  CHECK(p[0] == 3 && p[4] == 64 && p[8] == 32 && p[12] == MAX_FMT_RGBA8);
  CHECK(p[16] == 0 && p[17] == 1 && p[20] == 1 && p[24] == 0 && p[28] == 2);
  CHECK(p[32] == 0 && p[33] == 0x20 && p[40] == 7 && p[48] == 5 && p[56] == 0xa0 && p[71] == 0xaf);

  /* Text: up to the NUL, zero after it, whatever the struct held there. */
  m = simple_msg(IFD_WIRE_HELLO);
  memset(m.u.hello.name + 20, 'x', 30);
  w = encode(&m);
  CHECK(memcmp(w.b + HDR + 8, "viewer pid 1234", 16) == 0);
  int zero = 1;
  for (size_t i = HDR + 8 + 16; i < w.len; i++) zero &= w.b[i] == 0;
  CHECK(zero);
}

static void check_header_rules(void) {
  ifd_wire_msg m = simple_msg(IFD_WIRE_READY);
  wire_buf good = encode(&m), w;

  refused_as(&good, true, "truncated", __LINE__);
  w = good;
  w.len = HDR - 1;
  REFUSED(w, "header-size");
  w.len = 0;
  REFUSED(w, "header-size");
  w = good;
  w.len = IFD_WIRE_MAX_MESSAGE + 1;
  REFUSED(w, "message-size");
  w = good;
  w.b[0] ^= 1;
  REFUSED(w, "magic");
  w = good;
  w.b[4] = 2;
  REFUSED(w, "version");
  w = good;
  w.b[5] = 1; /* 257 */
  REFUSED(w, "version");
  w = good;
  w.b[6] = 7;
  REFUSED(w, "type");
  w.b[6] = 0;
  REFUSED(w, "type");
  /* The header's length against the bytes received. */
  w = good;
  w.len -= 1;
  REFUSED(w, "length");
  w = good;
  w.len += 1;
  REFUSED(w, "length");
  /* Consistent length, wrong for the type: too short and too long. */
  w = good;
  set32(&w, 8, 7);
  w.len = HDR + 7;
  REFUSED(w, "payload-size");
  w = good;
  set32(&w, 8, 9);
  w.len = HDR + 9;
  REFUSED(w, "payload-size");
  ifd_wire_msg gone = simple_msg(IFD_WIRE_GONE);
  w = encode(&gone);
  set32(&w, 8, 8);
  w.len = HDR + 8;
  REFUSED(w, "payload-size");
  /* fds: the header against what came, and against what the type carries. */
  w = good;
  w.nfds = 1;
  REFUSED(w, "fd-count");
  set32(&w, 12, 1);
  REFUSED(w, "fd-count");
  w = encode(&gone);
  set32(&w, 12, 3);
  REFUSED(w, "fd-count");

  /* READY and RELEASE of frame 0. */
  w = good;
  set64(&w, HDR, 0);
  REFUSED(w, "frame");
  ifd_wire_msg rel = simple_msg(IFD_WIRE_RELEASE);
  w = encode(&rel);
  set64(&w, HDR, 0);
  REFUSED(w, "frame");
  m.u.frame = 0;
  CHECK_RC(ifd_wire_encode(&m, w.b, sizeof(w.b)), -EINVAL);
  test_check_message("wire encode", "rule frame:");
}

static void check_text_rules(void) {
  ifd_wire_msg hello = simple_msg(IFD_WIRE_HELLO), refuse = simple_msg(IFD_WIRE_REFUSE);
  wire_buf w = encode(&hello);
  memset(w.b + HDR + 8, 'a', IFD_WIRE_TEXT);
  REFUSED(w, "text");
  w = encode(&hello);
  w.b[w.len - 1] = 1;
  REFUSED(w, "text-padding");
  w = encode(&refuse);
  memset(w.b + HDR + 4, 'a', IFD_WIRE_TEXT);
  REFUSED(w, "text");
  w = encode(&refuse);
  w.b[HDR + 4 + 30] = 'z';
  REFUSED(w, "text-padding");
  /* An empty text is fine. */
  refuse.u.refuse.reason[0] = '\0';
  w = encode(&refuse);
  ifd_wire_msg out;
  CHECK_RC(parse_exact(w.b, w.len, 0, false, &out), 0);
  /* The encoder refuses a text without a NUL. */
  memset(hello.u.hello.name, 'a', IFD_WIRE_TEXT);
  CHECK_RC(ifd_wire_encode(&hello, w.b, sizeof(w.b)), -EINVAL);
  test_check_message("wire encode", "rule text:");

  /* HELLO's range; REFUSE's errno. */
  hello = simple_msg(IFD_WIRE_HELLO);
  w = encode(&hello);
  set32(&w, HDR, 0);
  REFUSED(w, "hello-versions");
  set32(&w, HDR, 4); /* [4, 3] */
  REFUSED(w, "hello-versions");
  set32(&w, HDR, 3); /* [3, 3]: a range this library does not speak parses; */
  CHECK_RC(parse_exact(w.b, w.len, 0, false, &out), 0); /* the server refuses it */
  w = encode(&refuse);
  const uint32_t bad_errors[] = {0, 4096, 0xffffffffu /* -1 */};
  for (size_t i = 0; i < LEN(bad_errors); i++) {
    set32(&w, HDR, bad_errors[i]);
    REFUSED(w, "refuse-error");
  }
}

#define RING_RULE(fn, rule) ring_refused(fn, rule, __LINE__)

static void check_ring_rules(void) {
  RING_RULE(count0, "count");
  RING_RULE(count9, "count");
  RING_RULE(width0, "width");
  RING_RULE(width16385, "width");
  RING_RULE(height0, "height");
  RING_RULE(height16385, "height");
  RING_RULE(format0, "format");
  RING_RULE(format12, "format");
  RING_RULE(format_huge, "format");
  RING_RULE(pitch_small, "pitch");
  RING_RULE(pitch_odd, "pitch");
  RING_RULE(size_small, "size");
  RING_RULE(size_wraps, "size");
  RING_RULE(mode2, "mode");
  RING_RULE(mailbox2, "mailbox-count");
  RING_RULE(flags2, "flags");
  RING_RULE(flags_top, "flags");
  RING_RULE(exporter3, "exporter");
  RING_RULE(released_above, "released");
  RING_RULE(fds_short, "fd-count");
  RING_RULE(fds_mailbox, "fd-count");
}

/* Every cut of every valid message is refused, reading only its bytes; every
 * bit flipped in a RING is refused or parses to a message that encodes back
 * to the flipped bytes (one encoding per message). */
static void check_cuts_and_flips(void) {
  const ifd_wire_type all[] = {IFD_WIRE_HELLO, IFD_WIRE_RING, IFD_WIRE_REFUSE,
                               IFD_WIRE_READY, IFD_WIRE_RELEASE, IFD_WIRE_GONE};
  ifd_wire_msg out;
  int cut_ok = 1;
  for (size_t i = 0; i < LEN(all); i++) {
    ifd_wire_msg m = simple_msg(all[i]);
    wire_buf w = encode(&m);
    for (size_t len = 0; len < w.len; len++)
      cut_ok &= parse_exact(w.b, len, w.nfds, false, &out) == -EPROTO;
  }
  CHECK(cut_ok);
  ifd_wire_msg m = ring_msg();
  wire_buf good = encode(&m);
  int flips_ok = 1, accepted = 0;
  for (size_t bit = 0; bit < good.len * 8; bit++) {
    wire_buf w = good;
    w.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    int rc = parse_exact(w.b, w.len, w.nfds, false, &out);
    if (rc == 0) {
      accepted++;
      wire_buf again = encode(&out);
      flips_ok &= again.len == w.len && memcmp(again.b, w.b, w.len) == 0;
    } else {
      flips_ok &= rc == -EPROTO;
    }
  }
  CHECK(flips_ok);
  printf("RING with one bit flipped: %d of %zu accepted (and re-encoded exactly)\n", accepted,
         good.len * 8);
  CHECK(accepted > 0 && (size_t)accepted < good.len * 8);
}

static void check_misuse(void) {
  ifd_wire_msg m = simple_msg(IFD_WIRE_READY);
  uint8_t b[IFD_WIRE_MAX_MESSAGE];
  CHECK_FAILS(ifd_wire_encode(NULL, b, sizeof(b)), -EINVAL);
  CHECK_FAILS(ifd_wire_encode(&m, NULL, sizeof(b)), -EINVAL);
  CHECK_FAILS(ifd_wire_encode(&m, b, HDR + 7), -EINVAL);
  CHECK_RC(ifd_wire_encode(&m, b, HDR + 8), HDR + 8);
  m.type = (ifd_wire_type)7;
  CHECK_FAILS(ifd_wire_encode(&m, b, sizeof(b)), -EINVAL);
  test_check_message("wire encode", "rule type:");
  m = simple_msg(IFD_WIRE_READY);
  m.nfds = 1;
  CHECK_FAILS(ifd_wire_encode(&m, b, sizeof(b)), -EINVAL);
  test_check_message("wire encode", "rule fd-count:");
  CHECK_FAILS(ifd_wire_parse(b, HDR + 8, 0, false, NULL), -EINVAL);
  CHECK_FAILS(ifd_wire_parse(NULL, 16, 0, false, &m), -EINVAL);
  CHECK_FAILS(ifd_wire_parse(NULL, 0, 0, false, &m), -EPROTO);
}

/* Each seed parses as its type and encodes back to its bytes. */
static void check_seeds(void) {
  static const struct {
    const char *name;
    ifd_wire_type type;
  } seeds[] = {{"hello", IFD_WIRE_HELLO},   {"ring", IFD_WIRE_RING},
               {"refuse", IFD_WIRE_REFUSE}, {"ready", IFD_WIRE_READY},
               {"release", IFD_WIRE_RELEASE}, {"gone", IFD_WIRE_GONE}};
  for (size_t i = 0; i < LEN(seeds); i++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", IFD_WIRE_CORPUS, seeds[i].name);
    uint8_t b[1 + IFD_WIRE_MAX_MESSAGE + 1];
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    size_t n = fread(b, 1, sizeof(b), f);
    fclose(f);
    REQUIRE(n >= 1 && n <= 1 + IFD_WIRE_MAX_MESSAGE);
    ifd_wire_msg m;
    int rc = parse_exact(b + 1, n - 1, IFD_FUZZ_NFDS(b[0]), IFD_FUZZ_TRUNCATED(b[0]), &m);
    CHECK_RC(rc, 0);
    if (rc != 0) continue;
    CHECK(m.type == seeds[i].type);
    wire_buf again = encode(&m);
    CHECK(again.len == n - 1 && memcmp(again.b, b + 1, n - 1) == 0);
  }
}

int main(void) {
  check_round_trips();
  check_layout();
  check_header_rules();
  check_text_rules();
  check_ring_rules();
  check_cuts_and_flips();
  check_misuse();
  check_seeds();
  return test_finish("wire");
}
