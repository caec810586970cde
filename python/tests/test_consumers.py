"""Consumers from Python (interop_fd.gl, interop_fd.vulkan): a producer's ring
imported into a headless EGL context (moderngl's, else PyOpenGL's:
tests/headless_gl.py) and into a Vulkan device made with ctypes
(tests/vkdevice.py), frames checked pixel by pixel.

On the CPU machines the producer is the Vulkan backend on lavapipe (no
timelines: the consumer's release is followed by the producer's
release_frame) and GL is llvmpipe (path LINEAR). The CUDA tests at the end
(GL and Vulkan consumers of a CUDA producer, with timelines) skip without a
CUDA device. Each test skips with the reason where no GL binding can make a
context or Vulkan has no device."""

import errno
import gc

import numpy as np
import pytest

import headless_gl
import interop_fd as ifd
from conftest import context_or_skip, open_fds, pattern
from interop_fd import gl as igl
from interop_fd import vulkan as ivk

W, H = 13, 7   # rows of 13 rgba8 pixels are padded by the producer

# ---------------------------------------------------------------- fixtures

def gl_for(producer):
    """A GL context (current) that imports what `producer` (a Context)
    exports: the first EGL device whose GL takes its memory (a GPU machine
    lists NVIDIA's EGL device and Mesa's). moderngl's or PyOpenGL's
    (headless_gl.py; IFD_TEST_GL picks). Skips, with the reasons, if none."""
    name, make = headless_gl.backend()
    if name is None:
        pytest.skip(make)
    reasons = []
    for index in range(8):
        try:
            g = make(index)
        except Exception as e:  # noqa: BLE001 (moderngl and PyOpenGL raise their own types)
            reasons.append("EGL device %d: %s" % (index, e))
            break   # past the last device, or none works at all
        try:
            with producer.image(4, 4, "rgba8") as img, img.export_fd() as d, \
                    igl.Importer() as imp:
                imp.import_frame(d).close()
            return g
        except ifd.Error as e:
            reasons.append("EGL device %d (%s): %s" % (index, g.renderer, e))
            g.release()
    pytest.skip("no GL context (%s, headless EGL, GL 4.5) imports from the %s producer: %s"
                % (name, producer.backend, "; ".join(reasons)))


@pytest.fixture(scope="module")
def _gl_vk(vk_ctx):
    g = gl_for(vk_ctx)
    yield g
    g.release()


@pytest.fixture
def gl(_gl_vk):
    """The GL context for the Vulkan-backend producer, made current."""
    _gl_vk.make_current()
    return _gl_vk


@pytest.fixture(scope="module")
def vkapp(vk_ctx):
    """The consumer's device: the producer's physical device (by UUID)."""
    try:
        from vkdevice import VkApp
        app = VkApp(uuid=bytes(vk_ctx.native.device_uuid))
    except (OSError, RuntimeError) as e:
        pytest.skip("no Vulkan device for the consumer: %s" % e)
    yield app
    app.close()


# ---------------------------------------------------------------- pixels

def srgb_to_linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def sampled(fmt, a):
    """What sampling a texture of `fmt` with these stored values gives, as
    RGBA float (gl.h: R as (r,r,r,1), RG as (r,g,0,1), BGRA as RGBA, sRGB
    decoded)."""
    f = ifd.formats()[fmt]
    v = a.astype(np.float64) if f.is_float else a.astype(np.float64) / 255.0
    h, w, _ = a.shape
    out = np.zeros((h, w, 4))
    out[..., 3] = 1.0
    if f.channels == 1:
        out[..., :3] = v[..., :1]
    elif f.channels == 2:
        out[..., :2] = v
    else:
        out[...] = v[..., [2, 1, 0, 3]] if fmt == "bgra8" else v
    if f.is_srgb:
        out[..., :3] = srgb_to_linear(out[..., :3])
    return out


def linear_to_srgb(c):
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def assert_pixels(got, fmt, a, what):
    want = sampled(fmt, a)
    f = ifd.formats()[fmt]
    if f.is_srgb:
        # Compared where they were stored, as the C tests do (harness/pattern.h):
        # within 0.6 of 255 once encoded again (NVIDIA decodes sRGB to fewer
        # bits than the formula: 0.953 for 0.956).
        diff = np.abs(got - want)
        diff[..., :3] = np.abs(linear_to_srgb(got[..., :3]) - linear_to_srgb(want[..., :3]))
        bad = np.argwhere(diff.max(axis=2) > 0.6 / 255)
    else:
        tol = 0 if f.is_float else 1e-5
        bad = np.argwhere(np.abs(got - want).max(axis=2) > tol)
    assert bad.size == 0, "%s: %d pixels differ, first (y, x) %s: got %s, want %s" % (
        what, len(bad), tuple(bad[0]), got[tuple(bad[0])], want[tuple(bad[0])])


