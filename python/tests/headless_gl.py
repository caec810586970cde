"""Headless GL contexts for the consumer tests: moderngl's standalone EGL
context where moderngl is installed, else PyOpenGL over EGL (Debian's
python3-opengl is pure Python, so it also runs where no moderngl is built for
the Python in use). IFD_TEST_GL=moderngl or =pyopengl picks one.

Both offer the same small interface, on EGL device `index`:
    .renderer           GL_RENDERER
    .make_current()
    .draw(texture, w, h) the texture's texels (texelFetch) drawn into a w x h
                        RGBA32F framebuffer, read back: (h, w, 4) float32
    .other_context()    a second context on the same device, current from
                        then on; its .release() destroys it
    .release()          destroys the context
Creating one on an index past the last device raises (any exception)."""

import ctypes
import os

import numpy as np

VERTEX = """#version 450
void main() {
    vec2 p = vec2(float((gl_VertexID & 1) << 2) - 1.0, float((gl_VertexID & 2) << 1) - 1.0);
    gl_Position = vec4(p, 0.0, 1.0);
}"""
FRAGMENT = """#version 450
uniform sampler2D frame;
out vec4 color;
void main() { color = texelFetch(frame, ivec2(gl_FragCoord.xy), 0); }"""

CHOICES = ("moderngl", "pyopengl")


def backend():
    """(name, module) of the GL binding to use, or (None, reason)."""
    want = os.environ.get("IFD_TEST_GL", "")
    if want and want not in CHOICES:
        return None, "IFD_TEST_GL must be one of %s, not %r" % (", ".join(CHOICES), want)
    reasons = []
    for name in [want] if want else CHOICES:
        try:
            if name == "pyopengl":
                os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # before OpenGL loads
                import OpenGL.EGL  # noqa: F401
                import OpenGL.GL  # noqa: F401
                return name, PyOpenGLContext
            import moderngl  # noqa: F401
            return name, ModernGLContext
        except ImportError as e:
            reasons.append("%s: %s" % (name, e))
    return None, ("no GL binding for Python (Debian: python3-moderngl or python3-opengl): " +
                  "; ".join(reasons))


class ModernGLContext:
    def __init__(self, index):
        import moderngl
        self.moderngl = moderngl
        self.index = index
        self.ctx = moderngl.create_standalone_context(backend="egl", require=450,
                                                      device_index=index)
        self.renderer = self.ctx.info["GL_RENDERER"]
        self.prog = self.ctx.program(vertex_shader=VERTEX, fragment_shader=FRAGMENT)
        self.vao = self.ctx.vertex_array(self.prog, [])

    def make_current(self):
        self.ctx.__enter__()

    def draw(self, texture, w, h):
        assert texture != 0
        tex = self.ctx.external_texture(texture, (w, h), 4, 0, "f1")
        fbo = self.ctx.simple_framebuffer((w, h), components=4, dtype="f4")
        fbo.use()
        fbo.clear(-1.0, -1.0, -1.0, -1.0)
        tex.use(0)
        self.prog["frame"] = 0
        self.vao.render(mode=self.moderngl.TRIANGLES, vertices=3)
        out = np.frombuffer(fbo.read(components=4, dtype="f4"), np.float32).reshape(h, w, 4)
        fbo.release()
        return out.copy()

    def other_context(self):
        return self.moderngl.create_standalone_context(backend="egl", require=450,
                                                       device_index=self.index)

    def release(self):
        self.ctx.release()


class _EGL:
    """The EGL calls PyOpenGL leaves out: its wrappers check a client
    extension (EGL_EXT_device_enumeration) against a display's extensions,
    which fails before a display exists, so these come from eglGetProcAddress."""

    def __init__(self, egl):
        def fn(name, *types):
            address = egl.eglGetProcAddress(name.encode())
            if not address:
                raise RuntimeError("EGL has no %s" % name)
            return ctypes.CFUNCTYPE(*types)(ctypes.cast(address, ctypes.c_void_p).value)
        self.query_devices = fn("eglQueryDevicesEXT", ctypes.c_uint, ctypes.c_int,
                                ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int))
        self.platform_display = fn("eglGetPlatformDisplayEXT", ctypes.c_void_p, ctypes.c_uint,
                                   ctypes.c_void_p, ctypes.c_void_p)


