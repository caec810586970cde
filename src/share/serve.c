/* The producer's side of a ring shared across processes (interop_fd/share.h):
 * a Unix socket and one thread that accepts viewers, hands the attached one
 * the ring's description, and carries ready/release for rings without
 * timelines (and READY, for a viewer that waits on the host, with them too).
 * docs/protocol.md gives the messages. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/internal.h"
#include "interop_fd/share.h"
#include "share/sock.h"

#define DEFAULT_HELLO_MS 2000u
#define MAX_PENDING 8 /* connections that have not said hello yet */
#define SOCKET_NAME "interop-fd.sock"

typedef struct {
  int fd;                 /* -1: free */
  uint64_t hello_by;      /* pending: when it must have said hello */
  bool other_uid;         /* refused once it said hello (closing before its
                             hello is read would reset the connection, and the
                             viewer would never see the reason) */
} pending_conn;

struct ifd_ring_server {
  char path[IFD_SOCK_PATH_MAX];
  dev_t dev; /* the socket file, so destroy removes only its own */
  ino_t ino;
  ifd_serve_options opts;
  int listen_fd, event_fd;
  pthread_t thread;
  bool thread_started;
  _Atomic bool stop;

  /* The ring, NULL once it is gone (ifd_server_ring_gone); the thread uses
   * it only with ring_lock held. */
  pthread_mutex_t ring_lock;
  ifd_ring *ring;
  bool ring_ended; /* the viewer was told (GONE) that the ring ended */
  uint64_t ended_at_end; /* the ring's last frame ended, read as it went */

  /* The thread's own state. */
  pending_conn pending[MAX_PENDING];
  int viewer;             /* the attached viewer's socket, or -1 */
  bool timelines;         /* the ring has them: no RELEASE messages */
  uint64_t ready_sent;    /* the last READY sent to the viewer */
  uint64_t ready_due;     /* the last frame ended that READY must tell */
  uint64_t viewer_released; /* the viewer's last RELEASE */

  uint64_t accept_after;  /* accept(2) ran out of fds: not before this time */

  pthread_mutex_t stats_lock;
  ifd_ring_server_stats stats;
};

int ifd_share_default_path(char *buf, size_t size) {
  if (!buf) return ifd_fail(-EINVAL, "ifd_share_default_path: buf is NULL");
  const char *dir = getenv("XDG_RUNTIME_DIR");
  if (!dir || dir[0] != '/')
    return ifd_fail(-ENOENT, "XDG_RUNTIME_DIR is %s: give the socket's path instead",
                    dir ? "not an absolute path" : "not set");
  int n = snprintf(buf, size, "%s/%s", dir, SOCKET_NAME);
  if (n < 0 || (size_t)n >= size || (size_t)n >= IFD_SOCK_PATH_MAX)
    return ifd_fail(-ENAMETOOLONG, "the default socket path under XDG_RUNTIME_DIR (%s) is too "
                                   "long for a Unix socket",
                    dir);
  return 0;
}

static void count(ifd_ring_server *s, uint64_t *field, uint64_t add) {
  pthread_mutex_lock(&s->stats_lock);
  *field += add;
  pthread_mutex_unlock(&s->stats_lock);
}

static void refuse(int fd, int err, const char *why) {
  ifd_wire_msg m = {.type = IFD_WIRE_REFUSE};
  m.u.refuse.error = err;
  snprintf(m.u.refuse.reason, sizeof(m.u.refuse.reason), "%s", why);
  (void)ifd_sock_send(fd, &m, NULL, 0);
}

/* Refuses a connection with err and why, counts it, and closes it. */
static void turn_away(ifd_ring_server *s, int fd, int err, const char *why) {
  refuse(fd, err, why);
  count(s, &s->stats.refused, 1);
  close(fd);
}

/* The viewer is gone (it left, died or broke the protocol): nobody reads
 * the ring's frames any more, so every frame ended is released for it. */
static void viewer_detach(ifd_ring_server *s) {
  if (s->viewer < 0) return;
  close(s->viewer);
  s->viewer = -1;
  pthread_mutex_lock(&s->stats_lock);
  s->stats.attached = 0;
  pthread_mutex_unlock(&s->stats_lock);
}

