"""PMCCNTR_EL0 counts virtual cycles (QEMU would read the host clock)."""

from __future__ import annotations

import struct

from vizor.machine.board.board import Board
from vizor.machine.cpu.core import PARKED
from vizor.machine.cpu.pmu import PMCCNTR_EL0, PMCNTENSET_EL0, PMCR_EL0, CycleCounter

# mov x0,#1; msr pmcr_el0,x0; mov x0,#0x80000000; msr pmcntenset_el0,x0;
# mrs x1,pmccntr_el0; nop; nop; nop; mrs x2,pmccntr_el0; b .
PROGRAM = (0xD2800020, 0xD51B9C00, 0xD2B00000, 0xD51B9C20, 0xD53B9D01, 0xD503201F, 0xD503201F,
           0xD503201F, 0xD53B9D02, 0x14000000)


def run_program(el: int):
    board = Board()
    board.write_ram(0x80000, b"".join(struct.pack("<I", w) for w in PROGRAM))
    core = board.cores[0]
    core.reset(0x80000, el)
    for other in board.cores[1:]:
        other.state = PARKED
    board.run(max_insns=200)
    return core.regs.x(1), core.regs.x(2)


def test_the_cycle_counter_advances_one_per_instruction_and_repeats_exactly():
    first = run_program(2)
    assert first[1] - first[0] == 4  # three NOPs and the second MRS
    assert run_program(2) == first  # the same on every run: no host time
    assert run_program(1) == first


def test_the_counter_model_follows_enable_reset_and_divider():
    cc = CycleCounter()
    cc.write(PMCR_EL0, 1, now=0)
    assert cc.read(1000) == 0  # PMCNTENSET.C not set yet
    cc.write(PMCNTENSET_EL0, 1 << 31, now=1000)
    assert cc.read(1500) == 500
    cc.write(PMCR_EL0, 1 | 8, now=1500)  # D: count every 64 cycles
    assert cc.read(1500 + 640) == 510
    cc.write(PMCR_EL0, 1 | 4, now=2140)  # C: reset
    assert cc.read(2150) == 10
    cc.write(PMCCNTR_EL0, 7, now=2150)
    assert cc.read(2160) == 17
