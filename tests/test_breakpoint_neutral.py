"""A breakpoint never changes the run (issue 18.4).

The demo hypervisor runs to the same instruction count with and without
breakpoints at the guests' entry (VA 0, the start of the address space), at
every exception vector of EL2 and of the guests' EL1, and at exception-return
targets; the whole-machine hashes must be equal.  Once with a VMID filter that
never matches (every arrival is a silent resume), once with no filter (every
arrival is a reported hit, then continued).

VA 0 found a Unicorn/QEMU 5 quirk: a block that ends at an exit before its
first instruction is empty, and QEMU translates the page before an empty block
at a 1 KB boundary, which at 0 (or at the first page of a mapping) raised a
prefetch abort the guest then took (carriers.py ``spurious_fetch_fault``).
"""
from __future__ import annotations

import os

import pytest
from test_determinism import machine_hash

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
N = 3_000_000
VECTORS = [0x80 * i for i in range(16)]


def board_and_debugger():
    board = Board()
    board.load(load_image(HYP, 2), 2)
    return board, Debugger(board)


def addresses(board) -> list[int]:
    """Vectors of EL2 and of the guests, the guests' entry, and return targets seen so far."""
    out = {0}
    vbar2 = board.cores[0].regs.read("VBAR_EL2")
    out.update(vbar2 + v for v in VECTORS)
    for c in board.cores:
        if c.vmid() is not None:
            vbar1 = c.regs.read("VBAR_EL1")
            out.update(vbar1 + v for v in VECTORS)
        for rec in c.exceptions:
            if rec.elr is not None:
                out.update((rec.elr, rec.elr + 4))
    return sorted(out)


@pytest.fixture(scope="module")
def reference():
    board, _ = board_and_debugger()
    board.run(max_insns=N)
    return machine_hash(board), addresses(board)


@pytest.mark.parametrize("vmid", [200, None], ids=["never-matching", "every-hit"])
def test_breakpoints_at_0_vectors_and_return_targets_do_not_change_the_run(reference, vmid):
    plain, where = reference
    assert 0 in where and len(where) > 20
    board, dbg = board_and_debugger()
    for a in where:
        dbg.add_breakpoint(a, vmid=vmid)
    hits = 0
    while board.instructions < N:
        reason = dbg.run(max_insns=N - board.instructions)
        if reason.kind == "breakpoint":
            hits += 1
            continue
        assert reason.kind == "max_insns", reason
    assert (hits > 0) == (vmid is None)
    assert machine_hash(board) == plain


def test_a_breakpoint_at_0_stops_at_each_guests_first_instruction():
    board, dbg = board_and_debugger()
    dbg.add_breakpoint(0)
    seen = set()
    while len(seen) < 3 and board.instructions < 60_000_000:
        reason = dbg.run(max_insns=60_000_000)
        assert reason.kind == "breakpoint", reason
        core = board.cores[reason.core]
        assert core.pc == 0 and core.el == 1
        seen.add(core.vmid())
    assert seen == {1, 2, 3}
    assert not any(rec.kind == "sync" and rec.ec == 0x21 for c in board.cores for rec in c.exceptions)