def expect(err, fn, *args, **kw):
    with pytest.raises(ifd.Error) as e:
        fn(*args, **kw)
    assert e.value.errno == err, str(e.value)
    assert e.value.message
    return e.value


def produce(ring, fmt, seed, timeout=1.0):
    """One frame written with upload: (k, the values written)."""
    a = pattern(fmt, ring.height, ring.width, seed)
    with ring.frame(timeout=timeout) as img:
        img.upload(a)
    return ring.frame_number, a


GL_FORMATS = ["rgba8", "bgra8", "r8", "rg8", "srgba8", "rg16f", "rgba16f", "r32f", "rgba32f"]

# ---------------------------------------------------------------- GL

@pytest.mark.parametrize("fmt", GL_FORMATS)
def test_gl_fifo_ring_pixels(gl, vk_ctx, fmt):
    before = open_fds()
    with vk_ctx.ring(2, W, H, fmt) as ring, igl.Importer() as imp:
        with ring.export() as desc:
            gring = imp.import_ring(desc)
            assert [f.fd for f in desc.frames] == [-1, -1]
        assert gring.count == 2
        for n in range(1, 5):      # frames 3 and 4 reuse the slots of 1 and 2
            k, a = produce(ring, fmt, seed=n)
            assert k == n
            gring.wait_ready(k, timeout=1.0)
            tex = gring.acquire(k)
            frame = gring.frame(k)
            assert tex == frame.texture and frame.format == fmt
            assert (frame.width, frame.height) == (W, H)
            assert frame.path in ("linear", "copy", "copy_upload")
            assert_pixels(gl.draw(tex, W, H), fmt, a, "GL %s frame %d" % (fmt, k))
            gring.release(k)
            if not ring.has_timelines:
                ring.release_frame(k)
        gring.close()
        assert gring.closed
        expect(errno.EINVAL, gring.acquire, 1)
    assert open_fds() == before


def test_gl_single_frame(gl, vk_ctx):
    before = open_fds()
    with vk_ctx.image(W, H, "rgba8") as img, igl.Importer() as imp:
        a = pattern("rgba8", H, W, seed=9)
        img.upload(a)
        with img.export_fd() as desc:
            frame = imp.import_frame(desc)
            assert desc.fd == -1
        frame.update()
        assert_pixels(gl.draw(frame.texture, W, H), "rgba8", a, "GL single frame")
        frame.close()
        expect(errno.EINVAL, frame.update)
    assert open_fds() == before


def test_gl_get_proc_address_callable(gl, vk_ctx):
    """A Python loader (here eglGetProcAddress through ctypes) is what the
    importer resolves GL through; one that finds nothing is refused."""
    import ctypes
    egl = ctypes.CDLL("libEGL.so.1")
    egl.eglGetProcAddress.restype = ctypes.c_void_p
    egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
    names = []

    def lookup(name):
        names.append(name)
        return egl.eglGetProcAddress(name.encode())
    with vk_ctx.image(W, H, "rgba8") as img, igl.Importer(get_proc_address=lookup) as imp:
        assert "glImportMemoryFdEXT" in names
        a = pattern("rgba8", H, W, seed=11)
        img.upload(a)
        with img.export_fd() as desc:
            frame = imp.import_frame(desc)
        frame.update()
        assert_pixels(gl.draw(frame.texture, W, H), "rgba8", a, "GL, Python loader")
        frame.close()
    e = expect(errno.EOPNOTSUPP, igl.Importer, get_proc_address=lambda name: 0)
    assert e.call == "ifd_gl_importer_create"


