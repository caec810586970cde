"""Contexts, images, rings and their exported descriptions."""

import contextlib
import ctypes
import errno
import weakref

from . import _cuda, _dlpack
from ._lib import (BACKEND_NAMES, BACKENDS, FORMAT_COUNT, RING_MODE_NAMES, RING_MODES,
                   ContextNative, Error, FormatInfo, FrameDescStruct, ImageNative,
                   RingDescStruct, check, fail, lib)

_P = ctypes.c_void_p
_FOREVER = 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------- formats

class Format:
    """One pixel format, read from the library's table (ifd_format_query)."""

    __slots__ = ("value", "name", "bytes_per_pixel", "channels", "is_float", "is_srgb",
                 "itemsize", "typestr", "dtype_name")

    def __init__(self, info):
        self.value = info.format
        self.name = info.name.decode()
        self.bytes_per_pixel = info.bytes_per_pixel
        self.channels = info.channels
        self.is_float = bool(info.is_float)
        self.is_srgb = bool(info.is_srgb)
        self.itemsize = info.bytes_per_pixel // info.channels
        kind = "f" if self.is_float else "u"
        self.typestr = ("<" if self.itemsize > 1 else "|") + kind + str(self.itemsize)
        self.dtype_name = ("float%d" if self.is_float else "uint%d") % (self.itemsize * 8)

    def __repr__(self):
        return "<interop_fd.Format %s: %d x %s>" % (self.name, self.channels, self.dtype_name)


_formats = {}


def formats():
    """Every format by name ("r8", "rgba8", ... "rgba32f")."""
    if not _formats:
        for v in range(1, FORMAT_COUNT + 1):
            info = FormatInfo()
            check(lib.ifd_format_query(v, ctypes.byref(info)), "ifd_format_query")
            f = Format(info)
            _formats[f.name] = f
    return dict(_formats)


def format_of(fmt):
    """A Format from a name ("rgba8", any case), a Format or a MAX_Format value."""
    table = formats()
    if isinstance(fmt, Format):
        return fmt
    if isinstance(fmt, str):
        value = ctypes.c_int()
        check(lib.ifd_format_from_name(fmt.encode(), ctypes.byref(value)), "ifd_format_from_name")
        fmt = value.value
    if isinstance(fmt, int) and not isinstance(fmt, bool):
        for f in table.values():
            if f.value == fmt:
                return f
    fail(errno.EINVAL, "unknown format %r (one of %s)" % (fmt, " ".join(table)), "format")


