"""Consumers in the application's own Vulkan device (include/interop_fd/vulkan.h).

    imp = interop_fd.vulkan.Importer(instance, physical_device, device, queue_family)
    ring = imp.import_ring(desc)
    k = ring.take_latest(timeout=1.0)     # MAILBOX; FIFO: k = 1, 2, ...
    f = ring.frame(k)                      # f.image, f.view, f.layout, f.format: ints
    # record into your command buffer (an int VkCommandBuffer):
    f.cmd_acquire(cmd, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT)
    ...your reads of f.view in f.layout...
    f.cmd_release(cmd, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT)
    # submit waiting on ring.ready_semaphore at k, signalling ring.release_semaphore = k
    # (without timelines: ring.wait_ready(k) before, producer's release_frame(k) after)

Handles are ints: dispatchable ones (VkInstance, VkPhysicalDevice, VkDevice,
VkCommandBuffer) are pointers, the others 64-bit values, as any binding gives
them (cffi pointers of the `vulkan` package are accepted too). The importer
owns nothing of the application's device: close it (and everything it
imported) before vkDestroyDevice, once the device no longer uses them.
"""

import ctypes
import errno

from . import _consumer
from ._consumer import Child, RingBase
from ._core import format_of
from ._lib import VkDeviceInfo, VkFrameNative, check, fail, lib

_P = ctypes.c_void_p

PATHS = {"auto": 0, "copy": 1, "linear": 2, "copy_transfer": 3}
PATH_NAMES = {v: k for k, v in PATHS.items()}


def handle_int(h, what):
    """A Vulkan handle as an int: an int, a ctypes pointer or c_void_p, or a
    cffi pointer (the `vulkan` package)."""
    if isinstance(h, bool):
        h = None
    elif isinstance(h, ctypes.c_void_p):
        h = h.value or 0
    elif not isinstance(h, int) and h is not None:
        try:
            import cffi
            h = int(cffi.FFI().cast("uintptr_t", h))
        except Exception:  # noqa: BLE001 (not a cffi pointer either)
            h = None
    if not isinstance(h, int) or h < 0:
        fail(errno.EINVAL, "%s must be a Vulkan handle given as an int" % what, "vulkan")
    return h


class Importer(_consumer.ImporterBase):
    """An importer for the application's device (ifd_vk_importer_create).
    The instance must have apiVersion >= 1.2; the device must have enabled
    VK_KHR_external_memory(_fd) (and, for timelines, VK_KHR_external_semaphore_fd
    with the timelineSemaphore feature): required_device_extensions() lists them.
    get_instance_proc_addr: None uses libvulkan.so.1's; else its address (int).
    Errors: EINVAL a null handle or a queue family the device lacks; ENODEV no
    loader; EOPNOTSUPP Vulkan 1.2 or a required extension missing."""

    _kind = "Vulkan importer"
    _prefix = "ifd_vk_"
    _paths = PATHS

    def __init__(self, instance, physical_device, device, queue_family_index,
                 get_instance_proc_addr=None):
        if (isinstance(queue_family_index, bool) or not isinstance(queue_family_index, int)
                or not 0 <= queue_family_index < 1 << 32):
            fail(errno.EINVAL, "queue_family_index must be an int >= 0", "vulkan.Importer")
        gipa = None if get_instance_proc_addr is None else handle_int(
            get_instance_proc_addr, "get_instance_proc_addr")
        info = VkDeviceInfo(handle_int(instance, "instance"),
                            handle_int(physical_device, "physical_device"),
                            handle_int(device, "device"), queue_family_index, gipa)
        h = _P()
        check(lib.ifd_vk_importer_create(ctypes.byref(info), ctypes.byref(h)),
              "ifd_vk_importer_create")
        self._own(h.value, lib.ifd_vk_importer_destroy)
        self.queue_family_index = queue_family_index

    @property
    def device_uuid(self):
        out = (ctypes.c_uint8 * 16)()
        check(lib.ifd_vk_importer_device_uuid(self._h(), out), "ifd_vk_importer_device_uuid")
        return bytes(out)

    def close(self):
        """Closes the rings and frames still open, then the importer."""
        if not self._finalizer.alive:
            return
        self._close_children()
        self._finalizer()

    def __repr__(self):
        return "<interop_fd.vulkan.Importer%s>" % (" closed" if self.closed else "")