def test_gl_mailbox_take_latest(gl, vk_ctx):
    before = open_fds()
    imp = igl.Importer()
    ring = vk_ctx.ring(3, W, H, "rgba8", mode="mailbox")
    with ring.export() as desc:
        gring = imp.import_ring(desc)
        assert desc.control_fd == -1
    expect(errno.EAGAIN, gring.take_latest, 0)         # nothing ended yet
    frames = dict(produce(ring, "rgba8", seed=n) for n in range(1, 6))
    k = gring.take_latest(0)
    assert k == 5                                        # the newest, not the next
    gring.wait_ready(k, 5.0)
    assert_pixels(gl.draw(gring.acquire(k), W, H), "rgba8", frames[k], "mailbox frame 5")
    gring.release(k)
    if not ring.has_timelines:
        ring.release_frame(k)
    expect(errno.EAGAIN, gring.take_latest, 0)         # nothing newer than 5
    expect(errno.ETIMEDOUT, gring.take_latest, 0.02)
    frames.update(produce(ring, "rgba8", seed=n) for n in (6, 7))
    k = gring.take_latest(0)
    assert k == 7
    assert_pixels(gl.draw(gring.acquire(k), W, H), "rgba8", frames[7], "mailbox frame 7")
    gring.release(k)
    expect(errno.EINVAL, gring.acquire, 6)              # skipped: never taken
    ring.close()
    expect(errno.EPIPE, gring.take_latest, 0)          # the producer's ring is gone
    gring.close()
    imp.close()
    assert open_fds() == before


def test_gl_errors(gl, vk_ctx):
    before = open_fds()
    with vk_ctx.ring(2, W, H, "rgba8") as ring:
        imp = igl.Importer()
        desc = ring.export()
        fds = [f.fd for f in desc.frames]
        desc.struct.frames[1].format = 99                # a bad description
        e = expect(errno.EINVAL, imp.import_ring, desc)
        assert e.call == "ifd_gl_ring_import"
        assert [f.fd for f in desc.frames] == fds          # nothing taken
        desc.struct.frames[1].format = desc.struct.frames[0].format
        expect(errno.EINVAL, imp.import_ring, desc.frames[0])   # not a RingDesc
        expect(errno.EINVAL, imp.import_frame, desc)            # not a FrameDesc
        expect(errno.EINVAL, imp.import_ring, desc, path="tiled")
        gring = imp.import_ring(desc)
        expect(errno.EINVAL, gring.acquire, 0)
        expect(errno.EINVAL, gring.acquire, "1")
        if not ring.has_timelines:  # with them, GL would wait on the device for frame 1
            expect(errno.EAGAIN, gring.acquire, 1)      # not produced yet
        expect(errno.EINVAL, gring.take_latest, 0)       # a FIFO ring
        expect(errno.ETIMEDOUT, gring.wait_ready, 1, 0.01)
        if ring.has_timelines:
            # Where the library cannot see the producer's ring (NVIDIA's
            # memory fds all name one device file), the timeout left GL's wait
            # for ready >= 1 queued in this context, which is shared by the
            # tests after this one: frame 1 is produced so that it is met.
            produce(ring, "rgba8", seed=1)
            gring.wait_ready(1, 10.0)
            gring.release(1)
        imp.close()                                      # closes the ring first
        assert gring.closed and imp.closed
        expect(errno.EINVAL, gring.acquire, 1)
        expect(errno.EINVAL, imp.import_ring, desc)
        expect(errno.EINVAL, lambda: imp.has_timelines)
        desc.close()
        with ring.export() as d2:
            expect(errno.EINVAL, igl.Importer, get_proc_address="egl")
            assert all(f.fd >= 0 for f in d2.frames)
    assert open_fds() == before


def test_gl_context_not_current(gl, vk_ctx):
    """With another context current, calls and closing are refused with the
    library's message and the objects stay open and usable: with the
    importer's context current again they draw and close."""
    before = open_fds()
    ring = vk_ctx.ring(2, W, H, "r8")
    imp = igl.Importer()
    with ring.export() as desc:
        gring = imp.import_ring(desc)
        other = gl.other_context()           # current now
        try:
            e = expect(errno.EINVAL, gring.close)
            assert "not current" in e.message
            assert not gring.closed
            expect(errno.EINVAL, gring.acquire, 1)
            e = expect(errno.EINVAL, imp.close)
            assert "not current" in e.message and not imp.closed
        finally:
            other.release()
            gl.make_current()
        k, a = produce(ring, "r8", seed=3)
        assert_pixels(gl.draw(gring.acquire(k), W, H), "r8", a, "after the refusals")
        gring.release(k)
        gring.close()
        imp.close()
    ring.close()
    del other
    gc.collect()
    assert open_fds() == before


