"""A minimal Vulkan application for the consumer tests, in ctypes over
libvulkan.so.1 (Debian has no Python Vulkan binding): an instance
(apiVersion 1.2), the physical device with a given deviceUUID (or the
first), a device with the extensions interop_fd.vulkan asks for (the
optional ones where the device has them, and timelineSemaphore), a queue,
and one-shot command buffers. Handles are ints, as a binding would give
them. Only what the tests need; every failure raises RuntimeError with the
VkResult, which the tests turn into a skip where it means "no device"."""

import ctypes

from interop_fd import vulkan as ivk

_P = ctypes.c_void_p
_U32 = ctypes.c_uint32
_U64 = ctypes.c_uint64
_CHARS = ctypes.POINTER(ctypes.c_char_p)


def _s(name, fields):
    return type(name, (ctypes.Structure,), {"_fields_": fields})


AppInfo = _s("AppInfo", [("sType", _U32), ("pNext", _P), ("pApplicationName", ctypes.c_char_p),
                         ("applicationVersion", _U32), ("pEngineName", ctypes.c_char_p),
                         ("engineVersion", _U32), ("apiVersion", _U32)])
InstanceInfo = _s("InstanceInfo", [("sType", _U32), ("pNext", _P), ("flags", _U32),
                                   ("pApplicationInfo", ctypes.POINTER(AppInfo)),
                                   ("enabledLayerCount", _U32), ("ppEnabledLayerNames", _CHARS),
                                   ("enabledExtensionCount", _U32),
                                   ("ppEnabledExtensionNames", _CHARS)])
QueueFamily = _s("QueueFamily", [("queueFlags", _U32), ("queueCount", _U32),
                                 ("timestampValidBits", _U32), ("granularity", _U32 * 3)])
ExtensionProps = _s("ExtensionProps", [("extensionName", ctypes.c_char * 256),
                                       ("specVersion", _U32)])
QueueInfo = _s("QueueInfo", [("sType", _U32), ("pNext", _P), ("flags", _U32),
                             ("queueFamilyIndex", _U32), ("queueCount", _U32),
                             ("pQueuePriorities", ctypes.POINTER(ctypes.c_float))])
DeviceInfo = _s("DeviceInfo", [("sType", _U32), ("pNext", _P), ("flags", _U32),
                               ("queueCreateInfoCount", _U32),
                               ("pQueueCreateInfos", ctypes.POINTER(QueueInfo)),
                               ("enabledLayerCount", _U32), ("ppEnabledLayerNames", _CHARS),
                               ("enabledExtensionCount", _U32),
                               ("ppEnabledExtensionNames", _CHARS), ("pEnabledFeatures", _P)])
TimelineFeatures = _s("TimelineFeatures", [("sType", _U32), ("pNext", _P),
                                           ("timelineSemaphore", _U32)])
IDProps = _s("IDProps", [("sType", _U32), ("pNext", _P), ("deviceUUID", ctypes.c_uint8 * 16),
                         ("driverUUID", ctypes.c_uint8 * 16), ("deviceLUID", ctypes.c_uint8 * 8),
                         ("deviceNodeMask", _U32), ("deviceLUIDValid", _U32)])
# VkPhysicalDeviceProperties2 with VkPhysicalDeviceProperties as an opaque,
# generously sized blob (it is 824 bytes on 64-bit Linux).
Props2 = _s("Props2", [("sType", _U32), ("pNext", _P), ("properties", _U64 * 160)])
PoolInfo = _s("PoolInfo", [("sType", _U32), ("pNext", _P), ("flags", _U32),
                           ("queueFamilyIndex", _U32)])
CmdAllocInfo = _s("CmdAllocInfo", [("sType", _U32), ("pNext", _P), ("commandPool", _U64),
                                   ("level", _U32), ("commandBufferCount", _U32)])
BeginInfo = _s("BeginInfo", [("sType", _U32), ("pNext", _P), ("flags", _U32),
                             ("pInheritanceInfo", _P)])
SubmitInfo = _s("SubmitInfo", [("sType", _U32), ("pNext", _P), ("waitSemaphoreCount", _U32),
                               ("pWaitSemaphores", _P), ("pWaitDstStageMask", _P),
                               ("commandBufferCount", _U32), ("pCommandBuffers", ctypes.POINTER(_P)),
                               ("signalSemaphoreCount", _U32), ("pSignalSemaphores", _P)])
TimelineSubmitInfo = _s("TimelineSubmitInfo", [("sType", _U32), ("pNext", _P),
                                               ("waitSemaphoreValueCount", _U32),
                                               ("pWaitSemaphoreValues", ctypes.POINTER(_U64)),
                                               ("signalSemaphoreValueCount", _U32),
                                               ("pSignalSemaphoreValues", ctypes.POINTER(_U64))])
