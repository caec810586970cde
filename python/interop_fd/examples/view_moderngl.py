"""A ring of frames drawn by a producer and shown by moderngl, with no copy.

    python3 -m interop_fd.examples.view_moderngl                  # a window, or PNGs
    python3 -m interop_fd.examples.view_moderngl --out DIR --frames 5

The producer writes each frame on its device: PyTorch on CUDA through
torch.from_dlpack(frame) where there is a GPU, else NumPy through
frame.map() on the Vulkan backend (Mesa's lavapipe on a CPU-only machine).
The consumer imports the ring's description into a moderngl context
(interop_fd.gl) and draws the frame's texture as a quad. With a display and
pyglet (Debian: python3-pyglet) that is a window; otherwise a headless EGL
context renders into a framebuffer and writes frame-NNNNNN.png (frame k)
into --out (default interop-fd-frames/).
"""

import argparse
import functools
import os
import sys

import interop_fd as ifd
from interop_fd import _png
from interop_fd import gl as igl

VERTEX = """#version 450
out vec2 uv;
void main() {                           // a quad from 4 vertices, no buffer
    vec2 p = vec2(gl_VertexID & 1, gl_VertexID >> 1);
    uv = vec2(p.x, 1.0 - p.y);          // frame row 0 at the top
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}"""
FRAGMENT = """#version 450
uniform sampler2D frame;
in vec2 uv;
out vec4 color;
void main() { color = texture(frame, uv); }"""


def picture(view, k, arange):
    """Writes frame k into `view`, an (h, w, 4) uint8 NumPy array or torch
    tensor (arange makes the index vectors of its library and device)."""
    h, w = view.shape[:2]
    x, y = arange(w).reshape(1, w), arange(h).reshape(h, 1)
    view[..., 0] = x * 255 // max(w - 1, 1)
    view[..., 1] = y * 255 // max(h - 1, 1)
    view[..., 2] = (x + y + 8 * k) % 256
    view[..., 3] = 255


def producer():
    """(context, frame -> writable view, arange): torch on CUDA, else NumPy on Vulkan."""
    try:
        import torch
        if torch.cuda.is_available():
            ctx = ifd.Context.from_cuda_stream(torch.cuda.current_stream())
            return ctx, torch.from_dlpack, lambda n: torch.arange(n, device="cuda")
    except ImportError:
        pass
    import numpy
    return ifd.Context("vulkan"), lambda img: img.map(), numpy.arange


class Viewer:
    """Draws the frames of an exported ring in a moderngl context (current)."""

    def __init__(self, gl, desc, get_proc_address=None):
        import moderngl
        self.gl = gl
        self.importer = igl.Importer(get_proc_address)     # for the context current now
        try:
            self.ring = self.importer.import_ring(desc)    # takes desc's fds
        except ifd.Error:
            self.importer.close()                          # while its context is current
            raise
        self.prog = gl.program(vertex_shader=VERTEX, fragment_shader=FRAGMENT)
        self.vao = gl.vertex_array(self.prog, [])
        self.sampler = gl.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST),
                                  repeat_x=False, repeat_y=False)
        self.strip = moderngl.TRIANGLE_STRIP
        self.textures = {}   # GL texture name -> moderngl's wrapper

    def draw(self, k, size):
        """Draws frame k (w, h) into the bound framebuffer, then gives it back."""
        name = self.ring.acquire(k)     # the GPU waits for "ready = k"; never the CPU
        if name not in self.textures:
            self.textures[name] = self.gl.external_texture(name, size, 4, 0, "f1")
        self.textures[name].use(0)
        self.sampler.use(0)
        self.vao.render(self.strip, vertices=4)
        self.ring.release(k)            # "release = k" after the draw

    def close(self):
        self.importer.close()           # closes the ring too


def headless_viewer(desc):
    """A standalone EGL context and its Viewer, on the first EGL device whose
    GL imports the producer's memory (a GPU machine lists NVIDIA's and Mesa's)."""
    import moderngl
    errors = []
    for index in range(8):
        try:
            gl = moderngl.create_standalone_context(backend="egl", require=450,
                                                    device_index=index)
        except Exception as e:  # noqa: BLE001 (past the last device)
            errors.append(str(e))
            break
        try:
            return gl, Viewer(gl, desc)
        except ifd.Error as e:
            errors.append("EGL device %d: %s" % (index, e))
            gl.release()
    raise SystemExit("no EGL device imports the frames: " + "; ".join(errors))


def run_headless(ring, produce_frame, frames, out):
    """Draws `frames` frames, each made by produce_frame() (-> k), into PNG files."""
    import numpy
    w, h = ring.width, ring.height
    with ring.export() as desc:
        gl, viewer = headless_viewer(desc)
    fbo = gl.simple_framebuffer((w, h), components=4)
    os.makedirs(out, exist_ok=True)
    for _ in range(frames):
        k = produce_frame()
        fbo.use()
        viewer.draw(k, (w, h))
        if not ring.has_timelines:      # lavapipe: this process tells its producer
            ring.release_frame(k)
        pixels = numpy.frombuffer(fbo.read(components=4), numpy.uint8).reshape(h, w, 4)
        _png.write(os.path.join(out, "frame-%06d.png" % k), pixels[::-1])   # GL: bottom row first
    viewer.close()
    gl.release()
    print("wrote %d frames of %dx%d into %s" % (frames, w, h, out))


def run_window(ring, produce_frame, frames, pyglet):
    import ctypes
    import moderngl
    # pyglet 1.5's own resize handler needs a compatibility profile, its default.
    window = pyglet.window.Window(ring.width, ring.height, "interop_fd: moderngl viewer",
                                  resizable=True)
    gl = moderngl.create_context(require=450)
    glx = ctypes.CDLL("libGL.so.1").glXGetProcAddressARB   # pyglet's context is GLX
    glx.restype, glx.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    with ring.export() as desc:
        viewer = Viewer(gl, desc, get_proc_address=lambda name: glx(name.encode()))
    for _ in range(frames):
        window.dispatch_events()
        if window.has_exit:
            break
        k = produce_frame()
        gl.screen.use()
        gl.viewport = (0, 0) + window.get_framebuffer_size()
        viewer.draw(k, (ring.width, ring.height))
        if not ring.has_timelines:
            ring.release_frame(k)
        window.flip()
    viewer.close()
    window.close()


def produce(ring, write, arange):
    with ring.frame() as img:           # waits for a free slot; "ready = k" on exit
        picture(write(img), ring.frame_number, arange)
    return ring.frame_number


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m interop_fd.examples.view_moderngl",
                                description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=None, help="frames to show (default "
                   "600 in a window, 5 headless)")
    p.add_argument("--size", default="320x180", help="WxH (default 320x180)")
    p.add_argument("--out", default=None, help="headless: write PNG files here")
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    pyglet = None
    if args.out is None and os.environ.get("DISPLAY"):
        try:
            import pyglet
        except ImportError:
            print("no pyglet (Debian: python3-pyglet): writing PNG files", file=sys.stderr)
    ctx, write, arange = producer()
    with ctx, ctx.ring(3, w, h, "rgba8") as ring:
        print("producer: %s on %s" % (ctx.backend, ctx.device_name))
        produce_frame = functools.partial(produce, ring, write, arange)
        if pyglet:
            run_window(ring, produce_frame, args.frames or 600, pyglet)
        else:
            run_headless(ring, produce_frame, args.frames or 5, args.out or "interop-fd-frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