/* With ring_lock held: releases every frame ended while no viewer reads. */
static void release_unwatched(ifd_ring_server *s) {
  uint64_t ended = 0, released = 0;
  if (!s->ring || ifd_ring_share_state(s->ring, &ended, &released, NULL) != 0) return;
  if (released < ended && ifd_ring_release_upto(s->ring, ended) == 0)
    count(s, &s->stats.released_for_viewers, ended - released);
}

/* Answers a HELLO: the ring's description with its fds, or a refusal. */
static void attach(ifd_ring_server *s, int fd, const ifd_wire_hello *hello) {
  if (hello->min_version > IFD_WIRE_VERSION || hello->max_version < IFD_WIRE_VERSION) {
    char why[IFD_WIRE_TEXT];
    snprintf(why, sizeof(why), "the viewer speaks protocol versions %u..%u, this server %u",
             hello->min_version, hello->max_version, IFD_WIRE_VERSION);
    turn_away(s, fd, EPROTO, why);
    return;
  }
  if (s->viewer >= 0) {
    turn_away(s, fd, EBUSY, "another viewer is attached to this ring (one at a time)");
    return;
  }
  pthread_mutex_lock(&s->ring_lock);
  ifd_ring_desc d;
  uint64_t ended = 0, released = 0;
  bool timelines = false;
  int rc = s->ring ? ifd_ring_share_state(s->ring, &ended, &released, &timelines) : -EPIPE;
  if (rc == 0) rc = ifd_ring_export(s->ring, &d);
  pthread_mutex_unlock(&s->ring_lock);
  if (rc != 0) {
    turn_away(s, fd, -rc, rc == -EPIPE ? "the producer's ring ended" : ifd_last_error());
    return;
  }
  ifd_wire_msg m;
  int fds[IFD_WIRE_MAX_FDS];
  ifd_wire_ring_from_desc(&d, ended, released, timelines, &m, fds);
  rc = ifd_sock_send(fd, &m, fds, m.nfds);
  ifd_ring_desc_close(&d); /* the viewer has its own copies now */
  if (rc != 0) {
    close(fd);
    return;
  }
  s->viewer = fd;
  s->timelines = timelines;
  s->ready_sent = s->ready_due = ended;
  s->viewer_released = released;
  pthread_mutex_lock(&s->stats_lock);
  s->stats.attached = 1;
  s->stats.viewers++;
  pthread_mutex_unlock(&s->stats_lock);
}

/* The viewer left, died or broke the protocol (malformed): it is dropped,
 * and what it held is released. */
static void viewer_gone(ifd_ring_server *s, bool malformed) {
  if (malformed) count(s, &s->stats.dropped, 1);
  viewer_detach(s);
  pthread_mutex_lock(&s->ring_lock);
  release_unwatched(s);
  pthread_mutex_unlock(&s->ring_lock);
}

/* A new connection: its uid is checked now, its hello waited for. */
static void accept_one(ifd_ring_server *s) {
  int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    /* Out of fds or memory: the connection stays queued; try again in
     * 100 ms rather than spin on a listening socket that stays readable. */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
      s->accept_after = ifd_deadline_ns(100000000u);
    return;
  }
  struct ucred cred;
  socklen_t len = sizeof(cred);
  bool other_uid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
                   (!(s->opts.flags & IFD_SERVE_ANY_UID) && cred.uid != geteuid());
  for (int i = 0; i < MAX_PENDING; i++) {
    if (s->pending[i].fd < 0) {
      s->pending[i].fd = fd;
      s->pending[i].hello_by = ifd_deadline_ns((uint64_t)s->opts.hello_timeout_ms * 1000000u);
      s->pending[i].other_uid = other_uid;
      return;
    }
  }
  turn_away(s, fd, EBUSY, "too many connections are waiting to say hello");
}

static void drop(ifd_ring_server *s, int fd, bool malformed) {
  if (malformed) count(s, &s->stats.dropped, 1);
  close(fd);
}

