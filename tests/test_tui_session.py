"""Saved sessions in the TUI, over the real runner and the demo hypervisor: recording from
the TUI gives a file that replays identically; ``vizor replay`` in the TUI jumps to an
instruction count, steps back to what a straight run showed one instruction earlier and
reverse-continues to the previous breakpoint hit."""

from __future__ import annotations

import os

import pytest
from test_determinism import X_IDS
from test_tui import SIZE, settle, shown
from test_tui_board import paused, wait_for
from tui_fakes import sync

import vizor.driver.runner as R
from vizor.app.app import ReplayApp, VizorApp
from vizor.driver.replay import ReplayRunner, timeline_info
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger
from vizor.machine.session.reader import load_session
from vizor.machine.session.recorder import Recorder
from vizor.machine.session.replay import Replay
from vizor.panes.timeline import timeline_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
INTERVAL = 100_000
LENGTH = 420_000            # the guests trap into hyp_sync_lower from instruction ~201,800


def machine_hash(board) -> tuple:
    """Every core's general registers, PC, SP, PSTATE and count (RAM is not hashed: 1 GiB takes
    seconds, and the replay's own verify covers it)."""
    return tuple((c.instructions, c.regs.read("PC"), c.regs.read("SP"), c.regs.read("PSTATE"),
                  tuple(c.uc.reg_read(r) for r in X_IDS)) for c in board.cores)


async def prompt(pilot, app, key: str, text: str) -> None:
    """Open a prompt with ``key``, fill it in (typing costs ~0.1 s a key) and press Enter."""
    await pilot.press(key)
    app.query_one("#prompt").value = text
    await pilot.press("enter")
    await settle(pilot, 1)


def live_app():
    board = Board()
    board.load(load_image(HYP, 2), 2)
    runner = R.Runner(board, lambda _o: None, image=HYP)
    runner.record_interval = INTERVAL
    return VizorApp(runner, board.contexts, image="hyp.elf"), runner


@sync
async def test_a_session_recorded_from_the_tui_replays_identically(tmp_path):
    path = str(tmp_path / "tui.vzs")
    app, runner = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        runner.send(R.Run(max_insns=50_000))
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == 50_000)
        await prompt(pilot, app, "R", path)
        await wait_for(pilot, lambda: app.recording == path)
        assert "● REC" in shown(app, "#status")
        await prompt(pilot, app, "t", "hyp_sync_lower @el=2")     # a breakpoint, noted
        await settle(pilot, 2)
        await pilot.press("c", *"hi")                                # typed into the guest, noted
        await pilot.press("escape")
        runner.send(R.Run(max_insns=250_000))
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions > 200_000)
        await pilot.press("s")                                       # a step, then more typing
        await settle(pilot, 2)
        await pilot.press("c", "x", "escape")
        await prompt(pilot, app, "t", "hyp_sync_lower @el=2")     # removed, noted too
        await wait_for(pilot, lambda: not runner.debugger.breakpoints)
        runner.send(R.Run(max_insns=30_000))
        await wait_for(pilot, lambda: paused(app) and "ran to" in app.snapshot.reason)
        await pilot.press("R")                                       # stop: the file is closed
        await wait_for(pilot, lambda: app.recording is None)
        assert "REC" not in shown(app, "#status")
        end = app.snapshot.instructions
        await pilot.press("q")
    session = load_session(path)
    [i["kind"] for i in session.inputs]
    assert [i["action"] for i in session.inputs if i["kind"] == "breakpoint"] == ["add", "remove"]
    assert session.checkpoints[0].instructions == 50_000 and session.end["instructions"] == end
    assert b"".join(bytes.fromhex(i["data"]) for i in session.inputs if i["kind"] == "uart") == b"hix"
    assert Replay(session).verify() is None


