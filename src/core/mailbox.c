/* The shared state of MAILBOX rings (mailbox.h): a page of a sealed memfd
 * that both processes map. The word is one lock-free 64-bit atomic: a
 * lock-free atomic works on its memory alone, so it is coherent between two
 * mappings of the same page in two processes. */
#include "mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2 &&
                   ATOMIC_INT_LOCK_FREE == 2,
               "the mailbox word is shared between processes: its atomics must be lock-free");
_Static_assert(IFD_RING_MAX_FRAMES <= 8, "the mailbox word keeps a slot in 3 bits");

#define MAILBOX_MAGIC 0x78626d49u /* "Imbx" */
#define MAILBOX_VERSION 1u
#define MAILBOX_SIZE 4096

/* The layout in the memfd. */
typedef struct {
  uint32_t magic, version, count, reserved;
  _Atomic uint64_t word;  /* the mailbox word (mailbox.h) */
  _Atomic uint64_t ended; /* last frame the producer ended */
  _Atomic uint32_t gone;  /* 1 once the producer's ring is destroyed */
} shared;
_Static_assert(sizeof(shared) <= MAILBOX_SIZE, "the shared state fits its page");

struct ifd_mailbox {
  shared *s;
  uint32_t count;
  int fd; /* the producer's memfd; -1 in a consumer */
};

static uint64_t encode(const ifd_mailbox_word *w) {
  return w->frame << 8 | (uint64_t)w->held << 4 | (uint64_t)w->box << 1 | (w->fresh ? 1u : 0u);
}

/* Decodes v; false if its slots are out of range or the same. */
static bool decode(uint64_t v, uint32_t count, ifd_mailbox_word *w) {
  w->frame = v >> 8;
  w->held = (uint32_t)(v >> 4) & 7;
  w->box = (uint32_t)(v >> 1) & 7;
  w->fresh = v & 1;
  return w->box < count && w->held < count && w->box != w->held && (v & 0x80) == 0;
}

void ifd_mailbox_close(ifd_mailbox *mb) {
  if (!mb) return;
  if (mb->s) munmap(mb->s, MAILBOX_SIZE);
  if (mb->fd >= 0) close(mb->fd);
  free(mb);
}

