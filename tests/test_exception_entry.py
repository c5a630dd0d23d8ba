"""Exception entry as vizor performs it on a core (Arm ARM D1.10)."""

from __future__ import annotations

import vizor.machine.arch.exceptions as X
from vizor.machine.board.board import Board


def core_at_el1(board: Board):
    core = board.cores[0]
    core.reset(0x80000, 2)
    core.set_sysreg("VBAR_EL2", 0x10000)
    core.set_sysreg("ESR_EL2", 0x5A000042)
    core.set_sysreg("SP_EL2", 0x9000)
    # pretend EL2 dropped to EL1h with IRQs unmasked, SP_EL1 live
    core.regs.write("PSTATE", 0x345)
    core.regs.write_enc((3, 0, 12, 0, 0), 0)  # any CP_REG write: QEMU takes the new EL
    core.regs.write("SP", 0x7000)
    core.regs.write("PC", 0x81234)
    return core


def test_irq_to_el2_from_el1_uses_the_lower_el_vector_and_leaves_esr_alone():
    core = core_at_el1(Board())
    core.take_exception(2, X.VEC_IRQ, 0, elr=0x81234)
    assert core.pc == 0x10000 + 0x400 + 0x80
    assert core.el == 2 and core.pstate & 0x3C0 == 0x3C0
    assert core.sysreg("ELR_EL2") == 0x81234
    assert core.regs.read_enc((3, 4, 4, 0, 0)) == 0x345  # SPSR_EL2 = old PSTATE
    assert core.sysreg("ESR_EL2") == 0x5A000042
    assert core.regs.read("SP") == 0x9000  # SP_EL2 now live
    assert core.sysreg("SP_EL1") == 0x7000  # the SP left behind is banked
    assert core.exceptions[-1].kind == "irq"


def test_sync_entry_writes_esr_and_far():
    core = core_at_el1(Board())
    core.take_exception(2, X.VEC_SYNC, 0x93C18007, elr=0x81234, far=0x10001010)
    assert core.pc == 0x10400
    assert core.sysreg("ESR_EL2") == 0x93C18007
    assert core.sysreg("FAR_EL2") == 0x10001010
    assert core.exceptions[-1].ec == 0x24
