"""BCM2835 system timer (BCM2835 ARM Peripherals, chapter 12), base 0x3F003000.

A 64-bit free-running counter at 1 MHz of virtual time (``clock.micros()``)
and four 32-bit compare registers.  When the low 32 bits of the counter
become equal to Cn, CS.Mn is set and output line n (GPU IRQ n) goes high
until software writes 1 to CS.Mn.  For every compare one clock event is kept
at the exact cycle of its next match, found modulo 2**32 (so CLO wrapping is
handled); a compare written with the value CLO holds right now next matches
one full wrap (2**32 µs) later, because the counter has already *become*
equal.

Not implemented: writing CLO/CHI (read-only on the board; writes ignored),
debug-halt freezing of the counter.  ``restore`` must run after the clock has
been restored: it reschedules the match events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from vizor.machine.clock import Clock, cycles_for_micros
from vizor.machine.devices.base import IrqLine, UnmodelledAccess

CS = 0x00
CLO = 0x04
CHI = 0x08
C0 = 0x0C
C1 = 0x10
C2 = 0x14
C3 = 0x18
COMPARES = (C0, C1, C2, C3)

MASK32 = 0xFFFFFFFF
WRAP = 1 << 32


@dataclass(frozen=True)
class SystemTimerState:
    cs: int
    compare: tuple[int, int, int, int]


class SystemTimer:
    """System timer; ``irqs`` are GPU IRQ lines 0..3 (``irq_input(0..3)``)."""

    def __init__(self, clock: Clock, irqs: Sequence[IrqLine]) -> None:
        if len(irqs) != 4:
            raise ValueError("the system timer has four match outputs")
        self._clock = clock
        self._irqs = tuple(irqs)
        self._events: list = [None] * 4
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._cs = 0
        self._compare = [0, 0, 0, 0]
        for n in range(4):
            self._schedule(n)
        self._update_irqs()

    def state(self) -> SystemTimerState:
        return SystemTimerState(self._cs, tuple(self._compare))

    def restore(self, state: SystemTimerState) -> None:
        self._cs = state.cs
        self._compare = list(state.compare)
        for n in range(4):
            self._schedule(n)
        self._update_irqs()

    # ------------------------------------------------------------- access
    def read(self, offset: int, size: int) -> int:
        if size != 4:
            raise UnmodelledAccess(f"SystemTimer: {size}-byte access at {offset:#x}")
        if offset == CS:
            return self._cs
        if offset == CLO:
            return self._clock.micros() & MASK32
        if offset == CHI:
            return (self._clock.micros() >> 32) & MASK32
        if offset in COMPARES:
            return self._compare[COMPARES.index(offset)]
        raise UnmodelledAccess(f"SystemTimer: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4:
            raise UnmodelledAccess(f"SystemTimer: {size}-byte access at {offset:#x}")
        value &= MASK32
        if offset == CS:
            self._cs &= ~value & 0xF  # M0..M3 are write-one-to-clear
        elif offset in (CLO, CHI):
            pass  # read-only
        elif offset in COMPARES:
            n = COMPARES.index(offset)
            self._compare[n] = value
            self._schedule(n)
        else:
            raise UnmodelledAccess(f"SystemTimer: write of {value:#x} to {offset:#x}")
        self._update_irqs()

    # ------------------------------------------------------------ matches
    def next_match_micros(self, n: int) -> int:
        """The next 1 MHz time, strictly after now, at which CLO == Cn."""
        now = self._clock.micros()
        delta = (self._compare[n] - now) % WRAP
        return now + (delta or WRAP)

    def _schedule(self, n: int) -> None:
        Clock.cancel(self._events[n])
        when = cycles_for_micros(self.next_match_micros(n))
        self._events[n] = self._clock.schedule(when, lambda: self._on_match(n))

    def _on_match(self, n: int) -> None:
        self._cs |= 1 << n
        self._schedule(n)
        self._update_irqs()

    def _update_irqs(self) -> None:
        for n in range(4):
            self._irqs[n].set(bool(self._cs >> n & 1))
