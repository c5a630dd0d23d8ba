"""Breakpoints and stepping that know which VM, exception level and core they are in.

Every guest of a hypervisor runs at the same virtual addresses, so a
breakpoint here can name a VMID, an EL and a core; the address alone is only
the carrier.  Carriers are Unicorn exits (see DESIGN.md: nearly free until
hit): each core gets the addresses of the enabled breakpoints that can fire
on it, ``Core.run`` stops when its PC reaches one, and the filters are
checked here, in Python, only then.  A stop whose filters do not match
executes the instruction and goes on.

Stops never change what the machine does.  Stepping one core runs the board's
own round-robin schedule until that core has executed one more instruction
(other cores may run in between), so a run interrupted by breakpoints and
steps executes exactly what an uninterrupted run does — which is what makes a
recorded session replay exactly.

This module knows nothing of a UI: the TUI, the CLI and scripts drive it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from .board import Board, StopReason
from .core import Core


@dataclass(frozen=True)
class Breakpoint:
    """A code breakpoint: ``address`` is a VA of the regime the filters name."""

    id: int
    address: int
    vmid: int | None = None  # VTTBR_EL2.VMID while the core runs at EL1/EL0 with HCR_EL2.VM=1
    el: int | None = None
    core: int | None = None
    enabled: bool = True
    hits: int = 0

    def describe(self) -> str:
        where = [f"{self.address:#x}"]
        if self.vmid is not None:
            where.append(f"vmid={self.vmid}")
        if self.el is not None:
            where.append(f"EL{self.el}")
        if self.core is not None:
            where.append(f"core {self.core}")
        return " ".join(where) + ("" if self.enabled else " (disabled)")


class Debugger:
    """Breakpoints and stepping over one board."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self._bps: dict[int, Breakpoint] = {}
        self._next_id = 1
        board.exit_check = self._exit_check

    # --- breakpoints ---------------------------------------------------------

    @property
    def breakpoints(self) -> tuple[Breakpoint, ...]:
        return tuple(self._bps.values())

    def add_breakpoint(self, address: int, *, vmid: int | None = None, el: int | None = None,
                       core: int | None = None) -> Breakpoint:
        if not 0 <= address < 1 << 64:
            raise ValueError(f"address {address:#x} is not a 64-bit address")
        if vmid is not None and not 0 <= vmid <= 0xFF:
            raise ValueError(f"VMID {vmid} is out of range (0-255 with 8-bit VMIDs)")
        if el is not None and el not in (0, 1, 2, 3):
            raise ValueError(f"EL{el} does not exist")
        if core is not None and core not in range(len(self.board.cores)):
            raise ValueError(f"there is no core {core} (cores 0-{len(self.board.cores) - 1})")
        if vmid is not None and el is not None and el >= 2:
            raise ValueError(f"a VMID filter needs EL0 or EL1, not EL{el}")
        bp = Breakpoint(self._next_id, address, vmid, el, core)
        self._next_id += 1
        self._bps[bp.id] = bp
        self._install()
        return bp

    def remove_breakpoint(self, bp_id: int) -> None:
        if self._bps.pop(bp_id, None) is None:
            raise KeyError(f"no breakpoint {bp_id}")
        self._install()

    def set_enabled(self, bp_id: int, enabled: bool) -> Breakpoint:
        bp = self._get(bp_id)
        bp = self._bps[bp_id] = replace(bp, enabled=enabled)
        self._install()
        return bp

    def _get(self, bp_id: int) -> Breakpoint:
        try:
            return self._bps[bp_id]
        except KeyError:
            raise KeyError(f"no breakpoint {bp_id}") from None

    def _install(self) -> None:
        for core in self.board.cores:
            core.set_exits(bp.address for bp in self._bps.values()
                           if bp.enabled and (bp.core is None or bp.core == core.index))

    @staticmethod
    def matches(bp: Breakpoint, core: Core) -> bool:
        if not bp.enabled or (bp.core is not None and bp.core != core.index):
            return False
        if bp.el is None and bp.vmid is None:
            return True
        el = core.el
        if bp.el is not None and bp.el != el:
            return False
        return bp.vmid is None or core.vmid(el) == bp.vmid

    def _exit_check(self, core: Core) -> StopReason | None:
        pc = core.pc
        hit = None
        for bp in self._bps.values():
            if bp.address == pc and self.matches(bp, core):
                bp = self._bps[bp.id] = replace(bp, hits=bp.hits + 1)
                if hit is None:
                    hit = bp
        if hit is None:
            return None
        return StopReason("breakpoint", f"breakpoint {hit.id} at {hit.describe()} on core {core.index}",
                          core=core.index, breakpoint=hit.id)

    # --- running ------------------------------------------------------------------

    def run(self, max_insns: int | None = None, stop: Callable[[], str | None] | None = None) -> StopReason:
        """Run the board with the breakpoints active (see ``Board.run``)."""
        return self.board.run(max_insns=max_insns, stop=stop)

    def step(self, core: int, count: int = 1, max_insns: int | None = None,
             stop: Callable[[], str | None] | None = None) -> StopReason:
        """Run until core ``core`` has executed ``count`` more instructions.

        Breakpoints still stop the run (on any core) before the step completes.
        A core that sleeps or is parked completes its step only once it runs
        again; ``max_insns`` and ``stop`` bound the wait.
        """
        c = self.board.cores[core]
        return self.board.run(max_insns=max_insns, stop=stop, core_limit=(core, c.instructions + count))