BufferInfo = _s("BufferInfo", [("sType", _U32), ("pNext", _P), ("flags", _U32), ("size", _U64),
                               ("usage", _U32), ("sharingMode", _U32),
                               ("queueFamilyIndexCount", _U32), ("pQueueFamilyIndices", _P)])
MemReqs = _s("MemReqs", [("size", _U64), ("alignment", _U64), ("memoryTypeBits", _U32)])
AllocInfo = _s("AllocInfo", [("sType", _U32), ("pNext", _P), ("allocationSize", _U64),
                             ("memoryTypeIndex", _U32)])
MemType = _s("MemType", [("propertyFlags", _U32), ("heapIndex", _U32)])
MemProps = _s("MemProps", [("memoryTypeCount", _U32), ("memoryTypes", MemType * 32),
                           ("memoryHeapCount", _U32), ("memoryHeaps", (_U64 * 2) * 16)])
Subresource = _s("Subresource", [("aspectMask", _U32), ("mipLevel", _U32),
                                 ("baseArrayLayer", _U32), ("layerCount", _U32)])
BufferImageCopy = _s("BufferImageCopy", [("bufferOffset", _U64), ("bufferRowLength", _U32),
                                         ("bufferImageHeight", _U32),
                                         ("imageSubresource", Subresource),
                                         ("imageOffset", ctypes.c_int32 * 3),
                                         ("imageExtent", _U32 * 3)])

Range = _s("Range", [("aspectMask", _U32), ("baseMipLevel", _U32), ("levelCount", _U32),
                     ("baseArrayLayer", _U32), ("layerCount", _U32)])
ImageBarrier = _s("ImageBarrier", [("sType", _U32), ("pNext", _P), ("srcAccessMask", _U32),
                                   ("dstAccessMask", _U32), ("oldLayout", _U32),
                                   ("newLayout", _U32), ("srcQueueFamilyIndex", _U32),
                                   ("dstQueueFamilyIndex", _U32), ("image", _U64),
                                   ("subresourceRange", Range)])

API_1_2 = (1 << 22) | (2 << 12)
LAYOUT_GENERAL = 1
LAYOUT_TRANSFER_SRC = 6
QUEUE_FAMILY_IGNORED = 0xFFFFFFFF
STAGE_TRANSFER = 0x1000
ACCESS_TRANSFER_READ = 0x800


