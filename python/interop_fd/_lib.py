"""Loading libinterop_fd.so and declaring its C API for ctypes.

The structs mirror include/interop_fd/interop_fd.h field by field; that header
is written for bindings (only <stdint.h>/<stddef.h>, plain structs, literal
enums). Nothing here imports anything outside the standard library.
"""

import ctypes
import errno as _errno
import os

__all__ = ["Error", "lib", "check", "library_path"]


class Error(OSError):
    """A failure of interop_fd: .errno (positive), .name ("EINVAL"), .message
    (the library's ifd_last_error(), or the binding's own message) and .call
    (the C function or Python method that failed)."""

    def __init__(self, err, message, call=""):
        super().__init__(err, message)
        self.name = _errno.errorcode.get(err, "E%d" % err)
        self.message = message
        self.call = call

    def __str__(self):
        where = " (%s)" % self.call if self.call else ""
        return "%s: %s%s" % (self.name, self.message, where)


# ---------------------------------------------------------------- structs

class FormatInfo(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int),
                ("name", ctypes.c_char_p),
                ("bytes_per_pixel", ctypes.c_uint32),
                ("channels", ctypes.c_uint32),
                ("is_srgb", ctypes.c_uint32),
                ("is_float", ctypes.c_uint32),
                ("gl_internal_format", ctypes.c_uint32),
                ("gl_format", ctypes.c_uint32),
                ("gl_type", ctypes.c_uint32),
                ("gl_swizzle", ctypes.c_int32 * 4),
                ("vk_format", ctypes.c_uint32),
                ("vk_swizzle", ctypes.c_uint8 * 4),
                ("drm_fourcc", ctypes.c_uint32)]


class ContextNative(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_int),
                ("cu_context", ctypes.c_void_p),
                ("cu_stream", ctypes.c_void_p),
                ("cu_device", ctypes.c_int),
                ("vk_instance", ctypes.c_void_p),
                ("vk_physical_device", ctypes.c_void_p),
                ("vk_device", ctypes.c_void_p),
                ("vk_queue", ctypes.c_void_p),
                ("vk_queue_family", ctypes.c_uint32),
                ("device_uuid", ctypes.c_uint8 * 16),
                ("device_name", ctypes.c_char * 256)]


class ImageNative(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_int),
                ("cu_device_ptr", ctypes.c_uint64),
                ("vk_buffer", ctypes.c_uint64),
                ("vk_memory", ctypes.c_uint64),
                ("size", ctypes.c_uint64),
                ("row_pitch", ctypes.c_uint32)]


class FrameDescStruct(ctypes.Structure):
    _fields_ = [("memory_fd", ctypes.c_int),
                ("size", ctypes.c_uint64),
                ("row_pitch", ctypes.c_uint32),
                ("width", ctypes.c_uint32),
                ("height", ctypes.c_uint32),
                ("format", ctypes.c_int),
                ("exporter", ctypes.c_int),
                ("timeline_fd", ctypes.c_int),
                ("device_uuid", ctypes.c_uint8 * 16)]


RING_MAX_FRAMES = 8


class RingDescStruct(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint32),
                ("frames", FrameDescStruct * RING_MAX_FRAMES),
                ("ready_fd", ctypes.c_int),
                ("release_fd", ctypes.c_int),
                ("mode", ctypes.c_int),
                ("control_fd", ctypes.c_int)]


class GLFrameNative(ctypes.Structure):
    """ifd_gl_frame_native (include/interop_fd/gl.h)."""
    _fields_ = [("path", ctypes.c_int),
                ("texture", ctypes.c_uint32),
                ("internal_format", ctypes.c_uint32),
                ("memory_object", ctypes.c_uint32),
                ("buffer", ctypes.c_uint32),
                ("width", ctypes.c_uint32),
                ("height", ctypes.c_uint32),
                ("max_format", ctypes.c_int),
                ("row_pitch", ctypes.c_uint32)]


