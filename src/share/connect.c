/* The viewer's side of a ring shared across processes (interop_fd/share.h):
 * connects, says hello, checks the ring's description and every fd it
 * carries, and keeps the connection as a link that follows the producer. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "interop_fd/share.h"
#include "share/sock.h"

#define RETRY_NS 20000000ull /* a server not there yet is tried again every 20 ms */
#define RELEASE_READY_NS 100000000ull /* the most a release waits for its READY */

struct ifd_ring_link {
  int sock;
  bool timelines;
  bool gone;       /* the producer ended the ring, stopped serving or died */
  bool said_gone;  /* ...and said so (GONE): it did not die */
  uint64_t ended;  /* the last frame ended, as far as this link knows */
  uint64_t released_before; /* released by the server before this viewer attached */
  uint64_t own;      /* this viewer's last release */
};

/* One connection attempt. 0, or -ENOENT/-ECONNREFUSED (nobody serves there
 * yet: worth retrying), or another error. */
static int try_connect(const char *path, int *out) {
  int rc = ifd_sock_connect(path, out);
  if (rc == -ENOENT || rc == -ECONNREFUSED)
    return ifd_fail(rc, "no server at %s (%s)", path,
                    rc == -ENOENT ? "no such socket" : "nobody accepts on it");
  return rc == 0 ? 0 : ifd_fail(rc, "connecting to %s: %s", path, strerror(-rc));
}

/* Checks the fds a RING message brought (now in d) before anything uses
 * them: memory fds that no driver would export as memory (a pipe, a
 * socket, /dev/null, ...) or whose size is known and smaller than the frame
 * are refused; so are semaphore fds of such kinds, and a control fd that is
 * not a file. */
