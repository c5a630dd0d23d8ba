"""The PMU cycle counter (PMCCNTR_EL0) counted in virtual time.

Inside Unicorn, QEMU derives PMCCNTR_EL0 from the host clock, which would make
a guest that times itself with the cycle counter see a different value on
every run (DESIGN.md: no host time in the machine).  vizor serves the counter
from virtual cycles instead: it counts while PMCR_EL0.E and PMCNTENSET_EL0.C
(bit 31) are both set, PMCR_EL0.C (bit 2) written as 1 resets it, and a write
to PMCCNTR_EL0 sets it.  PMCR_EL0.D (count every 64 cycles) is honoured.
The event counters (PMEVCNTRn) are left to QEMU: they count nothing there.

PMCR_EL0 reads as the Cortex-A53's (TRM, PMCR_EL0): IDCODE 0x03 and N = 6 event
counters, where QEMU 5 has IDCODE 0 and four; from EL0/EL1 with EL2 enabled N
reads MDCR_EL2.HPMN, as the architecture says.  Counters 4 and 5, which QEMU
lacks, are emulated as registers that count nothing (core.py's IMPDEF_RESET).
"""

from __future__ import annotations

from dataclasses import dataclass

PMCR_EL0 = (3, 3, 9, 12, 0)
PMCNTENSET_EL0 = (3, 3, 9, 12, 1)
PMCNTENCLR_EL0 = (3, 3, 9, 12, 2)
PMCCNTR_EL0 = (3, 3, 9, 13, 0)
PMU_REGS = (PMCR_EL0, PMCNTENSET_EL0, PMCNTENCLR_EL0, PMCCNTR_EL0)
CYCLE_BIT = 1 << 31
PMCR_IDCODE_N = (0xFF << 16) | (0x1F << 11)
A53_IDCODE = 0x03
A53_COUNTERS = 6


def a53_pmcr(qemu_value: int, n: int = A53_COUNTERS) -> int:
    """PMCR_EL0 as the A53 reads it: QEMU's value with IDCODE and N replaced."""
    return (qemu_value & ~PMCR_IDCODE_N) | (A53_IDCODE << 16) | ((n & 0x1F) << 11)


@dataclass(frozen=True)
class CycleCounterState:
    value: int
    since: int
    pmcr: int
    enset: int


class CycleCounter:
    def __init__(self) -> None:
        self.value = 0  # counter value at cycle ``since``
        self.since = 0
        self.pmcr = 0
        self.enset = 0

    def _counting(self) -> bool:
        return bool(self.pmcr & 1 and self.enset & CYCLE_BIT)

    def _fold(self, now: int) -> None:
        if self._counting():
            ticks = now - self.since
            self.value = (self.value + (ticks // 64 if self.pmcr & 8 else ticks)) & (2 ** 64 - 1)
        self.since = now

    def read(self, now: int) -> int:
        self._fold(now)
        return self.value

    def write(self, enc, value: int, now: int) -> None:
        """A write the guest makes (QEMU still holds the control registers)."""
        self._fold(now)
        if enc == PMCCNTR_EL0:
            self.value = value & (2 ** 64 - 1)
        elif enc == PMCR_EL0:
            if value & 4:
                self.value = 0
            self.pmcr = value & ~0b110  # C and P read as zero
        elif enc == PMCNTENSET_EL0:
            self.enset |= value
        elif enc == PMCNTENCLR_EL0:
            self.enset &= ~value

    def state(self) -> CycleCounterState:
        return CycleCounterState(self.value, self.since, self.pmcr, self.enset)

    def restore(self, s: CycleCounterState) -> None:
        self.value, self.since, self.pmcr, self.enset = s.value, s.since, s.pmcr, s.enset
