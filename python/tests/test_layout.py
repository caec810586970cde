"""The ctypes structs match the C header: offset and size of every field, and its size of
every struct the binding declares, printed by a C program compiled against
include/interop_fd/interop_fd.h, gl.h and vulkan.h. Skips where there is no C
compiler."""

import ctypes
import os
import shutil
import subprocess

import pytest

from interop_fd import _lib

INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include")
STRUCTS = {"ifd_format_info": _lib.FormatInfo, "ifd_context_native": _lib.ContextNative,
           "ifd_image_native": _lib.ImageNative, "ifd_frame_desc": _lib.FrameDescStruct,
           "ifd_ring_desc": _lib.RingDescStruct,
           "ifd_gl_frame_native": _lib.GLFrameNative, "ifd_vk_device_info": _lib.VkDeviceInfo,
           "ifd_vk_frame_native": _lib.VkFrameNative,
           "ifd_vk_device_extension": _lib.VkDeviceExtension}


def test_structs_match_the_header(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to read the header's layout")
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <interop_fd/interop_fd.h>",
             "#include <interop_fd/gl.h>", "#include <interop_fd/vulkan.h>",
             "int main(void) {"]
    for cname, py in STRUCTS.items():
        lines.append('printf("%s size %%zu\\n", sizeof(%s));' % (cname, cname))
        for field, _ in py._fields_:
            lines.append('printf("%s %s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (cname, field, cname, field, cname, field))
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", INCLUDE, str(src), "-o", str(exe)], check=True)
    want = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split("\n")
    got = []
    for cname, py in STRUCTS.items():
        got.append("%s size %d" % (cname, ctypes.sizeof(py)))
        got += ["%s %s %d %d" % (cname, f, getattr(py, f).offset, getattr(py, f).size)
                for f, _ in py._fields_]
    assert got == [w for w in want if w]
