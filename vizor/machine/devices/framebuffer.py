"""The firmware framebuffer behind the VideoCore mailbox property tags 0x0004xxxx.

Raspberry Pi firmware wiki, "Mailbox property interface" (framebuffer tags):
allocate (0x00040001) / release (0x00048001) buffer, blank screen, physical
and virtual width/height, depth, pixel order, alpha mode, pitch, virtual
offset, overscan and palette, each with its get (0x0004xxxx), test
(0x0004_4xxx) and set (0x0004_8xxx) form.  ``VideoCoreMailbox`` hands every
such tag to ``Framebuffer.answer``.

The buffer lives in the GPU's share of RAM, above the ARM memory the mailbox
reports (0x3C000000): at ``FB_BASE`` = 0x3C100000.  Allocate answers the bus
address in the L2-uncached alias (``| 0xC0000000``, kernels mask it with
0x3FFFFFFF) and the size, pitch * virtual height, with pitch = virtual width
* depth / 8.  A geometry or depth change while a buffer is allocated resizes
it in place.  A buffer that would not fit in GPU memory is not allocated
(base and size 0).  Depths 8 (through the palette), 16 (RGB565), 24 and 32
are drawn by ``render``; with pixel order 1 (RGB) red is the lowest
byte (24/32 bpp) or bits 15:11 (16 bpp), the palette entry 0x00BBGGRR;
pixel order 0 (BGR) swaps red and blue.  Reset: 640x480, 16 bpp,
RGB, no buffer.

Not implemented: cursor tags, vsync, the display's blanking (stored only),
overscan (reads 0), alpha (stored; render ignores it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Callable

FB_BASE = 0x3C100000
GPU_END = 0x3F000000
BUS_ALIAS = 0xC0000000

TAG_ALLOCATE = 0x00040001
TAG_RELEASE = 0x00048001
TAG_BLANK = 0x00040002
TAG_PHYSICAL = 0x00040003
TAG_VIRTUAL = 0x00040004
TAG_DEPTH = 0x00040005
TAG_PIXEL_ORDER = 0x00040006
TAG_ALPHA = 0x00040007
TAG_PITCH = 0x00040008
TAG_OFFSET = 0x00040009
TAG_OVERSCAN = 0x0004000A
TAG_PALETTE = 0x0004000B
TEST, SET = 0x4000, 0x8000
DEPTHS = (8, 16, 24, 32)
PIXEL_BGR, PIXEL_RGB = 0, 1


@dataclass(frozen=True)
class FramebufferConfig:
    """The framebuffer's configuration (also what the snapshot carries)."""

    width: int = 640
    height: int = 480
    virtual_width: int = 640
    virtual_height: int = 480
    depth: int = 16
    pixel_order: int = PIXEL_RGB
    alpha_mode: int = 0
    x_offset: int = 0
    y_offset: int = 0
    blank: int = 0
    base: int = 0               # ARM physical address; 0: no buffer allocated
    palette: tuple[int, ...] = (0,) * 256

    @property
    def allocated(self) -> bool:
        return self.base != 0

    @property
    def pitch(self) -> int:
        return self.virtual_width * self.depth // 8

    @property
    def size(self) -> int:
        return self.pitch * self.virtual_height


def _u32(*v: int) -> bytes:
    return struct.pack(f"<{len(v)}I", *(x & 0xFFFFFFFF for x in v))


