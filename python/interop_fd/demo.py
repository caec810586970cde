"""The Python demo: a PyTorch network draws every frame on the GPU straight
into an interop_fd ring, and the C presenter shows it from another process.

    python3 -m interop_fd.demo [--frames N] [--size WxH] [--out DIR] [--headless]
                               [--mode fifo|mailbox] [--socket PATH] [--in-process]

The network is the C demo's (tools/producer/cppn.c): position and time in,
colour out, 5 -> 16 -> 16 -> 16 -> 3 with tanh, sin, tanh and a sigmoid, the
same weights (xorshift32, seed 1), so it draws the same picture; frame k is
drawn at time (k - 1) / 60 s. With CUDA and PyTorch it runs for every pixel
on the GPU and writes the frame's VRAM through torch.from_dlpack; on a
CPU-only machine NumPy writes the Vulkan backend's frame through img.map().

The ring is served (ring.serve) and `interop-fd view --connect PATH` draws
it: in a window where there is a display, else into PNG files (--out,
default interop-fd-frames/, frame-NNNNNN.png for frame k). The tool is
IFD_TOOL, the interop-fd of the build tree the library came from, or the
one on PATH. Without it, or with --in-process, this process draws the
frames itself with moderngl (interop_fd.examples.view_moderngl) into PNG
files.
"""

import argparse
import errno
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import interop_fd as ifd

IN, HIDDEN, OUT = 5, 16, 3
ZOOM = 1.5
# (rows, columns, scale) of W1, b1, W2, b2, W3, b3, W4, b4, in cppn_params_init's order.
LAYERS = [(HIDDEN, IN, 3.0), (HIDDEN, 1, 0.5), (HIDDEN, HIDDEN, 1.4), (HIDDEN, 1, 0.5),
          (HIDDEN, HIDDEN, 0.7), (HIDDEN, 1, 0.3), (OUT, HIDDEN, 1.8), (OUT, 1, 0.2)]


def weights(seed=1):
    """The C demo's weights, as nested lists of floats: xorshift32 from the
    seed, each value uniform in [-1, 1) times its layer's scale, rounded to
    float32 as C stores them."""
    import struct

    def f32(v):
        return struct.unpack("f", struct.pack("f", v))[0]
    s = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1
    out = []
    for rows, cols, scale in LAYERS:
        values = []
        for _ in range(rows * cols):
            s ^= (s << 13) & 0xFFFFFFFF
            s ^= s >> 17
            s ^= (s << 5) & 0xFFFFFFFF
            values.append(f32(f32(s / 4294967296.0 * 2.0 - 1.0) * f32(scale)))
        out.append([values[r * cols:(r + 1) * cols] for r in range(rows)])
    return out


class Network:
    """The CPPN over a (height, width) grid, in NumPy or torch (`xp`, with
    `device` for torch): draw(view, k) writes frame k into an (h, w, 4)
    uint8 array or tensor."""

    def __init__(self, xp, width, height, device=None):
        self.xp = xp
        if device:    # torch
            self.tensor = lambda v: xp.tensor(v, dtype=xp.float32, device=device)
        else:
            self.tensor = lambda v: xp.asarray(v, dtype=xp.float32)
        self.params = [self.tensor(p) for p in weights()]
        for i in (1, 3, 5, 7):                     # biases: rows -> one vector
            self.params[i] = self.params[i].reshape(-1)
        w, h = float(width), float(height)
        px = self.tensor([(x + 0.5) / w * 2.0 - 1.0 for x in range(width)])
        py = self.tensor([(y + 0.5) / h * 2.0 - 1.0 for y in range(height)])
        x = (ZOOM * px * max(1.0, w / h)).reshape(1, width) + 0 * py.reshape(height, 1)
        y = (ZOOM * py * max(1.0, h / w)).reshape(height, 1) + 0 * px.reshape(1, width)
        self.x, self.y = x.reshape(-1), y.reshape(-1)
        self.r = (self.x * self.x + self.y * self.y) ** 0.5
        self.shape = (height, width)

    def rgb(self, k):
        """Frame k's colours: (h, w, 3) floats in [0, 1]."""
        xp = self.xp
        t = (k - 1) / 60.0
        ones = self.x * 0 + 1
        inputs = xp.stack([self.x, self.y, self.r, ones * math.sin(t), ones * math.cos(0.7 * t)],
                          -1)                                         # (pixels, 5)
        w1, b1, w2, b2, w3, b3, w4, b4 = self.params
        h1 = xp.tanh(inputs @ w1.T + b1)
        h2 = xp.sin(h1 @ w2.T + b2)
        h3 = xp.tanh(h2 @ w3.T + b3)
        out = 1.0 / (1.0 + xp.exp(-(h3 @ w4.T + b4)))
        return out.reshape(self.shape + (3,))

    def draw(self, view, k):
        view[..., :3] = (self.xp.clip(self.rgb(k), 0.0, 1.0) * 255.0).round()
        view[..., 3] = 255


