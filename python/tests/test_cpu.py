"""The package on the Vulkan backend with NumPy (runs on lavapipe)."""

import errno
import gc
import os
import time
import weakref

import numpy as np
import pytest

import interop_fd as ifd
from conftest import open_fds, pattern

FORMATS = sorted(ifd.formats(), key=lambda n: ifd.formats()[n].value)


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("fmt", FORMATS)
def test_roundtrip_every_format(vk_ctx, fmt):
    with vk_ctx.image(13, 7, fmt) as img:
        f = ifd.formats()[fmt]
        assert img.shape == (7, 13, f.channels)
        assert img.format.name == fmt
        assert img.row_pitch >= 13 * f.bytes_per_pixel
        assert img.row_pitch % f.bytes_per_pixel == 0
        a = pattern(fmt, 7, 13)
        img.upload(a)
        b = img.download()
        assert b.dtype == a.dtype and b.shape == a.shape
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8))
        # a host array with padded rows goes in as it is
        padded = np.zeros((7, 20, f.channels), dtype=a.dtype)
        padded[:, :13] = a[::-1]
        img.upload(padded[:, :13])
        assert np.array_equal(img.download(), a[::-1])


@pytest.mark.parametrize("fmt", FORMATS)
def test_map_view_every_format(host_ctx, fmt):
    with host_ctx.image(13, 7, fmt) as img:
        a = pattern(fmt, 7, 13, seed=2)
        img.upload(a)
        view = img.map()
        assert view.dtype == a.dtype and view.shape == a.shape
        assert np.array_equal(view, a)
        view[...] = a[::-1, ::-1]   # written through the view, read by the device
        assert np.array_equal(img.download(), a[::-1, ::-1])
        del view


def test_single_channel_upload_takes_2d(vk_ctx):
    with vk_ctx.image(5, 3, "r8") as img:
        a = np.arange(15, dtype=np.uint8).reshape(3, 5)
        img.upload(a)
        assert np.array_equal(img.download()[:, :, 0], a)


# ---------------------------------------------------------------- the row pitch

def test_views_honour_the_row_pitch(host_ctx):
    w, h = 5, 4   # 20 bytes a row of rgba8: the device pads it
    with host_ctx.image(w, h, "rgba8") as img:
        assert img.row_pitch > w * 4, "this test needs a padded row (pitch %d)" % img.row_pitch
        view = img.map()
        assert view.strides == (img.row_pitch, 4, 1)
        raw = np.ndarray((img.size,), np.uint8, buffer=view.base)
        raw[:] = 0xEE                      # the padding keeps this
        view[...] = pattern("rgba8", h, w)
        for y in range(h):
            row = raw[y * img.row_pitch:(y + 1) * img.row_pitch]
            assert np.array_equal(row[:w * 4], view[y].reshape(-1))
            if y < h - 1:
                assert (row[w * 4:] == 0xEE).all(), "a view wrote into the row padding"
        assert np.array_equal(img.download(), view)
        dl = np.from_dlpack(img)
        assert dl.strides == (img.row_pitch, 4, 1)
        assert dl.__array_interface__["data"][0] == img.device_ptr
        view[1, 2] = (1, 2, 3, 4)     # NumPy's DLPack arrays are read-only: same memory
        assert tuple(dl[1, 2]) == (1, 2, 3, 4)
        del view, raw, dl, row


def test_export_fd_describes_the_image(vk_ctx):
    with vk_ctx.image(31, 9, "rg16f") as img:
        with img.export_fd() as d:
            assert d.fd >= 0 and os.fstat(d.fd)
            assert (d.width, d.height, d.format) == (31, 9, "rg16f")
            assert (d.row_pitch, d.size) == (img.row_pitch, img.size)
            assert d.exporter == "vulkan"
            assert d.timeline_fd == -1
            fd = d.fd
        assert d.fd == -1
        with pytest.raises(OSError):
            os.fstat(fd)
        d = img.export_fd()
        fd = d.take_fd()
        assert d.fd == -1
        d.close()
        os.fstat(fd)     # the caller's now
        os.close(fd)


def test_no_cuda_array_interface_on_vulkan(vk_ctx):
    with vk_ctx.image(2, 2, "r8") as img:
        assert not hasattr(img, "__cuda_array_interface__")


# ---------------------------------------------------------------- errors