class Framebuffer:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.config = FramebufferConfig()

    def state(self) -> FramebufferConfig:
        return self.config

    def restore(self, state: FramebufferConfig) -> None:
        self.config = state

    # --------------------------------------------------------------- tags
    def answer(self, tag: int, words: tuple[int, ...]) -> bytes | None:
        """The response value buffer for a framebuffer tag, or None if unknown."""
        c = self.config
        arg = lambda i: words[i] if i < len(words) else 0  # noqa: E731
        base, op = tag & ~(TEST | SET), tag & (TEST | SET)
        if tag == TAG_ALLOCATE:
            if not c.allocated:
                self._set(base=FB_BASE)
            c = self.config
            return _u32(c.base | BUS_ALIAS, c.size) if c.allocated else _u32(0, 0)
        if tag == TAG_RELEASE:
            self.config = replace(c, base=0)
            return b""
        if base == TAG_BLANK and op == 0:
            self.config = replace(c, blank=arg(0) & 1)
            return _u32(arg(0) & 1)
        if base == TAG_PITCH and op == 0:
            return _u32(c.pitch)
        pairs = {TAG_PHYSICAL: ("width", "height"), TAG_VIRTUAL: ("virtual_width", "virtual_height"),
                 TAG_OFFSET: ("x_offset", "y_offset"), TAG_DEPTH: ("depth",),
                 TAG_PIXEL_ORDER: ("pixel_order",), TAG_ALPHA: ("alpha_mode",)}
        if base in pairs and op in (0, TEST, SET):
            names = pairs[base]
            wanted = {n: arg(i) for i, n in enumerate(names)}
            if op == 0:
                return _u32(*(getattr(c, n) for n in names))
            ok = self._valid(replace(c, **wanted))
            if op == TEST:
                return _u32(*(wanted[n] if ok else getattr(c, n) for n in names))
            if ok:
                self._set(**wanted)
            return _u32(*(getattr(self.config, n) for n in names))
        if base == TAG_OVERSCAN and op in (0, TEST, SET):
            return _u32(0, 0, 0, 0)
        if base == TAG_PALETTE:
            if op == 0:
                return _u32(*c.palette)
            first, count = arg(0), arg(1)
            if first > 255 or count < 1 or first + count > 256:
                return _u32(1)
            if op == SET:
                pal = list(c.palette)
                pal[first:first + count] = [arg(2 + i) for i in range(count)]
                self.config = replace(c, palette=tuple(pal))
            return _u32(0)
        return None

    @staticmethod
    def _valid(c: FramebufferConfig) -> bool:
        return (c.depth in DEPTHS and c.pixel_order in (0, 1) and 0 < c.width <= 4096
                and 0 < c.height <= 4096 and 0 < c.virtual_width <= 4096
                and 0 < c.virtual_height <= 4096 and c.x_offset < c.virtual_width
                and c.y_offset < c.virtual_height)

    def _set(self, **fields) -> None:
        new = replace(self.config, **fields)
        if new.allocated and new.base + new.size > GPU_END:
            new = replace(new, base=0)
        self.config = new

    # ------------------------------------------------------------- render
    def render(self, read_ram: Callable[[int, int], bytes]) -> tuple[int, int, bytes] | None:
        """The visible picture (physical size at the virtual offset) as
        (width, height, RGB bytes), or None when no buffer is allocated."""
        return render(self.config, read_ram)


def sample(c: FramebufferConfig, read_ram: Callable[[int, int], bytes], max_w: int,
           max_h: int) -> tuple[int, int, bytes] | None:
    """The visible picture scaled down (nearest pixel) to fit max_w x max_h,
    as (width, height, RGB bytes); None when no buffer is allocated."""
    if not c.allocated:
        return None
    w = min(c.width, c.virtual_width - c.x_offset)
    h = min(c.height, c.virtual_height - c.y_offset)
    if w <= max_w and h <= max_h:
        return render(c, read_ram)
    scale = max(w / max_w, h / max_h)
    sw, sh = max(int(w / scale), 1), max(int(h / scale), 1)
    xs = [int(i * scale) for i in range(sw)]
    bpp = c.depth // 8
    rows = []
    for j in range(sh):
        row = read_ram(c.base + (c.y_offset + int(j * scale)) * c.pitch + c.x_offset * bpp, w * bpp)
        rows.append(b"".join(row[x * bpp:(x + 1) * bpp] for x in xs))
    picked = b"".join(rows)
    small = replace(c, width=sw, height=sh, virtual_width=sw, virtual_height=sh, x_offset=0,
                    y_offset=0, base=1)
    return render(small, lambda pa, n: picked[pa - 1:pa - 1 + n])


_RGB565: list[bytes] = []


def _rgb565() -> list[bytes]:
    """RGB bytes for every 16-bit RGB565 value (built once)."""
    if not _RGB565:
        for v in range(0x10000):
            r, g, b = v >> 11, (v >> 5) & 0x3F, v & 0x1F
            _RGB565.append(bytes(((r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2))))
    return _RGB565


def render(c: FramebufferConfig, read_ram: Callable[[int, int], bytes]) -> tuple[int, int, bytes] | None:
    if not c.allocated:
        return None
    w = min(c.width, c.virtual_width - c.x_offset)
    h = min(c.height, c.virtual_height - c.y_offset)
    bpp = c.depth // 8
    out = bytearray()
    for y in range(h):
        row = read_ram(c.base + (c.y_offset + y) * c.pitch + c.x_offset * bpp, w * bpp)
        if c.depth == 32 or c.depth == 24:
            px = bytearray(w * 3)
            px[0::3] = row[0::bpp]
            px[1::3] = row[1::bpp]
            px[2::3] = row[2::bpp]
        elif c.depth == 16:
            table = _rgb565()
            px = bytearray(b"".join(table[v] for v in struct.unpack(f"<{w}H", row)))
        else:
            px = bytearray()
            for v in row:
                e = c.palette[v]
                px += bytes((e & 0xFF, (e >> 8) & 0xFF, (e >> 16) & 0xFF))
        if c.pixel_order == PIXEL_BGR:
            px[0::3], px[2::3] = px[2::3], px[0::3]
        out += px
    return w, h, bytes(out)