class VkDeviceInfo(ctypes.Structure):
    """ifd_vk_device_info (include/interop_fd/vulkan.h)."""
    _fields_ = [("instance", ctypes.c_void_p),
                ("physical_device", ctypes.c_void_p),
                ("device", ctypes.c_void_p),
                ("queue_family_index", ctypes.c_uint32),
                ("get_instance_proc_addr", ctypes.c_void_p)]


class VkDeviceExtension(ctypes.Structure):
    """ifd_vk_device_extension (include/interop_fd/vulkan.h)."""
    _fields_ = [("name", ctypes.c_char_p),
                ("required", ctypes.c_uint32),
                ("purpose", ctypes.c_char_p)]


class VkFrameNative(ctypes.Structure):
    """ifd_vk_frame_native (include/interop_fd/vulkan.h); non-dispatchable
    Vulkan handles are 64-bit on every platform."""
    _fields_ = [("path", ctypes.c_int),
                ("image", ctypes.c_uint64),
                ("view", ctypes.c_uint64),
                ("format", ctypes.c_int),
                ("layout", ctypes.c_int),
                ("buffer", ctypes.c_uint64),
                ("memory", ctypes.c_uint64),
                ("width", ctypes.c_uint32),
                ("height", ctypes.c_uint32),
                ("max_format", ctypes.c_int)]


class ServeOptions(ctypes.Structure):
    """ifd_serve_options (include/interop_fd/share.h)."""
    _fields_ = [("flags", ctypes.c_uint32),
                ("hello_timeout_ms", ctypes.c_uint32)]


class ServerStats(ctypes.Structure):
    """ifd_ring_server_stats (include/interop_fd/share.h)."""
    _fields_ = [("attached", ctypes.c_uint32),
                ("viewers", ctypes.c_uint64),
                ("refused", ctypes.c_uint64),
                ("dropped", ctypes.c_uint64),
                ("released_for_viewers", ctypes.c_uint64)]


SERVE_ANY_UID = 1

BACKENDS = {"auto": 0, "cuda": 1, "vulkan": 2}
BACKEND_NAMES = {v: k for k, v in BACKENDS.items()}
RING_MODES = {"fifo": 0, "mailbox": 1}
RING_MODE_NAMES = {v: k for k, v in RING_MODES.items()}
FORMAT_COUNT = 11  # MAX_FMT_R8 = 1 ... MAX_FMT_RGBA32F = 11 (asyncrt.h)

# ---------------------------------------------------------------- loading

_P = ctypes.c_void_p
_U32 = ctypes.c_uint32
_U64 = ctypes.c_uint64
_INT = ctypes.c_int

