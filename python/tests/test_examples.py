"""The examples run: view_moderngl headless, as `python3 -m`, writes PNG files
whose pixels are the frames its producer wrote."""

import os
import subprocess
import sys

import numpy as np
import pytest

from interop_fd import _lib, _png
from interop_fd.examples import view_moderngl

PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def run_module(module, *args, timeout=120, env=None):
    """Runs `python3 -m module args` headless with this package and library
    (and `env` added); the completed process (output captured)."""
    env = dict(os.environ, IFD_LIBRARY=_lib.library_path(),
               PYTHONPATH=os.pathsep.join([PYTHON_DIR, os.environ.get("PYTHONPATH", "")]),
               **(env or {}))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run([sys.executable, "-m", module] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


def expected_frame(k, w, h):
    want = np.zeros((h, w, 4), np.uint8)
    view_moderngl.picture(want, k, np.arange)
    return want


def assert_png(path, want, what, tol=0):
    """The PNG's pixels equal `want` ((h, w, 4) uint8), within tol steps."""
    data, (w, h) = _png.read(path)
    assert (w, h) == (want.shape[1], want.shape[0]), what
    got = np.frombuffer(data, np.uint8).reshape(h, w, 4)
    bad = np.argwhere((np.abs(got.astype(int) - want) > tol).any(axis=2))
    assert bad.size == 0, "%s: %d pixels differ, first (y, x) %s: got %s, want %s" % (
        what, len(bad), tuple(bad[0]), got[tuple(bad[0])], want[tuple(bad[0])])


def test_png_round_trip(tmp_path):
    a = np.random.default_rng(3).integers(0, 256, size=(5, 7, 4), dtype=np.uint8)
    _png.write(tmp_path / "a.png", a)
    assert_png(tmp_path / "a.png", a, "PNG round trip")
    with pytest.raises(ValueError):
        _png.write(tmp_path / "b.png", a[..., :3])


def test_view_moderngl_headless(tmp_path):
    pytest.importorskip("moderngl", reason="moderngl is not installed (Debian: python3-moderngl)")
    w, h, frames = 33, 17, 4     # odd sizes: padded rows, a quad that must hit each texel
    r = run_module("interop_fd.examples.view_moderngl", "--out", str(tmp_path),
                   "--frames", str(frames), "--size", "%dx%d" % (w, h))
    if r.returncode != 0 and "no EGL device imports" in r.stderr:
        pytest.skip(r.stderr.strip().splitlines()[-1])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "wrote %d frames" % frames in r.stdout
    names = sorted(os.listdir(tmp_path))
    assert names == ["frame-%06d.png" % k for k in range(1, frames + 1)]
    for k in range(1, frames + 1):
        assert_png(tmp_path / names[k - 1], expected_frame(k, w, h), "frame %d" % k)
    assert not (expected_frame(1, w, h) == expected_frame(2, w, h)).all()
