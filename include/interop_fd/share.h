/*
 * interop_fd across processes: a producer serves its ring over a Unix socket,
 * and a viewer in another process connects, receives the ring's description
 * (its fds travel with SCM_RIGHTS) and imports it with ifd_vk_ring_import or
 * ifd_gl_ring_import as if the ring were its own. docs/protocol.md gives the
 * wire format; this header the contract.
 *
 * The conventions of interop_fd.h hold (0 or a negative errno, a thread-local
 * message, close-on-exec fds owned by the caller, NULL destroys are no-ops;
 * a server or link already destroyed or closed is refused with -EINVAL, and
 * its accessors answer 0 or NULL).
 *
 * One viewer at a time: a ring has one release timeline and (MAILBOX) one
 * held slot, so a second viewer is refused with EBUSY while one is attached,
 * and is accepted once it leaves. While no viewer is attached the server
 * releases every frame the producer ends, so a producer never waits for a
 * viewer that is not there, and a viewer that leaves, dies or is killed
 * hands back what it held: the server releases every frame ended so far when
 * its connection closes. A viewer that hangs (SIGSTOP) with its connection
 * open stalls a FIFO producer up to the producer's own begin_frame timeout
 * (-ETIMEDOUT, then again), and a MAILBOX producer not at all.
 *
 * Where the ring has timelines, ready and release travel through them, from
 * device to device. Where it has none (Mesa's lavapipe), the viewer sends
 * "release k" messages back through its link (ifd_ring_link_release), so a
 * CPU machine runs the same flow. Either way the server sends "ready k" as
 * frames end (ifd_ring_link_wait_ready), so a viewer can wait on the host
 * before it queues a device-side wait: a wait queued for a frame that a
 * producer that died never ends would never finish.
 */
#ifndef INTEROP_FD_SHARE_H
#define INTEROP_FD_SHARE_H

#include <stdint.h>

#include "interop_fd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifd_ring_server ifd_ring_server;
typedef struct ifd_ring_link ifd_ring_link;

/* ifd_serve_options.flags */
#define IFD_SERVE_ANY_UID 1u /* accept viewers of any user id (default: only
                                 the server's own uid; others are refused
                                 with EACCES after an SO_PEERCRED check) */

typedef struct {
  uint32_t flags;          /* IFD_SERVE_* */
  uint32_t hello_timeout_ms; /* how long a new connection may take to say
                                hello before it is dropped; 0: 2000 */
} ifd_serve_options;

/* The default socket path: "$XDG_RUNTIME_DIR/interop-fd.sock", written into
 * buf (NUL-terminated). Errors: -EINVAL NULL buf; -ENOENT XDG_RUNTIME_DIR
 * is not set or not an absolute path (give a path instead); -ENAMETOOLONG
 * it does not fit in buf or in a socket address (107 bytes). */
IFD_API int ifd_share_default_path(char *buf, size_t size);

/* Serves `ring` on a new Unix socket (SOCK_SEQPACKET) at socket_path (NULL:
 * ifd_share_default_path). The socket file is created with mode 0600 (bound
 * under a temporary name, chmod-ed, then renamed into place, so it never
 * exists with wider permissions). A socket file left by a server that died
 * (nobody accepts on it) is replaced; a live one is not (-EADDRINUSE).
 * A thread of the library accepts viewers, checks each (SO_PEERCRED, the
 * protocol version), sends it the ring's description, and handles its
 * messages; the producer's calls (begin_frame, end_frame) never wait for it.
 * opts may be NULL (the defaults above).
 * Ownership: the server uses the ring until ifd_ring_server_destroy;
 * destroying the ring first stops the server (the viewer is told the ring
 * ended) and leaves only ifd_ring_server_destroy valid.
 * Errors: -EINVAL NULL ring/out, a ring already served, or bad options;
 *         -ENOENT no path and no XDG_RUNTIME_DIR; -ENAMETOOLONG;
 *         -EADDRINUSE a live server owns socket_path; -EEXIST something that
 *         is not a socket is at socket_path; -EACCES and the like from
 *         socket/bind; -ENOMEM; -EAGAIN the thread could not be started. */
IFD_API int ifd_ring_serve(ifd_ring *ring, const char *socket_path, const ifd_serve_options *opts,
                           ifd_ring_server **out);

/* Stops serving: tells an attached viewer the ring ended (it sees -EPIPE),
 * closes every connection, removes the socket file and joins the thread.
 * Blocks: only for the thread to finish (milliseconds). */
IFD_API void ifd_ring_server_destroy(ifd_ring_server *server);

/* The socket's path (NULL for NULL). */
IFD_API const char *ifd_ring_server_path(const ifd_ring_server *server);

/* What the server has seen so far. */
typedef struct {
  uint32_t attached;       /* 1 while a viewer is attached, else 0 */
  uint64_t viewers;        /* viewers that were sent the ring */
  uint64_t refused;        /* connections refused (busy, uid, version) */
  uint64_t dropped;        /* viewers dropped for malformed messages */
  uint64_t released_for_viewers; /* frames released by the server (no viewer,
                                    or one that left) */
} ifd_ring_server_stats;

/* Errors: -EINVAL a NULL or destroyed server, or NULL out. */
IFD_API int ifd_ring_server_stats_get(const ifd_ring_server *server, ifd_ring_server_stats *out);

