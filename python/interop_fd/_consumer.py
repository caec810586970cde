"""What the GL and Vulkan consumers (interop_fd.gl, interop_fd.vulkan) share:
descriptions handed to an importer, timeouts, path names, and the owned
handle with its finalizer."""

import ctypes
import errno
import weakref

from ._core import FrameDesc, RingDesc
from ._lib import fail, last_error, lib

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


class Owned:
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

    @property
    def closed(self):
        return not self._finalizer.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
