"""Consumers in the application's own OpenGL context (include/interop_fd/gl.h).

    import moderngl, interop_fd.gl
    gl = moderngl.create_standalone_context(backend="egl", require=450)  # current
    with interop_fd.gl.Importer() as imp, imp.import_ring(desc) as ring:
        k = ring.take_latest(timeout=1.0)      # MAILBOX; FIFO: k = 1, 2, ...
        tex = ring.acquire(k)                  # GL texture name (int) to sample
        ...draw with tex (moderngl: gl.external_texture(tex, ...))...
        ring.release(k)

The GL context that was current when the Importer was made must be current on
the calling thread for every call that issues GL (imports, acquire, release,
wait_ready of a producer elsewhere, update, close). With another context
current, or none, the library refuses with Error(EINVAL, "... not current")
and issues nothing; close() then raises and the object stays open (make the
context current and close again). Garbage collection of an object whose
context is not current does not raise: its GL objects stay until the
importer is closed with the context current (or the process ends).
"""

import ctypes
import errno

from . import _consumer
from ._consumer import Child, RingBase, frame_number
from ._core import format_of
from ._lib import GLFrameNative, check, fail, lib

_P = ctypes.c_void_p
_GET_PROC = ctypes.CFUNCTYPE(_P, ctypes.c_char_p)

PATHS = {"auto": 0, "copy": 1, "linear": 2, "copy_upload": 3, "buffer": 4}
PATH_NAMES = {v: k for k, v in PATHS.items()}


def _get_proc_pointer(get_proc_address):
    """(pointer for the library, object to keep alive) from None, a C
    function address (int) or a Python callable name -> address."""
    if get_proc_address is None:
        return None, None
    if isinstance(get_proc_address, int) and not isinstance(get_proc_address, bool):
        return _P(get_proc_address), None
    if not callable(get_proc_address):
        fail(errno.EINVAL, "get_proc_address must be None, a C function address (int) or a "
             "callable name -> address, not %r" % (get_proc_address,), "gl.Importer")

    def thunk(name, fn=get_proc_address):
        try:
            address = fn(name.decode())
            return int(address) if address else None
        except Exception:  # noqa: BLE001 (an exception cannot cross into C)
            return None
    cb = _GET_PROC(thunk)
    return ctypes.cast(cb, _P), cb


class Importer(_consumer.ImporterBase):
    """An importer for the GL context current now (ifd_gl_importer_create).

    get_proc_address: None uses eglGetProcAddress from libEGL.so.1 (right for
    an EGL context, such as moderngl's standalone EGL context); else the
    window system's loader, as a C function address (int) or a Python
    callable taking a name (str) and returning an address (int; 0 or None
    where unknown), e.g. glfw.get_proc_address.
    Errors: ENODEV no current context or no libEGL; EOPNOTSUPP GL below 4.5 or
    no GL_EXT_memory_object_fd."""

    _kind = "GL importer"
    _prefix = "ifd_gl_"
    _paths = PATHS

    def __init__(self, get_proc_address=None):
        pointer, self._get_proc = _get_proc_pointer(get_proc_address)
        h = _P()
        check(lib.ifd_gl_importer_create(pointer, ctypes.byref(h)), "ifd_gl_importer_create")
        self._own(h.value, lib.ifd_gl_importer_destroy)

    @property
    def has_timelines(self):
        """True where the context can import timeline semaphores."""
        return bool(lib.ifd_gl_importer_has_timelines(self._h()))

    def close(self):
        """Closes the rings and frames still open, then the importer. Needs the
        context current where GL objects remain; otherwise raises Error(EINVAL)
        and stays open."""
        if not self._finalizer.alive:
            return
        self._close_children()
        refused = _consumer.destroy_refused(self._destroy, self._handle)
        if refused:
            fail(errno.EINVAL, refused, "gl.Importer.close")
        self._finalizer.detach()

    def __repr__(self):
        return "<interop_fd.gl.Importer%s>" % (" closed" if self.closed else "")