@sync
async def test_recording_over_an_existing_file_asks_first(tmp_path):
    path = tmp_path / "old.vzs"
    path.write_bytes(b"keep me")
    app, runner = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await prompt(pilot, app, "R", str(path))
        assert app.query_one("#prompt").display and "exists" in app.query_one("#prompt").placeholder
        app.query_one("#prompt").value = "n"
        await pilot.press("enter")
        await settle(pilot, 1)
        assert app.recording is None and path.read_bytes() == b"keep me"
        await prompt(pilot, app, "R", str(path))
        app.query_one("#prompt").value = "y"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.recording == str(path))
        await pilot.press("R")
        await wait_for(pilot, lambda: app.recording is None)
        await pilot.press("q")
    assert load_session(str(path)).checkpoints


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A headless recording: LENGTH instructions, checkpoints every INTERVAL, a typed line."""
    path = str(tmp_path_factory.mktemp("tui-session") / "hyp.vzs")
    board = Board()
    board.load(load_image(HYP, 2), 2)
    with open(HYP, "rb") as f:
        rec = Recorder(board, path, f.read(), image_name="hyp.elf", boot_el=2, interval=INTERVAL)
    rec.run(max_insns=150_000)
    rec.note_uart("pl011", b"hello\r")
    rec.run(max_insns=LENGTH - 150_000)
    rec.close()
    return path


def replay_app(path):
    session = load_session(path)
    runner = ReplayRunner(Replay(session), lambda _o: None, image="hyp.vzs")
    app = ReplayApp(runner, runner.board.contexts, image="hyp.vzs", timeline=timeline_info(session))
    return app, runner


def test_the_timeline_shows_checkpoints_inputs_and_the_position(recorded):
    info = timeline_info(load_session(recorded))
    line = timeline_text(info, 210_000, 80).plain
    assert line.startswith("replay 210,000 / 420,000")
    bar = line[line.index("[") + 1:line.rindex("]")]
    assert bar.count("│") == 5 and bar.count("i") == 1 and bar.count("▲") == 1
    assert bar.index("i") < bar.index("▲") < bar.rindex("│")


@sync
async def test_replay_jumps_to_a_count_and_refuses_a_bad_one(recorded):
    app, runner = replay_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert "REPLAY" in shown(app, "#status")
        await prompt(pilot, app, "j", "123456")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == 123_456)
        assert "123,456 insns" in shown(app, "#status")
        assert "replay 123,456 / 420,000" in shown(app, "#timeline")
        for bad in ("lots", "999999999"):
            await prompt(pilot, app, "j", bad)
            await settle(pilot, 2)
            assert "⚠" in shown(app, "#message") and app.snapshot.instructions == 123_456
        await pilot.press("space")                  # play: the typed line arrives on its own
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == LENGTH)
        assert "end of the recorded session" in app.snapshot.reason
        await pilot.press("q")


@sync
async def test_step_back_shows_the_pc_a_straight_run_shows_one_instruction_earlier(recorded):
    session = load_session(recorded)
    straight = Replay(session)
    straight.seek(300_000)
    core0 = straight.board.cores[0]
    start = core0.instructions
    straight.goto_core_count(0, start + 5)
    want_pc, want_hash = core0.pc, machine_hash(straight.board)
    app, runner = replay_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await prompt(pilot, app, "j", "300000")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == 300_000)
        for _ in range(6):
            serial = app.snapshot.stop_serial
            await pilot.press("s")
            await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial > serial)
        assert runner.board.cores[0].instructions == start + 6
        serial = app.snapshot.stop_serial
        await pilot.press("S")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial > serial)
        assert app.snapshot.cores[0].pc == want_pc
        assert f"{want_pc:016x}" in shown(app, "#cores").lower()
        assert machine_hash(runner.board) == want_hash
        await pilot.press("q")


@sync
async def test_reverse_continue_without_a_breakpoint_says_so_at_once(recorded):
    app, runner = replay_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        before = app.snapshot.instructions
        await pilot.press("B")
        await wait_for(pilot, lambda: "set a breakpoint first" in shown(app, "#message"))
        assert paused(app) and app.snapshot.instructions == before
        await pilot.press("q")


@sync
async def test_reverse_continue_lands_on_the_previous_breakpoint_hit(recorded):
    session = load_session(recorded)
    straight = Replay(session)
    dbg = Debugger(straight.board)
    dbg.add_breakpoint(straight.board.symbols.by_name["hyp_sync_lower"], el=2)
    hits = []
    while len(hits) < 2:
        assert straight.run(run=dbg.run).kind == "breakpoint"
        hits.append((straight.board.instructions, machine_hash(straight.board)))
    app, runner = replay_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await prompt(pilot, app, "t", "hyp_sync_lower @el=2")
        await wait_for(pilot, lambda: runner.debugger.breakpoints)
        for n in (1, 2):
            await pilot.press("space")
            await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial >= n)
        assert app.snapshot.instructions == hits[1][0]
        serial = app.snapshot.stop_serial
        await pilot.press("B")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial > serial)
        assert app.snapshot.instructions == hits[0][0]
        assert machine_hash(runner.board) == hits[0][1]
        assert "previous hit" in shown(app, "#stop")
        await pilot.press("q")


def test_replay_headless_prints_the_uart_output_and_boot_record_needs_a_terminal(recorded, tmp_path):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", recorded, "--headless", "--quiet"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "hyp:" in r.stdout
    out = tmp_path / "never.vzs"
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "boot", HYP, "--record", str(out)],
                       capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "terminal" in r.stderr
    assert not out.exists()


@sync
async def test_step_in_vm_then_reverse_step_in_vm_in_a_replay_comes_back_exactly(recorded):
    session = load_session(recorded)
    straight = Replay(session)
    for at in range(300_000, 400_000, 7_000):    # a place where some core runs a VM
        straight.seek(at)
        inside = [c for c in straight.board.cores if c.vmid() is not None and c.state == "running"]
        if inside:
            break
    assert inside, "no core runs a VM in the recording"
    core = inside[0]
    start, start_hash = core.instructions, machine_hash(straight.board)
    app, runner = replay_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await prompt(pilot, app, "j", str(at))
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == at)
        await pilot.press(str(core.index + 1))
        serial = app.snapshot.stop_serial
        await pilot.press("v")                      # forward: no longer refused in a replay
        await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial > serial)
        moved = runner.board.cores[core.index]
        assert moved.instructions > start and moved.vmid() == core.vmid()
        assert "refused" not in shown(app, "#message") and "not in replays" not in shown(app, "#message")
        serial = app.snapshot.stop_serial
        await pilot.press("V")
        await wait_for(pilot, lambda: paused(app) and app.snapshot.stop_serial > serial)
        assert runner.board.cores[core.index].instructions == start
        assert machine_hash(runner.board) == start_hash
        assert f"VMID {core.vmid()}" in shown(app, "#cores")
        await pilot.press("q")
