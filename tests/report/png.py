"""A minimal PNG decoder (8-bit greyscale/RGB/RGBA, non-interlaced) for the browser test."""

from __future__ import annotations

import struct
import zlib

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, unfiltered rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    off, idat, hdr = 8, b"", None
    while off < len(data):
        length, kind = struct.unpack_from(">I4s", data, off)
        body = data[off + 8: off + 8 + length]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        off += 12 + length
    assert hdr is not None
    width, height, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and ctype in _CHANNELS and interlace == 0, hdr
    bpp = _CHANNELS[ctype]
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1: (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                line[i] = (line[i] + _paeth(a, b, c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def colours(rows: list[bytes], bpp: int, step: int = 7) -> set[bytes]:
    """The distinct pixel values of a sample of the image."""
    return {row[i: i + bpp] for row in rows[::step] for i in range(0, len(row), bpp * step)}