def required_device_extensions():
    """[(name, required, purpose)] to enable on the device (ifd_vk_device_extensions)."""
    n = ctypes.c_uint32()
    table = lib.ifd_vk_device_extensions(ctypes.byref(n))
    return [(table[i].name.decode(), bool(table[i].required), table[i].purpose.decode())
            for i in range(n.value)]


class Frame(Child):
    """An imported frame: .image, .view, .layout (after cmd_acquire), .format
    (VkFormat), .buffer, .memory (ints), .path, .width, .height, .max_format
    (the format's name). A ring's frames close with their ring; a frame must
    not be in use by the device when it is closed."""

    _kind = "Vulkan frame"

    def __init__(self, importer, handle, owned):
        self.importer = importer
        self._own(handle, lib.ifd_vk_frame_destroy if owned else (lambda _h: None))
        n = VkFrameNative()
        check(lib.ifd_vk_frame_native_handles(_P(handle), ctypes.byref(n)),
              "ifd_vk_frame_native_handles")
        self.native = n
        self.path = PATH_NAMES.get(n.path, n.path)
        self.image, self.view, self.buffer, self.memory = n.image, n.view, n.buffer, n.memory
        self.format, self.layout = n.format, n.layout
        self.width, self.height = n.width, n.height
        self.max_format = format_of(n.max_format).name

    def cmd_acquire(self, cmd, dst_stages, dst_access):
        """Records into cmd (an int VkCommandBuffer, recording, on the
        importer's queue family, outside a render pass) what makes the
        producer's latest contents readable by dst_stages/dst_access
        (VkPipelineStageFlags, VkAccessFlags): ifd_vk_frame_cmd_acquire."""
        check(lib.ifd_vk_frame_cmd_acquire(self._h(), _P(handle_int(cmd, "cmd") or None),
                                           dst_stages, dst_access), "ifd_vk_frame_cmd_acquire")

    def cmd_release(self, cmd, src_stages):
        """Records the release after your last read (LINEAR; nothing for COPY)."""
        check(lib.ifd_vk_frame_cmd_release(self._h(), _P(handle_int(cmd, "cmd") or None),
                                           src_stages), "ifd_vk_frame_cmd_release")

    def close(self):
        if self._finalizer.alive and self.importer.closed:
            self._finalizer.detach()  # destroyed with its importer
        self._finalizer()

    def __repr__(self):
        return "<interop_fd.vulkan.Frame image=0x%x %dx%d %s %s%s>" % (
            self.image, self.width, self.height, self.max_format, self.path,
            " closed" if self.closed else "")


class Ring(RingBase):
    """An imported ring (ifd_vk_ring): .count, .ready_semaphore and
    .release_semaphore (VkSemaphore ints, 0 without timelines), frame(k),
    take_latest(), wait_ready(k)."""

    _kind = "Vulkan ring"
    _prefix = "ifd_vk_ring_"
    _frame_class = Frame

    def __init__(self, importer, handle):
        super().__init__(importer, handle)
        self._ready = lib.ifd_vk_ring_ready(_P(handle))
        self._release = lib.ifd_vk_ring_release(_P(handle))
        self.ready_semaphore = lib.ifd_vk_timeline_semaphore(_P(self._ready)) if self._ready else 0
        self.release_semaphore = (lib.ifd_vk_timeline_semaphore(_P(self._release))
                                  if self._release else 0)
        self.has_timelines = bool(self._ready)

    def ready_value(self):
        """The ready timeline's value (None without timelines)."""
        if not self._ready:
            return None
        self._h()
        v = ctypes.c_uint64()
        check(lib.ifd_vk_timeline_value(_P(self._ready), ctypes.byref(v)), "ifd_vk_timeline_value")
        return v.value

    def close(self):
        if self._finalizer.alive and self.importer.closed:
            self._finalizer.detach()
        self._finalizer()
        self._forget_frames()

    def __repr__(self):
        return "<interop_fd.vulkan.Ring %d frames%s>" % (self.count,
                                                         " closed" if self.closed else "")


Importer._frame_class, Importer._ring_class = Frame, Ring
