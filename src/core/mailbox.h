/* The shared state of a MAILBOX ring (interop_fd.h, "Latest-frame rings"):
 * one page of a sealed memfd that the producer and its consumer map, holding
 * the mailbox word that they exchange slots through. Everything in it can be
 * written by the other process, so every value read from it is checked
 * before it is used. Private to the library. */
#ifndef IFD_MAILBOX_H
#define IFD_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

/* The mailbox word: bit 0 fresh, bits 1-3 the slot in the mailbox ("box"),
 * bits 4-6 the slot the consumer holds ("held"), bits 8-63 a frame number.
 * fresh: the box holds frame `frame`, not taken yet. Not fresh: the consumer
 * took frame `frame` (it is in `held`) and the box holds the slot it gave
 * back (or, before any take, a slot never written). */
typedef struct {
  uint64_t frame;
  uint32_t box, held;
  bool fresh;
} ifd_mailbox_word;

typedef struct ifd_mailbox ifd_mailbox;

/* Producer: a new memfd of one page, sealed against shrinking and growing,
 * with box = slot 0, held = slot 1, frame 0, not fresh (count >= 3).
 * Errors: -ENOMEM, -EMFILE and the like (message set). */
int ifd_mailbox_create(uint32_t count, ifd_mailbox **out);

/* Consumer: maps the memfd `fd` (not consumed) of a ring of `count` slots,
 * after checking that it is one: a regular file of exactly one page sealed
 * against shrinking (so the mapping can never fault), the magic, version and
 * count, and a valid word. Errors: -EINVAL with the reason; -EBADF. */
int ifd_mailbox_open(int fd, uint32_t count, ifd_mailbox **out);

void ifd_mailbox_close(ifd_mailbox *mb); /* NULL: no-op */

/* A new close-on-exec fd of the producer's memfd, for an export. */
int ifd_mailbox_export_fd(ifd_mailbox *mb, int *out_fd);

/* Producer: publishes frame k, written into `slot`, as fresh, keeping the
 * consumer's held slot, and returns the word it replaced in *old. */
void ifd_mailbox_publish(ifd_mailbox *mb, uint64_t k, uint32_t slot, ifd_mailbox_word *old);

/* Consumer: if the box is fresh, swaps it with the held slot (the box then
 * holds the slot given back, not fresh) and returns 1 with *took = the frame
 * and its slot; 0 if nothing is fresh. -EIO (message set) if the word is
 * malformed or goes backwards (its frame not above `last`). */
int ifd_mailbox_take(ifd_mailbox *mb, uint64_t last, ifd_mailbox_word *took);

/* The last frame the producer ended, and whether its ring is gone. Both are
 * set by the producer only. */
void ifd_mailbox_set_ended(ifd_mailbox *mb, uint64_t k);
void ifd_mailbox_set_gone(ifd_mailbox *mb);
uint64_t ifd_mailbox_ended(const ifd_mailbox *mb);
bool ifd_mailbox_gone(const ifd_mailbox *mb);

#endif