class VkApp:
    def __init__(self, uuid=None):
        self.vk = ctypes.CDLL("libvulkan.so.1")
        self.instance = self.device = None
        self._pools = []
        app = AppInfo(0, None, b"interop_fd tests", 1, None, 0, API_1_2)
        info = InstanceInfo(1, None, 0, ctypes.pointer(app), 0, None, 0, None)
        inst = _P()
        self._ok(self._f("vkCreateInstance", _P, _P, _P)(ctypes.byref(info), None,
                                                         ctypes.byref(inst)), "vkCreateInstance")
        self.instance = inst.value
        self.physical_device = self._pick(uuid)
        self.queue_family = self._family()
        self.timelines = self._make_device()
        q = _P()
        self._f("vkGetDeviceQueue", _P, _U32, _U32, _P, res=None)(
            self.device, self.queue_family, 0, ctypes.byref(q))
        self.queue = q.value

    def _f(self, name, *args, res=ctypes.c_int):
        fn = getattr(self.vk, name)
        fn.restype, fn.argtypes = res, list(args)
        return fn

    @staticmethod
    def _ok(r, what):
        if r != 0:
            raise RuntimeError("%s failed (VkResult %d)" % (what, r))

    def _pick(self, uuid):
        enum = self._f("vkEnumeratePhysicalDevices", _P, ctypes.POINTER(_U32), _P)
        n = _U32()
        self._ok(enum(self.instance, ctypes.byref(n), None), "vkEnumeratePhysicalDevices")
        devs = (_P * max(n.value, 1))()
        self._ok(enum(self.instance, ctypes.byref(n), devs), "vkEnumeratePhysicalDevices")
        if n.value == 0:
            raise RuntimeError("no Vulkan physical device")
        props2 = self._f("vkGetPhysicalDeviceProperties2", _P, _P, res=None)
        for i in range(n.value):
            ids = IDProps(1000071004, None)
            p = Props2(1000059001, ctypes.cast(ctypes.pointer(ids), _P))
            props2(devs[i], ctypes.byref(p))
            if uuid is None or bytes(ids.deviceUUID) == uuid or not any(uuid):
                self.device_uuid = bytes(ids.deviceUUID)
                return devs[i]
        raise RuntimeError("no Vulkan device has deviceUUID %s" % uuid.hex())

    def _family(self):
        fn = self._f("vkGetPhysicalDeviceQueueFamilyProperties", _P, ctypes.POINTER(_U32), _P,
                     res=None)
        n = _U32()
        fn(self.physical_device, ctypes.byref(n), None)
        fams = (QueueFamily * n.value)()
        fn(self.physical_device, ctypes.byref(n), fams)
        for i in range(n.value):
            if fams[i].queueFlags & 0x3 == 0x3:  # graphics and compute
                return i
        raise RuntimeError("no queue family with graphics and compute")

    def _make_device(self):
        enum = self._f("vkEnumerateDeviceExtensionProperties", _P, ctypes.c_char_p,
                       ctypes.POINTER(_U32), _P)
        n = _U32()
        self._ok(enum(self.physical_device, None, ctypes.byref(n), None), "extensions")
        props = (ExtensionProps * n.value)()
        self._ok(enum(self.physical_device, None, ctypes.byref(n), props), "extensions")
        have = {props[i].extensionName for i in range(n.value)}
        names = []
        for name, required, _ in ivk.required_device_extensions():
            if name.encode() in have:
                names.append(name.encode())
            elif required:
                raise RuntimeError("the device lacks %s" % name)
        timelines = b"VK_KHR_external_semaphore_fd" in have
        self._names = (ctypes.c_char_p * len(names))(*names)
        prio = ctypes.c_float(1.0)
        q = QueueInfo(2, None, 0, self.queue_family, 1, ctypes.pointer(prio))
        feats = TimelineFeatures(1000207000, None, 1)
        info = DeviceInfo(3, ctypes.cast(ctypes.pointer(feats), _P), 0, 1, ctypes.pointer(q), 0,
                          None, len(names), self._names, None)
        dev = _P()
        self._ok(self._f("vkCreateDevice", _P, _P, _P, _P)(
            self.physical_device, ctypes.byref(info), None, ctypes.byref(dev)), "vkCreateDevice")
        self.device = dev.value
        return timelines

    # -- one-shot command buffers

    def begin(self):
        """A new primary command buffer (int), recording."""
        pool = _U64()
        self._ok(self._f("vkCreateCommandPool", _P, _P, _P, _P)(
            self.device, ctypes.byref(PoolInfo(39, None, 0, self.queue_family)), None,
            ctypes.byref(pool)), "vkCreateCommandPool")
        self._pools.append(pool.value)
        cmd = _P()
        self._ok(self._f("vkAllocateCommandBuffers", _P, _P, _P)(
            self.device, ctypes.byref(CmdAllocInfo(40, None, pool.value, 0, 1)),
            ctypes.byref(cmd)), "vkAllocateCommandBuffers")
        self._ok(self._f("vkBeginCommandBuffer", _P, _P)(
            cmd, ctypes.byref(BeginInfo(42, None, 1, None))), "vkBeginCommandBuffer")
        return cmd.value

    def submit_and_wait(self, cmd, wait=None, signal=None):
        """Ends cmd, submits it and waits for the queue to be idle. wait:
        (timeline VkSemaphore, value) waited for at the transfer stage;
        signal: (timeline VkSemaphore, value) signalled after cmd."""
        self._ok(self._f("vkEndCommandBuffer", _P)(cmd), "vkEndCommandBuffer")
        cmds = (_P * 1)(cmd)
        waits, signals = [wait] if wait else [], [signal] if signal else []
        wsem = (_U64 * 1)(*[w[0] for w in waits])
        wval = (_U64 * 1)(*[w[1] for w in waits])
        stage = (_U32 * 1)(STAGE_TRANSFER)
        ssem = (_U64 * 1)(*[x[0] for x in signals])
        sval = (_U64 * 1)(*[x[1] for x in signals])
        tl = TimelineSubmitInfo(1000207003, None, len(waits), wval, len(signals), sval)
        info = SubmitInfo(4, ctypes.cast(ctypes.pointer(tl), _P) if waits or signals else None,
                          len(waits), ctypes.cast(wsem, _P), ctypes.cast(stage, _P), 1, cmds,
                          len(signals), ctypes.cast(ssem, _P))
        self._ok(self._f("vkQueueSubmit", _P, _U32, _P, _U64)(
            self.queue, 1, ctypes.byref(info), 0), "vkQueueSubmit")
        self._ok(self._f("vkQueueWaitIdle", _P)(self.queue), "vkQueueWaitIdle")

    def read_image(self, frame, nbytes_per_pixel, wait=None, signal=None):
        """The pixels of an imported frame's image, copied on the device into
        a host-visible buffer: bytes, rows packed. Records cmd_acquire (for
        transfer reads), the copy, and cmd_release, submits them (waiting
        for `wait`, signalling `signal`: see submit_and_wait) and waits."""
        w, h = frame.width, frame.height
        size = w * h * nbytes_per_pixel
        buf, mem, ptr = self._host_buffer(size)
        try:
            cmd = self.begin()
            frame.cmd_acquire(cmd, STAGE_TRANSFER, ACCESS_TRANSFER_READ)
            layout = frame.layout
            if layout != LAYOUT_GENERAL:  # COPY: SHADER_READ_ONLY, which a copy cannot read
                self._transition(cmd, frame.image, layout, LAYOUT_TRANSFER_SRC)
            region = BufferImageCopy(0, 0, 0, Subresource(1, 0, 0, 1), (0, 0, 0), (w, h, 1))
            self._f("vkCmdCopyImageToBuffer", _P, _U64, _U32, _U64, _U32, _P, res=None)(
                cmd, frame.image, LAYOUT_TRANSFER_SRC if layout != LAYOUT_GENERAL else layout,
                buf, 1, ctypes.byref(region))
            if layout != LAYOUT_GENERAL:  # back to what the library left
                self._transition(cmd, frame.image, LAYOUT_TRANSFER_SRC, layout)
            frame.cmd_release(cmd, STAGE_TRANSFER)
            self.submit_and_wait(cmd, wait, signal)
            return ctypes.string_at(ptr, size)
        finally:
            self._f("vkDestroyBuffer", _P, _U64, _P, res=None)(self.device, buf, None)
            self._f("vkFreeMemory", _P, _U64, _P, res=None)(self.device, mem, None)

    def _transition(self, cmd, image, old, new):
        b = ImageBarrier(45, None, ACCESS_TRANSFER_READ, ACCESS_TRANSFER_READ, old, new,
                         QUEUE_FAMILY_IGNORED, QUEUE_FAMILY_IGNORED, image, Range(1, 0, 1, 0, 1))
        self._f("vkCmdPipelineBarrier", _P, _U32, _U32, _U32, _U32, _P, _U32, _P, _U32, _P,
                res=None)(cmd, STAGE_TRANSFER, STAGE_TRANSFER, 0, 0, None, 0, None, 1,
                          ctypes.byref(b))

    def _host_buffer(self, size):
        buf = _U64()
        self._ok(self._f("vkCreateBuffer", _P, _P, _P, _P)(
            self.device, ctypes.byref(BufferInfo(12, None, 0, size, 0x2, 0, 0, None)), None,
            ctypes.byref(buf)), "vkCreateBuffer")
        req = MemReqs()
        self._f("vkGetBufferMemoryRequirements", _P, _U64, _P, res=None)(
            self.device, buf.value, ctypes.byref(req))
        props = MemProps()
        self._f("vkGetPhysicalDeviceMemoryProperties", _P, _P, res=None)(
            self.physical_device, ctypes.byref(props))
        want = 0x2 | 0x4  # HOST_VISIBLE | HOST_COHERENT
        index = next(i for i in range(props.memoryTypeCount)
                     if req.memoryTypeBits & (1 << i)
                     and props.memoryTypes[i].propertyFlags & want == want)
        mem = _U64()
        self._ok(self._f("vkAllocateMemory", _P, _P, _P, _P)(
            self.device, ctypes.byref(AllocInfo(5, None, req.size, index)), None,
            ctypes.byref(mem)), "vkAllocateMemory")
        self._ok(self._f("vkBindBufferMemory", _P, _U64, _U64, _U64)(
            self.device, buf.value, mem.value, 0), "vkBindBufferMemory")
        ptr = _P()
        self._ok(self._f("vkMapMemory", _P, _U64, _U64, _U64, _U32, _P)(
            self.device, mem.value, 0, size, 0, ctypes.byref(ptr)), "vkMapMemory")
        return buf.value, mem.value, ptr.value

    def close(self):
        if self.device:
            self._f("vkDeviceWaitIdle", _P)(self.device)
            for pool in self._pools:
                self._f("vkDestroyCommandPool", _P, _U64, _P, res=None)(self.device, pool, None)
            self._f("vkDestroyDevice", _P, _P, res=None)(self.device, None)
            self.device = None
        if self.instance:
            self._f("vkDestroyInstance", _P, _P, res=None)(self.instance, None)
            self.instance = None