# name: (restype, argtypes)
_PROTOTYPES = {
    "ifd_last_error": (ctypes.c_char_p, []),
    "ifd_format_query": (_INT, [_INT, ctypes.POINTER(FormatInfo)]),
    "ifd_format_from_name": (_INT, [ctypes.c_char_p, ctypes.POINTER(_INT)]),
    "ifd_context_create": (_INT, [_INT, _INT, ctypes.POINTER(_P)]),
    "ifd_context_create_cuda": (_INT, [_P, _P, ctypes.POINTER(_P)]),
    "ifd_context_destroy": (None, [_P]),
    "ifd_context_backend": (_INT, [_P]),
    "ifd_context_native_handles": (_INT, [_P, ctypes.POINTER(ContextNative)]),
    "ifd_image_create": (_INT, [_P, _U32, _U32, _INT, ctypes.POINTER(_P)]),
    "ifd_image_destroy": (None, [_P]),
    "ifd_image_width": (_U32, [_P]),
    "ifd_image_height": (_U32, [_P]),
    "ifd_image_format": (_INT, [_P]),
    "ifd_image_row_pitch": (_U32, [_P]),
    "ifd_image_size": (_U64, [_P]),
    "ifd_image_native_handles": (_INT, [_P, ctypes.POINTER(ImageNative)]),
    "ifd_image_upload": (_INT, [_P, _P, ctypes.c_size_t]),
    "ifd_image_download": (_INT, [_P, _P, ctypes.c_size_t]),
    "ifd_image_describe": (_INT, [_P, ctypes.POINTER(FrameDescStruct)]),
    "ifd_frame_desc_close": (None, [ctypes.POINTER(FrameDescStruct)]),
    "ifd_ring_create_mode": (_INT, [_P, _U32, _U32, _U32, _INT, _INT, ctypes.POINTER(_P)]),
    "ifd_ring_get_mode": (_INT, [_P]),
    "ifd_ring_destroy": (None, [_P]),
    "ifd_ring_count": (_U32, [_P]),
    "ifd_ring_image": (_P, [_P, _U32]),
    "ifd_ring_ready": (_P, [_P]),
    "ifd_ring_release": (_P, [_P]),
    "ifd_ring_export": (_INT, [_P, ctypes.POINTER(RingDescStruct)]),
    "ifd_ring_desc_close": (None, [ctypes.POINTER(RingDescStruct)]),
    "ifd_ring_begin_frame": (_INT, [_P, _U64, ctypes.POINTER(_U64), ctypes.POINTER(_P)]),
    "ifd_ring_end_frame": (_INT, [_P, _U64]),
    "ifd_ring_release_frame": (_INT, [_P, _U64]),
    "ifd_timeline_value": (_INT, [_P, ctypes.POINTER(_U64)]),
    # include/interop_fd/gl.h
    "ifd_gl_importer_create": (_INT, [_P, ctypes.POINTER(_P)]),
    "ifd_gl_importer_destroy": (None, [_P]),
    "ifd_gl_importer_has_timelines": (_INT, [_P]),
    "ifd_gl_frame_import": (_INT, [_P, ctypes.POINTER(FrameDescStruct), _INT, ctypes.POINTER(_P)]),
    "ifd_gl_frame_destroy": (None, [_P]),
    "ifd_gl_frame_native_handles": (_INT, [_P, ctypes.POINTER(GLFrameNative)]),
    "ifd_gl_frame_texture": (_U32, [_P]),
    "ifd_gl_frame_update": (_INT, [_P]),
    "ifd_gl_ring_import": (_INT, [_P, ctypes.POINTER(RingDescStruct), _INT, ctypes.POINTER(_P)]),
    "ifd_gl_ring_destroy": (None, [_P]),
    "ifd_gl_ring_count": (_U32, [_P]),
    "ifd_gl_ring_frame": (_P, [_P, _U64]),
    "ifd_gl_ring_take_latest": (_INT, [_P, _U64, ctypes.POINTER(_U64)]),
    "ifd_gl_ring_acquire": (_INT, [_P, _U64, ctypes.POINTER(_U32)]),
    "ifd_gl_ring_wait_ready": (_INT, [_P, _U64, _U64]),
    "ifd_gl_ring_release": (_INT, [_P, _U64]),
    # include/interop_fd/vulkan.h
    "ifd_vk_importer_create": (_INT, [ctypes.POINTER(VkDeviceInfo), ctypes.POINTER(_P)]),
    "ifd_vk_importer_destroy": (None, [_P]),
    "ifd_vk_device_extensions": (ctypes.POINTER(VkDeviceExtension), [ctypes.POINTER(_U32)]),
    "ifd_vk_importer_device_uuid": (_INT, [_P, ctypes.c_uint8 * 16]),
    "ifd_vk_frame_import": (_INT, [_P, ctypes.POINTER(FrameDescStruct), _INT, ctypes.POINTER(_P)]),
    "ifd_vk_frame_destroy": (None, [_P]),
    "ifd_vk_frame_native_handles": (_INT, [_P, ctypes.POINTER(VkFrameNative)]),
    "ifd_vk_frame_cmd_acquire": (_INT, [_P, _P, _U32, _U32]),
    "ifd_vk_frame_cmd_release": (_INT, [_P, _P, _U32]),
    "ifd_vk_timeline_semaphore": (_U64, [_P]),
    "ifd_vk_timeline_value": (_INT, [_P, ctypes.POINTER(_U64)]),
    "ifd_vk_ring_import": (_INT, [_P, ctypes.POINTER(RingDescStruct), _INT, ctypes.POINTER(_P)]),
    "ifd_vk_ring_destroy": (None, [_P]),
    "ifd_vk_ring_count": (_U32, [_P]),
    "ifd_vk_ring_frame": (_P, [_P, _U64]),
    "ifd_vk_ring_ready": (_P, [_P]),
    "ifd_vk_ring_release": (_P, [_P]),
    "ifd_vk_ring_take_latest": (_INT, [_P, _U64, ctypes.POINTER(_U64)]),
    "ifd_vk_ring_wait_ready": (_INT, [_P, _U64, _U64]),
    # include/interop_fd/share.h
    "ifd_share_default_path": (_INT, [ctypes.c_char_p, ctypes.c_size_t]),
    "ifd_ring_serve": (_INT, [_P, ctypes.c_char_p, ctypes.POINTER(ServeOptions),
                              ctypes.POINTER(_P)]),
    "ifd_ring_server_destroy": (None, [_P]),
    "ifd_ring_server_path": (ctypes.c_char_p, [_P]),
    "ifd_ring_server_stats_get": (_INT, [_P, ctypes.POINTER(ServerStats)]),
    "ifd_ring_connect": (_INT, [ctypes.c_char_p, _U64, ctypes.POINTER(RingDescStruct),
                                ctypes.POINTER(_P)]),
    "ifd_ring_link_close": (None, [_P]),
    "ifd_ring_link_has_timelines": (_INT, [_P]),
    "ifd_ring_link_first_frame": (_U64, [_P]),
    "ifd_ring_link_poll": (_INT, [_P]),
    "ifd_ring_link_ended": (_U64, [_P]),
    "ifd_ring_link_ended_cleanly": (_INT, [_P]),
    "ifd_ring_link_wait_ready": (_INT, [_P, _U64, _U64]),
    "ifd_ring_link_release": (_INT, [_P, _U64]),
}