/* A pending connection spoke: only a HELLO is valid. */
static void pending_message(ifd_ring_server *s, pending_conn *c) {
  ifd_wire_msg m;
  int fds[IFD_WIRE_MAX_FDS];
  uint32_t nfds = 0;
  int rc = ifd_sock_recv(c->fd, &m, fds, &nfds);
  if (rc == -EAGAIN) return;
  int fd = c->fd;
  c->fd = -1;
  if (rc == 0 && m.type == IFD_WIRE_HELLO && c->other_uid) {
    turn_away(s, fd, EACCES, "the viewer runs as another user (the server allows only its own)");
    return;
  }
  if (rc == 0 && m.type == IFD_WIRE_HELLO) {
    attach(s, fd, &m.u.hello);
    return;
  }
  for (uint32_t i = 0; i < nfds; i++) close(fds[i]);
  if (rc != -EPIPE) refuse(fd, EPROTO, rc == 0 ? "the first message must be HELLO" : ifd_last_error());
  drop(s, fd, rc != -EPIPE);
}

/* The attached viewer spoke: RELEASE (rings without timelines) is valid. */
static void viewer_message(ifd_ring_server *s) {
  for (;;) {
    ifd_wire_msg m;
    int fds[IFD_WIRE_MAX_FDS];
    uint32_t nfds = 0;
    int rc = ifd_sock_recv(s->viewer, &m, fds, &nfds);
    if (rc == -EAGAIN) return;
    bool ok = rc == 0 && m.type == IFD_WIRE_RELEASE && !s->timelines &&
              m.u.frame > s->viewer_released;
    if (ok) {
      pthread_mutex_lock(&s->ring_lock);
      uint64_t ended = 0;
      ok = s->ring && ifd_ring_share_state(s->ring, &ended, NULL, NULL) == 0 &&
           m.u.frame <= ended && ifd_ring_release_upto(s->ring, m.u.frame) == 0;
      pthread_mutex_unlock(&s->ring_lock);
      if (ok) s->viewer_released = m.u.frame;
    }
    if (ok) continue;
    for (uint32_t i = 0; i < nfds; i++) close(fds[i]);
    viewer_gone(s, rc != -EPIPE);
    return;
  }
}

/* Tells the viewer the last frame ended. A full socket (a viewer that does
 * not read) leaves it due, sent when the socket has room: READY carries the
 * newest frame, so nothing queues up behind a slow viewer. */
static void send_ready(ifd_ring_server *s) {
  if (s->ready_due <= s->ready_sent) return;
  ifd_wire_msg m = {.type = IFD_WIRE_READY};
  m.u.frame = s->ready_due;
  int rc = ifd_sock_send(s->viewer, &m, NULL, 0);
  if (rc == 0) s->ready_sent = s->ready_due;
  else if (rc != -EAGAIN) viewer_gone(s, false);
}

/* The ring is gone (or no longer served): the viewer is told the frames
 * ended before it went (ended_at_end, read while the ring was still there),
 * then the end (GONE), and let go. */
static void tell_end(ifd_ring_server *s) {
  if (s->viewer < 0) return;
  if (s->ended_at_end > s->ready_due) s->ready_due = s->ended_at_end;
  send_ready(s);
  if (s->viewer < 0) return;
  ifd_wire_msg m = {.type = IFD_WIRE_GONE};
  if (!s->ring_ended) (void)ifd_sock_send(s->viewer, &m, NULL, 0);
  s->ring_ended = true;
  viewer_detach(s);
}

/* The ring ended frames (or went): tell the viewer, or release for none. */
static void ring_event(ifd_ring_server *s) {
  uint64_t v;
  while (read(s->event_fd, &v, sizeof(v)) < 0 && errno == EINTR) {
  }
  pthread_mutex_lock(&s->ring_lock);
  uint64_t ended = 0;
  bool alive = s->ring && ifd_ring_share_state(s->ring, &ended, NULL, NULL) == 0;
  if (alive && s->viewer < 0) release_unwatched(s);
  pthread_mutex_unlock(&s->ring_lock);
  if (!alive) {
    tell_end(s);
  } else if (s->viewer >= 0 && ended > s->ready_due) {
    s->ready_due = ended;
    send_ready(s);
  }
}