def test_gl_collected_objects(gl, vk_ctx):
    before = open_fds()
    ring = vk_ctx.ring(3, W, H, "rgba8", mode="mailbox")
    imp = igl.Importer()
    with ring.export() as desc:
        gring = imp.import_ring(desc)
    fin = gring._finalizer
    del gring
    gc.collect()
    assert not fin.alive
    # Collected while another context is current: the library refuses (its
    # message), the finalizer does not raise, the importer's close frees it.
    with ring.export() as desc:
        gring = imp.import_ring(desc)
    other = gl.other_context()
    try:
        fin = gring._finalizer
        del gring
        gc.collect()
        assert not fin.alive
        assert "not current" in ifd._lib.last_error()   # refused, said, not raised
    finally:
        other.release()
        gl.make_current()
    imp.close()
    ring.close()
    gc.collect()
    assert open_fds() == before


# ---------------------------------------------------------------- Vulkan

VK_FORMAT_R8G8B8A8_UNORM = 37
VK_FORMAT_R32_SFLOAT = 100
VK_IMAGE_LAYOUTS = (1, 5)   # GENERAL (LINEAR), SHADER_READ_ONLY_OPTIMAL (COPY)


def vk_importer(app):
    return ivk.Importer(app.instance, app.physical_device, app.device, app.queue_family)


def check_vk_frame(app, frame, fmt, a, what, ring=None, k=0):
    """Reads the frame's image on the device and compares it with `a`. With
    the ring's timelines the copy waits for ready >= k on the device and
    signals release = k after it (the protocol's fast path)."""
    f = ifd.formats()[fmt]
    wait = signal = None
    if ring is not None and ring.has_timelines:
        wait, signal = (ring.ready_semaphore, k), (ring.release_semaphore, k)
    assert frame.image and frame.view and frame.memory
    assert frame.layout in VK_IMAGE_LAYOUTS
    assert (frame.width, frame.height, frame.max_format) == (a.shape[1], a.shape[0], fmt)
    got = np.frombuffer(app.read_image(frame, f.bytes_per_pixel, wait, signal),
                        a.dtype).reshape(a.shape)
    bad = np.argwhere((got != a).any(axis=2))
    assert bad.size == 0, "%s: %d pixels differ, first %s" % (what, len(bad), tuple(bad[0]))


@pytest.mark.parametrize("fmt,vk_format,path", [("rgba8", VK_FORMAT_R8G8B8A8_UNORM, "auto"),
                                                ("r32f", VK_FORMAT_R32_SFLOAT, "auto"),
                                                ("rgba8", VK_FORMAT_R8G8B8A8_UNORM, "copy")])
def test_vulkan_fifo_ring(vkapp, vk_ctx, fmt, vk_format, path):
    before = open_fds()
    with vk_ctx.ring(2, W, H, fmt) as ring, vk_importer(vkapp) as imp:
        assert imp.device_uuid == bytes(vk_ctx.native.device_uuid)
        with ring.export() as desc:
            vring = imp.import_ring(desc, path=path)
            assert [f.fd for f in desc.frames] == [-1, -1]
        assert vring.count == 2
        assert bool(vring.ready_semaphore) == bool(vring.release_semaphore) == ring.has_timelines
        images = set()
        for n in range(1, 4):
            k, a = produce(ring, fmt, seed=n)
            vring.wait_ready(k, timeout=1.0)
            frame = vring.frame(k)
            assert frame.format == vk_format
            assert frame.path in ("copy", "copy_transfer") + (("linear",) if path == "auto" else ())
            images.add(frame.image)
            check_vk_frame(vkapp, frame, fmt, a, "Vulkan %s frame %d" % (fmt, k), vring, k)
            if not ring.has_timelines:
                ring.release_frame(k)
        assert len(images) == 2
        vring.close()
        expect(errno.EINVAL, vring.frame, 1)
    assert open_fds() == before


