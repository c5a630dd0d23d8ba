"""The TUI fits 120 columns (and 160x48): the stop banner of a reverse step, the replay's
footer with its own keys, the right-hand panes without sideways scrolling (issue 21)."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widgets import Footer
from tui_fakes import SYMBOLS, FakeRunner, guest_board, sync

import vizor.driver.runner as R
from vizor.app.app import ReplayApp, VizorApp
from vizor.driver.commands import TimelineInfo

SIZES = [(120, 36), (160, 48)]
TIMELINE = TimelineInfo(0, 20_000_000, ((150_000, "i"),), (0, 10_000_000))


async def settle(pilot, n: int = 4) -> None:
    for _ in range(n):
        await pilot.pause(0.05)


def lines_on_screen(widget) -> list[str]:
    """What ``widget`` shows, line by line, as rendered in its region."""
    w, h = widget.outer_size
    return ["".join(seg.text for seg in strip) for strip in widget.render_lines(Region(0, 0, w, h))]


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_a_reverse_step_banner_is_shown_whole(size):
    app = ReplayApp(FakeRunner([guest_board()]), SYMBOLS, image="h.vzs", timeline=TIMELINE)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for pc, text in ((0x4002A4, "core 0 back to instruction 2,600,062"),
                         (0xFFFF000000002EA4, "core 0 back in vmid=3 at 0xffff000000002ea4"),
                         (0x4002A4, "a much longer reason than any stop gives " * 3)):
            app.runner.publish(R.StopReport(5, "step", text, 0, el=0, vmid=2, pc=pc, world="NS-EL0"))
            await settle(pilot)
            shown = "".join(lines_on_screen(app.query_one("#stop")))
            assert "".join(text.split()) in "".join(shown.split()), shown      # wrapped, never cut
        app.runner.publish(R.StopReport(6, "step", "short", 0, el=0, vmid=2, pc=0x4002A4, world="NS-EL0"))
        await settle(pilot)
        assert app.query_one("#stop").size.height == 1        # back to one line


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_the_replay_footer_shows_jump_and_the_reverse_keys_and_fits(size):
    app = ReplayApp(FakeRunner([guest_board()]), SYMBOLS, image="h.vzs", timeline=TIMELINE)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        keys = {k.key_display: k for k in app.query_one(Footer).children}
        for key, words in (("j", "Jump"), ("S", "Back"), ("B", "Rev cont"), ("V", "Back in VM"),
                           ("space", "Run/Pause"), ("s", "Step"), ("q", "Quit")):
            assert keys[key].description == words
        assert max(k.region.right for k in keys.values()) <= size[0]
        await pilot.press("S", "B", "2", "n", "o", "g")          # the keys the footer leaves out still work
        await settle(pilot)
    cmds = app.runner.commands
    assert R.StepBack(0) in cmds and R.ReverseContinue() in cmds and R.StepMore(1, "over") in cmds
    assert R.StepMore(1, "out") in cmds


@sync
async def test_a_live_footer_has_no_replay_keys():
    app = VizorApp(FakeRunner([guest_board()]), SYMBOLS, image="fake.elf")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        keys = [k.key_display for k in app.query_one(Footer).children]
        assert "j" not in keys and "S" not in keys and "n" in keys and "c" in keys


def busy_board():
    """A guest board with 64-bit addresses in the events and ESR_ELx, the longest texts
    the right-hand tabs show."""
    from dataclasses import replace

    from vizor.machine.arch.exceptions import ExceptionRecord
    st = guest_board()
    dabt = ExceptionRecord(1, "sync", 1, 2, 0x24, 0x93800046, 0xFFFF0000000031F0, 0xFFFF00003F215040,
                           3, 5000, hpfar=0x3F2150)
    c1 = replace(st.cores[1], sysregs={**st.cores[1].sysregs, "ESR_EL2": 0x93800046, "ELR_EL2": 0xFFFF0000000031F0,
                                       "FAR_EL2": 0xFFFF00003F215040, "VBAR_EL1": 0xFFFF000000000800})
    return replace(st, cores=(st.cores[0], c1) + st.cores[2:], events=st.events + (dabt,) * 30)


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_the_right_hand_tabs_fit_the_column_without_sideways_scrolling(size):
    from tui_fakes import table_walk

    from vizor.app.keys import TABS
    app = VizorApp(FakeRunner([busy_board()], walk=table_walk), SYMBOLS, image="fake.elf")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("2", "t", *"0x81000 vmid=5", "enter")   # a long line in the Stops tab too
        app.runner.publish(R.StopsState((R.StopCondition(1, "watchpoint", "watch access VA guest_main "
                                                         "(0xffff000000081000) (PA 0x1081000)+8 vmid=5 core 1",
                                                         True, 12345),)))
        await pilot.press("g", *"0x200010", "enter")             # a walk in the Walk tab
        await settle(pilot)
        for tab, _ in TABS:
            app.query_one("#tabs").active = tab
            await settle(pilot)
            pane = app.query_one(f"#{tab}")
            for scroller in pane.query("ScrollableContainer, VerticalScroll, DataTable"):
                assert scroller.max_scroll_x == 0, (tab, scroller)
                assert not scroller.show_horizontal_scrollbar, (tab, scroller)
            for widget in pane.query("SnapshotPane"):
                assert widget._texts, tab
                assert max(t.cell_len for t in widget._texts) <= widget.size.width, tab
            if tab == "tab-walk":
                view = app.query_one("#walk-view")
                lines = view.content.renderables
                assert len(lines) > 5 and max(t.cell_len for t in lines) <= view.size.width
        disasm = app.query_one("#disasm")
        assert max(t.cell_len for t in disasm._texts) <= disasm.size.width


@sync
async def test_a_narrow_disassembly_keeps_the_room_for_instructions():
    from dataclasses import replace
    st = guest_board()
    high = replace(st.cores[0], pc=0xFFFF000000081004,
                   code=tuple((0xFFFF000000000000 | a, w) for a, w in st.cores[0].code))
    app = VizorApp(FakeRunner([replace(st, cores=(high,) + st.cores[1:])]), SYMBOLS, image="fake.elf")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one("#disasm")
        lines = [t.plain for t in pane._texts]
        assert any("▶ffff000000081004 nop" in x for x in lines), lines     # no offset column
        assert max(len(x) for x in lines) <= pane.size.width
    app = VizorApp(FakeRunner([guest_board()]), SYMBOLS, image="fake.elf")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        lines = [t.plain for t in app.query_one("#disasm")._texts]
        assert any("▶00081004 +0x4    nop" in x for x in lines) and "<guest_main>:" in lines


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_the_selected_cores_first_line_keeps_its_instruction_count(size):
    """A core in the hypervisor with a large count: the count stays on the first
    line (shortened if need be), none of it wrapped onto a line of its own."""
    import dataclasses

    from tui_fakes import board, core
    big = dataclasses.replace(core(0, pc=0x82000, state="running"), instructions=11_089_330_123)
    app = VizorApp(FakeRunner([board(cores=(big, *guest_board().cores[1:]))]), SYMBOLS, image="h.elf")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        first, second = lines_on_screen(app.query_one("#cores"))[1:3]      # under the border
        assert "11,089,330,123" in first or "11089.3M" in first, first
        assert second.strip("│ ").startswith("PC "), second


@sync
async def test_a_terminal_too_small_for_the_layout_is_told_so():
    app = VizorApp(FakeRunner([guest_board()]), SYMBOLS, image="h.elf")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("at least 120x36" in m and "80x24" in m for m in said), said
    app = VizorApp(FakeRunner([guest_board()]), SYMBOLS, image="h.elf")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert not [n for n in app._notifications if "at least" in n.message]
