/* Wire messages over a Unix socket (sock.h). */
#include "share/sock.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/internal.h"
#include "interop_fd/share.h"

int ifd_sock_send(int sock, const ifd_wire_msg *msg, const int *fds, uint32_t nfds) {
  uint8_t buf[IFD_WIRE_MAX_MESSAGE];
  int len = ifd_wire_encode(msg, buf, sizeof(buf));
  if (len < 0) return len;
  if (nfds > IFD_WIRE_MAX_FDS) return ifd_fail(-EINVAL, "%u fds exceed the protocol's %u", nfds,
                                               (unsigned)IFD_WIRE_MAX_FDS);
  struct iovec iov = {buf, (size_t)len};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * IFD_WIRE_MAX_FDS)];
  } control;
  if (nfds > 0) {
    memset(&control, 0, sizeof(control));
    mh.msg_control = control.bytes;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n == len) return 0;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -EAGAIN;
  if (n < 0 && (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN))
    return ifd_fail(-EPIPE, "the peer closed the connection");
  return ifd_fail(-EIO, "sendmsg: %s", n < 0 ? strerror(errno) : "short send");
}

int ifd_sock_recv(int sock, ifd_wire_msg *msg, int fds[IFD_WIRE_MAX_FDS], uint32_t *nfds) {
  uint8_t buf[IFD_WIRE_MAX_MESSAGE];
  struct iovec iov = {buf, sizeof(buf)};
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * IFD_WIRE_MAX_FDS)];
  } control;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                      .msg_controllen = sizeof(control.bytes)};
  *nfds = 0;
  ssize_t n;
  do {
    n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -EAGAIN;
  if (n < 0 && errno == ECONNRESET) return ifd_fail(-EPIPE, "the peer reset the connection");
  if (n < 0) return ifd_fail(-EIO, "recvmsg: %s", strerror(errno));
  /* Every fd that arrived is collected first, so none leaks whatever the
   * message turns out to be. */
  uint32_t got = 0;
  bool extra = false;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (got < IFD_WIRE_MAX_FDS) {
        fds[got++] = fd;
      } else {
        close(fd);
        extra = true;
      }
    }
  }
  if (n == 0 && got == 0) return ifd_fail(-EPIPE, "the peer closed the connection");
  bool truncated = extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
  int rc = ifd_wire_parse(buf, (size_t)n, got, truncated, msg);
  if (rc != 0) {
    for (uint32_t i = 0; i < got; i++) close(fds[i]);
    return rc;
  }
  *nfds = got;
  return 0;
}

int ifd_sock_wait(int sock, int timeout_ms) {
  struct pollfd p = {.fd = sock, .events = POLLIN};
  int n;
  do {
    n = poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ifd_fail(-EIO, "poll: %s", strerror(errno));
  return n > 0;
}

int ifd_sock_ms_left(uint64_t deadline_ns) {
  uint64_t now = ifd_now_ns();
  if (now >= deadline_ns) return 0;
  uint64_t ms = (deadline_ns - now + 999999) / 1000000;
  return ms > INT_MAX ? INT_MAX : (int)ms;
}

int ifd_share_path(const char *path, char buf[IFD_SOCK_PATH_MAX], const char *fn) {
  if (!path) {
    int rc = ifd_share_default_path(buf, IFD_SOCK_PATH_MAX);
    return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
  }
  if (strlen(path) >= IFD_SOCK_PATH_MAX)
    return ifd_fail(-ENAMETOOLONG, "%s: %s is too long for a Unix socket's path", fn, path);
  snprintf(buf, IFD_SOCK_PATH_MAX, "%s", path);
  return 0;
}

_Static_assert(IFD_SOCK_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
               "IFD_SOCK_PATH_MAX is sun_path's size");

int ifd_sock_connect(const char *path, int *out) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  *out = fd;
  return 0;
}
