"""DLPack capsules built with ctypes: a DLManagedTensor in memory this module
owns, wrapped in a PyCapsule named "dltensor" (the unversioned DLPack ABI,
which every consumer accepts). The consumer renames the capsule to
"used_dltensor" and calls the tensor's deleter when it is done; a capsule
never consumed is cleaned up by its own destructor.
"""

import ctypes

KDL_CPU = 1
KDL_CUDA = 2
KDL_UINT = 1
KDL_FLOAT = 2


class _Device(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p),
                ("device", _Device),
                ("ndim", ctypes.c_int32),
                ("dtype", _DataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class _Managed(ctypes.Structure):
    pass


_DELETER = ctypes.CFUNCTYPE(None, ctypes.POINTER(_Managed))
_Managed._fields_ = [("dl_tensor", _Tensor),
                     ("manager_ctx", ctypes.c_void_p),
                     ("deleter", _DELETER)]

# Everything a live tensor needs, by the DLManagedTensor's address: the struct,
# its shape and strides, and the owner (an Image) kept alive meanwhile.
_live = {}


def _delete(managed):
    entry = _live.pop(ctypes.addressof(managed.contents), None)
    if entry is not None and entry[3] is not None:
        entry[3]()


_deleter = _DELETER(_delete)

_NAME = b"dltensor"
_api = ctypes.pythonapi
_api.PyCapsule_New.restype = ctypes.py_object
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
# Taking the capsule as a plain address: its destructor runs while the object
# is being freed, when a new reference to it (py_object) would free it twice.
_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_IsValid", _api))
_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))

_CAPSULE_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _capsule_destructor(capsule_ptr):
    # Called with the GIL held, while the capsule is being freed.
    if _is_valid(capsule_ptr, _NAME):  # never consumed: free it ourselves
        ptr = _get_pointer(capsule_ptr, _NAME)
        managed = ctypes.cast(ptr, ctypes.POINTER(_Managed))
        _delete(managed)


_capsule_destructor_c = _CAPSULE_DESTRUCTOR(_capsule_destructor)


def live_count():
    return len(_live)


def capsule(data, device_type, device_id, shape, strides_bytes, itemsize, is_float, owner,
            on_delete=None):
    """A "dltensor" capsule for `data` (a device or host address); strides are
    given in bytes and must be multiples of itemsize. `owner` is kept alive
    until the consumer deletes the tensor; then on_delete() runs."""
    ndim = len(shape)
    m = _Managed()
    shp = (ctypes.c_int64 * ndim)(*shape)
    strides = (ctypes.c_int64 * ndim)(*[s // itemsize for s in strides_bytes])
    m.dl_tensor.data = data
    m.dl_tensor.device = _Device(device_type, device_id)
    m.dl_tensor.ndim = ndim
    m.dl_tensor.dtype = _DataType(KDL_FLOAT if is_float else KDL_UINT, itemsize * 8, 1)
    m.dl_tensor.shape = shp
    m.dl_tensor.strides = strides
    m.dl_tensor.byte_offset = 0
    m.manager_ctx = None
    m.deleter = _deleter
    _live[ctypes.addressof(m)] = (m, shp, strides, on_delete, owner)
    return _api.PyCapsule_New(ctypes.addressof(m), _NAME,
                              ctypes.cast(_capsule_destructor_c, ctypes.c_void_p))
