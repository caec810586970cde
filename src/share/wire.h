/* The wire protocol of ifd_ring_serve / ifd_ring_connect (docs/protocol.md):
 * what goes into one SOCK_SEQPACKET message and how a received one is
 * checked. Pure functions over bytes and fd counts: no I/O, no fds touched,
 * so the parser can be fuzzed on its own. Private to the library. */
#ifndef IFD_SHARE_WIRE_H
#define IFD_SHARE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interop_fd/interop_fd.h"

#define IFD_WIRE_MAGIC 0x52444649u /* "IFDR" in a little-endian u32 */
#define IFD_WIRE_VERSION 1u        /* the only version this library speaks */
#define IFD_WIRE_HEADER_SIZE 16u
#define IFD_WIRE_MAX_MESSAGE 512u  /* header + payload, every message */
#define IFD_WIRE_MAX_FDS (IFD_RING_MAX_FRAMES + 3) /* frames, ready, release, control */
#define IFD_WIRE_TEXT 200u         /* bytes of text in HELLO's name and REFUSE's reason */

typedef enum {
  IFD_WIRE_HELLO = 1,   /* viewer -> server, first message */
  IFD_WIRE_RING = 2,    /* server -> viewer, answer to HELLO, carries the fds */
  IFD_WIRE_REFUSE = 3,  /* server -> viewer, answer to HELLO, then close */
  IFD_WIRE_READY = 4,   /* server -> viewer, rings without timelines */
  IFD_WIRE_RELEASE = 5, /* viewer -> server, rings without timelines */
  IFD_WIRE_GONE = 6,    /* server -> viewer, the ring ended; then close */
} ifd_wire_type;

/* RING flags */
#define IFD_WIRE_RING_TIMELINES 1u /* ready and release fds follow the frames */

typedef struct {
  uint32_t min_version, max_version; /* the viewer speaks [min, max] */
  char name[IFD_WIRE_TEXT];          /* NUL-terminated, for the server's log */
} ifd_wire_hello;

typedef struct {
  uint32_t count;              /* 1..IFD_RING_MAX_FRAMES */
  uint32_t width, height;      /* 1..16384 */
  MAX_Format format;           /* a known format */
  uint32_t row_pitch;          /* >= width * bytes per pixel, a multiple of it */
  uint32_t flags;              /* IFD_WIRE_RING_* */
  ifd_ring_mode mode;          /* FIFO or MAILBOX (count >= 3) */
  ifd_backend exporter;        /* CUDA or VULKAN (AUTO: unknown) */
  uint64_t size;               /* bytes each memory fd covers, >= row_pitch * height */
  uint64_t ended;              /* the last frame ended when this was sent */
  uint64_t released;           /* the last frame released when this was sent, <= ended */
  uint8_t device_uuid[16];
} ifd_wire_ring;

typedef struct {
  int32_t error;               /* a positive errno: EBUSY, EACCES, EPROTO, ... */
  char reason[IFD_WIRE_TEXT];  /* NUL-terminated */
} ifd_wire_refuse;

typedef struct {
  ifd_wire_type type;
  uint32_t nfds;               /* fds the message carries (RING only) */
  union {
    ifd_wire_hello hello;
    ifd_wire_ring ring;
    ifd_wire_refuse refuse;
    uint64_t frame;            /* READY, RELEASE: >= 1 */
  } u;
} ifd_wire_msg;

/* The fds a RING message carries, in order: count memory fds, then ready and
 * release with IFD_WIRE_RING_TIMELINES, then the control fd for MAILBOX. */
uint32_t ifd_wire_ring_fds(const ifd_wire_ring *r);

/* The RING message of an exported ring d (ended and released its counters
 * when sent; timelines: d carries them) and its fds in that order, in
 * fds[0, msg->nfds): the fds stay d's. */
void ifd_wire_ring_from_desc(const ifd_ring_desc *d, uint64_t ended, uint64_t released,
                             bool timelines, ifd_wire_msg *msg, int fds[IFD_WIRE_MAX_FDS]);

/* The description a received RING r and its fds (in that order) make; the
 * fds move into *d. */
void ifd_wire_ring_to_desc(const ifd_wire_ring *r, const int *fds, ifd_ring_desc *d);

/* Encodes msg into buf (IFD_WIRE_MAX_MESSAGE bytes) and returns its length
 * (> 0), or -EINVAL (message set) if msg breaks a rule that ifd_wire_parse
 * checks: a sender never sends what a receiver would refuse. The header's fd
 * count is msg->nfds (0 but for RING: ifd_wire_ring_fds). Text is written up
 * to its NUL and zero after it. Errors: -EINVAL as said ("wire encode: rule
 * <id>: ..."), NULL msg/buf, or size below the message's length. */
int ifd_wire_encode(const ifd_wire_msg *msg, uint8_t *buf, size_t size);

/* Checks and decodes one received message: len bytes, nfds fds received
 * with it, and whether recvmsg reported truncation of the data or of the
 * fds (MSG_TRUNC / MSG_CTRUNC). Every rule of docs/protocol.md is checked:
 * magic, version, a known type, the exact payload length of that type,
 * the fd count, NUL-terminated text, and the RING's values (ranges, pitch,
 * size without overflow, mode, flags, ended >= released). Returns 0 and
 * fills *out (out->nfds = nfds), or -EPROTO with a message that names the
 * rule broken ("wire: rule <id>: ...", the ids of docs/protocol.md), leaving
 * *out untouched; -EINVAL NULL out, or NULL buf with len > 0. Never reads
 * outside buf[0, len). */
int ifd_wire_parse(const uint8_t *buf, size_t len, uint32_t nfds, bool truncated,
                   ifd_wire_msg *out);

#endif
