"""Ring.serve and interop_fd.connect (include/interop_fd/share.h) from
Python: a served ring read by a viewer through its link (in this process, so
the GL checks of test_consumers apply), refusals as interop_fd.Error, the
server closed with its ring, and no fd left open. The demo's test runs the
viewer in another process."""

import errno
import os
import time


import interop_fd as ifd
from conftest import open_fds
from interop_fd import gl as igl
from test_consumers import _gl_vk, gl  # noqa: F401 (the GL fixtures, for this module too)
from test_consumers import H, W, assert_pixels, expect, produce


def until(cond, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.002)
    return cond()


def test_served_ring_drawn_by_a_viewer(gl, vk_ctx, tmp_path):
    before = open_fds()
    path = str(tmp_path / "ring.sock")
    ring = vk_ctx.ring(2, W, H, "rgba8")
    server = ring.serve(path)
    assert server.path == path and os.path.exists(path)
    assert server.stats == {"attached": False, "viewers": 0, "refused": 0, "dropped": 0,
                            "released_for_viewers": 0}
    desc, link = ifd.connect(path, timeout=2.0)
    assert desc.count == 2 and desc.mode == "fifo" and desc.frames[0].width == W
    assert link.has_timelines == ring.has_timelines
    assert link.first_frame == 1 and link.poll()
    assert until(lambda: server.stats["attached"]) and server.stats["viewers"] == 1
    imp = igl.Importer()
    gring = imp.import_ring(desc)
    for n in range(1, 6):      # more frames than slots: the producer waits for the viewer
        k, a = produce(ring, "rgba8", seed=n)
        link.wait_ready(k, 1.0)        # its ready message, with timelines or without
        assert link.ended == k
        assert_pixels(gl.draw(gring.acquire(k), W, H), "rgba8", a, "served frame %d" % k)
        gring.release(k)
        if not link.has_timelines:
            expect(errno.EINVAL, link.release, k + 1)      # not ended yet
            link.release(k)
            expect(errno.EINVAL, link.release, k)          # not above the last release
    expect(errno.ETIMEDOUT, link.wait_ready, 6, 0.02)
    expect(errno.EAGAIN, link.wait_ready, 6, 0)
    if link.has_timelines:
        expect(errno.EINVAL, link.release, 5)              # the device carries release
    server.close()
    assert server.closed and not os.path.exists(path)
    assert until(lambda: not link.poll()) and not link.poll()   # the producer ended
    assert link.ended_cleanly                                  # and said so (GONE)
    expect(errno.EPIPE, link.wait_ready, 6, 0)
    gring.close()
    imp.close()
    link.close()
    expect(errno.EINVAL, link.poll)
    desc.close()
    ring.close()
    assert open_fds() == before


def test_share_refusals(vk_ctx, tmp_path):
    before = open_fds()
    path = str(tmp_path / "ring.sock")
    expect(errno.ENOENT, ifd.connect, path, 0)
    t = time.monotonic()
    expect(errno.ETIMEDOUT, ifd.connect, path, 0.05)
    assert time.monotonic() - t < 2.0
    expect(errno.EINVAL, ifd.connect, b"/tmp/x", 0)      # not a str
    ring, other = vk_ctx.ring(2, 8, 8, "r8"), vk_ctx.ring(2, 8, 8, "r8")
    server = ring.serve(path)
    e = expect(errno.EINVAL, ring.serve, str(tmp_path / "again.sock"))   # served already
    assert e.call == "ifd_ring_serve"
    expect(errno.EADDRINUSE, other.serve, path)          # a live server owns the path
    (tmp_path / "file").write_text("not a socket")
    expect(errno.EEXIST, other.serve, str(tmp_path / "file"))
    desc, link = ifd.connect(path, timeout=1.0)
    expect(errno.EBUSY, ifd.connect, path, 0)            # one viewer at a time
    assert until(lambda: server.stats["refused"] == 1)  # counted by the server's thread
    k, _ = ring.begin_frame()
    ring.end_frame(k)
    link.close()                                         # the server takes frame 1 back
    desc.close()
    desc2, link2 = ifd.connect(path, timeout=1.0)        # accepted once the first left
    assert link2.first_frame == 2 and link2.ended == 1
    assert until(lambda: server.stats["viewers"] == 2)
    ring.close()                                         # closes its server first
    assert server.closed and not os.path.exists(path)
    expect(errno.EINVAL, lambda: server.stats)
    assert until(lambda: not link2.poll()) and link2.ended_cleanly
    link2.close(), desc2.close(), other.close()
    assert open_fds() == before


def test_default_socket_path(monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1234")
    assert ifd.default_socket_path() == "/run/user/1234/interop-fd.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    expect(errno.ENOENT, ifd.default_socket_path)