def _dim(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 1 << 32:
        fail(errno.EINVAL, "%s must be an int in 1..2^32-1, not %r" % (what, value), what)
    return value


def _numpy():
    try:
        import numpy
    except ImportError:
        fail(errno.EOPNOTSUPP, "this needs NumPy (Debian: python3-numpy)", "numpy")
    return numpy


# ---------------------------------------------------------------- descriptions

class _Description:
    """A C description struct that owns fds: close() (or `with`, or garbage
    collection) runs the library's closer on it, which closes the fds still
    >= 0. ctypes passes the object itself by reference (_as_parameter_)."""

    def __init__(self, struct, closer):
        self.struct = struct
        self._finalizer = weakref.finalize(self, closer, ctypes.byref(struct))

    @property
    def _as_parameter_(self):
        return ctypes.byref(self.struct)

    def close(self):
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FrameDesc(_Description):
    """One exported image (ifd_frame_desc): .fd (memory fd, or -1 once taken),
    .size, .row_pitch, .width, .height, .format (name), .exporter ("cuda" or
    "vulkan"), .timeline_fd, .device_uuid (16 bytes).

    Who closes the fds: this object owns them until they are taken. close()
    (or leaving a `with` block, or garbage collection) closes those still
    held. take_fd() hands the memory fd to the caller, who then closes it. A C
    importer (ifd_vk_frame_import, ifd_gl_frame_import) is given .struct (or
    the object itself, which ctypes passes by reference); it sets the fields it
    consumed to -1, and close() then closes only what it left."""

    def __init__(self):
        super().__init__(FrameDescStruct(memory_fd=-1, timeline_fd=-1), lib.ifd_frame_desc_close)

    fd = property(lambda self: self.struct.memory_fd)
    timeline_fd = property(lambda self: self.struct.timeline_fd)
    size = property(lambda self: self.struct.size)
    row_pitch = property(lambda self: self.struct.row_pitch)
    width = property(lambda self: self.struct.width)
    height = property(lambda self: self.struct.height)
    format = property(lambda self: format_of(self.struct.format).name)
    exporter = property(lambda self: BACKEND_NAMES.get(self.struct.exporter, "auto"))
    device_uuid = property(lambda self: bytes(self.struct.device_uuid))

    def take_fd(self):
        """Returns the memory fd and forgets it: the caller now owns and closes it."""
        fd = self.struct.memory_fd
        if fd < 0:
            fail(errno.EBADF, "the memory fd was already taken or closed", "FrameDesc.take_fd")
        self.struct.memory_fd = -1
        return fd

    def __repr__(self):
        return ("<interop_fd.FrameDesc fd=%d %dx%d %s pitch=%d size=%d exporter=%s>" %
                (self.fd, self.width, self.height, self.format, self.row_pitch, self.size,
                 self.exporter))


class RingDesc(_Description):
    """An exported ring (ifd_ring_desc): .count, .frames (a FrameDesc view per
    image, whose fds belong to this RingDesc), .ready_fd, .release_fd, .mode
    ("fifo" or "mailbox"), .control_fd. Owns every fd until an importer takes
    them (ifd_vk_ring_import, ifd_gl_ring_import: pass .struct or the object
    itself); close() closes what is left (ifd_ring_desc_close)."""

    def __init__(self, struct):
        super().__init__(struct, lib.ifd_ring_desc_close)

    count = property(lambda self: self.struct.count)
    ready_fd = property(lambda self: self.struct.ready_fd)
    release_fd = property(lambda self: self.struct.release_fd)
    control_fd = property(lambda self: self.struct.control_fd)
    mode = property(lambda self: RING_MODE_NAMES.get(self.struct.mode, "fifo"))

    @property
    def frames(self):
        return [_FrameView(self.struct.frames[i]) for i in range(self.struct.count)]


class _FrameView(FrameDesc):
    """A frame of a RingDesc: its fds belong to the RingDesc."""

    def __init__(self, struct):  # noqa: super().__init__ not called: owns nothing
        self.struct = struct

    def close(self):
        pass

    take_fd = None


class Closable:
    """.closed once the finalizer ran; a `with` block closes on exit."""

    @property
    def closed(self):
        return not self._finalizer.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- context

class Context(Closable):
    """A producer context on one GPU (ifd_context).

    Context(backend="auto"|"cuda"|"vulkan", device=0) creates one;
    Context.from_cuda_stream(stream) adopts a CUDA stream and its context.
    close() (or `with`, or garbage collection) destroys it, after closing its
    rings and images (their Python objects then refuse further use)."""

    def __init__(self, backend="auto", device=0, *, _handle=None, _keep=None):
        if _handle is None:
            if backend not in BACKENDS:
                fail(errno.EINVAL, "backend must be one of %s, not %r" % (
                    ", ".join(BACKENDS), backend), "Context")
            if isinstance(device, bool) or not isinstance(device, int) or device < 0:
                fail(errno.EINVAL, "device must be an int >= 0, not %r" % (device,), "Context")
            h = _P()
            check(lib.ifd_context_create(BACKENDS[backend], device, ctypes.byref(h)),
                  "ifd_context_create")
            _handle = h.value
        self._handle = _handle
        self._keep = _keep  # an adopted stream object, kept alive with the context
        self._children = weakref.WeakSet()
        self._finalizer = weakref.finalize(self, lib.ifd_context_destroy, _P(_handle))
        self.native = ContextNative()
        check(lib.ifd_context_native_handles(_P(_handle), ctypes.byref(self.native)),
              "ifd_context_native_handles")
        self._mapper = None

    @classmethod
    def from_cuda_stream(cls, stream):
        """Adopts a CUDA stream (an int CUstream, a torch.cuda.Stream or a
        cupy.cuda.Stream) and the CUDA context it belongs to, without owning
        either: every signal and wait of this context, and so every frame's
        "ready", is enqueued on that stream, after the work already there.
        The stream object is kept alive as long as the context."""
        handle = _cuda.stream_handle(stream)
        cu_ctx = _cuda.stream_context(handle)
        h = _P()
        # 0 and CU_STREAM_LEGACY (1) both mean the legacy default stream.
        check(lib.ifd_context_create_cuda(_P(cu_ctx), _P(handle if handle > 1 else None),
                                          ctypes.byref(h)), "ifd_context_create_cuda")
        return cls(_handle=h.value, _keep=stream)

    def _h(self):
        if not self._finalizer.alive:
            fail(errno.EINVAL, "the context was closed", "Context")
        return _P(self._handle)

    @property
    def backend(self):
        return BACKEND_NAMES[self.native.backend]

    @property
    def device_name(self):
        return self.native.device_name.decode(errors="replace")

    @property
    def cuda_stream(self):
        """The CUstream (int) on which the context orders its work; 0 for the
        legacy default stream; None on the Vulkan backend."""
        if self.native.backend != BACKENDS["cuda"]:
            return None
        return self.native.cu_stream or 0

    def _stream_pair(self):
        return (self.native.cu_stream or 0, self.native.cu_context)

    def image(self, width, height, format):
        """A new exportable linear image (ifd_image_create)."""
        fmt = format_of(format)
        h = _P()
        check(lib.ifd_image_create(self._h(), _dim(width, "width"), _dim(height, "height"),
                                   fmt.value, ctypes.byref(h)), "ifd_image_create")
        img = Image(self, h.value, owned=True)
        self._children.add(img)
        return img

    def ring(self, count, width, height, format, mode="fifo"):
        """A ring of `count` frames in flight (ifd_ring_create_mode); mode
        "fifo" (every frame reaches the consumer) or "mailbox" (the consumer
        takes the newest; count >= 3)."""
        if mode not in RING_MODES:
            fail(errno.EINVAL, "mode must be \"fifo\" or \"mailbox\", not %r" % (mode,), "ring")
        fmt = format_of(format)
        h = _P()
        check(lib.ifd_ring_create_mode(self._h(), _dim(count, "count"), _dim(width, "width"),
                                       _dim(height, "height"), fmt.value, RING_MODES[mode],
                                       ctypes.byref(h)), "ifd_ring_create_mode")
        ring = Ring(self, h.value)
        self._children.add(ring)
        return ring

    def synchronize(self):
        """Waits on the host until the context's stream has done its work (CUDA)."""
        if self.native.backend == BACKENDS["cuda"]:
            _cuda.synchronize(*self._stream_pair())

    def close(self):
        if not self._finalizer.alive:
            return
        for child in [c for c in self._children if isinstance(c, Ring)] + list(self._children):
            child.close()
        self._finalizer()

    def __repr__(self):
        state = "closed" if self.closed else "%s on %s" % (self.backend, self.device_name)
        return "<interop_fd.Context %s>" % state


# ---------------------------------------------------------------- images

class Image:
    """An image of a context or of a ring (ifd_image).

    Zero-copy views: __cuda_array_interface__ (CUDA), __dlpack__ (CUDA, and
    host memory on lavapipe), map() (NumPy, where the device memory is host
    memory). Each is a (height, width, channels) array with strides
    (row_pitch, bytes_per_pixel, itemsize), so the row pitch is honoured.
    While a map() view or a DLPack tensor is alive, close() refuses (EBUSY):
    the memory would be freed under it. __cuda_array_interface__ consumers
    are not tracked: keep the image open while they use it."""

    def __init__(self, ctx, handle, owned, ring=None):
        self.context = ctx
        self._handle = handle
        self._ring = ring
        self.width = lib.ifd_image_width(_P(handle))
        self.height = lib.ifd_image_height(_P(handle))
        self.format = format_of(lib.ifd_image_format(_P(handle)))
        self.row_pitch = lib.ifd_image_row_pitch(_P(handle))
        self.size = lib.ifd_image_size(_P(handle))
        self.native = ImageNative()
        check(lib.ifd_image_native_handles(_P(handle), ctypes.byref(self.native)),
              "ifd_image_native_handles")
        self._mapping = None   # host address from vkMapMemory
        self._views = []       # weak references to the buffers of map() views
        self._tensors = 0      # DLPack tensors not yet deleted by their consumer
        self._streams = set()  # consumer streams seen by __dlpack__ (ring frames)
        # A ring's image goes with its ring: its finalizer destroys nothing.
        destroy = lib.ifd_image_destroy if owned else (lambda _handle: None)
        self._finalizer = weakref.finalize(self, destroy, _P(handle))
        self._owned = owned

    # -- handles and state

    def _h(self):
        if not self._finalizer.alive or self.context.closed:
            fail(errno.EINVAL, "the image (or its ring or context) was closed", "Image")
        return _P(self._handle)

    @property
    def closed(self):
        return not self._finalizer.alive or self.context.closed

    @property
    def shape(self):
        return (self.height, self.width, self.format.channels)

    @property
    def strides(self):
        """Bytes between rows, pixels and channels: (row_pitch, bpp, itemsize)."""
        return (self.row_pitch, self.format.bytes_per_pixel, self.format.itemsize)

    @property
    def device_ptr(self):
        """The CUdeviceptr of the first byte (CUDA), or the host address of the
        mapping (Vulkan, once mapped); None otherwise."""
        if self.native.backend == BACKENDS["cuda"]:
            return self.native.cu_device_ptr
        return self._mapping

    def _busy(self):
        self._views = [v for v in self._views if v() is not None]
        return len(self._views) + self._tensors

    def close(self):
        """Destroys the image (not for ring images: they go with their ring)."""
        if not self._finalizer.alive:
            return
        if self._busy():
            fail(errno.EBUSY, "%d map() views or DLPack tensors of this image are still alive; "
                 "delete them before closing" % self._busy(), "Image.close")
        if self._mapping is not None and not self.context.closed:
            self.context._mapper.unmap(self.native.vk_memory)
        self._mapping = None
        if self.context.closed:  # the context destroyed it already
            self._finalizer.detach()
        else:
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        # With an exception in flight, views may still be alive in its
        # traceback: leave the image to the garbage collector rather than
        # replace that exception with EBUSY.
        if self._ring is None and not (exc_type and self._busy()):
            self.close()

    # -- copies (never part of a frame path)

    def upload(self, array):
        """Copies a NumPy array of shape (height, width, channels) (or (height,
        width) for one channel) and the format's dtype into the image. Rows
        may have any stride; other layouts are made contiguous first. Blocks
        until the copy is done."""
        np = _numpy()
        a = np.asarray(array)
        if a.dtype != np.dtype(self.format.dtype_name):
            fail(errno.EINVAL, "dtype %s does not match %s (%s)" % (
                a.dtype, self.format.name, self.format.dtype_name), "Image.upload")
        if a.ndim == 2 and self.format.channels == 1:
            a = a[:, :, None]
        if a.shape != self.shape:
            fail(errno.EINVAL, "shape %s does not match the image's %s" % (
                a.shape, self.shape), "Image.upload")
        bpp, item = self.format.bytes_per_pixel, self.format.itemsize
        if a.strides[1:] != (bpp, item) or a.strides[0] < self.width * bpp:
            a = np.ascontiguousarray(a)
        check(lib.ifd_image_upload(self._h(), _P(a.ctypes.data), a.strides[0]),
              "ifd_image_upload")

    def download(self, out=None):
        """A NumPy array (height, width, channels) with the image's pixels
        (copied; blocks until done). `out`, if given, is filled and returned."""
        np = _numpy()
        if out is None:
            out = np.empty(self.shape, dtype=self.format.dtype_name)
        elif (out.shape != self.shape or out.dtype != np.dtype(self.format.dtype_name)
              or out.strides[1:] != self.strides[1:] or not out.flags.writeable):
            fail(errno.EINVAL, "out must be a writeable %s array of shape %s with packed pixels" % (
                self.format.dtype_name, self.shape), "Image.download")
        check(lib.ifd_image_download(self._h(), _P(out.ctypes.data), out.strides[0]),
              "ifd_image_download")
        return out

    # -- export

    def export_fd(self):
        """A FrameDesc with a new memory fd and the image's metadata
        (ifd_image_describe). The FrameDesc owns the fd: see FrameDesc."""
        d = FrameDesc()
        check(lib.ifd_image_describe(self._h(), ctypes.byref(d.struct)), "ifd_image_describe")
        return d

    # -- zero-copy views

    def map(self):
        """A NumPy view (height, width, channels) of the image's memory, no
        copy, where that memory is host memory (the Vulkan backend on Mesa's
        lavapipe). Elsewhere raises Error(EOPNOTSUPP) with the reason.

        Order it like device work: a ring frame's view is written between
        entering and leaving ring.frame(); outside a ring, device work on
        the image (upload, a consumer's copy) must be finished (the library's
        host copies block until they are)."""
        np = _numpy()
        ptr = self._host_address()
        buf = (ctypes.c_ubyte * self.size).from_address(ptr)
        buf._ifd_image = self  # the view keeps the image (and its mapping) alive
        self._views.append(weakref.ref(buf))
        return np.ndarray(self.shape, dtype=self.format.dtype_name, buffer=buf,
                          strides=self.strides)

    def _host_address(self):
        self._h()
        if self._mapping is None:
            ctx = self.context
            if ctx._mapper is None:
                from ._vkmap import HostMapper
                ctx._mapper = HostMapper(ctx.native)
            self._mapping = ctx._mapper.map(self.native.vk_memory)
        return self._mapping

    @property
    def __cuda_array_interface__(self):
        if self.native.backend != BACKENDS["cuda"]:
            raise AttributeError("__cuda_array_interface__: only CUDA images are device "
                                 "memory that CUDA can address (this is %s)" %
                                 self.context.backend)
        self._h()
        stream = self.context.cuda_stream
        return {"version": 3,
                "shape": self.shape,
                "typestr": self.format.typestr,
                "strides": self.strides,
                "data": (self.native.cu_device_ptr, False),
                # The consumer's stream waits for the context's stream (where
                # the frame's "begin" wait and uploads are queued). 1 names the
                # legacy default stream in this protocol.
                "stream": stream if stream else 1}

    def __dlpack_device__(self):
        if self.native.backend == BACKENDS["cuda"]:
            return (_dlpack.KDL_CUDA, self.context.native.cu_device)
        self._host_address()  # raises, with the reason, where there is no host view
        return (_dlpack.KDL_CPU, 0)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of the image's memory (no copy). On CUDA, the
        consumer's `stream` (None: the legacy default stream; -1: no
        ordering) is made to wait for the context's stream, and, for a ring
        frame, the context's stream waits for it before "ready" (see
        Ring.frame)."""
        if copy:
            raise BufferError("interop_fd images are shared memory; copy=True is not offered")
        self._h()
        device = self.__dlpack_device__()
        if dl_device is not None and tuple(dl_device) != device:
            raise BufferError("the image lives on device %s, not %s" % (device, tuple(dl_device)))
        if device[0] == _dlpack.KDL_CUDA:
            data = self.native.cu_device_ptr
            if stream != -1:
                s = 1 if stream is None else int(stream)
                user = (s, _cuda.stream_context(s))
                _cuda.stream_wait(user[0], user[1], *self.context._stream_pair())
                self._streams.add(user)
        else:
            data = self._host_address()
        self._tensors += 1

        def deleted(img=weakref.ref(self)):
            i = img()
            if i is not None:
                i._tensors -= 1
        return _dlpack.capsule(data, device[0], device[1], self.shape, self.strides,
                               self.format.itemsize, self.format.is_float, self, deleted)

    def __repr__(self):
        return "<interop_fd.Image %dx%d %s pitch=%d%s>" % (
            self.width, self.height, self.format.name, self.row_pitch,
            " closed" if self.closed else "")


# ---------------------------------------------------------------- rings

class Ring:
    """A ring of frames in flight (ifd_ring). Produce with

        with ring.frame() as img:      # begin_frame: waits for a free slot
            ...write img...            # on the context's stream, or through a view
                                       # end_frame: "ready = k" after the writes

    .images are the ring's images (closed with the ring); export() gives the
    description a consumer imports; release_frame(k) hands frame k back from
    a consumer in this process (needed where the ring has no timelines,
    e.g. lavapipe, before the producer reuses its slot)."""

    def __init__(self, ctx, handle):
        self.context = ctx
        self._handle = handle
        self._finalizer = weakref.finalize(self, lib.ifd_ring_destroy, _P(handle))
        n = lib.ifd_ring_count(_P(handle))
        self.images = [Image(ctx, lib.ifd_ring_image(_P(handle), i), owned=False, ring=self)
                       for i in range(n)]
        self._by_handle = {img._handle: img for img in self.images}
        self.mode = RING_MODE_NAMES[lib.ifd_ring_get_mode(_P(handle))]
        self.has_timelines = bool(lib.ifd_ring_ready(_P(handle)))
        self.frame_number = 0  # the last frame begun
        self._open = False
        self._servers = weakref.WeakSet()

    def _h(self):
        if not self._finalizer.alive or self.context.closed:
            fail(errno.EINVAL, "the ring (or its context) was closed", "Ring")
        return _P(self._handle)

    count = property(lambda self: len(self.images))
    width = property(lambda self: self.images[0].width)
    height = property(lambda self: self.images[0].height)
    format = property(lambda self: self.images[0].format)

    @property
    def closed(self):
        return not self._finalizer.alive or self.context.closed

    def begin_frame(self, timeout=10.0):
        """Starts the next frame: returns (k, image). timeout in seconds (None:
        forever); Error ETIMEDOUT if the consumer did not free a slot in time."""
        k = ctypes.c_uint64()
        h = _P()
        ns = _FOREVER if timeout is None else max(0, int(timeout * 1e9))
        check(lib.ifd_ring_begin_frame(self._h(), ns, ctypes.byref(k), ctypes.byref(h)),
              "ifd_ring_begin_frame")
        self.frame_number = k.value
        img = self._by_handle[h.value]
        img._streams = set()
        self._open = True
        return k.value, img

    def end_frame(self, k):
        check(lib.ifd_ring_end_frame(self._h(), k), "ifd_ring_end_frame")
        self._open = False

    def release_frame(self, k):
        check(lib.ifd_ring_release_frame(self._h(), k), "ifd_ring_release_frame")

    def ready_value(self):
        """The ready timeline's current value (the last frame known written on
        the device), or None where the ring has no timelines."""
        tl = lib.ifd_ring_ready(self._h())
        if not tl:
            return None
        v = ctypes.c_uint64()
        check(lib.ifd_timeline_value(_P(tl), ctypes.byref(v)), "ifd_timeline_value")
        return v.value

    @contextlib.contextmanager
    def frame(self, timeout=10.0, stream=None):
        """Begins a frame, yields its Image, and ends it on exit (also when the
        body raised: the library cannot abandon a frame, and an unended one
        would block the ring).

        Ordering on CUDA, so that "ready" cannot come before your writes:
          - on entry, after begin_frame, every stream you may write from
            waits for the context's stream (which holds the wait for the
            consumer's release);
          - on exit, before end_frame, the context's stream waits for all of
            them, so "ready = k" follows their writes.
        "Them" is: `stream` (one stream or a list: int, torch or cupy stream
        objects), every stream that took a DLPack view of the frame
        (__dlpack__(stream=...), which torch.from_dlpack and cupy.from_dlpack
        pass), and the current streams of torch and cupy if they are imported.
        Each join is one event on the device; the host never blocks. On the
        Vulkan backend writes through map() are host writes, done when the
        body returns."""
        k, img = self.begin_frame(timeout)
        joined = []
        try:
            if self.context.native.backend == BACKENDS["cuda"]:
                joined = self._user_streams(stream)
                for s in joined:
                    _cuda.stream_wait(s[0], s[1], *self.context._stream_pair())
            yield img
        finally:
            if self.context.native.backend == BACKENDS["cuda"] and not self.closed:
                for s in set(joined) | img._streams | set(self._user_streams(stream)):
                    _cuda.stream_wait(*self.context._stream_pair(), s[0], s[1])
            if not self.closed:
                self.end_frame(k)

    @staticmethod
    def _user_streams(stream):
        given = stream if isinstance(stream, (list, tuple)) else [stream]
        handles = [_cuda.stream_handle(s) for s in given if s is not None]
        handles += _cuda.library_streams()
        return list({(h, _cuda.stream_context(h)) for h in handles})

    def serve(self, path=None, any_uid=False):
        """Serves the ring on a Unix socket for a viewer in another process
        (ifd_ring_serve; interop_fd.connect() or `interop-fd view --connect`
        on the other side): a Server. path None: $XDG_RUNTIME_DIR/
        interop-fd.sock. any_uid: accept viewers of other users. One viewer
        at a time; while none is attached the frames are released for it,
        so the producer never waits for an absent viewer."""
        from ._share import Server
        server = Server(self, path, any_uid)
        self._servers.add(server)
        return server

    def export(self):
        """A RingDesc with new fds for every image, both timelines and (MAILBOX)
        the shared state (ifd_ring_export). The RingDesc owns them."""
        d = RingDescStruct()
        check(lib.ifd_ring_export(self._h(), ctypes.byref(d)), "ifd_ring_export")
        return RingDesc(d)

    def close(self):
        if not self._finalizer.alive:
            return
        busy = sum(img._busy() for img in self.images)
        if busy:
            fail(errno.EBUSY, "%d map() views or DLPack tensors of the ring's images are "
                 "still alive; delete them before closing" % busy, "Ring.close")
        for server in list(self._servers):   # a server uses the ring until destroyed
            server.close()
        for img in self.images:
            if img._mapping is not None and not self.context.closed:
                self.context._mapper.unmap(img.native.vk_memory)
            img._mapping = None
            img._finalizer.detach()
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if not (exc_type and sum(img._busy() for img in self.images)):  # as Image.__exit__
            self.close()

    def __repr__(self):
        return "<interop_fd.Ring %d x %dx%d %s %s%s>" % (
            self.count, self.width, self.height, self.format.name, self.mode,
            " closed" if self.closed else "")
