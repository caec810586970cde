"""A ring served to a viewer in another process, and the viewer's side
(include/interop_fd/share.h): Ring.serve() and interop_fd.connect().

    server = ring.serve()                    # $XDG_RUNTIME_DIR/interop-fd.sock
    ...produce frames; the library's thread hands the ring to one viewer...
    server.close()

    desc, link = interop_fd.connect(timeout=5.0)     # in the viewer's process
    ring = importer.import_ring(desc)                # interop_fd.gl / .vulkan
    for k in itertools.count(link.first_frame):      # FIFO
        link.wait_ready(k, 1.0)                      # the producer ended frame k
        ...draw frame k...
        link.release(k)                              # without timelines only
"""

import ctypes
import errno
import weakref

from ._consumer import frame_number, timeout_ns
from ._core import Closable, RingDesc
from ._lib import (SERVE_ANY_UID, RingDescStruct, ServeOptions, ServerStats, check, fail, lib,
                   missing)

_P = ctypes.c_void_p


def _need(name):
    err = missing(name)
    if err is not None:
        raise err


def _path_arg(path, call):
    if path is None:
        return None
    if not isinstance(path, str) or not path:
        fail(errno.EINVAL, "the socket path must be a non-empty str or None, not %r" % (path,),
             call)
    return path.encode()


def default_socket_path():
    """The default socket: "$XDG_RUNTIME_DIR/interop-fd.sock". Error(ENOENT)
    where XDG_RUNTIME_DIR is not set."""
    _need("ifd_share_default_path")
    buf = ctypes.create_string_buffer(256)
    check(lib.ifd_share_default_path(buf, len(buf)), "ifd_share_default_path")
    return buf.value.decode()


class Server(Closable):
    """A ring served on a Unix socket (ifd_ring_serve): made by Ring.serve().
    .path, .stats; close() (or `with`, or garbage collection) stops serving:
    an attached viewer is told the ring ended and the socket file goes.
    Closing the ring closes its servers first."""

    def __init__(self, ring, path=None, any_uid=False):
        _need("ifd_ring_serve")
        opts = ServeOptions(flags=SERVE_ANY_UID if any_uid else 0)
        h = _P()
        check(lib.ifd_ring_serve(ring._h(), _path_arg(path, "Ring.serve"), ctypes.byref(opts),
                                 ctypes.byref(h)), "ifd_ring_serve")
        self.ring = ring
        self._handle = h.value
        self._finalizer = weakref.finalize(self, lib.ifd_ring_server_destroy, _P(h.value))
        self.path = lib.ifd_ring_server_path(_P(h.value)).decode()

    @property
    def stats(self):
        """A dict: attached (bool), viewers, refused, dropped, released_for_viewers."""
        if self.closed:
            fail(errno.EINVAL, "the server was closed", "Server.stats")
        s = ServerStats()
        check(lib.ifd_ring_server_stats_get(_P(self._handle), ctypes.byref(s)),
              "ifd_ring_server_stats_get")
        out = {name: getattr(s, name) for name, _ in ServerStats._fields_}
        out["attached"] = bool(out["attached"])
        return out

    def close(self):
        self._finalizer()

    def __repr__(self):
        return "<interop_fd.Server %s%s>" % (self.path, " closed" if self.closed else "")


class Link(Closable):
    """A viewer's connection to a served ring (ifd_ring_link), from connect().
    Keep it open while the ring is used: close() tells the producer to take
    back every frame, so close it after your reads (and after closing what
    you imported).

    .has_timelines: where True, ready and release go device to device (the
    importer's acquire and release); release here is for rings without them
    (lavapipe). wait_ready(k) works for both: wait here before queueing a
    device-side wait, which a producer that died would never satisfy.
    .first_frame: the first frame to read (FIFO: then in order). .ended: the
    last frame ended, as far as the link knows (its ready messages)."""

    def __init__(self, handle):
        self._handle = handle
        self._finalizer = weakref.finalize(self, lib.ifd_ring_link_close, _P(handle))
        self.has_timelines = bool(check(lib.ifd_ring_link_has_timelines(_P(handle)),
                                        "ifd_ring_link_has_timelines"))
        self.first_frame = lib.ifd_ring_link_first_frame(_P(handle))

    def _h(self):
        if self.closed:
            fail(errno.EINVAL, "the link was closed", "Link")
        return _P(self._handle)

    @property
    def ended(self):
        return lib.ifd_ring_link_ended(self._h())

    @property
    def ended_cleanly(self):
        """After poll() gave False: True if the producer said it ended (its
        frames are complete, so the frames held may still be drawn), False if
        the connection closed without a word (it died: with timelines, queue
        no device wait for a frame it ended)."""
        return check(lib.ifd_ring_link_ended_cleanly(self._h()),
                     "ifd_ring_link_ended_cleanly") == 1

    def poll(self):
        """Reads what the producer sent, without blocking: True while it
        serves, False once it ended the ring, stopped serving or died (then
        always False: close, and connect again to follow a restart).
        Error(EPROTO) for a malformed message."""
        rc = lib.ifd_ring_link_poll(self._h())
        if rc == -errno.EPIPE:
            return False
        check(rc, "ifd_ring_link_poll")
        return True

    def wait_ready(self, k, timeout=1.0):
        """Waits until the producer ended frame k (seconds; 0 only looks):
        without timelines it is then written; with them "ready = k" is
        queued on the producer's device (the importer's acquire still waits
        for it on yours). Errors: ETIMEDOUT (EAGAIN for 0) not yet, EPIPE
        the producer is gone."""
        check(lib.ifd_ring_link_wait_ready(self._h(), frame_number(k, "Link.wait_ready"),
                                           timeout_ns(timeout)),
              "ifd_ring_link_wait_ready")

    def release(self, k):
        """Rings without timelines: this viewer no longer reads frame k nor
        any before it. Blocks only until frame k's ready message arrives
        (a MAILBOX take can be ahead of it), up to 100 ms. Errors: EINVAL (k
        not ended, below an earlier release, or a ring with timelines),
        EPIPE, EAGAIN."""
        check(lib.ifd_ring_link_release(self._h(), frame_number(k, "Link.release")),
              "ifd_ring_link_release")

    def close(self):
        self._finalizer()

    def __repr__(self):
        return "<interop_fd.Link%s>" % (" closed" if self.closed else "")


def connect(path=None, timeout=5.0):
    """Connects to a served ring (ifd_ring_connect): (RingDesc, Link). path
    None: default_socket_path(). timeout in seconds: a socket that does not
    exist yet or that nobody accepts on is retried until then (0: once).
    The RingDesc owns the fds (import it with interop_fd.gl or .vulkan).
    Errors: ENOENT no server (timeout 0), ETIMEDOUT, EBUSY another viewer is
    attached, EACCES another user's server, EPROTO, EBADF, EPIPE, EMFILE."""
    _need("ifd_ring_connect")
    d = RingDescStruct()
    h = _P()
    check(lib.ifd_ring_connect(_path_arg(path, "connect"), timeout_ns(timeout), ctypes.byref(d),
                               ctypes.byref(h)), "ifd_ring_connect")
    return RingDesc(d), Link(h.value)
