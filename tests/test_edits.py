"""Register and memory edits (vizor/driver/edits.py): what the `=` prompt parses, what the
runner makes of it, how a recording takes it, that a replay refuses it, and the
TUI showing the edited register."""

from __future__ import annotations

import pytest
from test_tui import SIZE, shown
from test_tui_board import paused, real_app, wait_for
from tui_fakes import sync

import vizor.driver.runner as R
from vizor.driver.commands import EditMemory, EditRegister, Notice
from vizor.driver.edits import EditError, parse_edit
from vizor.driver.recording import start_recording
from vizor.driver.replay import ReplayRunner
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.session.reader import load_session
from vizor.machine.session.replay import Replay

EXC = "images/tests/exc_levels.elf"
SYMS = {"main": 0x80100}


def value_of(text: str) -> int:
    t = text.strip()
    if t in SYMS:
        return SYMS[t]
    return int(t, 0)


@pytest.mark.parametrize("text, want", [
    ("x5 = 0x10", EditRegister(2, "X5", 0x10)),
    (" PC=main ", EditRegister(2, "PC", 0x80100)),
    ("elr_el2 = 4", EditRegister(2, "ELR_EL2", 4)),
    ("hcr_el2 = 0x80000000", EditRegister(2, "HCR_EL2", 0x80000000)),
    ("x30 = -1", EditRegister(2, "X30", (1 << 64) - 1)),
    ("w[0x80000] = 0xdeadbeef", EditMemory(2, 0x80000, 4, 0xDEADBEEF)),
    ("b[main] = 0x7f", EditMemory(2, 0x80100, 1, 0x7F)),
    ("x[0x1000] = -2", EditMemory(2, 0x1000, 8, (1 << 64) - 2)),
])
def test_the_edit_prompt_parses_registers_and_memory(text, want):
    assert parse_edit(text, 2, value_of) == want


@pytest.mark.parametrize("text, why", [
    ("x5 0x10", "REG = VALUE"), ("xzr = 1", "zero register"), ("pstate = 0", "PSTATE"),
    ("x31 = 1", "unknown register"), ("foo = 1", "unknown register"), ("x5 = nothere", "nothere"),
    ("b[0x80000] = 0x100", "does not fit in 1 byte"), ("x5 = 0x1" + "0" * 16, "64 bits"),
])
def test_bad_edits_are_refused_in_one_line(text, why):
    with pytest.raises(EditError) as e:
        parse_edit(text, 0, value_of)
    assert why in str(e.value) and "\n" not in str(e.value)


def served(runner):
    got: list = []
    runner.publish = got.append
    return got


def test_the_runner_makes_the_edit_and_says_what_changed():
    board = Board()
    board.load(load_image(EXC))
    runner = R.Runner(board, None)
    got = served(runner)
    runner._handle(EditRegister(1, "X5", 0x1234))
    runner._handle(EditMemory(0, 0x300000, 4, 0xCAFEF00D))
    assert board.cores[1].regs.x(5) == 0x1234
    assert board.read_ram(0x300000, 4) == (0xCAFEF00D).to_bytes(4, "little")
    notes = [o.text for o in got if isinstance(o, Notice)]
    assert notes == ["core 1: X5 0x0 -> 0x1234", "PA 0x300000: 0x0 -> 0xcafef00d (4 bytes)"]
    with pytest.raises(EditError, match="not RAM"):
        runner._handle(EditMemory(0, 0x3F201000, 4, 1))   # the PL011: a device, not RAM


def test_an_edit_at_reset_is_recorded_and_replayed_and_one_at_a_breakpoint_is_refused(tmp_path):
    board = Board()
    board.load(load_image(EXC))
    runner = R.Runner(board, lambda _o: None, image=EXC)
    start_recording(runner, str(tmp_path / "e.vzs"))
    runner._handle(EditMemory(0, 0x300000, 8, 0x1122334455667788))
    runner._handle(EditRegister(0, "X19", 7))
    dbg = runner.debugger
    dbg.add_breakpoint(board.symbols.by_name["puts"], core=0)
    assert runner._advance(dbg.run, max_insns=100_000).kind == "breakpoint"
    with pytest.raises(EditError, match="not at this stop"):
        runner._handle(EditRegister(0, "X19", 8))
    runner.recorder.close()
    s = load_session(str(tmp_path / "e.vzs"))
    assert [(i["kind"], i["at"][0]) for i in s.inputs if i["kind"] != "breakpoint"] == \
        [("memory", 0), ("register", 0)]
    r = Replay(s)
    r.run(max_insns=10)
    assert r.board.read_ram(0x300000, 8) == (0x1122334455667788).to_bytes(8, "little")
    assert Replay(s).verify() is None


def test_a_replay_refuses_edits(tmp_path):
    board = Board()
    board.load(load_image(EXC))
    runner = R.Runner(board, lambda _o: None, image=EXC)
    start_recording(runner, str(tmp_path / "r.vzs"))
    runner._advance(board.run, max_insns=5_000)
    runner.recorder.close()
    replay = ReplayRunner(Replay(load_session(str(tmp_path / "r.vzs"))), lambda _o: None)
    with pytest.raises(EditError, match="replay cannot be edited"):
        replay._handle(EditRegister(0, "X1", 1))


@sync
async def test_an_edit_typed_at_the_prompt_shows_in_the_cores_pane():
    app, _board = real_app("exc_levels.elf")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("equals_sign")
        app.query_one("#prompt").value = "x7 = 0xabcdef"
        await pilot.press("enter")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.cores[0].x[7] == 0xABCDEF)
        await pilot.pause(0.1)
        assert "0000000000abcdef" in shown(app, "#cores")
        assert "X7 0x0 -> 0xabcdef" in shown(app, "#message")
        await pilot.press("equals_sign")
        app.query_one("#prompt").value = "xzr = 1"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "zero register" in shown(app, "#message"))
        assert app.query_one("#message").has_class("error")
        await pilot.press("q")
