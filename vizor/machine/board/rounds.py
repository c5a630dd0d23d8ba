"""The board's round-robin schedule (a mixin of ``Board``): rounds of
``quantum`` cycles of virtual time, ended early at the next clock event, and
the cores that may run in one."""

from __future__ import annotations

from vizor.machine.cpu.core import PARKED, RUNNING, WFI_IDLE, Core

SPIN_TABLE = (0xD8, 0xE0, 0xE8, 0xF0)


class RoundSchedule:
    def _round_budget(self) -> int:
        """The round's length; an event scheduled during the round (a timer the
        running core just programmed) ends it there instead."""
        clock = self.clock
        nd = clock.next_deadline()
        if nd is not None and nd < self._round_end:
            self._round_end = max(nd, clock.base + 1)
            clock.round_end = self._round_end
        return self._round_end - clock.base

    def _released(self, core: Core) -> bool:
        """A parked core's spin-table slot holds an address: it runs from the next round."""
        slot = SPIN_TABLE[core.index]
        return bool(int.from_bytes(self.ram[slot:slot + 8], "little"))

    def _start_round(self) -> None:
        clock = self.clock
        clock.advance_to(clock.base)  # events due now
        for i, c in enumerate(self.cores):
            if c.state == PARKED and self._released(c):
                c.state = RUNNING
            elif c.state == WFI_IDLE and self._wakes(c):
                self._wake(c)
        end = clock.base + self.quantum
        nd = clock.next_deadline()
        if nd is not None and nd < end:
            end = max(nd, clock.base + 1)
        if not any(c.state == RUNNING for c in self.cores):
            if nd is None:
                self._round_end = None
                return
            end = max(nd, clock.base + 1)
        self._round_end = end

    @property
    def virtual_time(self) -> int:
        """Cycles of virtual time reached: in a round cut short (a stop mid-round),
        the time of the core that got furthest."""
        return self.clock.base + max(self._round_done)