/* Connects to the server at socket_path (NULL: ifd_share_default_path) and
 * receives the ring's description into *out (every fd checked: the right
 * kind, a memory fd that covers row_pitch * height where its size can be
 * read, a MAILBOX control fd that is a sealed page). Feed *out to
 * ifd_vk_ring_import or ifd_gl_ring_import; the fds in *out belong to the
 * caller (ifd_ring_desc_close closes what no import took). *out_link is the
 * connection, which stays open while the ring is used: it carries ready and
 * release where the ring has no timelines, and reports the producer's end.
 * What cannot be checked: a memory fd that is a driver's handle (NVIDIA's
 * /dev/nvidiactl) has no size a viewer can read, and NVIDIA's driver (580)
 * imported one whose description claimed 64 times its memory (tests/
 * test_share.c, size-lie): such a server could make the viewer read past
 * the allocation (a GPU fault in the viewer's context, not the host's).
 * Connect only to servers you trust; the default path is under
 * XDG_RUNTIME_DIR, which only your user can reach.
 * Blocks: up to timeout_ns. With timeout_ns > 0 a socket that does not
 * exist yet or that nobody accepts on is retried until the timeout (a viewer
 * started before its producer, or waiting for it to restart); 0 tries once.
 * Errors: -EINVAL NULL out/out_link; -ENOENT no server at the path (timeout
 *         0); -ETIMEDOUT none answered within timeout_ns; -EBUSY another
 *         viewer is attached; -EACCES refused (another uid); -EPROTO a
 *         malformed or unexpected message, or a version this library does
 *         not speak (the message says which); -EBADF an fd of the wrong kind
 *         or too small for the frame it carries; -EPIPE the server closed
 *         the connection; -EMFILE. On failure no fd is left open. */
IFD_API int ifd_ring_connect(const char *socket_path, uint64_t timeout_ns, ifd_ring_desc *out,
                             ifd_ring_link **out_link);

/* Closes the connection: the server then releases every frame ended so far,
 * so close only once your reads of the ring's frames are done. */
IFD_API void ifd_ring_link_close(ifd_ring_link *link);

/* Whether the ring has timelines (the description's ready_fd/release_fd were
 * >= 0 when it arrived): 1 yes, 0 no, -EINVAL NULL. */
IFD_API int ifd_ring_link_has_timelines(const ifd_ring_link *link);

/* The first frame this viewer should use: one above the last frame released
 * when it attached (frames up to that were released and may be overwritten).
 * For a FIFO ring, read frames from here on in order. */
IFD_API uint64_t ifd_ring_link_first_frame(const ifd_ring_link *link);

/* Reads what the server sent (without blocking) and reports the link's
 * state: 0 the producer is serving; -EPIPE the producer ended the ring,
 * stopped serving, or died (the connection closed); -EPROTO it sent
 * something malformed (the link is then closed too). Once -EPIPE, always
 * -EPIPE: close the link, close or destroy what you imported, and connect
 * again to follow a producer that restarts. */
IFD_API int ifd_ring_link_poll(ifd_ring_link *link);

/* The last frame the producer ended, as far as this link knows (from its
 * ready messages). 0 for NULL. */
IFD_API uint64_t ifd_ring_link_ended(const ifd_ring_link *link);

/* After -EPIPE: 1 if the producer said it ended (its ring was destroyed, or
 * its server stopped, with the producer alive): every frame it ended is then
 * complete, or will be, on its device, so a viewer may still draw the frames
 * it holds (up to ifd_ring_link_ended; a MAILBOX ring's newest by a take).
 * 0 if the connection closed without a word (the producer died): with
 * timelines a frame it ended may never be signalled, so queue no device
 * wait for it. 0 before -EPIPE; -EINVAL NULL or a closed link. Never
 * blocks: it answers from what ifd_ring_link_poll (or a wait) last read. */
IFD_API int ifd_ring_link_ended_cleanly(const ifd_ring_link *link);

/* Waits until the producer ended frame k: without timelines the frame is
 * then written; with timelines "ready = k" is then queued on the producer's
 * device (still wait for ready >= k on yours: it lands microseconds later).
 * Blocks: up to timeout_ns (0: only looks), polling the socket.
 * Errors: -ETIMEDOUT/-EAGAIN (timeout 0) not yet; -EPIPE the producer ended
 *         the ring or died first; -EINVAL NULL link or k = 0; -EPROTO. */
IFD_API int ifd_ring_link_wait_ready(ifd_ring_link *link, uint64_t k, uint64_t timeout_ns);

/* Rings without timelines: tells the producer this viewer no longer reads
 * frame k (nor any before it). Blocks only if frame k's ready message has
 * not arrived yet (a MAILBOX take reads shared memory, which can be a few
 * microseconds ahead of the socket): up to 100 ms for it. With timelines,
 * signal release = k on your device instead (the consumer's ring release).
 * Errors: -EINVAL NULL link, k = 0, k above the last frame ended, k below an
 *         earlier release, or a ring with timelines; -EPIPE the producer
 *         is gone; -EAGAIN the socket is full (the producer's server
 *         thread is stuck; try again). */
IFD_API int ifd_ring_link_release(ifd_ring_link *link, uint64_t k);

#ifdef __cplusplus
}
#endif

#endif /* INTEROP_FD_SHARE_H */
