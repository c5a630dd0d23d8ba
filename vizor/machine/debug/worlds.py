"""World switches: a core's security state changing under its monitor (a mixin of ``Debugger``).

Below EL3 a core is in the world SCR_EL3.NS names, and only EL3 writes
SCR_EL3, so the lower ELs change world only by an exception return from EL3
after a write of SCR_EL3.NS.  ERET has no hook.  As with VM entries
(``engine.py``), a core is *armed* only while it is at EL3 with SCR_EL3.NS
naming the other world than the one it entered EL3 from (or was in when the
debugger started; at reset in EL3: Secure): it then runs one instruction per
slice until it leaves EL3, and the first instruction it runs below EL3 is
where the switch is recorded (and a ``world`` catch stops).  Only a
monitor's path from its SCR_EL3 write to its ERET runs slowly; code that
never changes SCR_EL3.NS pays nothing (SCR_EL3 writes reach Python anyway,
for the illegal-return watch; exception entries into EL3 are compared with a
field of the record the debugger's exception listener gets anyway).
"""

from __future__ import annotations

from collections import deque

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.security import SCR_NS, WorldSwitch, is_secure, world_name
from vizor.machine.board.board import StopReason
from vizor.machine.cpu.core import Core
from vizor.machine.cpu.regs import ENC
from vizor.machine.debug.stops import EventStop

SCR = ENC["SCR_EL3"]
SWITCHES_KEPT = 64     # per core
ENTRIES_KEPT = 1024    # per core: exceptions into EL3 whose world a restore may need again


class WorldWatch:
    def _world_init(self) -> None:
        cores = self.board.cores
        # the world each core was last in below EL3 (None: not known, after a restore)
        self._world: list[bool | None] = [is_secure(c.el, c.scr) for c in cores]
        self._world_from: list[int | None] = [None] * len(cores)  # the EL it entered EL3 from
        self._world_armed = [False] * len(cores)
        # per core: the exceptions into EL3 seen (their time) -> the world each came from
        self._entered: list[dict[int, bool]] = [{} for _ in cores]
        self._switches: list[deque[WorldSwitch]] = [deque(maxlen=SWITCHES_KEPT) for _ in cores]
        for c in cores:
            c.msr_watch = {**c.msr_watch, SCR: self._on_scr}

    def _world_resync(self) -> None:
        """After a seek or a restore: each core's world read from the machine.  Below
        EL3 it is the core's world; at EL3 since reset, Secure; at EL3 after an
        exception, the world it came from if this debugger saw that exception (in a
        seek's run too: the exception listener hears it), else not known, and a
        switch on its way out is not caught (none is reported that did not happen)."""
        for c in self.board.cores:
            i = c.index
            came = [r for r in c.exceptions if r.to_el == 3 and r.from_el < 3]
            if c.el < 3:
                self._world[i] = is_secure(c.el, c.scr)
            elif came or len(c.exceptions) == c.exceptions.maxlen:
                self._world[i] = self._entered[i].get(came[-1].cycles) if came else None
            else:
                self._world[i] = True
            self._world_from[i] = came[-1].from_el if came and c.el == 3 else None
            armed = self._world_armed[i] = self._arms(c, c.scr)
            if armed:                  # between runs: the next slice is one instruction
                c.single_step = True

    @property
    def world_switches(self) -> tuple[WorldSwitch, ...]:
        """The world switches seen (the last ones of each core), oldest first."""
        recs = [r for d in self._switches for r in d]
        recs.sort(key=lambda r: (r.cycles, r.core))
        return tuple(recs)

    def _world_entry(self, core: Core, rec: X.ExceptionRecord) -> None:
        """An exception into EL3: the world it came from is the core's world now."""
        if rec.from_el == 3:
            return
        i = core.index
        self._world[i] = is_secure(rec.from_el, core.scr)
        self._world_from[i] = rec.from_el
        seen = self._entered[i]
        seen[rec.cycles] = self._world[i]
        if len(seen) > ENTRIES_KEPT:
            del seen[next(iter(seen))]
        self._world_arm(core, core.scr)

    def _on_scr(self, core: Core, enc, value: int) -> None:
        """A write of SCR_EL3 (at EL3): arm the core if an ERET now changes its world."""
        self._world_arm(core, value)
        if enc in self._sysregs:          # a sysreg:SCR_EL3 catch
            self._on_sysreg(core, enc, value)

    def _arms(self, core: Core, scr: int) -> bool:
        world = self._world[core.index]
        return core.el == 3 and world is not None and (not scr & SCR_NS) != world

    def _world_arm(self, core: Core, scr: int) -> None:
        i = core.index
        armed = self._arms(core, scr)
        if armed == self._world_armed[i]:
            return
        self._world_armed[i] = armed
        if armed:
            core.single_step = True
            core._stop()          # the next instruction already runs alone

    def _world_check(self, core: Core) -> StopReason | None:
        """A single-stepped core: has it left EL3 into the other world?"""
        i = core.index
        if not self._world_armed[i]:
            return None
        el = core.el
        if el == 3:
            return None
        self._world_armed[i] = False
        core.single_step = False
        self._arm_if_loaded(core)          # a VM-entry goal may still want it
        now = is_secure(el, core.scr)
        if now == self._world[i]:
            return None
        rec = WorldSwitch(i, core.now(), self._world_from[i], self._world[i], el, now, core.pc)
        self._world[i], self._world_from[i] = now, None
        dq = self._switches[i]
        while dq and dq[-1].cycles >= rec.cycles:    # a replay went back in time
            dq.pop()
        dq.append(rec)
        for c in list(self._conds.values()):
            if (isinstance(c, EventStop) and c.kind == "world" and c.enabled and c.core in (None, i)
                    and c.world in (None, "secure" if now else "ns")):
                c = self._bump(c)
                return StopReason("world", f"catch {c.id}: core {i} entered the {world_name(now)} world: "
                                           f"{rec.path()}, PC {rec.pc:#x}",
                                  core=i, breakpoint=c.id)
        return None