static int check_fds(const ifd_ring_desc *d) {
  for (uint32_t i = 0; i < d->count; i++) {
    const ifd_frame_desc *f = &d->frames[i];
    char what[64];
    snprintf(what, sizeof(what), "frame %u's memory fd", i);
    int rc = ifd_fd_check_kind(f->memory_fd, what, "memory", -EBADF);
    if (rc != 0) return rc;
    struct stat st;
    /* A memfd or dma-buf knows its size; a driver's handle (NVIDIA's
     * /dev/nvidiactl) does not, and the import checks it instead. */
    if (fstat(f->memory_fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < f->size)
      return ifd_fail(-EBADF, "%s covers %lld bytes, less than the frame's %llu (row pitch %u x "
                              "height %u)",
                      what, (long long)st.st_size, (unsigned long long)f->size, f->row_pitch,
                      f->height);
  }
  int rc = 0;
  if (d->ready_fd >= 0)
    rc = ifd_fd_check_kind(d->ready_fd, "the ready timeline's fd", "a semaphore", -EBADF);
  if (rc == 0 && d->release_fd >= 0)
    rc = ifd_fd_check_kind(d->release_fd, "the release timeline's fd", "a semaphore", -EBADF);
  if (rc != 0) return rc;
  struct stat st;
  if (d->mode == IFD_RING_MAILBOX && (fstat(d->control_fd, &st) != 0 || !S_ISREG(st.st_mode)))
    return ifd_fail(-EBADF, "the MAILBOX control fd is not a shared memory file (a memfd)");
  return 0;
}

/* Says hello and waits for the answer (RING or REFUSE) until deadline. */
static int handshake(int sock, const char *path, uint64_t deadline, ifd_ring_desc *out,
                     ifd_ring_link *link) {
  ifd_wire_msg m = {.type = IFD_WIRE_HELLO};
  m.u.hello.min_version = m.u.hello.max_version = IFD_WIRE_VERSION;
  snprintf(m.u.hello.name, sizeof(m.u.hello.name), "%s", program_invocation_short_name);
  int rc = ifd_sock_send(sock, &m, NULL, 0);
  if (rc != 0) return rc;
  int fds[IFD_WIRE_MAX_FDS];
  uint32_t nfds = 0;
  for (;;) {
    rc = ifd_sock_recv(sock, &m, fds, &nfds);
    if (rc != -EAGAIN) break;
    int ready = ifd_sock_wait(sock, ifd_sock_ms_left(deadline));
    if (ready < 0) return ready;
    if (ready == 0) return ifd_fail(-ETIMEDOUT, "the server at %s did not answer in time", path);
  }
  if (rc != 0) return rc;
  if (m.type == IFD_WIRE_REFUSE) {
    /* error is 1..4095: the parser's rule */
    return ifd_fail(-m.u.refuse.error, "the server at %s refused: %s", path, m.u.refuse.reason);
  }
  if (m.type != IFD_WIRE_RING) {
    for (uint32_t i = 0; i < nfds; i++) close(fds[i]);
    return ifd_fail(-EPROTO, "the server at %s answered hello with message type %d, not RING",
                    path, (int)m.type);
  }
  ifd_ring_desc d;
  ifd_wire_ring_to_desc(&m.u.ring, fds, &d);
  rc = check_fds(&d);
  if (rc != 0) {
    ifd_ring_desc_close(&d);
    return rc;
  }
  *out = d;
  link->timelines = (m.u.ring.flags & IFD_WIRE_RING_TIMELINES) != 0;
  link->ended = m.u.ring.ended;
  link->released_before = m.u.ring.released;
  return 0;
}

int ifd_ring_connect(const char *socket_path, uint64_t timeout_ns, ifd_ring_desc *out,
                     ifd_ring_link **out_link) {
  static const char fn[] = "ifd_ring_connect";
  if (!out || !out_link)
    return ifd_fail(-EINVAL, "%s: %s is NULL", fn, out ? "out_link" : "out");
  char path[IFD_SOCK_PATH_MAX];
  int rc = ifd_share_path(socket_path, path, fn);
  if (rc != 0) return rc;
  uint64_t deadline = ifd_deadline_ns(timeout_ns);
  for (;;) {
    int sock = -1;
    rc = try_connect(path, &sock);
    if (rc == 0) {
      ifd_ring_link *link = calloc(1, sizeof(*link));
      if (!link) {
        close(sock);
        return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
      }
      link->sock = sock;
      /* The answer may take up to the server's hello timeout; give it at
       * least a second even when timeout_ns is 0 (connect once). */
      uint64_t answer_by = timeout_ns < 1000000000u ? ifd_deadline_ns(1000000000u) : deadline;
      rc = handshake(sock, path, answer_by, out, link);
      if (rc == 0 && (rc = ifd_handle_add(link, IFD_HANDLE_RING_LINK)) != 0) ifd_ring_desc_close(out);
      if (rc == 0) {
        *out_link = link;
        return 0;
      }
      close(sock);
      free(link);
    }
    /* Nobody serves there yet, or a server that is dying reset the
     * connection before answering (its socket still accepted): with a
     * timeout, wait for the next one. */
    bool again = rc == -ENOENT || rc == -ECONNREFUSED || rc == -EPIPE;
    if (!again || timeout_ns == 0) break;
    uint64_t now = ifd_now_ns();
    if (now >= deadline)
      return ifd_fail(-ETIMEDOUT, "%s: no server answered at %s within %.3f s (last: %s)", fn,
                      path, (double)timeout_ns / 1e9, ifd_last_error());
    uint64_t wait = deadline - now < RETRY_NS ? deadline - now : RETRY_NS;
    struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
    nanosleep(&ts, NULL);
  }
  if (rc == -ECONNREFUSED) rc = -ENOENT;
  return ifd_fail_prefix(rc, "%s", fn);
}

void ifd_ring_link_close(ifd_ring_link *link) {
  if (!ifd_handle_destroy_ok(link, IFD_HANDLE_RING_LINK, "link", "ifd_ring_link_close")) return;
  ifd_handle_remove(link);
  close(link->sock);
  free(link);
}

static int check_link(const ifd_ring_link *link, const char *fn) {
  return ifd_check_handle(link, IFD_HANDLE_RING_LINK, "link", fn);
}

static bool link_live(const ifd_ring_link *link) {
  return ifd_handle_live(link, IFD_HANDLE_RING_LINK);
}

int ifd_ring_link_has_timelines(const ifd_ring_link *link) {
  int rc = check_link(link, "ifd_ring_link_has_timelines");
  return rc != 0 ? rc : link->timelines ? 1 : 0;
}

uint64_t ifd_ring_link_first_frame(const ifd_ring_link *link) {
  return link_live(link) ? link->released_before + 1 : 0;
}

uint64_t ifd_ring_link_ended(const ifd_ring_link *link) {
  return link_live(link) ? link->ended : 0;
}

int ifd_ring_link_ended_cleanly(const ifd_ring_link *link) {
  int rc = check_link(link, "ifd_ring_link_ended_cleanly");
  return rc != 0 ? rc : link->said_gone ? 1 : 0;
}

/* Reads every message waiting. 0, -EPIPE (gone), -EPROTO. */
static int drain(ifd_ring_link *link, const char *fn) {
  while (!link->gone) {
    ifd_wire_msg m;
    int fds[IFD_WIRE_MAX_FDS];
    uint32_t nfds = 0;
    int rc = ifd_sock_recv(link->sock, &m, fds, &nfds);
    if (rc == -EAGAIN) return 0;
    if (rc == -EPIPE || (rc == 0 && m.type == IFD_WIRE_GONE)) {
      link->gone = true;
      link->said_gone = rc == 0;
      break;
    }
    if (rc == 0 && m.type == IFD_WIRE_READY && m.u.frame >= link->ended) {
      link->ended = m.u.frame;
      continue;
    }
    for (uint32_t i = 0; i < nfds; i++) close(fds[i]);
    link->gone = true;
    shutdown(link->sock, SHUT_RDWR);
    if (rc != 0) return ifd_fail_prefix(-EPROTO, "%s", fn);
    return ifd_fail(-EPROTO, "%s: the server sent an unexpected message (type %d)", fn,
                    (int)m.type);
  }
  return ifd_fail(-EPIPE, "%s: the producer %s (last frame ended: %llu)", fn,
                  link->said_gone ? "ended the ring or stopped serving it"
                                  : "closed the connection without a word (it died?)",
                  (unsigned long long)link->ended);
}

int ifd_ring_link_poll(ifd_ring_link *link) {
  int rc = check_link(link, "ifd_ring_link_poll");
  return rc != 0 ? rc : drain(link, "ifd_ring_link_poll");
}

int ifd_ring_link_wait_ready(ifd_ring_link *link, uint64_t k, uint64_t timeout_ns) {
  static const char fn[] = "ifd_ring_link_wait_ready";
  int rc = check_link(link, fn);
  if (rc != 0) return rc;
  if (k == 0) return ifd_fail(-EINVAL, "%s: frames are numbered from 1", fn);
  uint64_t deadline = ifd_deadline_ns(timeout_ns);
  for (;;) {
    rc = drain(link, fn);
    if (link->ended >= k) return 0; /* a frame ended before the end is still good */
    if (rc != 0) return rc;
    int left = ifd_sock_ms_left(deadline);
    if (left == 0) break;
    rc = ifd_sock_wait(link->sock, left);
    if (rc < 0) return ifd_fail_prefix(rc, "%s", fn);
  }
  if (timeout_ns == 0)
    return ifd_fail(-EAGAIN, "%s: frame %llu has not ended yet (last ended: %llu)", fn,
                    (unsigned long long)k, (unsigned long long)link->ended);
  return ifd_fail(-ETIMEDOUT, "%s: frame %llu did not end within %llu ns (last ended: %llu)", fn,
                  (unsigned long long)k, (unsigned long long)timeout_ns,
                  (unsigned long long)link->ended);
}

int ifd_ring_link_release(ifd_ring_link *link, uint64_t k) {
  static const char fn[] = "ifd_ring_link_release";
  int rc = check_link(link, fn);
  if (rc != 0) return rc;
  if (k == 0) return ifd_fail(-EINVAL, "%s: frames are numbered from 1", fn);
  if (link->timelines)
    return ifd_fail(-EINVAL, "%s: the ring has timelines: signal release = %llu on your device",
                    fn, (unsigned long long)k);
  /* A MAILBOX take reads the shared page, which can be ahead of the READY
   * message of the frame taken (microseconds): wait that long for it. */
  rc = k > link->ended ? ifd_ring_link_wait_ready(link, k, RELEASE_READY_NS) : drain(link, fn);
  if (rc == -EPIPE) return ifd_fail_prefix(rc, "%s", fn);
  if (rc != 0 && rc != -ETIMEDOUT) return rc;
  if (k > link->ended)
    return ifd_fail(-EINVAL, "%s: frame %llu has not ended (last ended: %llu)", fn,
                    (unsigned long long)k, (unsigned long long)link->ended);
  if (k <= link->own)
    return ifd_fail(-EINVAL, "%s: frame %llu is not above %llu, already released", fn,
                    (unsigned long long)k, (unsigned long long)link->own);
  /* A frame the server released before this viewer attached (a MAILBOX
   * ring's box may hold one) needs no message. */
  if (k <= link->released_before) {
    link->own = k;
    return 0;
  }
  ifd_wire_msg m = {.type = IFD_WIRE_RELEASE};
  m.u.frame = k;
  rc = ifd_sock_send(link->sock, &m, NULL, 0);
  if (rc == -EAGAIN)
    return ifd_fail(-EAGAIN, "%s: the socket is full (the producer's server does not read)", fn);
  if (rc == -EPIPE) link->gone = true;
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  link->own = k;
  return 0;
}