def test_vulkan_mailbox_and_single_frame(vkapp, vk_ctx):
    before = open_fds()
    imp = vk_importer(vkapp)
    ring = vk_ctx.ring(3, W, H, "rgba8", mode="mailbox")
    with ring.export() as desc:
        vring = imp.import_ring(desc)
    expect(errno.EAGAIN, vring.take_latest, 0)
    frames = dict(produce(ring, "rgba8", seed=n) for n in range(1, 5))
    k = vring.take_latest(0)
    assert k == 4
    vring.wait_ready(k, 5.0)
    check_vk_frame(vkapp, vring.frame(k), "rgba8", frames[k], "mailbox frame 4", vring, k)
    if not ring.has_timelines:
        ring.release_frame(k)
    expect(errno.EINVAL, vring.frame, 3)            # never taken
    expect(errno.EAGAIN, vring.take_latest, 0)
    with vk_ctx.image(W, H, "rgba8") as img:
        a = pattern("rgba8", H, W, seed=5)
        img.upload(a)
        with img.export_fd() as d:
            frame = imp.import_frame(d)
            assert d.fd == -1
        check_vk_frame(vkapp, frame, "rgba8", a, "single frame")
    imp.close()                  # closes the ring and the frame
    assert vring.closed and frame.closed
    expect(errno.EINVAL, vring.take_latest, 0)
    expect(errno.EINVAL, frame.cmd_acquire, 0, 0, 0)
    ring.close()
    assert open_fds() == before


def test_vulkan_errors(vkapp, vk_ctx):
    before = open_fds()
    expect(errno.EINVAL, ivk.Importer, 0, vkapp.physical_device, vkapp.device, 0)
    expect(errno.EINVAL, ivk.Importer, vkapp.instance, vkapp.physical_device, vkapp.device, 99)
    expect(errno.EINVAL, ivk.Importer, "instance", vkapp.physical_device, vkapp.device, 0)
    with vk_ctx.ring(2, W, H, "rgba8") as ring, vk_importer(vkapp) as imp:
        with ring.export() as desc:
            fds = [f.fd for f in desc.frames]
            desc.struct.frames[0].row_pitch = 1      # below width * 4
            expect(errno.EINVAL, imp.import_ring, desc)
            assert [f.fd for f in desc.frames] == fds
            desc.struct.frames[0].row_pitch = desc.struct.frames[1].row_pitch
            expect(errno.EINVAL, imp.import_ring, desc, path="optimal")
            vring = imp.import_ring(desc)
        frame = vring.frame(1)
        expect(errno.EINVAL, frame.cmd_acquire, 0, 0, 0)   # a null command buffer
        expect(errno.EINVAL, vring.take_latest, 0)         # FIFO
        expect(errno.EINVAL, vring.wait_ready, 0)
        expect(errno.ETIMEDOUT, vring.wait_ready, 1, 0.01)
        vring.close()
        expect(errno.EINVAL, frame.cmd_acquire, vkapp.begin(), 0, 0)   # closed with its ring
    expect(errno.EINVAL, imp.import_ring, desc)
    gc.collect()
    assert open_fds() == before


# ---------------------------------------------------------------- CUDA producers

@pytest.fixture
def cuda_ctx():
    ctx = context_or_skip("cuda", "no CUDA backend")
    yield ctx
    ctx.close()


@pytest.fixture
def cuda_gl(cuda_ctx):
    """A GL context on the CUDA producer's GPU, current."""
    g = gl_for(cuda_ctx)
    yield g
    g.release()


@pytest.mark.parametrize("fmt", ["rgba8", "bgra8", "r8", "rgba16f", "rgba32f"])
def test_cuda_ring_into_gl(cuda_gl, cuda_ctx, fmt):
    gl = cuda_gl
    before = open_fds()
    with cuda_ctx.ring(3, W, H, fmt) as ring, igl.Importer() as imp:
        assert ring.has_timelines and imp.has_timelines
        with ring.export() as desc:
            gring = imp.import_ring(desc)
        for n in range(1, 8):     # more frames than slots: the producer waits for releases
            k, a = produce(ring, fmt, seed=n, timeout=5.0)
            gring.wait_ready(k, timeout=5.0)
            tex = gring.acquire(k)
            assert_pixels(gl.draw(tex, W, H), fmt, a, "GL from CUDA %s frame %d" % (fmt, k))
            gring.release(k)
        gring.close()
    assert open_fds() == before