_LIBNAME = "libinterop_fd.so"
_SONAME = "libinterop_fd.so.0"


def _candidates():
    """Where the library is looked for, in order: IFD_LIBRARY (a file), next to
    this package (a wheel or a copy that bundles it), the install prefix that
    the CMake install recorded in _install_path.py, then the dynamic linker's
    own search (LD_LIBRARY_PATH, ld.so.cache)."""
    env = os.environ.get("IFD_LIBRARY")
    if env:
        yield env
        return  # an explicit choice is never silently replaced by another library
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (_SONAME, _LIBNAME):
        yield os.path.join(here, name)
    try:
        from . import _install_path
        yield os.path.normpath(os.path.join(here, _install_path.LIBRARY))
    except ImportError:
        pass
    yield _SONAME
    yield _LIBNAME


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (no such file)")
            continue
        try:
            handle = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        for name, (res, args) in _PROTOTYPES.items():
            fn = getattr(handle, name, None)
            if fn is None:   # a library older than its header: missing() says so on use
                continue
            fn.restype = res
            fn.argtypes = args
        return handle, path
    raise Error(_errno.ENOENT,
                "libinterop_fd.so not found; set IFD_LIBRARY=<build>/libinterop_fd.so. "
                "Tried: " + "; ".join(tried), "import interop_fd")


class _Lazy:
    """The library, loaded on first use so that importing the package never
    fails (e.g. to read its docs) where the library is missing."""

    _handle = None
    path = None

    def __getattr__(self, name):
        if _Lazy._handle is None:
            _Lazy._handle, _Lazy.path = _load()
        return getattr(_Lazy._handle, name)


lib = _Lazy()


def library_path():
    """The file the library was loaded from (loads it if needed)."""
    lib.ifd_last_error  # noqa: B018 (forces the load)
    return _Lazy.path


def missing(name):
    """Error(EOPNOTSUPP) naming the library where it lacks `name`, else None."""
    path = library_path()
    if hasattr(_Lazy._handle, name):
        return None
    return Error(_errno.EOPNOTSUPP, "%s does not export %s (a library older than this "
                 "package)" % (path, name), name)


def last_error():
    return lib.ifd_last_error().decode("utf-8", "replace")


def check(rc, call):
    """Raises Error for a negative errno returned by `call`."""
    if rc < 0:
        raise Error(-rc, last_error(), call)
    return rc


def fail(err, message, call=""):
    raise Error(err, message, call)
