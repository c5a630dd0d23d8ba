"""TLBI ... IS executed on one core invalidates the other cores' TLBs (each
core is its own Unicorn instance, so vizor broadcasts the flush)."""

from __future__ import annotations

from vizor.machine.board.board import Board
from vizor.machine.cpu.core import HALTED

TLBI_ALLE1IS = 0xD50C839F
TLBI_VMALLE1IS = 0xD508831F
B_SELF = 0x14000000


def run_words(words, el=2):
    board = Board()
    code = b"".join(w.to_bytes(4, "little") for w in words)
    board.ram[0x80000:0x80000 + len(code)] = code
    board.cores[0].reset(0x80000, el)
    for c in board.cores[1:]:
        c.state = HALTED  # keep them out of the run
    board.run(max_insns=10)
    return board


def test_tlbi_alle1is_at_el2_runs_on_and_does_not_halt_the_core():
    board = run_words([TLBI_ALLE1IS, B_SELF])
    core = board.cores[0]
    assert core.state != HALTED, core.fault
    assert core.pc == 0x80004


def test_tlbi_vmalle1is_at_el1_runs_on_and_does_not_halt_the_core():
    board = run_words([TLBI_VMALLE1IS, B_SELF], el=1)
    core = board.cores[0]
    assert core.state != HALTED, core.fault
    assert core.pc == 0x80004
