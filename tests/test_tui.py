"""The TUI against a scripted runner: keys become commands, panes show the snapshots,
bad input is refused with a message.  No emulation here (see test_tui_board.py)."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from rich.console import Console
from rich.text import Text
from tui_fakes import SYMBOLS, FakeRunner, board, core, guest_board, no_walk, sync

import vizor.driver.runner as R
from vizor.app.app import VizorApp
from vizor.panes.cores import CoresPane
from vizor.panes.help import HelpScreen

SIZE = (120, 36)


def text_of(renderable, width: int = 120) -> str:
    if isinstance(renderable, str):
        renderable = Text.from_markup(renderable)
    con = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    con.print(renderable)
    return con.export_text()


def shown(app, selector: str) -> str:
    w = app.query_one(selector)
    if hasattr(w, "render_snapshot") and w.snapshot is not None:
        return text_of(w.render_snapshot(w.snapshot))
    return text_of(w.content)


async def settle(pilot, n: int = 3) -> None:
    for _ in range(n):
        await pilot.pause(0.05)


def make_app(states, **kw):
    fake = FakeRunner(states, **kw)
    return VizorApp(fake, SYMBOLS, image="fake.elf"), fake


@sync
async def test_space_runs_and_pauses_and_s_steps_the_selected_core():
    app, fake = make_app([board()])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space")
        await settle(pilot)
        assert "RUNNING" in shown(app, "#status")
        await pilot.press("space")
        await settle(pilot)
        assert "PAUSED" in shown(app, "#status")
        await pilot.press("3", "s")
        await settle(pilot)
        await pilot.press("q")
    kinds = [type(c).__name__ for c in fake.commands]
    assert kinds[:3] == ["Run", "Pause", "Step"]
    assert fake.commands_of(R.Step) == [R.Step(2)]


@sync
async def test_cores_pane_decodes_the_el_and_shows_the_vmid_of_each_core():
    app, _ = make_app([guest_board()])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = shown(app, "#cores")
        assert "core 0 NS-EL1 EL1h (SP_EL1)" in text and "VMID 5" in text
        assert "PC 0000000000081004 <guest_main+0x4>" in text
        assert "1 EL2 (NS)" in text                  # the others, compact: their world
        await pilot.press("2")
        await settle(pilot)
        text = shown(app, "#cores")
        assert "core 1 EL2 (NS) EL2h (SP_EL2)" in text and "VMID -" in text
        assert "core 1: EL2 (NS)" in shown(app, "#status")


@sync
async def test_registers_that_changed_since_the_last_stop_are_highlighted():
    first = board()
    x = [0] * 31
    x[3] = 0x1234
    second = board(serial=2, stop_serial=1, reason="stepped core 0",
                   cores=(core(0, pc=0x80004, x=x),) + first.cores[1:])
    app, _ = make_app([first, second])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.query_one(CoresPane).changed == set()
        await pilot.press("s")
        await settle(pilot)
        assert app.query_one(CoresPane).changed == {"X3", "PC"}


@sync
async def test_sysregs_show_the_vmid_large_and_esr_in_words():
    st = guest_board()
    c0 = replace(st.cores[0], sysregs={**st.cores[0].sysregs, "ESR_EL2": 0x5A000000, "ELR_EL2": 0x81008})
    app, _ = make_app([replace(st, cores=(c0,) + st.cores[1:])])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = shown(app, "#sysregs")
        assert " VMID 5 " in text and "guest VMID 5 running at EL1" in text
        assert "HVC #0x0" in text
        assert "VM" in text.split("HCR_EL2")[1].splitlines()[0]   # HCR bits by name


@sync
async def test_events_show_exceptions_and_vm_switches():
    app, _ = make_app([guest_board()])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.query_one("#tabs").active = "tab-events"
        await settle(pilot)
        text = shown(app, "#events")
        assert "HVC #0x0" in text and "1→2" in text
        assert "VM switch: core 0 now runs VMID 7 (was 5)" in text


@sync
async def test_interrupts_pane_names_the_source_bits():
    app, _ = make_app([board(mailbox=0x5, irq0=0x10)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.query_one("#tabs").active = "tab-irq"
        await settle(pilot)
        text = shown(app, "#irq")
        assert "MB0" in text and "00000005" in text


@pytest.mark.parametrize("typed, message", [
    ("zzz", "neither a number nor a symbol"),
    ("0x80000 vmid=256", "VMID 256 is out of range"),
    ("0x80000 vmid=x", "VMID 'x' is not a number"),
    ("0x80000 el=7", "EL7 does not exist"),
    ("0x80000 core=9", "there is no core 9"),
    ("0x1000000000000 vmid=3", "no core reaches 0x1000000000000: a VA has bits 63:48 all 0 or all 1"),
    ("0xffff000000080000 el=2", "no core reaches 0xffff000000080000: EL2 VAs have bits 63:48 all 0"),
])
@sync
async def test_bad_breakpoint_input_shows_a_message_and_sends_nothing(typed, message):
    app, fake = make_app([guest_board()])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.press(*typed)
        await pilot.press("enter")
        await settle(pilot)
        assert message in shown(app, "#message")
        assert app.query_one("#message").has_class("error")
    assert fake.commands_of(R.ToggleBreakpoint) == []


@sync
async def test_breakpoint_prompt_sends_a_toggle_with_its_filters():
    app, fake = make_app([guest_board()])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t", *"guest_main+4 vmid=5 el=1", "enter")
        await pilot.press("t", "enter")               # empty: the selected core's PC
        await pilot.press("t", *"guest_main @vmid=3", "enter")   # a VM that has not run yet
        await settle(pilot)
    assert fake.commands_of(R.ToggleBreakpoint) == [
        R.ToggleBreakpoint(0x81004, vmid=5, el=1, check_core=None),
        R.ToggleBreakpoint(0x81004, check_core=0, pc_of=0),
        R.ToggleBreakpoint(0x81000, vmid=3, check_core=None)]


@sync
async def test_goto_asks_for_the_code_and_the_walk_of_the_address():
    app, fake = make_app([board()], walk=no_walk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g", *"_start+0x10", "enter")
        await settle(pilot)
        assert app.query_one("#tabs").active == "tab-walk"
        assert "scripted: no tables" in text_of(app.query_one("#walk-view").content)
    assert fake.commands_of(R.ShowCode) == [R.ShowCode(0, 0x80010)]
    assert fake.commands_of(R.WalkVA) == [R.WalkVA(0, 0x80010, "auto")]


@sync
async def test_a_va_typed_in_the_translation_pane_is_walked_on_the_selected_core():
    app, fake = make_app([board()], walk=no_walk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2", "w", *"0x1000 s2", "enter")
        await settle(pilot)
        app.query_one("#walk-input").value = ""
        await pilot.press("enter")                    # empty: the PC of core 1
        await settle(pilot)
    assert fake.commands_of(R.WalkVA) == [R.WalkVA(1, 0x1000, "s2"), R.WalkVA(1, 0x300, "auto")]


@sync
async def test_bad_walk_address_shows_a_message():
    app, fake = make_app([board()], walk=no_walk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w", *"nosuch", "enter")
        await settle(pilot)
        assert "neither a number nor a symbol" in shown(app, "#message")
    assert fake.commands_of(R.WalkVA) == []


@sync
async def test_keys_typed_in_the_console_go_to_the_selected_uart():
    app, fake = make_app([board(uart=b"hello\n")])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "hello" in "\n".join(app.query_one("#console-log").lines)
        await pilot.press("c", "h", "i", "enter", "escape", "u", "c", "x")
        await settle(pilot)
    assert fake.commands_of(R.UartInput) == [
        R.UartInput("pl011", b"h"), R.UartInput("pl011", b"i"), R.UartInput("pl011", b"\r"),
        R.UartInput("mini", b"x")]
    assert fake.commands_of(R.Step) == []             # "s"-like keys did not leak to the app


@sync
async def test_help_screen_lists_every_key_and_closes():
    app, _ = make_app([board()])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = text_of(app.screen.query_one("#help-keys").content)
        for key, _ in VizorApp.HELP:
            assert key in keys
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (100, 30), (40, 12)])
@sync
async def test_small_terminals_degrade_without_crashing(size):
    app, fake = make_app([guest_board()], walk=no_walk)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("2", "s", "question_mark", "escape", "g", *"0x80000", "enter")
        await settle(pilot)
        await pilot.press("q")
    assert fake.commands_of(R.ShowCode)


@sync
async def test_quit_stops_the_machine_thread():
    app, fake = make_app([board()])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
    assert isinstance(fake.commands[-1], R.Quit)


@sync
async def test_the_disassembly_window_stays_put_while_the_pc_moves_inside_it():
    first = guest_board()
    moved = replace(first, serial=2, stop_serial=1, reason="stepped core 0",
                    cores=(replace(first.cores[0], pc=0x81008),) + first.cores[1:])
    far = replace(first, serial=3, stop_serial=2, reason="stepped core 0",
                  cores=(replace(first.cores[0], pc=0x81040,
                                 code=tuple((0x81000 + 4 * i, 0xD503201F) for i in range(32))),)
                  + first.cores[1:])
    app, _ = make_app([first, moved, far])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        top = shown(app, "#disasm").splitlines()[1]
        await pilot.press("s")
        await settle(pilot)
        text = shown(app, "#disasm")
        assert text.splitlines()[1] == top                       # same first line
        assert "▶00081008" in text          # 120 columns: the narrow layout, 8 digits
        await pilot.press("s")                                   # far below: re-centred
        await settle(pilot)
        assert shown(app, "#disasm").splitlines()[1] != top


@sync
async def test_escape_leaves_the_walk_input_and_the_next_key_is_a_command():
    app, fake = make_app([board()], walk=no_walk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")                        # the Walk tab, its input focused
        await settle(pilot)
        assert app.focused is app.query_one("#walk-input")
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is not app.query_one("#walk-input")
        await pilot.press("s")                        # a step, not an 's' typed into the box
        await settle(pilot)
        assert app.query_one("#walk-input").value == ""
    assert fake.commands_of(R.Step)