def expect(err, fn, *args, **kw):
    with pytest.raises(ifd.Error) as e:
        fn(*args, **kw)
    assert e.value.errno == err
    assert e.value.name == errno.errorcode[err]
    assert e.value.message
    assert str(e.value).startswith(errno.errorcode[err] + ": ")
    return e.value


def test_bad_arguments_raise_error(vk_ctx):
    e = expect(errno.EINVAL, vk_ctx.image, 4, 4, "rgb8")
    assert e.call == "ifd_format_from_name"           # the library's own refusal
    expect(errno.EINVAL, vk_ctx.image, 0, 4, "rgba8")
    expect(errno.EINVAL, vk_ctx.image, 4, -1, "rgba8")
    expect(errno.EINVAL, vk_ctx.image, 4.0, 4, "rgba8")
    expect(errno.EINVAL, vk_ctx.image, 4, 4, 99)
    expect(errno.EINVAL, ifd.Context, "metal")
    expect(errno.EINVAL, ifd.Context, "vulkan", -1)
    expect(errno.ENODEV, ifd.Context, "vulkan", 1000)
    e = expect(errno.EINVAL, vk_ctx.ring, 2, 4, 4, "rgba8", mode="mailbox")
    assert e.call == "ifd_ring_create_mode"
    expect(errno.EINVAL, vk_ctx.ring, 9, 4, 4, "rgba8")
    expect(errno.EINVAL, vk_ctx.ring, 3, 4, 4, "rgba8", mode="lifo")
    with vk_ctx.image(4, 4, "rgba8") as img:
        expect(errno.EINVAL, img.upload, np.zeros((4, 4, 4), np.float32))
        expect(errno.EINVAL, img.upload, np.zeros((4, 5, 4), np.uint8))
        expect(errno.EINVAL, img.download, np.zeros((4, 4, 3), np.uint8))
    expect(errno.EINVAL, img.download)                # closed
    expect(errno.EINVAL, img.export_fd)
    expect(errno.EINVAL, img.__dlpack__)


def test_ring_misuse_raises_error(vk_ctx):
    with vk_ctx.ring(1, 8, 8, "r8") as ring:
        k, _ = ring.begin_frame()
        expect(errno.EINVAL, ring.end_frame, k + 1)
        expect(errno.EINVAL, ring.begin_frame)       # previous frame not ended
        ring.end_frame(k)
        expect(errno.EINVAL, ring.release_frame, k + 1)   # not ended yet
        if ring.has_timelines:
            _frame_waits_on_the_device(ring, k)
        else:
            _frame_waits_on_the_host(ring, k)
    expect(errno.EINVAL, ring.begin_frame)


def _frame_waits_on_the_host(ring, k):
    """Without timelines (lavapipe) begin_frame waits on the host for the
    release of the frame whose slot it reuses."""
    expect(errno.ETIMEDOUT, ring.begin_frame, 0.02)   # frame 1 not released
    ring.release_frame(k)
    k2, _ = ring.begin_frame(0.02)
    assert k2 == k + 1
    ring.end_frame(k2)


