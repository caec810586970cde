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


@pytest.fixture(scope="session")
def vk_ctx():
    """A Vulkan-backend context (lavapipe on the CPU machines)."""
    try:
        ctx = ifd.Context("vulkan")
    except ifd.Error as e:
        pytest.skip("no Vulkan device for the reference backend: %s" % e)
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