static void *serve_thread(void *arg) {
  ifd_ring_server *s = arg;
  while (!atomic_load(&s->stop)) {
    struct pollfd p[3 + MAX_PENDING];
    int n = 0;
    bool accepting = ifd_now_ns() >= s->accept_after;
    p[n++] = (struct pollfd){.fd = accepting ? s->listen_fd : -1, .events = POLLIN};
    p[n++] = (struct pollfd){.fd = s->event_fd, .events = POLLIN};
    short ev = POLLIN | (s->viewer >= 0 && s->ready_due > s->ready_sent ? POLLOUT : 0);
    p[n++] = (struct pollfd){.fd = s->viewer, .events = ev}; /* -1: ignored */
    uint64_t next = accepting ? UINT64_MAX : s->accept_after;
    for (int i = 0; i < MAX_PENDING; i++) {
      p[n++] = (struct pollfd){.fd = s->pending[i].fd, .events = POLLIN};
      if (s->pending[i].fd >= 0 && s->pending[i].hello_by < next) next = s->pending[i].hello_by;
    }
    int timeout = next == UINT64_MAX ? -1 : ifd_sock_ms_left(next);
    if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) break;
    if (atomic_load(&s->stop)) break;
    if (p[1].revents) ring_event(s);
    if ((p[2].revents & POLLOUT) && s->viewer >= 0) send_ready(s);
    if ((p[2].revents & ~POLLOUT) && s->viewer >= 0) viewer_message(s);
    for (int i = 0; i < MAX_PENDING; i++) {
      pending_conn *c = &s->pending[i];
      if (c->fd < 0) continue;
      if (p[3 + i].revents) {
        pending_message(s, c);
      } else if (ifd_now_ns() >= c->hello_by) {
        drop(s, c->fd, false);
        c->fd = -1;
        count(s, &s->stats.refused, 1);
      }
    }
    if (p[0].revents & POLLIN) accept_one(s);
  }
  return NULL;
}

/* A socket file at path: one nobody accepts on (its server died) is
 * removed; a live one or something else is an error. */
static int clear_stale(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return 0;
  if (!S_ISSOCK(st.st_mode))
    return ifd_fail(-EEXIST, "%s exists and is not a socket: not replacing it", path);
  int fd = -1;
  int rc = ifd_sock_connect(path, &fd);
  if (rc == 0) {
    close(fd);
    return ifd_fail(-EADDRINUSE, "a live server owns %s", path);
  }
  if (rc != -ECONNREFUSED)
    return ifd_fail(-EADDRINUSE, "%s is a socket that could not be checked (%s): not replacing it",
                    path, strerror(-rc));
  if (unlink(path) != 0 && errno != ENOENT)
    return ifd_fail(-errno, "removing the stale socket %s: %s", path, strerror(errno));
  return 0;
}

/* The server stops using the ring, keeping its last frame ended for the
 * viewer (ended_at_end); returns the ring it had (NULL if already gone). */
static ifd_ring *let_go_of_ring(ifd_ring_server *s) {
  pthread_mutex_lock(&s->ring_lock);
  ifd_ring *ring = s->ring;
  uint64_t ended = 0;
  if (ring && ifd_ring_share_state(ring, &ended, NULL, NULL) == 0 && ended > s->ended_at_end)
    s->ended_at_end = ended;
  s->ring = NULL;
  pthread_mutex_unlock(&s->ring_lock);
  return ring;
}

/* Binds under a temporary name, makes it 0600, listens, then renames it to
 * path: the socket never exists at path with wider permissions. */
static int open_socket(ifd_ring_server *s) {
  int rc = clear_stale(s->path);
  if (rc != 0) return rc;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s.%ld.tmp", s->path, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof(a.sun_path))
    return ifd_fail(-ENAMETOOLONG, "%s is too long for a Unix socket's path (with room for a "
                                   "temporary name)",
                    s->path);
  s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->listen_fd < 0) return ifd_fail(-errno, "socket: %s", strerror(errno));
  (void)unlink(a.sun_path); /* a temporary name this process left before */
  if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0)
    return ifd_fail(-errno, "bind %s: %s", a.sun_path, strerror(errno));
  struct stat st;
  if (chmod(a.sun_path, 0600) != 0 || listen(s->listen_fd, 8) != 0 || stat(a.sun_path, &st) != 0 ||
      rename(a.sun_path, s->path) != 0) {
    rc = ifd_fail(-errno, "setting up the socket %s: %s", s->path, strerror(errno));
    (void)unlink(a.sun_path);
    return rc;
  }
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  return 0;
}