def _ready_reaches(ring, k, timeout=5.0):
    """The ready timeline's value once it is >= k (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while ring.ready_value() < k and time.monotonic() < deadline:
        time.sleep(0.001)
    return ring.ready_value()


def _frame_waits_on_the_device(ring, k):
    """With timelines (a GPU) begin_frame enqueues the wait for release >= k
    on the device and returns at once; the host itself blocks only beyond
    2 * count frames ahead of the releases (interop_fd.h)."""
    k2, _ = ring.begin_frame(0.02)                    # no ETIMEDOUT: nothing waits here
    assert k2 == k + 1
    ring.end_frame(k2)
    assert _ready_reaches(ring, k) == k   # ready = k2 waits behind release >= k on the device
    time.sleep(0.05)
    assert ring.ready_value() == k
    expect(errno.ETIMEDOUT, ring.begin_frame, 0.02)   # frame k + 2: the host waits now
    expect(errno.EINVAL, ring.release_frame, k2 + 1)  # not ended yet
    ring.release_frame(k)            # from the host: the device's wait is met
    assert _ready_reaches(ring, k2) == k2
    k3, _ = ring.begin_frame(0.02)
    assert k3 == k2 + 1
    ring.end_frame(k3)   # its device wait (release >= k2) is never met: closing releases it


def test_live_views_keep_close_from_freeing_memory(host_ctx):
    img = host_ctx.image(4, 4, "rgba8")
    view = img.map()
    expect(errno.EBUSY, img.close)
    del view
    t = img.__dlpack__()             # a capsule nobody consumed
    expect(errno.EBUSY, img.close)
    del t
    img.close()


def test_closed_context_invalidates_its_objects():
    ctx = ifd.Context("vulkan")
    img = ctx.image(4, 4, "r8")
    ring = ctx.ring(2, 4, 4, "r8")
    ctx.close()
    assert img.closed and ring.closed and ctx.closed
    expect(errno.EINVAL, img.download)
    expect(errno.EINVAL, ring.begin_frame)
    expect(errno.EINVAL, ctx.image, 4, 4, "r8")
    img.close(), ring.close(), ctx.close()   # all no-ops now


# ---------------------------------------------------------------- fds and GC

def test_no_fd_growth_over_1000_cycles(vk_ctx):
    def cycle(i):
        img = vk_ctx.image(16 + i % 7, 8, FORMATS[i % len(FORMATS)])
        with img.export_fd() as d:
            assert d.fd >= 0
        img.close()
        if i % 100 == 0:
            with vk_ctx.ring(3, 8, 8, "rgba8", mode="mailbox") as ring, ring.export() as rd:
                assert rd.control_fd >= 0 and rd.count == 3

    cycle(0)    # warm up anything the driver opens once
    before = open_fds()
    for i in range(1000):
        cycle(i)
    assert open_fds() == before


def test_collected_objects_free_their_handles():
    lib = ifd._lib.lib
    ctx = ifd.Context("vulkan")
    img = ctx.image(8, 8, "rgba8")
    handle = ifd._core._P(img._handle)
    assert lib.ifd_image_width(handle) == 8
    fin = img._finalizer
    del img
    gc.collect()
    assert not fin.alive
    assert lib.ifd_image_width(handle) == 0      # destroyed in the library

    before = open_fds()
    d = ctx.image(8, 8, "r8").export_fd()          # the image is collected at once
    fd = d.fd
    os.fstat(fd)
    del d
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)
    assert open_fds() == before

    ring = ctx.ring(3, 8, 8, "r8")
    rref = weakref.ref(ring)
    cfin = ctx._finalizer
    del ring, ctx
    gc.collect()
    assert rref() is None and not cfin.alive


# ---------------------------------------------------------------- rings

def test_mailbox_frames(host_ctx):
    with host_ctx.ring(3, 16, 8, "r32f", mode="mailbox") as ring, ring.export() as desc:
        assert ring.mode == desc.mode == "mailbox" and ring.count == 3
        assert desc.control_fd >= 0
        last = None
        for n in range(1, 11):      # no consumer takes: the producer never waits
            with ring.frame(timeout=1.0) as img:
                assert ring.frame_number == n
                assert img in ring.images
                img.map()[...] = n
            last = img
        assert np.all(last.download() == 10)
        # a body that raises still ends its frame: the next one begins
        with pytest.raises(ZeroDivisionError):
            with ring.frame(timeout=1.0):
                1 / 0
        with ring.frame(timeout=1.0):
            assert ring.frame_number == 12


def test_fifo_frames_wait_for_release(host_ctx):
    with host_ctx.ring(2, 4, 4, "rgba8") as ring:
        assert ring.mode == "fifo"
        for n in (1, 2):
            with ring.frame(timeout=1.0) as img:
                img.map()[...] = n
        with pytest.raises(ifd.Error) as e:
            with ring.frame(timeout=0.02):
                pass
        assert e.value.errno == errno.ETIMEDOUT
        ring.release_frame(1)
        with ring.frame(timeout=1.0) as img:
            assert img is ring.images[0]
            assert np.all(img.map() == 1)    # frame 1's pixels, its slot reused


def test_ring_export_describes_every_frame(vk_ctx):
    before = open_fds()
    with vk_ctx.ring(4, 24, 10, "rgba16f") as ring:
        with ring.export() as desc:
            assert desc.count == 4 and desc.mode == "fifo" and desc.control_fd == -1
            assert (desc.ready_fd >= 0) == ring.has_timelines
            fds = [f.fd for f in desc.frames]
            assert len(set(fds)) == 4 and all(fd >= 0 for fd in fds)
            for f, img in zip(desc.frames, ring.images):
                assert (f.width, f.height, f.format) == (24, 10, "rgba16f")
                assert (f.row_pitch, f.size, f.exporter) == (img.row_pitch, img.size, "vulkan")
        assert [f.fd for f in desc.frames] == [-1] * 4
    assert open_fds() == before
