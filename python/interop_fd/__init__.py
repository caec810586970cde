"""interop_fd for Python: GPU frames shared with GL and Vulkan through fds,
written by PyTorch, CuPy or NumPy with no copy.

    import interop_fd as ifd
    with ifd.Context() as ctx, ctx.ring(3, 640, 480, "rgba8") as ring:
        desc = ring.export()                 # hand to a GL/Vulkan consumer
        with ring.frame() as img:            # begin_frame ... end_frame
            torch.from_dlpack(img)[...] = 1  # CUDA: a view of the frame's VRAM
            # CPU-only (Vulkan on lavapipe): img.map()[...] = 255

Across processes: ring.serve() and, in the viewer, interop_fd.connect().
Consumers: interop_fd.gl (a texture name in your current GL context, e.g.
moderngl's) and interop_fd.vulkan (a VkImage and view, as ints, on your
device) import what ring.export() describes.

Pure Python over libinterop_fd.so (ctypes): the library is found through
IFD_LIBRARY, next to this package, through the CMake install prefix, or by
the dynamic linker. NumPy, torch and CuPy are imported only when used.
See docs/python.md.
"""

from ._core import Context, FrameDesc, Format, Image, Ring, RingDesc, formats
from ._lib import Error, library_path
from ._share import Link, Server, connect, default_socket_path

__all__ = ["Context", "Error", "Format", "FrameDesc", "Image", "Link", "Ring", "RingDesc",
           "Server", "connect", "default_socket_path", "formats", "library_path"]
__version__ = "0.2.0"