/* Frees a server, whole or half made (ifd_ring_serve's failures). */
static void server_free(ifd_ring_server *s) {
  if (s->thread_started) {
    atomic_store(&s->stop, true);
    uint64_t one = 1;
    (void)!write(s->event_fd, &one, sizeof(one));
    pthread_join(s->thread, NULL);
  }
  ifd_ring *ring = let_go_of_ring(s);
  if (ring) ifd_ring_detach_server(ring, s);
  tell_end(s);
  for (int i = 0; i < MAX_PENDING; i++)
    if (s->pending[i].fd >= 0) close(s->pending[i].fd);
  if (s->listen_fd >= 0) {
    struct stat st;
    if (s->ino && lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
      (void)unlink(s->path); /* only our own: a newer server's stays */
    close(s->listen_fd);
  }
  if (s->event_fd >= 0) close(s->event_fd);
  pthread_mutex_destroy(&s->ring_lock);
  pthread_mutex_destroy(&s->stats_lock);
  free(s);
}

void ifd_ring_server_destroy(ifd_ring_server *s) {
  if (!ifd_handle_destroy_ok(s, IFD_HANDLE_RING_SERVER, "server", "ifd_ring_server_destroy"))
    return;
  ifd_handle_remove(s);
  server_free(s);
}

int ifd_ring_serve(ifd_ring *ring, const char *socket_path, const ifd_serve_options *opts,
                   ifd_ring_server **out) {
  static const char fn[] = "ifd_ring_serve";
  if (!ring || !out) return ifd_fail(-EINVAL, "%s: %s is NULL", fn, ring ? "out" : "ring");
  if (opts && (opts->flags & ~IFD_SERVE_ANY_UID))
    return ifd_fail(-EINVAL, "%s: unknown flags 0x%x", fn, opts->flags & ~IFD_SERVE_ANY_UID);
  ifd_ring_server *s = calloc(1, sizeof(*s));
  if (!s) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  s->listen_fd = s->event_fd = s->viewer = -1;
  for (int i = 0; i < MAX_PENDING; i++) s->pending[i].fd = -1;
  pthread_mutex_init(&s->ring_lock, NULL);
  pthread_mutex_init(&s->stats_lock, NULL);
  if (opts) s->opts = *opts;
  if (!s->opts.hello_timeout_ms) s->opts.hello_timeout_ms = DEFAULT_HELLO_MS;
  int rc = ifd_share_path(socket_path, s->path, fn);
  if (rc == 0) {
    s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->event_fd < 0) rc = ifd_fail(-errno, "eventfd: %s", strerror(errno));
  }
  if (rc == 0) rc = open_socket(s);
  if (rc == 0) {
    rc = ifd_ring_attach_server(ring, s);
    if (rc == 0) s->ring = ring;
  }
  if (rc == 0) {
    /* What was ended before serving is released now (no viewer yet). */
    pthread_mutex_lock(&s->ring_lock);
    release_unwatched(s);
    pthread_mutex_unlock(&s->ring_lock);
    int err = pthread_create(&s->thread, NULL, serve_thread, s);
    if (err != 0) rc = ifd_fail(-EAGAIN, "%s: starting the server's thread: %s", fn, strerror(err));
    s->thread_started = err == 0;
  }
  if (rc == 0) rc = ifd_handle_add(s, IFD_HANDLE_RING_SERVER);
  if (rc != 0) {
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", ifd_last_error());
    server_free(s);
    ifd_fail(rc, "%s", msg);
    return ifd_fail_prefix(rc, "%s", fn);
  }
  *out = s;
  return 0;
}

const char *ifd_ring_server_path(const ifd_ring_server *s) {
  return ifd_handle_live(s, IFD_HANDLE_RING_SERVER) ? s->path : NULL;
}

int ifd_ring_server_stats_get(const ifd_ring_server *s, ifd_ring_server_stats *out) {
  static const char fn[] = "ifd_ring_server_stats_get";
  int rc = ifd_check_handle(s, IFD_HANDLE_RING_SERVER, "server", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  pthread_mutex_lock((pthread_mutex_t *)&s->stats_lock);
  *out = s->stats;
  pthread_mutex_unlock((pthread_mutex_t *)&s->stats_lock);
  return 0;
}

void ifd_server_ring_event(ifd_ring_server *s) {
  uint64_t one = 1;
  (void)!write(s->event_fd, &one, sizeof(one));
}

void ifd_server_ring_gone(ifd_ring_server *s) {
  (void)let_go_of_ring(s);
  ifd_server_ring_event(s);
}
