"""The Armv8 generic timer of one Cortex-A53 core, driven by virtual time.

Arm ARM D11 ("The Generic Timer in AArch64 state") and the register pages for
CNTFRQ_EL0, CNTPCT_EL0, CNTVCT_EL0, CNT{P,V,HP,PS}_{CTL,CVAL,TVAL}, CNTVOFF_EL2,
CNTKCTL_EL1 and CNTHCTL_EL2.  The core glue calls ``read_sysreg(name)`` /
``write_sysreg(name, value)`` from its MRS/MSR hooks, after asking
``access(name, el, ...)`` whether an access from EL0/EL1 is allowed.

The system counter is the board's 19.2 MHz ``clock.counter()``.  Each of the
four timers drives its ``IrqLine`` at the level
``ENABLE && !IMASK && count >= CVAL`` and, while that condition is still
ahead, keeps one clock event scheduled at the exact cycle it becomes true.

Not implemented: the event stream (CNTKCTL_EL1.EVNTEN / CNTHCTL_EL2.EVNTEN
are stored but generate no events), the AArch32 views, ARMv8.1 VHE
(HCR_EL2.E2H is ignored, as on the Cortex-A53), and the memory-mapped
CNTControlBase/CNTBaseN frames (the Pi 3 has none).  ISTATUS reads 0 while a
timer is disabled (the architecture makes it UNKNOWN).  ``restore`` must run
after the clock has been restored: it reschedules the pending events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from vizor.machine.clock import COUNTER_HZ, Clock, cycles_for_counter
from vizor.machine.devices.base import IrqLine

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1

# CNTx_CTL bits (Arm ARM, CNTP_CTL_EL0)
CTL_ENABLE = 1 << 0
CTL_IMASK = 1 << 1
CTL_ISTATUS = 1 << 2

# CNTKCTL_EL1 bits
EL0PCTEN = 1 << 0
EL0VCTEN = 1 << 1
EL0VTEN = 1 << 8
EL0PTEN = 1 << 9
# CNTHCTL_EL2 bits (HCR_EL2.E2H == 0 layout)
EL1PCTEN = 1 << 0
EL1PCEN = 1 << 1
# HCR_EL2.TGE
HCR_TGE = 1 << 27

EC_SYSREG_TRAP = 0x18  # trapped MSR/MRS/system instruction
EC_UNKNOWN = 0x00      # UNDEFINED

# The four timers in the order of the QA7 core timer interrupt bits 0..3.
CNTPS, CNTPNS, CNTHP, CNTV = range(4)
TIMER_NAMES = ("CNTPS", "CNTP", "CNTHP", "CNTV")
_TIMER_REGS = {
    "CNTPS": (CNTPS, "EL1"),
    "CNTP": (CNTPNS, "EL0"),
    "CNTHP": (CNTHP, "EL2"),
    "CNTV": (CNTV, "EL0"),
}
# "CNTP_CTL_EL0" -> (timer index, "CTL")
TIMER_REGISTERS = {
    f"{prefix}_{field}_{el}": (index, field)
    for prefix, (index, el) in _TIMER_REGS.items()
    for field in ("CTL", "CVAL", "TVAL")
}
PLAIN_REGISTERS = ("CNTFRQ_EL0", "CNTPCT_EL0", "CNTVCT_EL0", "CNTVOFF_EL2",
                   "CNTKCTL_EL1", "CNTHCTL_EL2")
REGISTERS = tuple(TIMER_REGISTERS) + PLAIN_REGISTERS


def _sext32(value: int) -> int:
    value &= MASK32
    return value - (1 << 32) if value & (1 << 31) else value


@dataclass(frozen=True)
class TimerAccess:
    """The answer of ``GenericTimer.access``: allowed, or an exception to take."""

    allowed: bool
    target_el: int = 0   # EL the exception is taken to when not allowed
    ec: int = 0          # ESR_ELx.EC: 0x18 trapped sysreg, 0x00 UNDEFINED

    @classmethod
    def ok(cls) -> "TimerAccess":
        return cls(True)


@dataclass(frozen=True)
class GenericTimerState:
    frq: int
    ctl: tuple[int, int, int, int]
    cval: tuple[int, int, int, int]
    voff: int
    kctl: int
    hctl: int


class GenericTimer:
    """One core's generic timers.

    ``irqs`` are the four output lines in QA7 order: nCNTPSIRQ, nCNTPNSIRQ,
    nCNTHPIRQ, nCNTVIRQ (the board passes ``ArmLocal.timer_input(core, n)``).
    """

    # Where the native accelerator reads CNTVOFF_EL2 and CNTHCTL_EL2 (a ctypes
    # structure with ``voff`` and ``hctl`` fields, set by the core; accel.c
    # answers counter reads itself): written whenever either changes
    voff_mirror = None

    def mirror(self) -> None:
        m = self.voff_mirror
        if m is not None:
            m.voff, m.hctl = self._voff, self._hctl

    def __init__(self, clock: Clock, irqs: Sequence[IrqLine]) -> None:
        if len(irqs) != 4:
            raise ValueError("a generic timer has four interrupt outputs")
        self._clock = clock
        self._irqs = tuple(irqs)
        self._events: list = [None] * 4
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._frq = COUNTER_HZ  # what the Pi 3 firmware leaves in CNTFRQ_EL0
        self._ctl = [0, 0, 0, 0]
        self._cval = [0, 0, 0, 0]
        self._voff = 0
        self._kctl = 0
        self._hctl = EL1PCTEN | EL1PCEN  # firmware leaves EL1 access open
        self.mirror()
        self._update_irqs()

    def state(self) -> GenericTimerState:
        return GenericTimerState(self._frq, tuple(self._ctl), tuple(self._cval),
                                 self._voff, self._kctl, self._hctl)

    def restore(self, state: GenericTimerState) -> None:
        self._frq = state.frq
        self._ctl = list(state.ctl)
        self._cval = list(state.cval)
        self._voff = state.voff
        self._kctl = state.kctl
        self._hctl = state.hctl
        self.mirror()
        self._update_irqs()

    # ------------------------------------------------------------- counters
    def physical_count(self) -> int:
        return self._clock.counter() & MASK64

    def virtual_count(self) -> int:
        return (self._clock.counter() - self._voff) & MASK64

    def _count(self, timer: int) -> int:
        return self.virtual_count() if timer == CNTV else self.physical_count()

    def condition(self, timer: int) -> bool:
        """The timer condition (ISTATUS): enabled and count >= CVAL."""
        return bool(self._ctl[timer] & CTL_ENABLE) and self._count(timer) >= self._cval[timer]

    # ----------------------------------------------------- register access
    def read_sysreg(self, name: str) -> int:
        if name in TIMER_REGISTERS:
            timer, field = TIMER_REGISTERS[name]
            if field == "CTL":
                return self._ctl[timer] | (CTL_ISTATUS if self.condition(timer) else 0)
            if field == "CVAL":
                return self._cval[timer]
            # TVAL: the low 32 bits of CVAL - count, a signed 32-bit view
            return (self._cval[timer] - self._count(timer)) & MASK32
        if name == "CNTFRQ_EL0":
            return self._frq
        if name == "CNTPCT_EL0":
            return self.physical_count()
        if name == "CNTVCT_EL0":
            return self.virtual_count()
        if name == "CNTVOFF_EL2":
            return self._voff
        if name == "CNTKCTL_EL1":
            return self._kctl
        if name == "CNTHCTL_EL2":
            return self._hctl
        raise KeyError(f"not a generic timer register: {name}")

    def write_sysreg(self, name: str, value: int) -> None:
        value &= MASK64
        if name in TIMER_REGISTERS:
            timer, field = TIMER_REGISTERS[name]
            if field == "CTL":
                self._ctl[timer] = value & (CTL_ENABLE | CTL_IMASK)
            elif field == "CVAL":
                self._cval[timer] = value
            else:
                self._cval[timer] = (self._count(timer) + _sext32(value)) & MASK64
            self._update_irqs((timer,))     # only this timer's line and deadline can change
            return
        if name == "CNTFRQ_EL0":
            self._frq = value & MASK32
        elif name == "CNTVOFF_EL2":
            self._voff = value
            self.mirror()
            self._update_irqs((CNTV,))
        elif name == "CNTKCTL_EL1":
            self._kctl = value & 0x3FF
        elif name == "CNTHCTL_EL2":
            self._hctl = value & 0xFF
            self.mirror()
        elif name in ("CNTPCT_EL0", "CNTVCT_EL0"):
            raise KeyError(f"{name} is read-only")
        else:
            raise KeyError(f"not a generic timer register: {name}")

    # ------------------------------------------------------ access control
    def access(self, name: str, el: int, hcr_el2: int = 0, *,
               el2_enabled: bool = True, secure: bool = False,
               scr_st: bool = False) -> TimerAccess:
        """May an MRS/MSR of ``name`` from ``el`` go ahead (AArch64, no VHE)?

        EL0 is gated by CNTKCTL_EL1 (trap to EL1, or EL2 when HCR_EL2.TGE);
        non-secure EL0/EL1 physical counter and timer accesses are then gated
        by CNTHCTL_EL2.EL1PCTEN / EL1PCEN (trap to EL2).  Both traps use
        EC 0x18.  EL2-only registers below EL2, and CNTPS_* outside Secure
        EL1, are UNDEFINED (EC 0x00); Secure EL1 CNTPS_* with SCR_EL3.ST == 0
        traps to EL3.
        """
        if el == 3:
            return TimerAccess.ok()
        if el == 2:
            return TimerAccess(False, 2, EC_UNKNOWN) if name.startswith("CNTPS") else TimerAccess.ok()
        el0_target = 2 if (el2_enabled and hcr_el2 & HCR_TGE) else 1
        if name.endswith("_EL2") or (name.startswith("CNTPS") and el == 0):
            return TimerAccess(False, el0_target if el == 0 else 1, EC_UNKNOWN)
        if name.startswith("CNTPS"):
            if not secure:
                return TimerAccess(False, 1, EC_UNKNOWN)
            return TimerAccess.ok() if scr_st else TimerAccess(False, 3, EC_SYSREG_TRAP)
        if name == "CNTKCTL_EL1":
            return TimerAccess.ok() if el == 1 else TimerAccess(False, el0_target, EC_UNKNOWN)
        k = self._kctl
        if el == 0:
            needed = {
                "CNTFRQ_EL0": k & (EL0PCTEN | EL0VCTEN),
                "CNTPCT_EL0": k & EL0PCTEN,
                "CNTVCT_EL0": k & EL0VCTEN,
            }.get(name)
            if needed is None:
                needed = k & (EL0PTEN if name.startswith("CNTP_") else EL0VTEN)
            if not needed:
                return TimerAccess(False, el0_target, EC_SYSREG_TRAP)
        if el2_enabled and not secure:
            if name == "CNTPCT_EL0" and not self._hctl & EL1PCTEN:
                return TimerAccess(False, 2, EC_SYSREG_TRAP)
            if name.startswith("CNTP_") and not self._hctl & EL1PCEN:
                return TimerAccess(False, 2, EC_SYSREG_TRAP)
        return TimerAccess.ok()

    el0_el1_access = access  # the name the issue uses

    def armed(self, timer: int) -> bool:
        """Whether ``timer`` (0 CNTPS .. 3 CNTV) drives, or will drive, its line:
        enabled and not masked (its condition may be true already)."""
        return (self._ctl[timer] & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE

    # ------------------------------------------------------------ internals
    def _deadline_count(self, timer: int) -> int | None:
        """Physical count at which a not-yet-true condition becomes true."""
        cval = self._cval[timer]
        if timer != CNTV:
            return cval
        target = cval + self._voff
        return target if target <= MASK64 else None

    def _update_irqs(self, timers=(0, 1, 2, 3)) -> None:
        for timer in timers:
            Clock.cancel(self._events[timer])
            self._events[timer] = None
            armed = (self._ctl[timer] & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE
            fired = armed and self.condition(timer)
            self._irqs[timer].set(fired)
            if armed and not fired:
                count = self._deadline_count(timer)
                if count is not None:
                    self._events[timer] = self._clock.schedule(
                        cycles_for_counter(count), self._on_deadline)

    def _on_deadline(self) -> None:
        self._update_irqs()