def producer(backend, size):
    """(context, frame -> writable view, Network factory, default size)."""
    if backend in ("auto", "cuda"):
        try:
            import torch
            if torch.cuda.is_available():
                ctx = ifd.Context.from_cuda_stream(torch.cuda.current_stream())
                return ctx, torch.from_dlpack, lambda w, h: Network(torch, w, h, "cuda"), \
                    size or (1920, 1080)
            reason = "PyTorch sees no CUDA device"
        except ImportError:
            reason = "no PyTorch"
        if backend == "cuda":
            raise SystemExit("--backend cuda: %s" % reason)
    import numpy
    ctx = ifd.Context("vulkan")
    return ctx, lambda img: img.map(), lambda w, h: Network(numpy, w, h), size or (480, 270)


def find_tool():
    """The interop-fd tool with a `view` command, or (None, why not)."""
    lib_dir = os.path.dirname(os.path.realpath(ifd.library_path()))
    candidates = [os.environ.get("IFD_TOOL"), os.path.join(lib_dir, "tools", "interop-fd"),
                  os.path.join(lib_dir, "..", "bin", "interop-fd"), shutil.which("interop-fd")]
    if os.environ.get("IFD_TOOL"):
        candidates = candidates[:1]
    tried = []
    for tool in candidates:
        if not tool or not os.access(tool, os.X_OK):
            continue
        usage = subprocess.run([tool, "--help"], capture_output=True, text=True)
        if "interop-fd view" in usage.stdout + usage.stderr:
            return tool, None
        tried.append("%s has no view command" % tool)
    return None, "; ".join(tried) or "no interop-fd tool (IFD_TOOL, next to the library, PATH)"


def serve_and_view(ring, net, write, tool, args, headless):
    """Serves the ring, starts `interop-fd view` on it and produces frames
    until the viewer exits; returns the viewer's exit status."""
    path = args.socket or os.path.join(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir(),
                                       "interop-fd-demo-%d.sock" % os.getpid())
    cmd = [tool, "view", "--connect", path, "--timeout", "30"]
    if headless:
        cmd += ["--out", args.out, "--frames", str(args.frames)]
    elif args.frames:
        cmd += ["--frames", str(args.frames)]
    with ring.serve(path) as server:
        print("serving %s; %s" % (path, " ".join(cmd)), flush=True)
        viewer = subprocess.Popen(cmd)
        try:
            # Frames before the viewer attaches would be released unseen: wait for it.
            while not server.stats["attached"] and viewer.poll() is None:
                time.sleep(0.01)
            produce_until(ring, net, write, viewer.poll)
            return viewer.wait()
        finally:
            if viewer.poll() is None:
                viewer.terminate()
                viewer.wait()


def produce_until(ring, net, write, done):
    """Produces frames until done() returns something other than None."""
    start, n = time.monotonic(), 0
    while done() is None:
        try:
            with ring.frame(timeout=0.2) as img:    # a slow viewer: try again, see if it left
                net.draw(write(img), ring.frame_number)
            n += 1
        except ifd.Error as e:
            if e.errno != errno.ETIMEDOUT:
                raise
    t = time.monotonic() - start
    print("producer: %d frames in %.2f s (%.1f frames/s)" % (n, t, n / t if t else 0.0))


def in_process(ring, net, write, args):
    """Draws the frames in this process (moderngl, headless) into PNG files."""
    from .examples import view_moderngl
    try:
        import moderngl  # noqa: F401
    except ImportError:
        raise SystemExit("no presenter: no interop-fd with a view command, and no moderngl "
                         "(Debian: python3-moderngl) to draw in this process")

    def produce_frame():
        with ring.frame() as img:
            net.draw(write(img), ring.frame_number)
        return ring.frame_number
    view_moderngl.run_headless(ring, produce_frame, args.frames, args.out)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m interop_fd.demo",
                                description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=0,
                   help="frames to show (default: until the window closes; 10 headless)")
    p.add_argument("--size", default=None, help="WxH (1920x1080 on a GPU, 480x270 on a CPU)")
    p.add_argument("--out", default=None, help="write PNG files here (headless)")
    p.add_argument("--headless", action="store_true", help="no window even with a display")
    p.add_argument("--backend", choices=("auto", "cuda", "vulkan"), default="auto")
    p.add_argument("--mode", choices=("fifo", "mailbox"), default="fifo")
    p.add_argument("--socket", default=None, help="the socket to serve on")
    p.add_argument("--in-process", action="store_true",
                   help="draw in this process (moderngl) instead of `interop-fd view`")
    args = p.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x")) if args.size else None
    tool, why = (None, "--in-process") if args.in_process else find_tool()
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    headless = args.headless or args.out is not None or not display or tool is None
    if headless:
        args.out = args.out or "interop-fd-frames"
        args.frames = args.frames or 10
    mode = args.mode if tool else "fifo"    # the in-process presenter reads every frame
    ctx, write, network, (w, h) = producer(args.backend, size)
    with ctx, ctx.ring(3, w, h, "rgba8", mode=mode) as ring:
        print("producer: %s on %s, %dx%d, a %s ring of 3" % (
            "PyTorch on CUDA" if ctx.backend == "cuda" else "NumPy on Vulkan", ctx.device_name,
            w, h, mode), flush=True)
        net = network(w, h)
        if tool is None:
            print("presenter: this process, moderngl (%s)" % why, flush=True)
            return in_process(ring, net, write, args)
        return serve_and_view(ring, net, write, tool, args, headless)


if __name__ == "__main__":
    sys.exit(main())
