"""A pending interrupt that software unmasks only briefly after a WFI is taken.

PSTATE.I has no hook (``msr daifclr`` is invisible to vizor), so interrupts
are checked between slices.  The idle idiom "wfi; msr daifclr; isb; msr
daifset" opens a window of two instructions right after the wake-up; the
board runs the instructions after such a wake one at a time (board.WAKE_STEPS)
so the interrupt is taken inside it, as on the hardware.
"""

from __future__ import annotations

import struct

import vizor.machine.arch.exceptions as X
from vizor.machine.board.board import Board
from vizor.machine.cpu.core import PARKED

# 0x80000 (EL1): x1 = 0x40000000; mailbox IRQ enable for core 0 (0x50) and mailbox 0
# set (0x80): an IRQ is pending from here on.  1: msr daifset,#2; wfi;
# msr daifclr,#2; isb; msr daifset,#2; b 1b
IDLE = (0xD2A80001, 0x52800022, 0xB9005022, 0xB9008022, 0xD50342DF, 0xD503207F, 0xD50342FF,
        0xD5033FDF, 0xD50342DF, 0x17FFFFFB)
ISB = 0x80000 + 4 * 7
HANDLER = 0x90000 + 0x280  # VBAR_EL1 + current EL with SP_ELx, IRQ
B_SELF = 0x14000000


def test_an_irq_unmasked_for_two_instructions_after_wfi_is_taken_in_the_window():
    board = Board()
    board.write_ram(0x80000, b"".join(struct.pack("<I", w) for w in IDLE))
    board.write_ram(HANDLER, struct.pack("<I", B_SELF))
    core = board.cores[0]
    core.reset(0x80000, 1)
    core.set_sysreg("VBAR_EL1", 0x90000)
    for other in board.cores[1:]:
        other.state = PARKED
    board.run(max_insns=5_000)
    irqs = [r for r in core.exceptions if r.kind == "irq"]
    assert irqs, "the interrupt was never taken"
    assert irqs[0].elr == ISB and irqs[0].to_el == 1  # taken right after msr daifclr
    assert core.pc == HANDLER and core.pstate & X.PSTATE_I
