"""Illegal exception returns (Arm ARM D1.11.2): the ERET sets PSTATE.IL and the
next instruction takes an illegal-state exception (EC 0x0E) — which Unicorn
alone does not raise, so vizor watches for it (core._watch_eret)."""

from __future__ import annotations

import struct

import pytest

import vizor.machine.arch.exceptions as X
from vizor.machine.board.board import Board
from vizor.machine.cpu.core import PARKED

HCR_RW = X.HCR_RW
NS = X.SCR_FIRMWARE


@pytest.mark.parametrize("spsr,at_el,hcr,scr,illegal", [
    (0x3C5, 1, HCR_RW, NS, False),          # EL1h from EL1: same EL
    (0x3C4, 1, HCR_RW, NS, False),          # EL1t
    (0x3C0, 1, HCR_RW, NS, False),          # EL0t
    (0x3C9, 1, HCR_RW, NS, True),           # EL2h from EL1: higher EL
    (0x3CD, 2, HCR_RW, NS, True),           # EL3h from EL2
    (0x3C1, 2, HCR_RW, NS, True),           # M=0b0001: EL0 with SP_ELx does not exist
    (0x3C6, 2, HCR_RW, NS, True),           # M[1] set: reserved
    (0x3C5, 2, HCR_RW, NS, False),          # EL2 -> EL1h, EL1 is AArch64
    (0x3C5, 2, 0, NS, True),                # EL2 -> EL1h but HCR_EL2.RW says EL1 is AArch32
    (0x3C5, 2, HCR_RW | X.HCR_TGE, NS, True),  # EL1 while HCR_EL2.TGE=1
    (0x3C0, 2, HCR_RW | X.HCR_TGE, NS, False),  # EL0 under TGE is the host's EL0
    (0x3C9, 3, HCR_RW, NS, False),          # EL3 -> EL2 non-secure
    (0x3C9, 3, HCR_RW, 0x30 | X.SCR_RW, True),  # EL2 in Secure state: the A53 has none
    (0x3C5, 3, 0, 0x30 | X.SCR_RW, False),  # Secure EL1, AArch64 by SCR_EL3.RW
    (0x3C5, 3, 0, 0x30, True),              # Secure EL1 with SCR_EL3.RW=0 (AArch32)
    (0x3D0, 1, HCR_RW, NS, True),           # AArch32 target: suspect, the CPU decides
])
def test_eret_legality(spsr, at_el, hcr, scr, illegal):
    assert X.eret_may_be_illegal(spsr, at_el, hcr, scr) is illegal


def _words(*ws: int) -> bytes:
    return b"".join(struct.pack("<I", w) for w in ws)


MSR_ELR_EL1_X1, MSR_SPSR_EL1_X2, ISB, ERET, NOP = 0xD5184021, 0xD5184002, 0xD5033FDF, 0xD69F03E0, 0xD503201F


def board_at_el1(spsr: int):
    board = Board()
    # 0x80000: msr elr_el1, x1; msr spsr_el1, x2; isb; eret; 0x80010: nop...
    board.write_ram(0x80000, _words(MSR_ELR_EL1_X1, MSR_SPSR_EL1_X2, ISB, ERET) + _words(NOP) * 64)
    board.write_ram(0x90200, _words(NOP) * 64)  # VBAR_EL1 + 0x200: current EL, SP_ELx
    core = board.cores[0]
    core.reset(0x80000, 1)
    core.set_sysreg("VBAR_EL1", 0x90000)
    for other in board.cores[1:]:
        other.state = PARKED
    core.regs.set_x(1, 0x80010)
    core.regs.set_x(2, spsr)
    return board, core


def test_illegal_eret_takes_the_illegal_state_exception_at_the_return_address():
    board, core = board_at_el1(0x3C9)  # EL1 returning to EL2h
    board.run(max_insns=6)
    rec = core.exceptions[0]
    assert (rec.from_el, rec.to_el, rec.ec, rec.elr) == (1, 1, X.EC_ILLEGAL_STATE, 0x80010)
    assert core.sysreg("ESR_EL1") == 0x3A000000
    assert core.regs.read_enc((3, 0, 4, 0, 0)) & X.PSTATE_IL  # SPSR_EL1.IL
    assert core.sysreg("ELR_EL1") == 0x80010
    assert 0x90200 <= core.pc < 0x90300 and not core.pstate & X.PSTATE_IL
    assert len(core.exceptions) == 1


def test_legal_eret_runs_on_without_an_exception():
    board, core = board_at_el1(0x3C5)  # EL1h: legal
    board.run(max_insns=10)
    assert not core.exceptions
    assert core.pc == 0x80010 + 4 * 6 and not core._eret_watch


def test_watch_ends_once_the_exception_rewrites_the_spsr():
    board, core = board_at_el1(0x3C9)
    board.run(max_insns=50)
    assert not core._eret_watch  # SPSR_EL1 now holds the (legal) EL1h of the exception
    assert core.instructions == 50
