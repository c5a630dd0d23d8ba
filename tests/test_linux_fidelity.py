"""What Linux needs of the CPU beyond the conformance kernels: PMCR_EL0 as the
A53's (six event counters, counters 4 and 5 present), and an SPSR the guest
never wrote not taken for an illegal exception return (issue 19)."""

from __future__ import annotations

import struct

from vizor.machine.board.board import Board
from vizor.machine.cpu.core import PARKED

# mrs x1, pmcr_el0; msr pmevcntr5_el0, x1; mrs x2, pmevcntr5_el0; mrs x3, pmevtyper4_el0; b .
PMU_PROGRAM = (0xD53B9C01, 0xD51BE8A1, 0xD53BE8A2, 0xD53BEC83, 0x14000000)
# At EL3 with HCR_EL2 at reset: scr_el3 = 0x5b1; spsr_el3 = EL2h; elr_el3 = 1f; eret
# 1: mrs x1, pmcr_el0; b 1b      (SPSR_EL2 never written)
DROP_PROGRAM = (0xD280B620, 0xD51E1100, 0xD2807920, 0xD51E4000, 0x10000060, 0xD51E4020,
                0xD69F03E0, 0xD53B9C01, 0x17FFFFFF)


def board_running(program, el: int, hcr: int | None = None) -> Board:
    board = Board()
    board.write_ram(0x80000, b"".join(struct.pack("<I", w) for w in program))
    core = board.cores[0]
    if hcr is None:
        core.reset(0x80000, el)
    else:
        core.reset(0x80000, el, hcr=hcr, scr=0x30 | (1 << 10))
    for other in board.cores[1:]:
        other.state = PARKED
    return board


def test_pmcr_reads_the_a53_idcode_and_six_counters_at_el1_and_el2():
    for el in (1, 2):
        board = board_running(PMU_PROGRAM, el)
        board.run(max_insns=20)
        core = board.cores[0]
        pmcr = core.regs.x(1)
        assert (pmcr >> 11) & 0x1F == 6, hex(pmcr)
        assert (pmcr >> 16) & 0xFF == 0x03 and pmcr >> 24 == 0x41


def test_event_counters_4_and_5_exist_and_hold_what_is_written():
    board = board_running(PMU_PROGRAM, 1)
    board.run(max_insns=20)
    core = board.cores[0]
    assert not core.exception_counts                  # no UNDEFINED on counter 5
    assert core.regs.x(2) == core.regs.x(1) and core.regs.x(3) == 0


def test_an_spsr_never_written_does_not_slow_the_core_after_a_drop_from_el3():
    board = board_running(DROP_PROGRAM, 3, hcr=0)      # HCR_EL2.RW = 0, SPSR_EL2 never written
    board.run(max_insns=10_000)
    core = board.cores[0]
    assert core.el == 2 and not core.exception_counts
    assert not core._eret_watch                        # would run one instruction per slice
    assert core.instructions == 10_000


def test_a_written_spsr_that_could_return_illegally_is_still_watched():
    board = board_running(DROP_PROGRAM, 3, hcr=0)
    board.run(max_insns=100)
    core = board.cores[0]
    core.set_sysreg("SPSR_EL2", 0x5)                   # EL1h with HCR_EL2.RW = 0: AArch32 EL1
    assert core._eret_watch


def test_the_reset_spsrs_are_qemus_and_a_checkpoint_keeps_the_unwritten_ones_legal():
    import zlib

    import vizor.machine.session.checkpoint as C
    board = board_running(DROP_PROGRAM, 3, hcr=0)
    board.run(max_insns=100)
    core = board.cores[0]
    assert [core.sysreg(f"SPSR_EL{n}") for n in (1, 2)] == [0, 0]   # QEMU's reset value, shown as is
    cp = C.capture(board, C.RamTracker(board))
    other = board_running(DROP_PROGRAM, 3, hcr=0)
    C.restore(other, cp.meta, cp.contexts, {blk: zlib.decompress(d) for blk, d in cp.blocks.items()})
    assert not other.cores[0]._eret_watch                # still never written, still not suspect
