"""Saved sessions are exact from every checkpoint (issue 16), held against a straight run.

For every conformance kernel (the SD card, RNG, watchdog and framebuffer ones
included, with a card and a seed as ``--sd`` and ``--rng-seed`` give them) and the
demo hypervisor, booted at EL2 and at EL3 (``--boot-el 3``: the cases of
tests/session_oracle.py), a session is recorded as
``vizor run --record`` records one (from reset; console input noted at instruction 0,
or for the demo where a run of 150,000 instructions ended; checkpoints by count and by
a stand-in for the wall clock) and as ``R`` in the TUI does (the runner's recording,
started at a breakpoint stop mid-run).  Each must verify, and every checkpoint
restored and run on must give the state a straight ``Board`` run gives at the same
place (tests/session_oracle.py hashes that state without the session code).  The
replay's moves (j, S, B, V) are held to it in tests/test_session_reverse_exact.py.
"""

from __future__ import annotations

import pytest
from session_oracle import (
    CASES,
    DEVICE_KERNELS,
    INPUTS,
    TYPED,
    Straight,
    boot,
    boot_el,
    differs,
    kernel,
    loaded,
    state_hash,
)

import vizor.driver.recording as recording
import vizor.driver.runner as R
from vizor.driver.commands import RemoveStop, UartInput
from vizor.driver.livelock import LivelockGuard
from vizor.machine.board.board import Board
from vizor.machine.session.reader import load_session
from vizor.machine.session.recorder import Recorder
from vizor.machine.session.replay import Replay

NAMES = sorted(CASES)
# Instructions recorded; the kernels not named run to their end (every core in WFI,
# or the board powered off: watchdog.elf).
LENGTH = {"hyp.elf": 520_000, "smp_spinlock.elf": 3_000_000}
# The breakpoint R stops at and reverse-continue goes back to: (symbol, EL filter);
# the others ("pr", None): printf.  The spin lock prints only at its start and end.
BREAK = {"hyp.elf": ("hyp_sync_lower", 2), "smp_spinlock.elf": ("work", None)}
# Where R is pressed: the first hit from this fraction of the recording on (the
# framebuffer kernel prints four lines at its start and one at its end).
START = {"smp_spinlock.elf": 0.0, "framebuffer.elf": 0.0}
HOW = ("run --record", "R mid-run")


def length(name: str) -> int:
    if kernel(name) in LENGTH:
        return LENGTH[kernel(name)]
    board = boot(name)
    board.run()
    return board.instructions


class SlicePacer:
    """WallPacer's stand-in: a 'second' is ``every`` instructions of the run, and a
    checkpoint falls between slices wherever the run is then (not at a count)."""

    seconds = None

    def __init__(self, board: Board, every: int) -> None:
        self.board, self.every = board, every
        self.next = board.instructions + every

    def __call__(self) -> bool:
        if self.board.instructions < self.next:
            return False
        self.next = self.board.instructions + self.every
        return True


def image_bytes(name: str) -> bytes:
    with open(CASES[name][0], "rb") as f:
        return f.read()


