"""The framebuffer in snapshots (BoardState.framebuffer) and the TUI pane that
draws it with half-block characters."""

from __future__ import annotations

from dataclasses import replace

from conformance import run_vizor
from tui_fakes import SYMBOLS, FakeRunner, board, sync

from vizor.app.app import VizorApp
from vizor.machine.devices.framebuffer import FB_BASE, FramebufferConfig
from vizor.machine.inspect.snapshot import FramebufferState, board_state
from vizor.panes.framebuffer import UPPER_HALF, FramebufferPane, half_block_lines

RED, BLUE = (255, 0, 0), (0, 0, 255)


def picture(w, h, colour):
    return bytes(c for y in range(h) for x in range(w) for c in colour(x, y))


def test_each_cell_shows_the_upper_pixel_on_the_lower_one():
    rgb = picture(2, 2, lambda x, y: RED if y == 0 else BLUE)
    (line,) = half_block_lines(2, 2, rgb, 2, 1)
    assert line.plain == UPPER_HALF * 2
    style = line.spans[0].style
    assert style.color.triplet == RED and style.bgcolor.triplet == BLUE


def test_a_large_picture_is_scaled_to_fit_keeping_its_aspect():
    lines = half_block_lines(200, 100, picture(200, 100, lambda x, y: RED), 40, 30)
    assert max(len(l.plain) for l in lines) == 40
    assert len(lines) == 10           # 40 columns x 20 pixel rows: 2:1 as the picture


def test_the_snapshot_holds_what_the_guest_drew():
    # framebuffer.elf draws red, green, blue and white bands of 12 rows
    _, reason, b = run_vizor("framebuffer.elf")
    fb = board_state(b).framebuffer
    assert (fb.width, fb.height, fb.config.depth) == (64, 48, 32)
    at = lambda x, y: tuple(fb.rgb[3 * (y * 64 + x):3 * (y * 64 + x) + 3])  # noqa: E731
    assert at(5, 5) == RED and at(5, 17) == (0, 255, 0) and at(5, 30) == BLUE and at(30, 22) == (0, 0, 0)
    assert board_state(b).framebuffer is fb   # unchanged buffer: the same picture, not sampled again


def test_no_framebuffer_before_the_guest_allocates_one():
    _, _, b = run_vizor("rng.elf")
    assert board_state(b).framebuffer is None


@sync
async def test_the_framebuffer_tab_draws_the_picture():
    rgb = picture(8, 8, lambda x, y: RED if y < 4 else BLUE)
    fb = FramebufferState(FramebufferConfig(width=8, height=8, virtual_width=8, virtual_height=8,
                                            depth=32, base=FB_BASE), 8, 8, rgb, 1)
    app = VizorApp(FakeRunner([replace(board(), framebuffer=fb)]), SYMBOLS, image="fake.elf")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        app.query_one("#tabs").active = "tab-fb"
        await pilot.pause(0.2)
        pane = app.query_one(FramebufferPane)
        lines = [t.plain for t in pane.content.renderables]
        assert lines[0].startswith("8x8 32 bpp RGB")
        assert UPPER_HALF in lines[1]
        await pilot.press("q")


@sync
async def test_the_framebuffer_tab_follows_the_real_board():
    import time

    from conformance import image

    import vizor.driver.runner as R
    from vizor.machine.board.board import Board
    from vizor.machine.board.loader import load_image

    board = Board()
    board.load(load_image(image("framebuffer.elf")))
    app = VizorApp(R.Runner(board, lambda _o: None, image="framebuffer.elf"), board.symbols,
                   image="framebuffer.elf")
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#tabs").active = "tab-fb"
        pane = app.query_one(FramebufferPane)
        end = time.monotonic() + 20
        while not pane.content.renderables and time.monotonic() < end:
            await pilot.pause(0.05)
        assert "no framebuffer" in pane.content.renderables[0].plain
        await pilot.press("space")   # run
        while not (pane.content.renderables and pane.content.renderables[0].plain.startswith("64x48")):
            assert time.monotonic() < end, "the pane never showed the guest's framebuffer"
            await pilot.pause(0.05)
        lines = pane.content.renderables[1:]
        assert lines and lines[2].spans[0].style.color.triplet == RED   # the red band on top
        await pilot.press("q")
