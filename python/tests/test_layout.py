"""The ctypes structs match the C header: offset and size of every field, and its size of
every struct the binding declares, printed by a C program compiled against
include/interop_fd/interop_fd.h, gl.h, share.h and vulkan.h. Skips where there is no C
compiler, and the Vulkan structs where <vulkan/vulkan.h> is missing (the
compiler's message says so; the others are still checked)."""

import ctypes
import os
import shutil
import subprocess

import pytest

from interop_fd import _lib

INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include")
CORE = {"ifd_format_info": _lib.FormatInfo, "ifd_context_native": _lib.ContextNative,
        "ifd_image_native": _lib.ImageNative, "ifd_frame_desc": _lib.FrameDescStruct,
        "ifd_ring_desc": _lib.RingDescStruct, "ifd_gl_frame_native": _lib.GLFrameNative,
        "ifd_serve_options": _lib.ServeOptions, "ifd_ring_server_stats": _lib.ServerStats}
VULKAN = {"ifd_vk_device_info": _lib.VkDeviceInfo, "ifd_vk_frame_native": _lib.VkFrameNative,
          "ifd_vk_device_extension": _lib.VkDeviceExtension}
HEADERS = {"core": (["interop_fd/interop_fd.h", "interop_fd/gl.h", "interop_fd/share.h"], CORE),
           "vulkan": (["interop_fd/vulkan.h"], VULKAN)}


def compile_or_skip(cc, tmp_path, name, lines):
    """Compiles lines into an executable; skips with the compiler's own words
    where a header it needs is missing (vulkan.h needs <vulkan/vulkan.h>)."""
    src = tmp_path / (name + ".c")
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / name
    r = subprocess.run([cc, "-std=c11", "-I", INCLUDE, str(src), "-o", str(exe)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        missing = [ln for ln in r.stderr.splitlines() if "No such file" in ln]
        if missing:
            pytest.skip("cannot compile against the header here: %s" % missing[0].strip())
        pytest.fail("%s does not compile:\n%s" % (src, r.stderr))
    return exe


@pytest.mark.parametrize("group", sorted(HEADERS))
def test_structs_match_the_header(tmp_path, group):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to read the header's layout")
    headers, structs = HEADERS[group]
    for h in headers:   # one line each first: a missing system header skips, with its name
        compile_or_skip(cc, tmp_path, "probe", ["#include <%s>" % h,
                                                "int main(void) { return 0; }"])
    lines = ["#include <stdio.h>", "#include <stddef.h>"] + ["#include <%s>" % h for h in headers]
    lines.append("int main(void) {")
    for cname, py in structs.items():
        lines.append('printf("%s size %%zu\\n", sizeof(%s));' % (cname, cname))
        for field, _ in py._fields_:
            lines.append('printf("%s %s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (cname, field, cname, field, cname, field))
    lines.append("return 0; }")
    exe = compile_or_skip(cc, tmp_path, "layout", lines)
    want = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split("\n")
    got = []
    for cname, py in structs.items():
        got.append("%s size %d" % (cname, ctypes.sizeof(py)))
        got += ["%s %s %d %d" % (cname, f, getattr(py, f).offset, getattr(py, f).size)
                for f, _ in py._fields_]
    assert got == [w for w in want if w]