def record_from_boot(name: str, path: str, total: int) -> None:
    """As ``vizor run IMAGE --input … --record``: the input at instruction 0 (and
    TYPED where a run of that many instructions stopped, as ``+`` then typing)."""
    board = loaded(name)
    rec = Recorder(board, path, image_bytes(name), image_name=kernel(name), boot_el=boot_el(name),
                   interval=total // 4 + 1, checkpoint_due=SlicePacer(board, total // 7))
    for uart, data in INPUTS.get(kernel(name), {}).items():
        rec.note_uart(uart, data)
    for count, uart, data in TYPED.get(kernel(name), ()):
        rec.run(max_insns=count - board.instructions)
        rec.note_uart(uart, data)
    rec.run(max_insns=total - board.instructions)
    rec.close()


def breakpoint_of(board: Board, name: str) -> tuple[int, int | None]:
    symbol, el = BREAK.get(kernel(name), ("pr", None))
    return board.symbols.by_name[symbol], el


def record_mid_run(name: str, path: str, total: int, monkeypatch) -> None:
    """As ``R`` at a breakpoint stop: the runner's recording, started where a run
    stopped inside a slice, checkpoints by count and paced like the wall clock's."""
    board = boot(name)
    runner = R.Runner(board, lambda _o: None, image=CASES[name][0])
    runner.boot_el = boot_el(name)               # as vizor boot --boot-el N sets it
    address, el = breakpoint_of(board, name)
    bp = runner.debugger.add_breakpoint(address, el=el)
    start = int(total * START.get(kernel(name), 1 / 3))
    with LivelockGuard(board):       # as the runner's serve() has it (a hit under a pending virtual IRQ)
        while True:
            r = advance(runner, name, total)
            assert r.kind == "breakpoint", r
            if board.instructions >= start:
                break
        monkeypatch.setattr(recording, "checkpoint_policy",
                            lambda _interval: {"interval": (total - board.instructions) // 4 + 1,
                                               "checkpoint_due": SlicePacer(board, total // 7)})
        recording.start_recording(runner, path)
        runner._handle(RemoveStop(bp.id))          # noted in the recording
        # the kernels end in WFI, the watchdog's by powering the board off
        assert advance(runner, name, total).kind in ("max_insns", "idle", "poweroff")
    recording.stop_recording(runner)


def advance(runner, name: str, end: int):
    """Run the runner's board to instruction ``end`` or a stop, typing TYPED on the
    way (where a run of N instructions ended: through the recording if one is on)."""
    board = runner.board
    given = runner.__dict__.setdefault("typed", set())
    while True:
        due = [t for t in TYPED.get(kernel(name), ()) if t not in given and board.instructions <= t[0] <= end]
        if due and due[0][0] == board.instructions:
            runner._handle(UartInput(due[0][1], due[0][2]))
            given.add(due[0])
            continue
        cap = due[0][0] if due else end
        r = runner._advance(runner.debugger.run, max_insns=cap - board.instructions)
        if r.kind != "max_insns" or cap == end:
            return r


@pytest.fixture
def session_of(tmp_path, monkeypatch):
    def make(name: str, how: str):
        path = str(tmp_path / f"{name}.vzs")
        total = length(name)
        if how == "run --record":
            record_from_boot(name, path, total)
        else:
            record_mid_run(name, path, total, monkeypatch)
        return load_session(path)
    return make


def same(board: Board, straight: Board, where: str) -> None:
    assert board.instructions == straight.instructions, where
    assert state_hash(board) == state_hash(straight), f"{where}: differs in {differs(board, straight)}"


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", NAMES)
def test_every_checkpoint_restored_runs_on_as_the_straight_run(name, how, session_of):
    s = session_of(name, how)
    cps = s.checkpoints
    assert len(cps) >= 4, [cp.instructions for cp in cps]
    replay = Replay(s)
    bad = replay.verify()
    assert bad is None, str(bad)
    assert replay.restored == len(cps) - 1
    # Each checkpoint, restored on a board that stands later (the last first): the
    # state there, then halfway to the next checkpoint (or the end).
    ends = [cp.instructions for cp in cps[1:]] + [s.end["instructions"]]
    goals = {k: cp.instructions + max((e - cp.instructions) // 2, 1)
             for k, (cp, e) in enumerate(zip(cps, ends)) if e > cp.instructions}
    straight = Straight(name)
    at_cp, at_goal = {}, {}
    for n, first, k in sorted([(cp.instructions, 0, k) for k, cp in enumerate(cps)]
                              + [(g, 1, k) for k, g in goals.items()]):
        if first == 0:
            at_cp[k] = state_hash(straight.at_position(cps[k].position))
        else:
            at_goal[k] = state_hash(straight.at(n))
    inputs = s.inputs
    for k in reversed(range(len(cps))):
        cp = cps[k]
        replay._restore(k)
        pending = replay.next_input < len(inputs) and inputs[replay.next_input]["at"] == cp.position
        if not pending:     # an input due here is delivered by the run (the straight run has it at reset)
            assert state_hash(replay.board) == at_cp[k], \
                f"checkpoint {k} at {cp.position}, restored: differs in " \
                f"{differs(replay.board, straight.at_position(cp.position))}"
        if k in goals:
            replay.run(max_insns=goals[k] - replay.board.instructions)
            assert replay.board.instructions == goals[k]
            assert state_hash(replay.board) == at_goal[k], \
                f"from checkpoint {k} ({cp.instructions}) to {goals[k]}: differs in " \
                f"{differs(replay.board, straight.at(goals[k]))}"


def test_verify_restores_onto_a_board_standing_elsewhere(tmp_path, monkeypatch):
    """State a restore leaves as it was is found by ``verify``: here the time an
    interrupt was logged at before board model 3 (the previous slice's, kept in
    the core outside any checkpoint).  Restored in order, the board stood at that
    checkpoint already and verify passed."""
    import vizor.machine.arch.exceptions as X
    from vizor.machine.board.interrupts import InterruptDelivery

    def stale(board, core) -> None:
        hit = board._takeable(core)
        if hit is not None:
            core.wake_steps, core.wake_window_spent = 0, False
            core.take_exception(hit[1], X.VEC_FIQ if hit[0] else X.VEC_IRQ, 0, core.pc)
    monkeypatch.setattr(InterruptDelivery, "_deliver", stale)
    path = str(tmp_path / "irq.vzs")
    record_from_boot("irq_timers.elf", path, length("irq_timers.elf"))
    bad = Replay(load_session(path)).verify()
    assert bad is not None and "restored" in bad.what and "exceptions" in bad.what, bad


def test_a_seek_past_a_world_switch_with_a_debugger_attached_lands_where_the_straight_run_is(tmp_path):
    """Booted at EL3, irq_timers.elf leaves the Secure world for the Non-secure one.  The
    debugger steps a core at EL3 whose SCR_EL3.NS names the other world, one instruction
    a slice, until it leaves EL3 (debug/worlds.py) — which only its stop check sees.  A
    seek runs without that check: the core stepped one instruction a slice to the end of
    the seek, took an interrupt where the straight run had not, and the seek landed
    elsewhere (the jumps of the TUI on a recording booted at EL3)."""
    from vizor.machine.debug.engine import Debugger
    name = "irq_timers.elf@el3"
    path = str(tmp_path / "irq.vzs")
    record_from_boot(name, path, length(name))
    replay = Replay(load_session(path))
    Debugger(replay.board)
    n = replay.session.checkpoints[1].instructions // 2 + 1234
    replay.seek(n)
    same(replay.board, Straight(name).at(n), f"seek to {n}")


@pytest.mark.parametrize("name", DEVICE_KERNELS)
def test_device_kernels_restore_exactly_from_a_checkpoint_every_hundredth_of_their_run(name, tmp_path):
    """The SD card kernel's transfers, the RNG's words, the framebuffer's mailbox calls
    and the watchdog's reset: ~100 checkpoints, so that many fall inside a command or
    a transfer; ``verify`` restores each and runs to the next."""
    path = str(tmp_path / "dense.vzs")
    total = length(name)
    board = loaded(name)
    rec = Recorder(board, path, image_bytes(name), image_name=name, boot_el=2, interval=total // 97 + 1)
    rec.run(max_insns=total)
    rec.close()
    s = load_session(path)
    replay = Replay(s)
    bad = replay.verify()
    assert bad is None, str(bad)
    assert replay.restored == len(s.checkpoints) - 1 >= 90
