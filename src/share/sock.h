/* One wire message over a SOCK_SEQPACKET Unix socket, with its fds: shared
 * by the server (serve.c) and the viewer's link (connect.c). Private. */
#ifndef IFD_SHARE_SOCK_H
#define IFD_SHARE_SOCK_H

#include <stdint.h>

#include "share/wire.h"

/* Encodes and sends msg with fds[0, nfds) (not consumed: the caller closes
 * its copies), without blocking and without SIGPIPE.
 * Errors: -EAGAIN the socket is full; -EPIPE the peer is gone; -EINVAL msg
 *         breaks a rule of the protocol; -EIO. */
int ifd_sock_send(int sock, const ifd_wire_msg *msg, const int *fds, uint32_t nfds);

/* Receives one message without blocking. On success the fds it carried are
 * in fds[0, *nfds) (close-on-exec, owned by the caller); on failure none is
 * open. Errors: -EAGAIN nothing waiting; -EPIPE the peer closed (or reset)
 * the connection; -EPROTO a malformed message (message set); -EIO. */
int ifd_sock_recv(int sock, ifd_wire_msg *msg, int fds[IFD_WIRE_MAX_FDS], uint32_t *nfds);

/* Waits up to timeout_ms (-1: forever) for sock to become readable.
 * 1 readable or closed, 0 timed out, -EIO. */
int ifd_sock_wait(int sock, int timeout_ms);

/* The milliseconds from now until deadline (ifd_deadline_ns; rounded up,
 * 0 once passed), for poll(2). */
int ifd_sock_ms_left(uint64_t deadline_ns);

/* sizeof(sockaddr_un.sun_path): a socket's path and its NUL fit in it. */
#define IFD_SOCK_PATH_MAX 108

/* A new SOCK_SEQPACKET socket connected to path, in *out. 0 or -errno
 * (no message: the callers say what it means for them). */
int ifd_sock_connect(const char *path, int *out);

/* The socket path of a serve or connect: path, or NULL for the default
 * (ifd_share_default_path), copied into buf. -ENAMETOOLONG, -ENOENT; the
 * message prefixed with fn. */
int ifd_share_path(const char *path, char buf[IFD_SOCK_PATH_MAX], const char *fn);

#endif
