"""Host views of Vulkan-backend images where the device's memory is host
memory (Mesa's lavapipe), through the Vulkan loader the library already
loaded. The library has no mapping entry point of its own, so this maps the
image's VkDeviceMemory (ifd_image_native_handles) with vkMapMemory.

vkMapMemory is valid only for a HOST_VISIBLE memory type, and the library does
not say which type it allocated from; so a mapping is offered only where
every memory type of the device is HOST_VISIBLE and HOST_COHERENT (true on
lavapipe, false on every discrete GPU), which makes the image's type one of
them whatever the library chose. Coherent memory needs no flush: host writes
are visible to the device's next submission.
"""

import ctypes
import errno

from ._lib import Error

_P = ctypes.c_void_p
HOST_VISIBLE = 0x2
HOST_COHERENT = 0x4


class _MemoryType(ctypes.Structure):
    _fields_ = [("propertyFlags", ctypes.c_uint32), ("heapIndex", ctypes.c_uint32)]


class _MemoryHeap(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint64), ("flags", ctypes.c_uint32)]


class _MemoryProperties(ctypes.Structure):
    _fields_ = [("memoryTypeCount", ctypes.c_uint32),
                ("memoryTypes", _MemoryType * 32),
                ("memoryHeapCount", ctypes.c_uint32),
                ("memoryHeaps", _MemoryHeap * 16)]


_GIPA = ctypes.CFUNCTYPE(_P, _P, ctypes.c_char_p)
_GET_MEMORY_PROPERTIES = ctypes.CFUNCTYPE(None, _P, ctypes.POINTER(_MemoryProperties))
_MAP = ctypes.CFUNCTYPE(ctypes.c_int, _P, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                        ctypes.c_uint32, ctypes.POINTER(_P))
_UNMAP = ctypes.CFUNCTYPE(None, _P, ctypes.c_uint64)
_WHOLE_SIZE = 0xFFFFFFFFFFFFFFFF


class HostMapper:
    """vkMapMemory/vkUnmapMemory for one context's VkDevice, or the reason
    why its images cannot be mapped (.reason, None where they can)."""

    def __init__(self, native):
        self.reason = None
        self._device = native.vk_device
        if native.backend != 2 or not native.vk_device:
            self.reason = "only Vulkan-backend images can be mapped on the host"
            return
        try:
            loader = ctypes.CDLL("libvulkan.so.1")  # the library's own loader
        except OSError as e:
            self.reason = "cannot load libvulkan.so.1 (%s)" % e
            return
        gipa = _GIPA(("vkGetInstanceProcAddr", loader))
        inst = native.vk_instance
        props_fn = _GET_MEMORY_PROPERTIES(gipa(inst, b"vkGetPhysicalDeviceMemoryProperties"))
        props = _MemoryProperties()
        props_fn(native.vk_physical_device, ctypes.byref(props))
        need = HOST_VISIBLE | HOST_COHERENT
        for i in range(props.memoryTypeCount):
            if props.memoryTypes[i].propertyFlags & need != need:
                self.reason = ("the device has memory that the host cannot map (memory type "
                               "%d: flags 0x%x): its images live in device memory; use "
                               "upload()/download() or a tensor view" %
                               (i, props.memoryTypes[i].propertyFlags))
                return
        gdpa = _GIPA(gipa(inst, b"vkGetDeviceProcAddr"))
        self._map = _MAP(gdpa(self._device, b"vkMapMemory"))
        self._unmap = _UNMAP(gdpa(self._device, b"vkUnmapMemory"))

    def map(self, memory):
        if self.reason:
            raise Error(errno.EOPNOTSUPP, self.reason, "Image.map")
        ptr = _P()
        r = self._map(self._device, memory, 0, _WHOLE_SIZE, 0, ctypes.byref(ptr))
        if r != 0 or not ptr.value:
            raise Error(errno.EIO, "vkMapMemory failed (VkResult %d)" % r, "Image.map")
        return ptr.value

    def unmap(self, memory):
        self._unmap(self._device, memory)