class PyOpenGLContext:
    EGL_PLATFORM_DEVICE_EXT = 0x313F
    EGL_CONTEXT_MAJOR_VERSION = 0x3098
    EGL_CONTEXT_MINOR_VERSION = 0x30FB
    EGL_CONTEXT_OPENGL_PROFILE_MASK = 0x30FD
    EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT = 1

    def __init__(self, index):
        from OpenGL import EGL
        from OpenGL import GL
        self.EGL, self.GL = EGL, GL
        ext = _EGL(EGL)
        devices = (ctypes.c_void_p * 16)()
        n = ctypes.c_int()
        if not ext.query_devices(16, devices, ctypes.byref(n)) or index >= n.value:
            raise RuntimeError("no EGL device %d (%d listed)" % (index, n.value))
        dpy = ext.platform_display(self.EGL_PLATFORM_DEVICE_EXT, devices[index], None)
        self.dpy = ctypes.cast(dpy, EGL.EGLDisplay)
        # Out-parameters as one-element arrays, not ctypes.byref: PyOpenGL
        # 3.1.6 on Python 3.12 has no array handler for byref's CArgObject.
        major, minor = (EGL.EGLint * 1)(), (EGL.EGLint * 1)()
        if not dpy or not EGL.eglInitialize(self.dpy, major, minor):
            raise RuntimeError("EGL device %d: eglInitialize failed" % index)
        attrs = (EGL.EGLint * 5)(EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT,
                                 EGL.EGL_SURFACE_TYPE, EGL.EGL_PBUFFER_BIT, EGL.EGL_NONE)
        configs, count = (EGL.EGLConfig * 1)(), (EGL.EGLint * 1)()
        if not EGL.eglChooseConfig(self.dpy, attrs, configs, 1, count) or count[0] < 1:
            raise RuntimeError("EGL device %d: no config for desktop GL" % index)
        self.config = configs[0]
        self.ctx = self._context()
        self.make_current()
        self.renderer = GL.glGetString(GL.GL_RENDERER).decode()
        self.prog = self._program()
        self.vao = GL.glGenVertexArrays(1)

    def _context(self):
        EGL = self.EGL
        EGL.eglBindAPI(EGL.EGL_OPENGL_API)
        attrs = (EGL.EGLint * 7)(self.EGL_CONTEXT_MAJOR_VERSION, 4,
                                 self.EGL_CONTEXT_MINOR_VERSION, 5,
                                 self.EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                 self.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL.EGL_NONE)
        ctx = EGL.eglCreateContext(self.dpy, self.config, EGL.EGL_NO_CONTEXT, attrs)
        if not ctx:
            raise RuntimeError("eglCreateContext: no GL 4.5 core context")
        return ctx

    def _program(self):
        GL = self.GL
        prog = GL.glCreateProgram()
        for kind, text in ((GL.GL_VERTEX_SHADER, VERTEX), (GL.GL_FRAGMENT_SHADER, FRAGMENT)):
            shader = GL.glCreateShader(kind)
            GL.glShaderSource(shader, text)
            GL.glCompileShader(shader)
            if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
                raise RuntimeError(GL.glGetShaderInfoLog(shader))
            GL.glAttachShader(prog, shader)
            GL.glDeleteShader(shader)
        GL.glLinkProgram(prog)
        if not GL.glGetProgramiv(prog, GL.GL_LINK_STATUS):
            raise RuntimeError(GL.glGetProgramInfoLog(prog))
        return prog

    def make_current(self, ctx=None):
        EGL = self.EGL
        if not EGL.eglMakeCurrent(self.dpy, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE,
                                  ctx or self.ctx):
            raise RuntimeError("eglMakeCurrent failed")

    def draw(self, texture, w, h):
        GL = self.GL
        assert texture != 0
        target = GL.glGenTextures(1)
        GL.glBindTexture(GL.GL_TEXTURE_2D, target)
        GL.glTexStorage2D(GL.GL_TEXTURE_2D, 1, GL.GL_RGBA32F, w, h)
        fbo = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D,
                                  target, 0)
        GL.glViewport(0, 0, w, h)
        GL.glClearColor(-1.0, -1.0, -1.0, -1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        GL.glUseProgram(self.prog)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glUniform1i(GL.glGetUniformLocation(self.prog, "frame"), 0)
        GL.glBindVertexArray(self.vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        out = np.empty((h, w, 4), np.float32)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glReadPixels(0, 0, w, h, GL.GL_RGBA, GL.GL_FLOAT, out)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glDeleteFramebuffers(1, [fbo])
        GL.glDeleteTextures(1, [target])
        return out

    def other_context(self):
        return _OtherContext(self)

    def release(self):
        EGL = self.EGL
        if self.ctx is None:
            return
        # Not eglTerminate: the display is the device's, shared by every
        # context made on it in this process.
        EGL.eglMakeCurrent(self.dpy, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(self.dpy, self.ctx)
        self.ctx = None


class _OtherContext:
    def __init__(self, owner):
        self.owner = owner
        self.ctx = owner._context()
        owner.make_current(self.ctx)

    def release(self):
        EGL = self.owner.EGL
        EGL.eglMakeCurrent(self.owner.dpy, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE,
                           EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(self.owner.dpy, self.ctx)
