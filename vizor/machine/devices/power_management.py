"""BCM2835 power management block: reset control and watchdog, base 0x3F100000.

The ARM Peripherals manual leaves this block out; the layout below is the one
the Raspberry Pi firmware and the Linux ``bcm2835_wdt`` driver use.  Every
write must carry the password 0x5A in bits 31:24 (``PM_PASSWORD``); a write
without it changes nothing.

* PM_RSTC (0x1C): bits 5:4 WRCFG — 0b10 (``WRCFG_FULL_RESET``) makes the
  watchdog's expiry a full reset.  Reads back what was written (bits 31:24
  read 0).  Reset value 0x102.
* PM_RSTS (0x20): reset status.  The firmware keeps a "boot partition" in the
  even bits 0, 2, 4, 6, 8, 10 (partition bit n at bit 2n); partition 63
  (``RSTS_PARTITION_HALT`` = 0x555) means "halt": the firmware powers the
  board off instead of booting.  Power-on value 0x1000 (HADPOR); a watchdog
  full reset sets HADWRF (0x20) and keeps the partition bits.
* PM_WDOG (0x24): bits 19:0 the watchdog time in ticks of 1/65536 s; writing
  a non-zero count starts it, reading gives the ticks left (0 when stopped).

When the count runs out with WRCFG = full reset, ``on_reset(halt)`` is called
(from a clock event, between slices): ``halt`` is True when RSTS holds the halt
partition.  The board then powers itself off or restarts as a power cycle
would.  With WRCFG anything else the expiry only stops the count.

Not implemented: the power domains (PM_GRAFX, PM_IMAGE, ...), PM_PADS, the
"quiet" and "hard" reset flavours (treated as none).  Other offsets raise
UnmodelledAccess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from vizor.machine.clock import CPU_HZ, Clock
from vizor.machine.devices.base import UnmodelledAccess

PM_RSTC = 0x1C
PM_RSTS = 0x20
PM_WDOG = 0x24

PM_PASSWORD = 0x5A000000
PASSWORD_MASK = 0xFF000000
RSTC_WRCFG_MASK = 0x30
RSTC_WRCFG_FULL_RESET = 0x20
RSTC_RESET_VALUE = 0x102
RSTS_RESET_VALUE = 0x1000      # HADPOR: had a power-on reset
RSTS_HADWRF = 0x20             # had a watchdog full reset
RSTS_PARTITION_MASK = 0x555
RSTS_PARTITION_HALT = 0x555    # partition 63
WDOG_TIME_MASK = 0x000FFFFF
WDOG_HZ = 65536


def rsts_partition(rsts: int) -> int:
    """The firmware's boot partition number held in RSTS's even bits."""
    return sum(((rsts >> (2 * n)) & 1) << n for n in range(6))


def partition_bits(partition: int) -> int:
    return sum(((partition >> n) & 1) << (2 * n) for n in range(6))


@dataclass(frozen=True)
class PowerManagementState:
    rstc: int
    rsts: int
    wdog_deadline: int | None   # cycle at which the watchdog runs out
    resets: int                 # watchdog resets since power-on


class PowerManagement:
    def __init__(self, clock: Clock, on_reset: Callable[[bool], None] = lambda halt: None) -> None:
        self._clock = clock
        self._on_reset = on_reset
        self._event = None
        self.resets = 0
        self._rsts = RSTS_RESET_VALUE
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        """Power-on reset.  (A watchdog reset keeps RSTS: see ``_expire``.)"""
        self._rstc = RSTC_RESET_VALUE
        self._rsts = RSTS_RESET_VALUE
        self.resets = 0
        self._stop()

    def state(self) -> PowerManagementState:
        deadline = self._event.when if self._event is not None and not self._event.cancelled else None
        return PowerManagementState(self._rstc, self._rsts, deadline, self.resets)

    def restore(self, state: PowerManagementState) -> None:
        """Must run after the clock has been restored (it reschedules the watchdog)."""
        self._rstc, self._rsts, self.resets = state.rstc, state.rsts, state.resets
        self._stop()
        if state.wdog_deadline is not None:
            self._event = self._clock.schedule(state.wdog_deadline, self._expire)

    @classmethod
    def from_state(cls, clock: Clock, state: PowerManagementState,
                   on_reset: Callable[[bool], None] = lambda halt: None) -> "PowerManagement":
        dev = cls(clock, on_reset)
        dev.restore(state)
        return dev

    @property
    def halt_requested(self) -> bool:
        return self._rsts & RSTS_PARTITION_MASK == RSTS_PARTITION_HALT

    # ------------------------------------------------------------- access
    def read(self, offset: int, size: int) -> int:
        if size != 4:
            raise UnmodelledAccess(f"power management: {size}-byte access at {offset:#x}")
        if offset == PM_RSTC:
            return self._rstc
        if offset == PM_RSTS:
            return self._rsts
        if offset == PM_WDOG:
            return self.ticks_left()
        raise UnmodelledAccess(f"power management: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4:
            raise UnmodelledAccess(f"power management: {size}-byte access at {offset:#x}")
        if offset not in (PM_RSTC, PM_RSTS, PM_WDOG):
            raise UnmodelledAccess(f"power management: write of {value:#x} to {offset:#x}")
        if value & PASSWORD_MASK != PM_PASSWORD:
            return  # no password, no effect
        value &= ~PASSWORD_MASK & 0xFFFFFFFF
        if offset == PM_RSTC:
            self._rstc = value
        elif offset == PM_RSTS:
            self._rsts = value
        else:
            self._stop()
            ticks = value & WDOG_TIME_MASK
            if ticks:
                when = self._clock.cycles + -(-ticks * CPU_HZ // WDOG_HZ)
                self._event = self._clock.schedule(when, self._expire)

    # ------------------------------------------------------------ watchdog
    def ticks_left(self) -> int:
        if self._event is None or self._event.cancelled:
            return 0
        left = self._event.when - self._clock.cycles
        return max(left * WDOG_HZ // CPU_HZ, 0)

    def _stop(self) -> None:
        Clock.cancel(self._event)
        self._event = None

    def _expire(self) -> None:
        self._event = None
        if self._rstc & RSTC_WRCFG_MASK != RSTC_WRCFG_FULL_RESET:
            return
        halt = self.halt_requested
        self.resets += 1
        self._rsts |= RSTS_HADWRF
        self._rstc = RSTC_RESET_VALUE
        self._on_reset(halt)