class Frame(Child):
    """An imported frame: .texture (GL_TEXTURE_2D name to sample; 0 on the
    "buffer" path), .path, .internal_format, .memory_object, .buffer, .width,
    .height, .format, .row_pitch. update() makes the texture show the memory's
    current contents (the "copy" paths copy on the GPU). A ring's frames
    close with their ring."""

    _kind = "GL frame"

    def __init__(self, importer, handle, owned):
        self.importer = importer  # kept alive: its children go first
        self._own(handle, lib.ifd_gl_frame_destroy if owned else (lambda _h: None))
        self._owned = owned
        n = GLFrameNative()
        check(lib.ifd_gl_frame_native_handles(_P(handle), ctypes.byref(n)),
              "ifd_gl_frame_native_handles")
        self.native = n
        self.path = PATH_NAMES.get(n.path, n.path)
        self.texture = n.texture
        self.internal_format = n.internal_format
        self.memory_object = n.memory_object
        self.buffer = n.buffer
        self.width, self.height, self.row_pitch = n.width, n.height, n.row_pitch
        self.format = format_of(n.max_format).name

    def update(self):
        """ifd_gl_frame_update: enqueues the copy into the texture (copy paths)."""
        check(lib.ifd_gl_frame_update(self._h()), "ifd_gl_frame_update")

    def close(self):
        """Deletes the frame's GL objects (needs the context current; raises
        Error(EINVAL) and stays open otherwise). Ring frames: a no-op."""
        if not self._finalizer.alive:
            return
        if self._owned and not self.importer.closed:
            lib.ifd_gl_frame_destroy(_P(self._handle))
            if lib.ifd_gl_frame_native_handles(_P(self._handle), ctypes.byref(GLFrameNative())) == 0:
                fail(errno.EINVAL, _consumer.last_error(), "gl.Frame.close")
        self._finalizer.detach()

    def __repr__(self):
        return "<interop_fd.gl.Frame texture=%d %dx%d %s %s%s>" % (
            self.texture, self.width, self.height, self.format, self.path,
            " closed" if self.closed else "")


class Ring(RingBase):
    """An imported ring (ifd_gl_ring). FIFO: frames k = 1, 2, ...; MAILBOX:
    k = take_latest(). For each: acquire(k) -> texture name, draw, release(k).
    Without timelines (a producer on lavapipe) the producer must also be
    told: ring.release_frame(k) on the producer's Ring in its process."""

    _kind = "GL ring"
    _prefix = "ifd_gl_ring_"
    _frame_class = Frame

    def __init__(self, importer, handle):
        super().__init__(importer, handle)

    def acquire(self, k):
        """Frame k for sampling: queues the wait for ready >= k and the update,
        and returns the texture name (int). Never blocks the CPU; without
        timelines a frame the in-process producer has not ended is EAGAIN."""
        tex = ctypes.c_uint32()
        check(lib.ifd_gl_ring_acquire(self._h(), frame_number(k, "gl.Ring.acquire"),
                                      ctypes.byref(tex)), "ifd_gl_ring_acquire")
        return tex.value

    def release(self, k):
        """Done with frame k: queues release = k and flushes (without timelines:
        glFinish, and the producer is told by its own release_frame(k))."""
        check(lib.ifd_gl_ring_release(self._h(), frame_number(k, "gl.Ring.release")),
              "ifd_gl_ring_release")

    def close(self):
        """Deletes the ring's GL objects (needs the context current; raises
        Error(EINVAL) and stays open otherwise)."""
        if not self._finalizer.alive:
            return
        if not self.importer.closed:
            lib.ifd_gl_ring_destroy(_P(self._handle))
            if lib.ifd_gl_ring_count(_P(self._handle)):
                fail(errno.EINVAL, _consumer.last_error(), "gl.Ring.close")
        self._forget_frames()
        self._finalizer.detach()

    def __repr__(self):
        return "<interop_fd.gl.Ring %d frames%s>" % (self.count, " closed" if self.closed else "")


Importer._frame_class, Importer._ring_class = Frame, Ring
