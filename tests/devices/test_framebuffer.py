"""Framebuffer property tags (firmware wiki "Mailbox property interface") and
what render draws from the buffer."""

from __future__ import annotations

import struct

from vizor.machine.devices.framebuffer import (
    FB_BASE,
    TAG_ALLOCATE,
    TAG_DEPTH,
    TAG_PHYSICAL,
    TAG_PITCH,
    TAG_PIXEL_ORDER,
    TAG_RELEASE,
    TAG_VIRTUAL,
    Framebuffer,
)

SET, TEST = 0x8000, 0x4000


def u32s(b):
    return struct.unpack(f"<{len(b) // 4}I", b)


def configured(w=4, h=2, depth=32, order=1):
    fb = Framebuffer()
    fb.answer(TAG_PHYSICAL | SET, (w, h))
    fb.answer(TAG_VIRTUAL | SET, (w, h))
    fb.answer(TAG_DEPTH | SET, (depth,))
    fb.answer(TAG_PIXEL_ORDER | SET, (order,))
    return fb


def test_allocate_gives_a_bus_address_in_gpu_memory_and_the_size():
    fb = configured()
    base, size = u32s(fb.answer(TAG_ALLOCATE, (16,)))
    assert base & 0x3FFFFFFF == FB_BASE and base & 0xC0000000 == 0xC0000000
    assert size == 4 * 2 * 4
    assert u32s(fb.answer(TAG_PITCH, ())) == (16,)


def test_test_tags_do_not_change_the_configuration():
    fb = Framebuffer()
    assert u32s(fb.answer(TAG_PHYSICAL | TEST, (800, 600))) == (800, 600)
    assert u32s(fb.answer(TAG_PHYSICAL, ())) == (640, 480)


def test_an_unsupported_depth_is_refused_and_the_old_one_kept():
    fb = Framebuffer()
    assert u32s(fb.answer(TAG_DEPTH | SET, (12,))) == (16,)


def test_release_frees_the_buffer():
    fb = configured()
    fb.answer(TAG_ALLOCATE, (16,))
    assert fb.answer(TAG_RELEASE, ()) == b""
    assert not fb.state().allocated
    assert fb.render(lambda pa, n: bytes(n)) is None


def ram_with(pixels: bytes):
    def read(pa, n):
        off = pa - FB_BASE
        return pixels[off:off + n]
    return read


def test_render_32bpp_rgb_takes_red_from_the_lowest_byte():
    fb = configured(2, 1, 32, 1)
    fb.answer(TAG_ALLOCATE, (16,))
    w, h, rgb = fb.render(ram_with(bytes((0xFF, 0, 0, 0, 0, 0, 0xFF, 0))))
    assert (w, h, rgb) == (2, 1, bytes((0xFF, 0, 0, 0, 0, 0xFF)))


def test_render_bgr_swaps_red_and_blue():
    fb = configured(1, 1, 32, 0)
    fb.answer(TAG_ALLOCATE, (16,))
    assert fb.render(ram_with(bytes((0xFF, 0, 0, 0))))[2] == bytes((0, 0, 0xFF))


def test_render_16bpp_is_rgb565():
    fb = configured(2, 1, 16, 1)
    fb.answer(TAG_ALLOCATE, (16,))
    _, _, rgb = fb.render(ram_with(struct.pack("<HH", 0xF800, 0x07E0)))
    assert rgb == bytes((0xFF, 0, 0, 0, 0xFF, 0))
