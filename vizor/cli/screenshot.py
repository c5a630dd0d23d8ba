"""PNG files of the framebuffer (``vizor run --screenshot``), written with zlib
and struct alone: signature, IHDR (8-bit RGB, no interlace), one IDAT
(every row with filter type 0), IEND; each chunk with its CRC-32."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, rgb: bytes) -> bytes:
    if len(rgb) != width * height * 3:
        raise ValueError("RGB data does not match the picture size")
    stride = width * 3
    raw = b"".join(b"\0" + rgb[y * stride:(y + 1) * stride] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """The inverse for the files ``png_bytes`` writes (8-bit RGB, filter 0): for tests."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height = struct.unpack_from(">II", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    return width, height, b"".join(raw[y * stride + 1:(y + 1) * stride] for y in range(height))


def board_picture(board) -> tuple[int, int, bytes] | None:
    """What the board's framebuffer shows now, or None when none is allocated."""
    return board.devices["videocore_mailbox"].framebuffer.render(board.read_ram)