int ifd_mailbox_create(uint32_t count, ifd_mailbox **out) {
  ifd_mailbox *mb = calloc(1, sizeof(*mb));
  if (!mb) return ifd_fail(-ENOMEM, "out of host memory");
  mb->count = count;
  mb->fd = memfd_create("interop_fd-mailbox", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  int rc = 0;
  if (mb->fd < 0) rc = ifd_fail(-errno, "memfd_create for the mailbox: %s", strerror(errno));
  else if (ftruncate(mb->fd, MAILBOX_SIZE) != 0 ||
           fcntl(mb->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    rc = ifd_fail(-errno, "sizing and sealing the mailbox memfd: %s", strerror(errno));
  if (rc == 0) {
    void *p = mmap(NULL, MAILBOX_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mb->fd, 0);
    if (p == MAP_FAILED) rc = ifd_fail(-errno, "mapping the mailbox memfd: %s", strerror(errno));
    else mb->s = p;
  }
  if (rc != 0) {
    ifd_mailbox_close(mb);
    return rc;
  }
  mb->s->magic = MAILBOX_MAGIC;
  mb->s->version = MAILBOX_VERSION;
  mb->s->count = count;
  ifd_mailbox_word w = {.frame = 0, .box = 0, .held = 1, .fresh = false};
  atomic_store(&mb->s->word, encode(&w));
  *out = mb;
  return 0;
}

int ifd_mailbox_open(int fd, uint32_t count, ifd_mailbox **out) {
  int rc = ifd_fd_check_kind(fd, "control_fd", "a ring's shared state (a memfd)", -EINVAL);
  if (rc != 0) return rc;
  struct stat st;
  if (fstat(fd, &st) != 0) return ifd_fail(-EBADF, "control_fd %d is not an open fd", fd);
  if (!S_ISREG(st.st_mode) || st.st_size != MAILBOX_SIZE)
    return ifd_fail(-EINVAL, "control_fd %d is not a ring's shared state: %s of %lld bytes, not "
                             "a memfd of %d",
                    fd, S_ISREG(st.st_mode) ? "a file" : "not a file", (long long)st.st_size,
                    MAILBOX_SIZE);
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK))
    return ifd_fail(-EINVAL, "control_fd %d is not sealed against shrinking (F_SEAL_SHRINK): "
                             "its mapping could fault",
                    fd);
  void *p = mmap(NULL, MAILBOX_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return ifd_fail(-EINVAL, "control_fd %d cannot be mapped read-write: %s", fd, strerror(errno));
  shared *s = p;
  ifd_mailbox_word w;
  if (s->magic != MAILBOX_MAGIC || s->version != MAILBOX_VERSION)
    rc = ifd_fail(-EINVAL, "control_fd %d is not a ring's shared state of version %u (magic "
                           "0x%08x, version %u)",
                  fd, MAILBOX_VERSION, s->magic, s->version);
  else if (s->count != count)
    rc = ifd_fail(-EINVAL, "control_fd %d describes a ring of %u slots, the description %u", fd,
                  s->count, count);
  else if (!decode(atomic_load(&s->word), count, &w))
    rc = ifd_fail(-EINVAL, "control_fd %d holds a malformed mailbox word", fd);
  ifd_mailbox *mb = rc == 0 ? calloc(1, sizeof(*mb)) : NULL;
  if (rc == 0 && !mb) rc = ifd_fail(-ENOMEM, "out of host memory");
  if (rc != 0) {
    munmap(p, MAILBOX_SIZE);
    return rc;
  }
  mb->s = s;
  mb->count = count;
  mb->fd = -1;
  *out = mb;
  return 0;
}

int ifd_mailbox_export_fd(ifd_mailbox *mb, int *out_fd) {
  int fd = fcntl(mb->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ifd_fail(-errno, "duplicating the mailbox memfd: %s", strerror(errno));
  *out_fd = fd;
  return 0;
}

void ifd_mailbox_publish(ifd_mailbox *mb, uint64_t k, uint32_t slot, ifd_mailbox_word *old) {
  uint64_t v = atomic_load(&mb->s->word);
  for (;;) {
    (void)decode(v, mb->count, old); /* the caller checks what comes back */
    ifd_mailbox_word w = {.frame = k, .box = slot, .held = old->held, .fresh = true};
    if (atomic_compare_exchange_weak(&mb->s->word, &v, encode(&w))) return;
  }
}

int ifd_mailbox_take(ifd_mailbox *mb, uint64_t last, ifd_mailbox_word *took) {
  uint64_t v = atomic_load(&mb->s->word);
  for (;;) {
    ifd_mailbox_word w;
    if (!decode(v, mb->count, &w))
      return ifd_fail(-EIO, "the ring's shared mailbox word 0x%016llx is malformed",
                      (unsigned long long)v);
    if (!w.fresh) return 0;
    if (w.frame <= last)
      return ifd_fail(-EIO, "the ring's shared mailbox offers frame %llu, not above frame %llu "
                            "already taken",
                      (unsigned long long)w.frame, (unsigned long long)last);
    ifd_mailbox_word swapped = {.frame = w.frame, .box = w.held, .held = w.box, .fresh = false};
    if (atomic_compare_exchange_weak(&mb->s->word, &v, encode(&swapped))) {
      *took = w;
      return 1;
    }
  }
}

void ifd_mailbox_set_ended(ifd_mailbox *mb, uint64_t k) {
  atomic_store(&mb->s->ended, k);
}

void ifd_mailbox_set_gone(ifd_mailbox *mb) {
  atomic_store(&mb->s->gone, 1);
}

uint64_t ifd_mailbox_ended(const ifd_mailbox *mb) {
  return atomic_load(&mb->s->ended);
}

bool ifd_mailbox_gone(const ifd_mailbox *mb) {
  return atomic_load(&mb->s->gone) != 0;
}
