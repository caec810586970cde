"""pytest fixtures. The library is the one IFD_LIBRARY names (run from a build
tree: IFD_LIBRARY=<build>/libinterop_fd.so python3 -m pytest python/tests),
else the one the package finds itself. The package is imported from this
source tree unless IFD_PYTHON_INSTALLED=1 asks for the installed one."""

import os
import sys

import pytest

if os.environ.get("IFD_PYTHON_INSTALLED") != "1":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import interop_fd as ifd  # noqa: E402


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def context_or_skip(backend, why):
    """A Context of `backend`, or a skip that says `why` and the library's reason."""
    try:
        return ifd.Context(backend)
    except ifd.Error as e:
        pytest.skip("%s: %s" % (why, e))


def pattern(fmt, h, w, seed=1):
    """Distinct values per pixel and channel, exact in the format's dtype."""
    import numpy as np
    f = ifd.formats()[fmt]
    rng = np.random.default_rng(seed)
    shape = (h, w, f.channels)
    if f.is_float:
        return (rng.integers(-1024, 1024, size=shape) / 8).astype(f.dtype_name)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


@pytest.fixture(scope="session")
def vk_ctx():
    """A Vulkan-backend context (lavapipe on the CPU machines)."""
    ctx = context_or_skip("vulkan", "no Vulkan device for the reference backend")
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def host_ctx(vk_ctx):
    """The Vulkan context, where its images can be mapped on the host."""
    img = vk_ctx.image(1, 1, "r8")
    try:
        img.map()
    except ifd.Error as e:
        pytest.skip("no host view of device memory here: %s" % e)
    finally:
        import gc
        gc.collect()
        img.close()
    return vk_ctx
