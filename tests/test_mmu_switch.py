"""An MMU switch without ISB (images/tests/mmu_switch.elf, issue 18.2): the
instruction after the MSR runs under the old regime, and neither a breakpoint
on that instruction nor a checkpoint taken between the two changes the run."""
from __future__ import annotations

import zlib

from conformance import image
from test_determinism import machine_hash

import vizor.machine.session.checkpoint as C
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger

NEXT = 0x1FF000     # the instruction after `msr sctlr_el1, x0`, in the identity map's hole


def booted() -> tuple[Board, list[str]]:
    board = Board()
    board.load(load_image(image("mmu_switch.elf"), 2), 2)
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    return board, out


def to_the_end(board: Board, dbg: Debugger | None = None) -> int:
    hits = 0
    while True:
        reason = (dbg or board).run(max_insns=20_000_000)
        if reason.kind != "breakpoint":
            assert reason.kind == "idle", reason     # DONE, then every core parks in WFI
            return hits
        hits += 1


def test_a_breakpoint_after_the_msr_stops_there_and_changes_nothing():
    plain, plain_out = booted()
    to_the_end(plain)
    board, out = booted()
    dbg = Debugger(board)
    dbg.add_breakpoint(NEXT)
    assert to_the_end(board, dbg) == 3          # MMU on, MMU on with the ISB in the hole, MMU off
    assert "".join(out) == "".join(plain_out)
    assert "FAIL" not in "".join(out) and "DONE" in "".join(out)
    assert machine_hash(board) == machine_hash(plain)


def test_a_checkpoint_between_the_msr_and_the_next_instruction_restores_exactly():
    a, _ = booted()
    dbg = Debugger(a)
    bp = dbg.add_breakpoint(NEXT - 4)           # the MSR itself
    assert dbg.run(max_insns=20_000_000).kind == "breakpoint"
    dbg.remove(bp.id)
    a.run(max_insns=1)                          # the MSR: skipped, its write deferred
    core = a.cores[0]
    assert core.pc == NEXT and core._deferred_write is not None
    cp = C.capture(a, C.RamTracker(a))
    b, out = booted()
    C.restore(b, cp.meta, cp.contexts, {blk: zlib.decompress(d) for blk, d in cp.blocks.items()})
    assert b.cores[0]._deferred_write == core._deferred_write
    to_the_end(a)
    to_the_end(b)
    assert machine_hash(a) == machine_hash(b)