def test_cuda_mailbox_into_gl_and_vulkan(cuda_gl, cuda_ctx):
    gl = cuda_gl
    from vkdevice import VkApp
    try:
        app = VkApp(uuid=bytes(cuda_ctx.native.device_uuid))
    except (OSError, RuntimeError) as e:
        pytest.skip("no Vulkan device for the CUDA device: %s" % e)
    before = open_fds()
    importers = []
    try:
        # One ring per consumer: a MAILBOX ring has one consumer.
        ring_gl, ring_vk = (cuda_ctx.ring(3, W, H, "rgba8", mode="mailbox") for _ in range(2))
        imp_gl, imp_vk = igl.Importer(), vk_importer(app)
        importers += [imp_gl, imp_vk]
        with ring_gl.export() as d1, ring_vk.export() as d2:
            gring, vring = imp_gl.import_ring(d1), imp_vk.import_ring(d2)
        assert vring.ready_semaphore and vring.release_semaphore
        frames = dict(produce(ring_gl, "rgba8", seed=n, timeout=5.0) for n in range(1, 6))
        kg = gring.take_latest(1.0)
        assert kg == 5
        gring.wait_ready(kg, 5.0)
        assert_pixels(gl.draw(gring.acquire(kg), W, H), "rgba8", frames[kg], "GL mailbox")
        gring.release(kg)
        frames = dict(produce(ring_vk, "rgba8", seed=n, timeout=5.0) for n in range(1, 6))
        kv = vring.take_latest(1.0)
        assert kv == 5
        vring.wait_ready(kv, 5.0)
        frame = vring.frame(kv)
        assert frame.image and frame.view
        check_vk_frame(app, frame, "rgba8", frames[kv], "Vulkan mailbox", vring, kv)
        gring.close(), vring.close(), imp_gl.close(), imp_vk.close()
        ring_gl.close(), ring_vk.close()
        gc.collect()
        # Counted while the consumer's device lives, as `before` was:
        # destroying it closes the driver's own fds.
        after = open_fds()
    finally:
        for imp in importers:   # with their rings, before the device they use
            imp.close()
        app.close()
    assert after == before


def test_torch_frames_into_gl_and_vulkan(cuda_gl, cuda_ctx):
    """PyTorch writes each frame through torch.from_dlpack on a stream of its
    own (ring.frame() joins torch's current stream); GL and Vulkan, each on a
    ring of its own, draw every frame, compared pixel by pixel with what
    torch wrote."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch sees no CUDA device")
    from vkdevice import VkApp
    try:
        app = VkApp(uuid=bytes(cuda_ctx.native.device_uuid))
    except (OSError, RuntimeError) as e:
        pytest.skip("no Vulkan device for the CUDA device: %s" % e)
    gl, fmt = cuda_gl, "rgba8"
    side = torch.cuda.Stream()   # torch's CUDA set up (its fds opened) before counting
    with torch.cuda.stream(side):
        torch.cuda._sleep(1000)
        torch.zeros(W * H * 4, dtype=torch.uint8, device="cuda").add_(1)
    torch.cuda.synchronize()
    before = open_fds()
    importers = []
    try:
        rings = [cuda_ctx.ring(3, W, H, fmt) for _ in range(2)]
        imp_gl, imp_vk = igl.Importer(), vk_importer(app)
        importers += [imp_gl, imp_vk]
        with rings[0].export() as d1, rings[1].export() as d2:
            gring, vring = imp_gl.import_ring(d1), imp_vk.import_ring(d2)
        for n in range(1, 8):                  # more frames than slots
            a = pattern(fmt, H, W, seed=n)
            src = torch.from_numpy(a).cuda()
            for ring in rings:
                with torch.cuda.stream(side), ring.frame(timeout=5.0) as img:
                    t = torch.from_dlpack(img)
                    assert t.data_ptr() == img.device_ptr
                    torch.cuda._sleep(100_000_000)   # ~50 ms first: ready must wait for it
                    t.copy_(src)
                    del t
            k = rings[0].frame_number
            assert k == rings[1].frame_number == n
            gring.wait_ready(k, timeout=5.0)
            assert_pixels(gl.draw(gring.acquire(k), W, H), fmt, a, "GL, torch frame %d" % k)
            gring.release(k)
            check_vk_frame(app, vring.frame(k), fmt, a, "Vulkan, torch frame %d" % k, vring, k)
        gring.close(), vring.close(), imp_gl.close(), imp_vk.close()
        for ring in rings:
            ring.close()
        del src
        gc.collect()
        after = open_fds()   # while the consumer's device lives, as `before`
    finally:
        for imp in importers:   # with their rings, before the device they use
            imp.close()
        app.close()
    assert after == before
