"""CUDA-backend tests with PyTorch and CuPy (the H200 machine). They skip,
with the reason, where torch/cupy or a CUDA device is missing."""

import os

import numpy as np
import pytest

import interop_fd as ifd
from conftest import open_fds

FORMATS = sorted(ifd.formats(), key=lambda n: ifd.formats()[n].value)


def _torch():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device (torch.cuda.is_available() is False)")
    torch.cuda.init()
    return torch


def _cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # cupy raises its own CUDARuntimeError
        pytest.skip("no CUDA device for CuPy: %s" % e)
    return cupy


def _cuda_ctx():
    try:
        return ifd.Context("cuda")
    except ifd.Error as e:
        pytest.skip("no CUDA backend: %s" % e)


@pytest.fixture
def torch():
    return _torch()


@pytest.fixture
def cupy():
    return _cupy()


@pytest.fixture
def cuda_ctx(torch):
    ctx = _cuda_ctx()
    yield ctx
    ctx.close()


TORCH_DTYPES = {"uint8": "uint8", "float16": "float16", "float32": "float32"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_torch_dlpack_writes_land_in_the_image(torch, cuda_ctx, fmt):
    with cuda_ctx.image(37, 11, fmt) as img:
        f = img.format
        t = torch.from_dlpack(img)
        assert t.device.type == "cuda"
        assert t.data_ptr() == img.device_ptr
        assert tuple(t.shape) == (11, 37, f.channels)
        assert t.dtype == getattr(torch, TORCH_DTYPES[f.dtype_name])
        assert t.stride() == (img.row_pitch // f.itemsize, f.channels, 1)
        ys = torch.arange(11, device="cuda").view(11, 1, 1)
        xs = torch.arange(37, device="cuda").view(1, 37, 1)
        cs = torch.arange(f.channels, device="cuda").view(1, 1, -1)
        t[...] = ((ys * 37 + xs) * 4 + cs).remainder(251).to(t.dtype)
        torch.cuda.synchronize()
        want = ((np.arange(11).reshape(11, 1, 1) * 37 + np.arange(37).reshape(1, 37, 1)) * 4
                + np.arange(f.channels).reshape(1, 1, -1)) % 251
        assert np.array_equal(img.download(), want.astype(f.dtype_name))
        del t


def test_torch_cuda_array_interface_is_the_same_memory(torch, cuda_ctx):
    with cuda_ctx.image(64, 16, "rgba16f") as img:
        cai = img.__cuda_array_interface__
        assert cai["version"] == 3 and cai["stream"] not in (None, 0)
        t = torch.as_tensor(img, device="cuda")
        assert t.data_ptr() == img.device_ptr
        assert t.stride() == (img.row_pitch // 2, 4, 1)
        t.fill_(0.5)
        torch.cuda.synchronize()
        assert np.all(img.download() == np.float16(0.5))
        del t


def test_cupy_views_are_the_same_memory(cupy, torch):
    ctx = _cuda_ctx()
    with ctx, ctx.image(40, 9, "rg32f") as img:
        a = cupy.from_dlpack(img)
        assert a.data.ptr == img.device_ptr
        assert a.strides == (img.row_pitch, 8, 4)
        a[...] = 3.25
        b = cupy.asarray(img)        # __cuda_array_interface__
        assert b.data.ptr == img.device_ptr
        b[2, 3] = -1.0
        cupy.cuda.Device().synchronize()
        got = img.download()
        assert got[2, 3, 0] == -1.0 and got[0, 0, 1] == 3.25
        assert np.count_nonzero(got == 3.25) == got.size - 2
        del a, b


SLEEP_CYCLES = 400_000_000   # ~0.2 s at the H200's ~2 GHz


def _ready_after_kernel(torch, ring, write_stream, **frame_args):
    """Writes a frame after a long kernel on write_stream; returns the ready
    value seen just after the frame ended, and after the stream finished."""
    with torch.cuda.stream(write_stream):
        with ring.frame(**frame_args) as img:
            t = torch.from_dlpack(img)
            torch.cuda._sleep(SLEEP_CYCLES)
            t.fill_(7)
        early = ring.ready_value()
    write_stream.synchronize()
    ring.context.synchronize()
    late = ring.ready_value()
    assert np.all(img.download() == 7)
    del t
    return early, late


def test_adopted_torch_stream_orders_the_kernel_before_ready(torch):
    s = torch.cuda.Stream()
    try:
        ctx = ifd.Context.from_cuda_stream(s)
    except ifd.Error as e:
        pytest.skip("no CUDA backend: %s" % e)
    with ctx, ctx.ring(2, 256, 256, "rgba8") as ring:
        if not ring.has_timelines:
            pytest.skip("the ring has no timelines here")
        assert ctx.cuda_stream == s.cuda_stream
        early, late = _ready_after_kernel(torch, ring, s)
        assert early == 0, "ready was signalled while the torch kernel still ran"
        assert late == 1


def test_frame_joins_the_torch_stream_of_a_separate_context(torch, cuda_ctx):
    with cuda_ctx.ring(2, 256, 256, "rgba8") as ring:
        if not ring.has_timelines:
            pytest.skip("the ring has no timelines here")
        early, late = _ready_after_kernel(torch, ring, torch.cuda.Stream())
        assert early == 0, "ready was signalled while the torch kernel still ran"
        assert late == 1


def test_10000_frames_without_fd_growth(torch, cuda_ctx):
    with cuda_ctx.ring(3, 128, 64, "rgba8") as ring, ring.export() as desc:
        assert desc.count == 3
        before = open_fds()
        for k in range(1, 10_001):
            with ring.frame() as img:
                torch.from_dlpack(img).fill_(k % 256)
            ring.release_frame(k)   # a consumer in this process gives it back
        cuda_ctx.synchronize()
        assert open_fds() == before
        assert np.all(ring.images[(10_000 - 1) % 3].download() == 10_000 % 256)
        assert ring.ready_value() in (None, 10_000)


def test_fd_of_a_cuda_image_is_exported(cuda_ctx):
    with cuda_ctx.image(16, 16, "rgba8") as img, img.export_fd() as d:
        assert d.exporter == "cuda" and d.fd >= 0
        os.fstat(d.fd)
