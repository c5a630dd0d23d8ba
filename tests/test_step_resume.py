"""Steps over/out/in VM and runs until a VMID as runs that can be cut and resumed
(vizor/machine/debug/stepping.py StepRun): cut into pieces they end where an uncut one
does, a recording checkpoints inside them and verifies, and inside a replay they
are the step the recorded run took (recorded inputs delivered on the way)."""

from __future__ import annotations

import os

import pytest
from test_determinism import machine_hash
from test_session import recorded  # noqa: F401 - the recorded demo session (module fixture)

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger
from vizor.machine.debug.stepping import StepRun, is_call
from vizor.machine.session.reader import load_session
from vizor.machine.session.recorder import Recorder
from vizor.machine.session.replay import Replay

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
WARM = 24_000_000     # both mini OS guests run
STORE = load_image(os.path.join(ROOT, "images", "guests", "minios.elf"), 2).symbols.by_name["uart_write"] + 0x40


def warm_board():
    board = Board()
    board.load(load_image(HYP, 2), 2)
    board.run(max_insns=WARM)
    return board, Debugger(board)


def in_vm(board, dbg, want_call: bool = False) -> int:
    """Run on until some core is in a VM (at a BL if ``want_call``); that core."""
    for _ in range(200_000):
        for c in board.cores:
            if c.vmid() is not None and c.state == "running" and (not want_call or is_call(c.read_insn(c.pc))):
                return c.index
        board.run(max_insns=97)
    raise AssertionError("no core in a VM")


def finish(step: StepRun, piece: int | None):
    with step:
        while True:
            reason = step(max_insns=piece)
            if reason.kind != "max_insns":
                return reason


@pytest.mark.parametrize("how", ["over", "vm", "until"])
def test_a_step_cut_into_pieces_ends_where_an_uncut_step_does(how):
    ends = []
    for piece in (None, 7_001):
        board, dbg = warm_board()
        core = in_vm(board, dbg, want_call=how == "over")
        vmid = 3 if board.cores[core].vmid() != 3 else 2
        reason = finish(StepRun(dbg, how, core, vmid=vmid if how == "until" else None), piece)
        assert reason.kind in ("step", "vm-entry"), reason
        ends.append((reason.kind, reason.core, board.instructions, machine_hash(board)))
        assert not dbg.breakpoints and not dbg._goals      # the temporaries are gone
    assert ends[0] == ends[1]
    if how == "until":
        assert board.cores[ends[1][1]].vmid() == vmid


def test_a_recording_checkpoints_inside_a_step_in_vm_and_verifies(tmp_path):
    board = Board()
    board.load(load_image(HYP, 2), 2)
    dbg = Debugger(board)
    bp = dbg.add_breakpoint(STORE, vmid=2)    # the mini OS's UART store: trapped, emulated at EL2
    assert dbg.run(max_insns=40_000_000).kind == "breakpoint"
    dbg.remove(bp.id)
    core = next(c.index for c in board.cores if c.pc == STORE)
    path = str(tmp_path / "step.vzs")
    with open(HYP, "rb") as f:
        rec = Recorder(board, path, f.read(), image_name="hyp.elf", boot_el=2, interval=300)
    before = rec.checkpoints
    with StepRun(dbg, "vm", core) as step:
        reason = rec.run(run=step)
    assert reason.kind == "step" and board.cores[core].vmid() is not None
    assert board.cores[core].pc == STORE + 4     # the store was emulated, the guest goes on
    taken = rec.checkpoints - before
    rec.close()
    assert taken >= 1, "the step was short: pick a longer one"
    assert Replay(load_session(path)).verify() is None


def test_a_step_in_vm_inside_a_replay_is_the_step_single_stepping_finds(recorded):  # noqa: F811
    path = recorded[0]
    s = load_session(path)
    at = s.inputs[[i["kind"] for i in s.inputs].index("uart", 1)]["at"][0] - 50_000
    r = Replay(s)
    r.seek(at)
    for _ in range(2_000):                # on to where a core runs a VM
        inside = [c.index for c in r.board.cores if c.vmid() is not None and c.state == "running"]
        if inside:
            break
        r.run(max_insns=997)
    assert inside, "no core runs a VM before the input"
    at = r.board.instructions
    dbg = Debugger(r.board)
    core = inside[0]
    vmid = r.board.cores[core].vmid()
    with StepRun(dbg, "vm", core) as step:
        reason = r.run(run=step)
    assert reason.kind == "step" and r.board.cores[core].vmid() == vmid

    ref = Replay(s)
    ref.seek(at)
    rdbg = Debugger(ref.board)
    c = ref.board.cores[core]
    while True:                          # one instruction of that core at a time
        n = c.instructions + 1
        ref.run(run=lambda max_insns=None, stop=None, **_k: rdbg.step(core, count=n - c.instructions,
                                                                       max_insns=max_insns, stop=stop))
        if c.vmid() == vmid:
            break
    assert ref.board.instructions == r.board.instructions
    assert machine_hash(ref.board) == machine_hash(r.board)
