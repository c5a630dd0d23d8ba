"""The debugger engine: stop conditions that know which VM, EL and core they are in.

Every guest of a hypervisor runs at the same virtual addresses, so every stop
condition here (``stops.py``) can name a VMID, an EL and a core; the address
is only the carrier.  Carriers cost nothing until hit (``carriers.py``):
breakpoints are Unicorn exits, watchpoints are protected pages, system
register watches are a dict lookup in the MSR hook vizor has anyway, event
stops ride on the exception and unmodelled-MMIO listeners.  Filters are
checked in Python only when a carrier fires; a miss executes the instruction
and goes on.

Stops never change what the machine does: a step runs the board's own
round-robin schedule until the stepped core has executed one more instruction
(other cores may run in between), so a run interrupted by stops executes
exactly what an uninterrupted run does — which is what makes replay exact.

Stepping by VM ("step in VM", "run until VMID n is scheduled", VM-entry
stops) needs to see a core drop from EL2 into a VM, and ERET has no hook.
A core is therefore *armed* when it can next enter the VM — it wrote
VTTBR_EL2 with that VMID, or took an exception from that VM into EL2 — and
an armed core runs one instruction per slice until it leaves EL2; armed cores
are disarmed when they load another VMID.  Only the hypervisor's path back
into the VM is single-stepped.

World switches (a core returning from EL3 into the other security state)
are caught the same way, by arming a core at EL3 whose SCR_EL3.NS names the
other world (``worlds.py``).  Where an address must be translated to set a
condition (a breakpoint by PA, a watchpoint by VA): ``physical.py``.

This module knows nothing of a UI: the TUI, the CLI and scripts drive it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.mmu import unreachable
from vizor.machine.arch.security import is_secure, label_of
from vizor.machine.arch.sysregs import encoding_of
from vizor.machine.board.board import RAM_MAPPED, Board, StopReason
from vizor.machine.board.bus import UnmodelledRecord
from vizor.machine.cpu.carriers import PAGE, WatchAccess
from vizor.machine.cpu.core import Core
from vizor.machine.cpu.regs import ENC
from vizor.machine.debug.physical import Addresses
from vizor.machine.debug.stepping import Stepping
from vizor.machine.debug.stops import (
    EVENT_KINDS,
    Breakpoint,
    Condition,
    EventStop,
    Filters,
    Goal,
    Watchpoint,
    world_matches,
)
from vizor.machine.debug.worlds import SCR, WorldWatch

VTTBR = ENC["VTTBR_EL2"]


class Debugger(Addresses, Stepping, WorldWatch):
    def __init__(self, board: Board) -> None:
        self.board = board
        self._conds: dict[int, Breakpoint | Watchpoint | EventStop] = {}
        self._next_id = 1
        self._next_temporary = -1      # a step's own breakpoints: negative ids, so the user's run 1, 2, 3
        self._goals: list[Goal] = []
        self._exc_stops: list[EventStop] = []
        self._sysregs: dict = {}
        board.debug_check = self._check
        board.debug_sync = self._sync
        self._world_init()
        board.exception_listeners.append(self._on_exception)
        board.exception_demand[self._on_exception] = lambda: bool(self._exc_stops or self._goals)
        board.bus.listeners.append(self._on_unmodelled)

    # --- the stop conditions ---------------------------------------------------

    @property
    def stops(self) -> tuple[Breakpoint | Watchpoint | EventStop, ...]:
        """Every condition the user set, in the order they were set."""
        return tuple(c for c in self._conds.values() if not getattr(c, "temporary", False))

    @property
    def breakpoints(self) -> tuple[Breakpoint, ...]:
        return tuple(c for c in self.stops if isinstance(c, Breakpoint))

    def get(self, cond_id: int):
        try:
            return self._conds[cond_id]
        except KeyError:
            raise KeyError(f"no breakpoint, watchpoint or catch {cond_id}") from None

    def _add(self, cond):
        self._conds[cond.id] = cond
        if cond.id > 0:
            self._next_id += 1
        self._install()
        return cond

    def add_breakpoint(self, address: int, *, vmid: int | None = None, el: int | None = None,
                       core: int | None = None, condition: str | Condition | None = None,
                       ignore: int = 0, temporary: bool = False, world: str | None = None) -> Breakpoint:
        if not 0 <= address < 1 << 64:
            raise ValueError(f"address {address:#x} is not a 64-bit address")
        if unreachable(address, el):
            raise ValueError(unreachable(address, el))
        filters = Filters(vmid, el, core, world)
        filters.check(len(self.board.cores))
        if isinstance(condition, str):
            condition = Condition.parse(condition)
        if ignore < 0:
            raise ValueError("an ignore count cannot be negative")
        if temporary:
            self._next_temporary -= 1
        return self._add(Breakpoint(self._next_temporary + 1 if temporary else self._next_id, address,
                                    filters, condition, ignore, temporary=temporary))

    def add_watchpoint(self, *, pa: int | None = None, va: int | None = None, length: int = 8,
                       reads: bool = False, writes: bool = True, vmid: int | None = None,
                       el: int | None = None, core: int | None = None,
                       via_core: int = 0, world: str | None = None) -> Watchpoint:
        """Watch ``length`` bytes at a PA, or at a VA translated now on core
        ``via_core`` through its current regime (the mapping is fixed then)."""
        filters = Filters(vmid, el, core, world)
        filters.check(len(self.board.cores))
        if not reads and not writes:
            raise ValueError("a watchpoint watches reads, writes or both")
        if not 1 <= length <= PAGE:
            raise ValueError(f"a watched range is 1 to {PAGE} bytes, not {length}")
        if (pa is None) == (va is None):
            raise ValueError("give a PA or a VA to watch")
        if va is not None:
            pa = self._translate(va, via_core)
        if pa < 0 or pa + length > RAM_MAPPED:
            raise ValueError(f"PA {pa:#x}+{length} is not RAM (watchpoints watch RAM)")
        return self._add(Watchpoint(self._next_id, pa, length, reads, writes, filters, va))

    def add_event_stop(self, kind: str, *, ec: int | None = None, exc_kind: str = "sync",
                       vmid: int | None = None, to_el: int | None = None, register: str | None = None,
                       core: int | None = None, world: str | None = None) -> EventStop:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event {kind!r}")
        Filters(vmid, None, core, world).check(len(self.board.cores))
        if kind == "sysreg":
            if not register:
                raise ValueError("a system register stop names the register")
            try:
                encoding_of(register)
            except (KeyError, ValueError):
                raise ValueError(f"unknown system register {register!r}") from None
            register = register.upper()
        if exc_kind not in ("sync", "irq", "fiq"):
            raise ValueError(f"unknown exception kind {exc_kind!r}")
        return self._add(EventStop(self._next_id, kind, ec, exc_kind, vmid, to_el, register, core, world=world))

    def remove(self, cond_id: int) -> None:
        self.get(cond_id)
        del self._conds[cond_id]
        self._install()

    remove_breakpoint = remove

    def set_enabled(self, cond_id: int, enabled: bool):
        cond = self._conds[cond_id] = replace(self.get(cond_id), enabled=enabled)
        self._install()
        return cond

    # --- carriers --------------------------------------------------------------------

    def _install(self) -> None:
        live = [c for c in self._conds.values() if c.enabled]
        self._goals = [g for g in self._goals if g.stop_id is None]
        for c in live:
            if isinstance(c, EventStop) and c.kind == "vm-entry":
                self._goals.append(Goal("entry", c.vmid, c.core, c.id))
        self._exc_stops = [c for c in live if isinstance(c, EventStop) and c.kind in ("exception", "vm-exit")]
        pages: dict[int, tuple[bool, bool]] = {}
        for w in live:
            if isinstance(w, Watchpoint):
                for page in range(w.pa & ~(PAGE - 1), w.pa + w.length, PAGE):
                    r, wr = pages.get(page, (False, False))
                    pages[page] = (r or w.reads, wr or w.writes)
        sysregs = {encoding_of(c.register): c for c in live if isinstance(c, EventStop) and c.kind == "sysreg"}
        for core in self.board.cores:
            core.set_exits(b.address for b in live
                           if isinstance(b, Breakpoint) and b.filters.core in (None, core.index))
            core.carriers.set_pages(pages)
            watch = {enc: self._on_sysreg for enc in sysregs}
            watch[SCR] = self._on_scr
            if self._goals:
                watch[VTTBR] = self._on_sysreg
            core.msr_watch = watch
            self._arm_if_loaded(core)
        self._sysregs = sysregs

    def _install_goal_watch(self) -> None:
        for core in self.board.cores:
            core.msr_watch = {**core.msr_watch, VTTBR: self._on_sysreg}

    def _arm_if_loaded(self, core: Core) -> None:
        """Arm a core already at EL2 with a goal's VMID loaded."""
        if core.el >= 2 and core.hcr & X.HCR_VM:
            vmid = (core.regs.read_enc(VTTBR) >> 48) & 0xFF
            if self._goal_for(core, vmid, "entry") is not None:
                core.single_step = True

    # --- what the carriers report -------------------------------------------------------

    def _check(self, core: Core) -> StopReason | None:
        board = self.board
        if board.posted:
            reason = board.posted[0]
            more = len(board.posted) - 1
            board.posted.clear()
            return replace(reason, detail=reason.detail + (f" (and {more} more)" if more else ""))
        if core.carriers.hit is not None:
            access, core.carriers.hit = core.carriers.hit, None
            reason = self._watch_hit(core, access)
            if reason is not None:
                return reason
        if core.single_step:
            reason = self._world_check(core) or self._entry_check(core)
            if reason is not None:
                return reason
        if core.at_exit:
            return self._exit_check(core)
        return None

    def _bump(self, cond):
        cond = self._conds[cond.id] = replace(cond, hits=cond.hits + 1)
        return cond

    def _exit_check(self, core: Core) -> StopReason | None:
        pc, hit = core.pc, None
        for bp in list(self._conds.values()):
            if not isinstance(bp, Breakpoint) or bp.address != pc or not bp.enabled:
                continue
            if not bp.filters.match(core) or (bp.condition and not bp.condition.holds(core)):
                continue
            bp = self._bump(bp)
            if bp.hits > bp.ignore and hit is None:
                hit = bp
        if hit is None:
            return None
        what = "temporary breakpoint" if hit.temporary else f"breakpoint {hit.id}"
        return StopReason("breakpoint", f"{what} ({hit.describe()}) on core {core.index}",
                          core=core.index, breakpoint=hit.id)

    def _watch_hit(self, core: Core, acc: WatchAccess) -> StopReason | None:
        hit = None
        for w in list(self._conds.values()):
            if not isinstance(w, Watchpoint) or not w.enabled or not w.covers(acc.pa, acc.size):
                continue
            if not (w.writes if acc.kind == "write" else w.reads) or not w.filters.match(core, acc.el):
                continue
            w = self._bump(w)
            hit = hit or w
        if hit is None:
            return None
        vmid = core.vmid(acc.el)
        ctx = f"EL{acc.el}" + (f" vmid={vmid}" if vmid is not None else "")
        change = (f"{acc.new:#x} (was {acc.old:#x})" if acc.kind == "write" else f"{acc.old:#x}")
        return StopReason("watchpoint", f"watchpoint {hit.id}: core {core.index} {ctx} at PC {acc.pc:#x} "
                                        f"{'wrote' if acc.kind == 'write' else 'read'} {acc.size} bytes "
                                        f"at PA {acc.pa:#x}: {change}",
                          core=core.index, breakpoint=hit.id)

    def _goal_for(self, core: Core, vmid: int | None, kind: str | None = None) -> Goal | None:
        for g in self._goals:
            if g.vmid in (None, vmid) and g.core in (None, core.index) and kind in (None, g.kind):
                return g
        return None

    def _on_exception(self, core: Core, rec: X.ExceptionRecord) -> None:
        if rec.to_el == 3:
            self._world_entry(core, rec)
        if not self._exc_stops and not self._goals:
            return
        for c in self._exc_stops:
            c = self._conds[c.id]
            if c.core not in (None, core.index):
                continue
            if c.kind == "exception":
                if rec.kind != c.exc_kind or (c.ec is not None and rec.ec != c.ec):
                    continue
                if (c.vmid is not None and rec.vmid != c.vmid) or (c.to_el is not None and rec.to_el != c.to_el):
                    continue
                if not world_matches(c.world, rec.from_el, core.scr):
                    continue
            elif c.kind == "vm-exit":
                if rec.to_el != 2 or rec.from_el > 1 or rec.vmid is None:
                    continue
                if c.vmid is not None and rec.vmid != c.vmid:
                    continue
            else:
                continue
            c = self._bump(c)
            src = (label_of(rec.from_el, is_secure(rec.from_el, core.scr)) if rec.to_el == 3
                   else f"EL{rec.from_el}") + (f" vmid={rec.vmid}" if rec.vmid is not None else "")
            what = rec.ec_name + (f" (ESR {rec.esr:#010x})" if rec.kind == "sync" else "")
            self.board.post_stop(StopReason(c.kind, f"catch {c.id}: core {core.index} took {what} "
                                                    f"from {src} to EL{rec.to_el}, ELR {rec.elr:#x}",
                                            core=core.index, breakpoint=c.id))
        if rec.to_el == 2 and rec.from_el <= 1 and rec.vmid is not None:
            if self._goal_for(core, rec.vmid, "entry") is not None:
                core.single_step = True
                if self.board.running is core:
                    core._stop()

    def _on_sysreg(self, core: Core, enc, value: int) -> None:
        if enc == VTTBR and self._goals:
            armed = self._goal_for(core, (value >> 48) & 0xFF) is not None or self._world_armed[core.index]
            if armed != core.single_step:
                core.single_step = armed
                core._stop()
        c = self._sysregs.get(enc)
        if c is not None and c.enabled and c.core in (None, core.index):
            c = self._bump(c)
            self.board.post_stop(StopReason("sysreg", f"catch {c.id}: core {core.index} EL{core.el} "
                                                      f"wrote {c.register} = {value:#x} at PC {core.pc:#x}",
                                            core=core.index, breakpoint=c.id))

    def _on_unmodelled(self, rec: UnmodelledRecord) -> None:
        for c in list(self._conds.values()):
            if isinstance(c, EventStop) and c.kind == "mmio" and c.enabled and c.core in (None, rec.core):
                c = self._bump(c)
                self.board.post_stop(StopReason("mmio", f"catch {c.id}: {rec}", core=rec.core,
                                                breakpoint=c.id))

    def _entry_check(self, core: Core) -> StopReason | None:
        el = core.el
        if el >= 2:
            return None
        core.single_step = False
        vmid = core.vmid(el)
        goal = self._goal_for(core, vmid) if vmid is not None else None
        if goal is None:
            return None
        if goal.stop_id is not None:
            c = self._bump(self._conds[goal.stop_id])
            return StopReason("vm-entry", f"catch {c.id}: core {core.index} entered vmid={vmid} "
                                          f"at EL{el}, PC {core.pc:#x}", core=core.index, breakpoint=c.id)
        return StopReason("vm-entry", f"core {core.index} entered vmid={vmid} at EL{el}, PC {core.pc:#x}",
                          core=core.index)

    # --- running and stepping --------------------------------------------------------------

    def _sync(self) -> None:
        """The board ran with no stop check (a seek) or was restored: the cores armed
        are those the machine's state arms now (worlds.py, VM-entry goals)."""
        for core in self.board.cores:
            core.single_step = False
        self._world_resync()
        for core in self.board.cores:
            self._arm_if_loaded(core)

    def run(self, max_insns: int | None = None, stop: Callable[[], str | None] | None = None) -> StopReason:
        """Run the board with every stop condition active (see ``Board.run``)."""
        return self.board.run(max_insns=max_insns, stop=stop)

    def step(self, core: int, count: int = 1, max_insns: int | None = None,
             stop: Callable[[], str | None] | None = None) -> StopReason:
        """Run until core ``core`` has executed ``count`` more instructions.
        Other stop conditions still stop the run first."""
        c = self.board.cores[core]
        return self.board.run(max_insns=max_insns, stop=stop, core_limit=(core, c.instructions + count))

