"""The few CUDA driver calls the binding needs to order streams, through
libcuda.so.1 with ctypes (no CUDA Python package, no toolkit).

Streams are CUstream values as ints; 0 is the legacy default stream, as are
1 (CU_STREAM_LEGACY) and 2 (CU_STREAM_PER_THREAD), which the driver accepts
in every stream argument.
"""

import ctypes
import errno

from ._lib import Error

_P = ctypes.c_void_p
_driver = None

CU_EVENT_DISABLE_TIMING = 2


def driver():
    global _driver
    if _driver is None:
        try:
            d = ctypes.CDLL("libcuda.so.1")
        except OSError as e:
            raise Error(errno.ENODEV, "cannot load libcuda.so.1 (%s)" % e, "interop_fd._cuda")
        for name, args in (("cuInit", [ctypes.c_uint]),
                           ("cuCtxGetCurrent", [ctypes.POINTER(_P)]),
                           ("cuCtxPushCurrent_v2", [_P]),
                           ("cuCtxPopCurrent_v2", [ctypes.POINTER(_P)]),
                           ("cuStreamGetCtx", [_P, ctypes.POINTER(_P)]),
                           ("cuEventCreate", [ctypes.POINTER(_P), ctypes.c_uint]),
                           ("cuEventRecord", [_P, _P]),
                           ("cuEventDestroy_v2", [_P]),
                           ("cuStreamWaitEvent", [_P, _P, ctypes.c_uint]),
                           ("cuStreamSynchronize", [_P])):
            try:
                fn = getattr(d, name)
            except AttributeError:  # a driver without it: the call that needs it says so
                continue
            fn.restype = ctypes.c_int
            fn.argtypes = args
        _check(d.cuInit(0), "cuInit")
        _driver = d
    return _driver


def _check(r, call):
    if r != 0:
        raise Error(errno.EIO, "CUDA driver error %d" % r, call)


def stream_handle(stream):
    """The CUstream of `stream`: an int, a torch.cuda.Stream (.cuda_stream),
    a cupy.cuda.Stream (.ptr), or anything with __cuda_stream__ (the CUDA
    stream protocol: returns (version, handle))."""
    if stream is None:
        return 0
    if isinstance(stream, int):
        return stream
    if hasattr(stream, "__cuda_stream__"):
        return int(stream.__cuda_stream__()[1])
    for attr in ("cuda_stream", "ptr", "handle"):
        if hasattr(stream, attr):
            return int(getattr(stream, attr))
    raise Error(errno.EINVAL, "not a CUDA stream: %r (give an int CUstream, a "
                "torch.cuda.Stream or a cupy.cuda.Stream)" % (stream,), "stream")


def stream_context(stream):
    """The CUcontext that owns `stream` (the current one for the default streams)."""
    d = driver()
    ctx = _P()
    if stream in (0, 1, 2):
        _check(d.cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
    else:
        if not hasattr(d, "cuStreamGetCtx"):
            raise Error(errno.ENOSYS, "this CUDA driver has no cuStreamGetCtx: cannot tell "
                        "which context owns the stream", "cuStreamGetCtx")
        _check(d.cuStreamGetCtx(_P(stream), ctypes.byref(ctx)), "cuStreamGetCtx")
    if not ctx.value:
        raise Error(errno.EINVAL, "no current CUDA context for the default stream: pass "
                    "a stream, or initialise CUDA (e.g. torch.cuda.init()) first",
                    "cuCtxGetCurrent")
    return ctx.value


def stream_wait(waiter, waiter_ctx, signaller, signaller_ctx):
    """Makes later work on stream `waiter` wait for the work enqueued so far on
    stream `signaller` (an event recorded on the one, waited for on the other;
    both on the device, the host never blocks). The contexts are the streams'
    own (needed for the default streams, which name a stream per context)."""
    if waiter == signaller and waiter_ctx == signaller_ctx:
        return
    d = driver()
    ev = _P()
    popped = _P()
    _check(d.cuCtxPushCurrent_v2(_P(signaller_ctx)), "cuCtxPushCurrent")
    try:
        _check(d.cuEventCreate(ctypes.byref(ev), CU_EVENT_DISABLE_TIMING), "cuEventCreate")
        try:
            _check(d.cuEventRecord(ev, _P(signaller)), "cuEventRecord")
            _check(d.cuCtxPushCurrent_v2(_P(waiter_ctx)), "cuCtxPushCurrent")
            try:
                # The event may belong to another context of the same device.
                _check(d.cuStreamWaitEvent(_P(waiter), ev, 0), "cuStreamWaitEvent")
            finally:
                d.cuCtxPopCurrent_v2(ctypes.byref(popped))
        finally:
            d.cuEventDestroy_v2(ev)  # freed once the recorded work completes
    finally:
        d.cuCtxPopCurrent_v2(ctypes.byref(popped))


def synchronize(stream, ctx):
    d = driver()
    popped = _P()
    _check(d.cuCtxPushCurrent_v2(_P(ctx)), "cuCtxPushCurrent")
    try:
        _check(d.cuStreamSynchronize(_P(stream)), "cuStreamSynchronize")
    finally:
        d.cuCtxPopCurrent_v2(ctypes.byref(popped))


def library_streams():
    """The current streams of the tensor libraries this process already
    imported (torch, cupy), as CUstream ints; libraries not imported, or
    whose CUDA is not initialised, are left alone (never imported here)."""
    import sys
    out = []
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_initialized():
                out.append(int(torch.cuda.current_stream().cuda_stream))
        except Exception:  # a torch without CUDA
            pass
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        try:
            out.append(int(cupy.cuda.get_current_stream().ptr))
        except Exception:
            pass
    return out
