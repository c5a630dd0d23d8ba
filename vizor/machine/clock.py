"""Virtual time for the board.

Time advances only with executed instructions: one instruction is one CPU
cycle of a 1.2 GHz Cortex-A53, and all four cores run in parallel in virtual
time (round-robin in bounded slices, see ``board.py``).  Idle cores do not
execute; when every core is idle the board skips straight to the next event.
Nothing here reads the host clock.

The generic-timer counter (CNTPCT) runs at 19.2 MHz, as the Pi 3 firmware
configures it, and the BCM2835 system timer at 1 MHz; both are exact integer
functions of the cycle count, so two runs of the same image see the same
counter values at the same instructions.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Callable

CPU_HZ = 1_200_000_000
COUNTER_HZ = 19_200_000
# CPU_HZ / COUNTER_HZ = 62.5 = 125 / 2
_CNT_NUM, _CNT_DEN = 2, 125


def counter_at(cycles: int) -> int:
    """19.2 MHz counter value at a cycle count (floor)."""
    return cycles * _CNT_NUM // _CNT_DEN


def cycles_for_counter(count: int) -> int:
    """The first cycle at which the counter reaches ``count``."""
    return -(-count * _CNT_DEN // _CNT_NUM)


def micros_at(cycles: int) -> int:
    """1 MHz time (the BCM2835 system timer) at a cycle count."""
    return cycles // (CPU_HZ // 1_000_000)


def cycles_for_micros(us: int) -> int:
    return us * (CPU_HZ // 1_000_000)


@dataclass(order=True)
class Event:
    when: int
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class ClockState:
    cycles: int
    seq: int


class Clock:
    """The board's single clock and event queue.

    ``schedule(when, cb)`` runs ``cb`` when virtual time reaches ``when``
    (a cycle count); events at the same time run in the order they were
    scheduled, so the order is deterministic.
    """

    def __init__(self) -> None:
        self._base = 0
        self._queue: list[Event] = []
        self._seq = 0
        # While a core runs its slice, time inside the slice is the slice's
        # start plus the instructions that core has executed so far.
        self.offset: Callable[[], int] | None = None
        # The end of the board's current round, and what to call when an event
        # is scheduled before it (the board then shortens the round).
        self.round_end: int | None = None
        self.on_earlier: Callable[[], None] | None = None

    @property
    def cycles(self) -> int:
        """Virtual time now, exact to the instruction of the running core."""
        off = self.offset
        return self._base + (off() if off is not None else 0)

    @property
    def base(self) -> int:
        """Time at the start of the current round of slices."""
        return self._base

    # time in the units devices want
    def counter(self) -> int:
        return counter_at(self.cycles)

    def micros(self) -> int:
        return micros_at(self.cycles)

    def schedule(self, when: int, callback: Callable[[], None]) -> Event:
        ev = Event(max(when, self.cycles), self._seq, callback)
        self._seq += 1
        heapq.heappush(self._queue, ev)
        if self.round_end is not None and ev.when < self.round_end and self.on_earlier is not None:
            self.on_earlier()
        return ev

    @staticmethod
    def cancel(event: Event | None) -> None:
        if event is not None:
            event.cancelled = True

    def next_deadline(self) -> int | None:
        q = self._queue
        while q and q[0].cancelled:
            heapq.heappop(q)
        return q[0].when if q else None

    def advance_to(self, when: int) -> None:
        """Move time forward to ``when``, running every event due on the way."""
        if when < self._base:
            raise ValueError("virtual time cannot go backwards")
        q = self._queue
        while q and q[0].when <= when:
            ev = heapq.heappop(q)
            if ev.cancelled:
                continue
            if ev.when > self._base:
                self._base = ev.when
            ev.callback()
        self._base = when

    def state(self) -> ClockState:
        return ClockState(self._base, self._seq)
