"""A Unicorn Cortex-A53 used as an oracle for address translation (tests only).

The emulator proper drives Unicorn from vizor/machine/cpu/core.py; this fixture
talks to Unicorn directly so the pure walkers in vizor.machine.arch.mmu can be
compared with what the CPU answers to AT instructions (PAR_EL1).

The core runs at EL3 with SCTLR_EL3.M = 0 (flat code fetch, unless a test maps
its code in EL3 tables) and SCR_EL3.NS = 1, so AT S1E1*, S1E0*, S1E2* and S12E1*
act on the non-secure regimes; ``secure(True)`` clears NS, and AT S1E1*/S1E0*
then act on the Secure EL1&0 regime.
RAM is mapped (lazily allocated by Unicorn) from 0 to RAM_SIZE.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

from unicorn import (
    UC_ARCH_ARM64,
    UC_CTL_IO_WRITE,
    UC_CTL_TLB_FLUSH,
    UC_MODE_ARM,
    Uc,
    UcError,
)
from unicorn.arm64_const import (
    UC_ARM64_REG_CP_REG,
    UC_ARM64_REG_PSTATE,
    UC_ARM64_REG_X0,
    UC_CPU_ARM64_A53,
)

from vizor.machine.arch.mmu import BusError, TranslationRegs

RAM_SIZE = 0x8000_0000
CODE = 0x1000

# (op0, op1, CRn, CRm, op2) of the registers a walk depends on.
_REGS = {
    "sctlr_el1": (3, 0, 1, 0, 0), "tcr_el1": (3, 0, 2, 0, 2), "ttbr0_el1": (3, 0, 2, 0, 0),
    "ttbr1_el1": (3, 0, 2, 0, 1), "mair_el1": (3, 0, 10, 2, 0), "hcr_el2": (3, 4, 1, 1, 0),
    "vtcr_el2": (3, 4, 2, 1, 2), "vttbr_el2": (3, 4, 2, 1, 0), "sctlr_el2": (3, 4, 1, 0, 0),
    "tcr_el2": (3, 4, 2, 0, 2), "ttbr0_el2": (3, 4, 2, 0, 0), "mair_el2": (3, 4, 10, 2, 0),
    "tcr_el3": (3, 6, 2, 0, 2), "ttbr0_el3": (3, 6, 2, 0, 0), "mair_el3": (3, 6, 10, 2, 0),
    "sctlr_el3": (3, 6, 1, 0, 0),
}
_PAR_EL1 = (3, 0, 7, 4, 0)
_SCR_EL3 = (3, 6, 1, 1, 0)
HCR_RW = 1 << 31

# AT operations: name -> (op1, op2) with CRn=7, CRm=8.
AT_OPS = {
    "S1E1R": (0, 0), "S1E1W": (0, 1), "S1E0R": (0, 2), "S1E0W": (0, 3),
    "S1E2R": (4, 0), "S1E2W": (4, 1), "S1E3R": (6, 0), "S1E3W": (6, 1),
    "S12E1R": (4, 4), "S12E1W": (4, 5), "S12E0R": (4, 6), "S12E0W": (4, 7),
}
_ISB = 0xD5033FDF
_NOP = 0xD503201F


def sys_insn(op1: int, crn: int, crm: int, op2: int, rt: int) -> int:
    """Encoding of SYS #op1, Cn, Cm, #op2, Xt (the AT/DC/IC/TLBI alias space)."""
    return 0xD5080000 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | rt


@dataclass(frozen=True)
class Par:
    """PAR_EL1 after an AT instruction, decoded."""

    raw: int

    @property
    def fault(self) -> bool:
        return bool(self.raw & 1)

    @property
    def pa(self) -> int:
        return self.raw & 0x0000_FFFF_FFFF_F000

    @property
    def fst(self) -> int:
        return (self.raw >> 1) & 0x3F

    @property
    def stage2(self) -> bool:
        return bool(self.raw >> 9 & 1)

    @property
    def ns(self) -> bool:
        """PAR_EL1.NS of a successful translation (bit 9, as the fault format's S)."""
        return bool(self.raw >> 9 & 1)

    @property
    def ptw(self) -> bool:
        return bool(self.raw >> 8 & 1)


class CpuAt:
    """One reusable Unicorn A53 answering AT queries against tables in its RAM."""

    def __init__(self) -> None:
        uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        uc.ctl_set_cpu_model(UC_CPU_ARM64_A53)
        uc.mem_map(0, RAM_SIZE)
        self.uc = uc
        self._dirty: set[int] = set()
        self._code_at: dict[str, int] = {}
        words = []
        for i, (name, (op1, op2)) in enumerate(AT_OPS.items()):
            self._code_at[name] = CODE + 12 * i
            words += [sys_insn(op1, 7, 8, op2, 0), _ISB, _NOP]
        uc.mem_write(CODE, struct.pack(f"<{len(words)}I", *words))
        uc.reg_write(UC_ARM64_REG_PSTATE, 0x3CD)          # EL3h, DAIF masked
        self.sysreg(_SCR_EL3, 0x5B1)                      # NS, RES1, SMD, HCE, RW
        self.sysreg(_SCR_EL3, 0x5B1)

    def sysreg(self, enc: tuple[int, int, int, int, int], value: Optional[int] = None) -> int:
        op0, op1, crn, crm, op2 = enc
        if value is None:
            return self.uc.reg_read(UC_ARM64_REG_CP_REG, (crn, crm, op0, op1, op2))
        self.uc.reg_write(UC_ARM64_REG_CP_REG, (crn, crm, op0, op1, op2, value))
        return value

    # --- memory -------------------------------------------------------------

    def write64(self, pa: int, value: int) -> None:
        self.uc.mem_write(pa, struct.pack("<Q", value & (2**64 - 1)))
        self._dirty.add(pa)

    def read(self, pa: int, size: int) -> int:
        """The `read` callable for the walkers: the same RAM the CPU walks."""
        if pa < 0 or pa + size > RAM_SIZE:
            raise BusError(f"PA 0x{pa:x} is not RAM")
        try:
            return int.from_bytes(self.uc.mem_read(pa, size), "little")
        except UcError as e:
            raise BusError(f"PA 0x{pa:x}: {e}") from None

    def clear(self) -> None:
        """Zero every descriptor written since the last clear."""
        for pa in self._dirty:
            self.uc.mem_write(pa, b"\0" * 8)
        self._dirty.clear()

    # --- translation ---------------------------------------------------------

    def load(self, regs: TranslationRegs) -> None:
        """Write the translation registers (HCR_EL2.RW forced) and flush the TLB."""
        for name, enc in _REGS.items():
            value = getattr(regs, name)
            if name == "hcr_el2":
                value |= HCR_RW
            self.sysreg(enc, value)
        self.uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)

    def secure(self, on: bool) -> None:
        """SCR_EL3.NS = 0 (on) or 1: which EL1&0 regime AT S1E1*/S1E0* walk."""
        self.sysreg(_SCR_EL3, 0x5B0 if on else 0x5B1)
        self.uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)

    def at(self, op: str, va: int) -> Par:
        begin = self._code_at[op]
        self.uc.reg_write(UC_ARM64_REG_X0, va)
        self.uc.emu_start(begin, begin + 8)
        return Par(self.sysreg(_PAR_EL1))
