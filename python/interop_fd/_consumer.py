"""What the GL and Vulkan consumers (interop_fd.gl, interop_fd.vulkan) share:
descriptions handed to an importer, timeouts, path names, and the owned
handle with its finalizer."""

import ctypes
import errno
import weakref

from ._core import Closable, FrameDesc, RingDesc
from ._lib import check, fail, last_error, lib

_P = ctypes.c_void_p
FOREVER = 0xFFFFFFFFFFFFFFFF


def timeout_ns(timeout):
    """Seconds (None: forever) as the library's nanoseconds."""
    if timeout is None:
        return FOREVER
    return max(0, int(timeout * 1e9))


def path_value(paths, path, call):
    if path not in paths:
        fail(errno.EINVAL, "path must be one of %s, not %r" % (", ".join(paths), path), call)
    return paths[path]


def frame_struct(desc, call):
    if not isinstance(desc, FrameDesc):
        fail(errno.EINVAL, "expected an interop_fd.FrameDesc (img.export_fd()), not %r" % (desc,),
             call)
    return ctypes.byref(desc.struct)


def ring_struct(desc, call):
    if not isinstance(desc, RingDesc):
        fail(errno.EINVAL, "expected an interop_fd.RingDesc (ring.export()), not %r" % (desc,),
             call)
    return ctypes.byref(desc.struct)


def frame_number(k, call):
    if isinstance(k, bool) or not isinstance(k, int) or not 0 < k < 1 << 64:
        fail(errno.EINVAL, "the frame number must be an int >= 1, not %r" % (k,), call)
    return k


def destroy_refused(destroy, handle):
    """Runs a void destroy call and returns the library's message where it
    refused (nothing destroyed), else None. The library reports a refusal
    only through ifd_last_error(), so a known message is put there first
    (ifd_format_query(0) always fails) and a change means a refusal."""
    lib.ifd_format_query(0, None)
    marker = last_error()
    destroy(_P(handle))
    message = last_error()
    return None if message == marker else message


class Owned(Closable):
    """A library handle owned by a Python object: close() destroys it, and
    so does garbage collection, through a finalizer that never raises (a
    refusal there, e.g. a GL object collected while its context is not
    current, leaves the handle to the importer's own destroy)."""

    _kind = "object"

    def _own(self, handle, destroy):
        self._handle = handle
        self._destroy = destroy
        self._finalizer = weakref.finalize(self, destroy, _P(handle))

    def _h(self):
        if not self._finalizer.alive:
            fail(errno.EINVAL, "the %s was closed" % self._kind, type(self).__name__)
        return _P(self._handle)


class ImporterBase(Owned):
    """What GL and Vulkan importers share: import_frame and import_ring over
    ifd_gl_* / ifd_vk_* (_prefix), making _frame_class / _ring_class
    objects, tracked so that close() closes them first."""

    _prefix = None
    _paths = None
    _frame_class = None
    _ring_class = None

    def _own(self, handle, destroy):
        super()._own(handle, destroy)
        self._children = weakref.WeakSet()

    def import_frame(self, desc, path="auto"):
        """A Frame from a FrameDesc (img.export_fd(), or a RingDesc's frame).
        Takes the memory fd on success (desc.fd becomes -1); on failure the
        desc keeps it. path: one of the module's PATHS."""
        h = _P()
        fn = self._prefix + "frame_import"
        check(getattr(lib, fn)(self._h(), frame_struct(desc, fn),
                               path_value(self._paths, path, fn), ctypes.byref(h)), fn)
        frame = self._frame_class(self, h.value, owned=True)
        self._children.add(frame)
        return frame

    def import_ring(self, desc, path="auto"):
        """A Ring from a RingDesc (ring.export()). Takes every fd of desc on
        success (they become -1); on failure none. path: one of PATHS."""
        h = _P()
        fn = self._prefix + "ring_import"
        check(getattr(lib, fn)(self._h(), ring_struct(desc, fn),
                               path_value(self._paths, path, fn), ctypes.byref(h)), fn)
        ring = self._ring_class(self, h.value)
        self._children.add(ring)
        return ring

    def _close_children(self):
        for child in list(self._children):
            child.close()


class Child(Owned):
    """A frame or ring of an importer (.importer, kept alive by it, so that
    children are finalized first); refused once the importer was closed,
    which destroyed it in the library."""

    def _h(self):
        if self.importer.closed:
            fail(errno.EINVAL, "the %s's importer was closed" % self._kind, type(self).__name__)
        return super()._h()


class RingBase(Child):
    """What GL and Vulkan rings share, over ifd_gl_ring_* / ifd_vk_ring_*
    (_prefix): frame(k), take_latest(), wait_ready(k)."""

    _prefix = None
    _frame_class = None

    def __init__(self, importer, handle):
        self.importer = importer
        self._own(handle, self._c("destroy"))
        self.count = self._c("count")(_P(handle))
        self._frames = {}  # frame handle -> Frame, made by frame(k)

    def _c(self, name):
        return getattr(lib, self._prefix + name)

    def frame(self, k):
        """The Frame holding frame number k (FIFO: slot (k-1) % count; MAILBOX:
        the last take or the one before); Error(EINVAL) for any other k."""
        p = self._c("frame")(self._h(), frame_number(k, "Ring.frame"))
        if not p:
            fail(errno.EINVAL, "frame %d is not in the ring now (MAILBOX: take it first)" % k,
                 self._prefix + "frame")
        if p not in self._frames:
            self._frames[p] = self._frame_class(self.importer, p, owned=False)
        return self._frames[p]

    def take_latest(self, timeout=1.0):
        """MAILBOX: the newest frame ended since the last take (seconds; None:
        forever; 0: only looks). Errors: EAGAIN (0) or ETIMEDOUT nothing
        newer, EPIPE the producer's ring is gone, EINVAL a FIFO ring."""
        k = ctypes.c_uint64()
        check(self._c("take_latest")(self._h(), timeout_ns(timeout), ctypes.byref(k)),
              self._prefix + "take_latest")
        return k.value

    def wait_ready(self, k, timeout=1.0):
        """Waits on the host, at most `timeout` seconds, until frame k is ready
        (gl.h, vulkan.h: *_ring_wait_ready). Error(ETIMEDOUT) if not.
        GL, with timelines, where the producer's ring is not one the library
        sees in this process (another process; or NVIDIA, whose memory fds
        cannot be told apart): the wait is GL's, and after a timeout it stays
        queued in the context, so GL work issued later runs only once the
        producer ends frame k. Wait only for frames the producer will end."""
        check(self._c("wait_ready")(self._h(), frame_number(k, "Ring.wait_ready"),
                                    timeout_ns(timeout)), self._prefix + "wait_ready")

    def _forget_frames(self):
        for f in self._frames.values():
            f._finalizer.detach()
