"""PNG files from the standard library (zlib, struct): enough for the
examples to save and test frames, with no imaging package."""

import struct
import zlib


def _chunk(tag, data):
    return (struct.pack(">I", len(data)) + tag + data +
            struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))


def write(path, rgba):
    """Writes an (h, w, 4) uint8 array (NumPy, row 0 at the top) as an RGBA PNG."""
    h, w, channels = rgba.shape
    if channels != 4 or rgba.dtype.itemsize != 1:
        raise ValueError("write wants (h, w, 4) uint8 pixels, not %s %s" % (rgba.shape,
                                                                              rgba.dtype))
    rows = b"".join(b"\0" + rgba[y].tobytes() for y in range(h))   # filter 0 on each row
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)))
        f.write(_chunk(b"IDAT", zlib.compress(rows)))
        f.write(_chunk(b"IEND", b""))


def read(path):
    """Reads an 8-bit RGBA PNG without interlace (what write() and the C
    tools write; any row filter): bytes of (h, w, 4) pixels, row 0 at the
    top, and (w, h). Raises ValueError for any other PNG. Pure Python: for
    tests and small frames."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG file" % path)
    at, idat, size = 8, b"", None
    while at < len(data):
        n, tag = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        if tag == b"IHDR":
            w, h, depth, kind, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, kind, interlace) != (8, 6, 0):
                raise ValueError("%s: not 8-bit RGBA without interlace" % path)
            size = (w, h)
        elif tag == b"IDAT":
            idat += body
        at += 12 + n
    w, h = size
    raw = zlib.decompress(idat)
    stride = 4 * w
    out = bytearray(stride * h)
    prev = bytearray(stride)
    for y in range(h):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - 4] if i >= 4 else 0          # left
            b = prev[i]                              # up
            c = prev[i - 4] if i >= 4 else 0         # up-left
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif kind != 0:
                raise ValueError("%s: row %d has PNG filter %d" % (path, y, kind))
        out[y * stride:(y + 1) * stride] = row
        prev = row
    return bytes(out), size
