"""python3 -m interop_fd.demo: its network is the C demo's (weights and
pixels checked against tools/producer/cppn.c compiled here), and its frames
reach PNG files through `interop-fd view` in another process (and through
the in-process presenter), each the network's frame k for its file name."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from interop_fd import _lib, demo
from test_examples import assert_png, run_module

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def reference(k, w, h):
    """Frame k as the demo draws it with NumPy: (h, w, 4) uint8."""
    out = np.zeros((h, w, 4), np.uint8)
    demo.Network(np, w, h).draw(out, k)
    return out


C_PROGRAM = r"""
#include <stdio.h>
#include "interop_fd/interop_fd.h"
#include "producer/cppn.h"
int main(void) {
  cppn_params p;
  cppn_params_init(&p, 1);
  for (int i = 0; i < CPPN_B4 + CPPN_OUT; i++) printf("%.9g\n", p.v[i]);
  cppn_frame_args a;
  cppn_frame_args_init(&a, W_, H_, W_ * 4, MAX_FMT_RGBA8, FRAME_);
  for (unsigned y = 0; y < H_; y++)
    for (unsigned x = 0; x < W_; x++) {
      float c[4];
      cppn_pixel(&p, &a, x, y, c);
      printf("%.9g %.9g %.9g\n", c[0], c[1], c[2]);
    }
  return 0;
}
"""


def test_network_is_the_c_demos(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to run the C network")
    w, h, k = 11, 7, 5           # the C frame argument is k - 1
    src = tmp_path / "net.c"
    src.write_text(C_PROGRAM.replace("W_", str(w)).replace("H_", str(h))
                   .replace("FRAME_", str(k - 1)))
    lib_dir = os.path.dirname(os.path.realpath(_lib.library_path()))
    exe = tmp_path / "net"
    subprocess.run([cc, "-std=c11", "-O1", "-I", os.path.join(ROOT, "include"),
                    "-I", os.path.join(ROOT, "tools"), str(src),
                    os.path.join(ROOT, "tools", "producer", "cppn.c"), "-o", str(exe),
                    "-L", lib_dir, "-Wl,-rpath," + lib_dir, "-l:" + os.path.basename(
                        os.path.realpath(_lib.library_path())), "-lm"], check=True)
    values = [float(v) for v in subprocess.run([str(exe)], check=True, capture_output=True,
                                               text=True).stdout.split()]
    flat = [v for layer in demo.weights() for row in layer for v in row]
    assert len(flat) == 691
    assert (np.array(values[:691], np.float32) == np.array(flat, np.float32)).all()  # bit for bit
    want = np.array(values[691:], np.float64).reshape(h, w, 3)
    got = demo.Network(np, w, h).rgb(k)
    assert np.abs(got - want).max() < 1e-5
    assert np.abs(demo.Network(np, w, h).rgb(k + 1) - want).max() > 1e-3   # time moves


def test_network_on_cuda_matches_numpy():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch sees no CUDA device")
    w, h, k = 64, 36, 7
    got = demo.Network(torch, w, h, "cuda").rgb(k).cpu().numpy()
    assert np.abs(got - demo.Network(np, w, h).rgb(k)).max() < 1e-4
    view = torch.zeros((h, w, 4), dtype=torch.uint8, device="cuda")
    demo.Network(torch, w, h, "cuda").draw(view, k)
    assert np.abs(view.cpu().numpy().astype(int) - reference(k, w, h)).max() <= 1


def check_pngs(out, w, h, frames):
    """Each frame-<k>.png is the network's frame k; returns the ks (increasing)."""
    names = sorted(n for n in os.listdir(out) if n.endswith(".png"))
    ks = [int(re.match(r"frame-(\d{6})\.png$", n).group(1)) for n in names]
    assert len(ks) == frames and len(set(ks)) == frames, names
    for k, name in zip(ks, names):
        want = reference(k, w, h)
        assert_png(os.path.join(out, name), want, "%s (frame %d)" % (name, k), tol=1)
    return ks


def test_demo_in_process(tmp_path):
    pytest.importorskip("moderngl", reason="moderngl is not installed (Debian: python3-moderngl)")
    w, h = 37, 21
    r = run_module("interop_fd.demo", "--in-process", "--out", str(tmp_path), "--frames", "3",
                   "--size", "%dx%d" % (w, h))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "presenter: this process" in r.stdout
    assert check_pngs(tmp_path, w, h, 3) == [1, 2, 3]


def view_tool(monkeypatch):
    """An interop-fd with the view command, or a skip with the reason."""
    tool = os.environ.get("IFD_TOOL")
    if not tool and os.environ.get("IFD_BUILD_DIR"):
        tool = os.path.join(os.environ["IFD_BUILD_DIR"], "tools", "interop-fd")
    if tool:
        monkeypatch.setenv("IFD_TOOL", tool)
    found, why = demo.find_tool()
    if not found:
        pytest.skip("no `interop-fd view` to present the demo: %s" % why)
    return found


@pytest.mark.parametrize("mode", ["fifo", "mailbox"])
def test_demo_served_to_interop_fd_view(tmp_path, monkeypatch, mode):
    tool = view_tool(monkeypatch)
    w, h, frames = 48, 27, 6
    r = run_module("interop_fd.demo", "--out", str(tmp_path), "--frames", str(frames),
                   "--size", "%dx%d" % (w, h), "--mode", mode, env={"IFD_TOOL": tool})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "%s view --connect" % tool in r.stdout
    assert "a %s ring of 3" % mode in r.stdout
    assert "drew %d frames" % frames in r.stdout
    ks = check_pngs(tmp_path, w, h, frames)
    if mode == "fifo":
        assert ks == list(range(1, frames + 1))    # every frame, from the first (attached first)
    frame_check = os.path.join(os.path.dirname(tool), "frame_check")
    if os.access(frame_check, os.X_OK):           # the C reference too, where it is built
        c = subprocess.run([frame_check] + sorted(str(p) for p in tmp_path.iterdir()),
                           capture_output=True, text=True)
        assert c.returncode == 0, c.stdout + c.stderr
