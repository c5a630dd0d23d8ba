"""Cores: the selected core in full (PC, SP, X0-X30, PSTATE decoded), the others compact.

Values that changed since the board last stopped (pause, step, breakpoint)
are highlighted: the pane keeps the snapshot of the last stop as its baseline.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

import vizor.machine.arch.decode as D
from vizor.panes.common import CHANGED, SnapshotPane, hex64, sym

_STATE_STYLE = {"running": "green", "wfi": "cyan", "parked": "dim", "halted": "bold red"}


def el_text(pstate: int) -> str:
    """``EL2h (SP_EL2)``: the mode decoded from PSTATE.M, not the raw number."""
    mode = D.decode_cpsr(pstate).summary.split()[0]
    el = D.el_of(pstate)
    return f"{mode} (SP_EL{el if pstate & 1 else 0})"


def daif_text(pstate: int) -> str:
    return D.decode_cpsr(pstate).summary.split()[1]


def nzcv_text(pstate: int) -> str:
    return D.decode_cpsr(pstate).summary.split()[2]


class CoresPane(SnapshotPane):
    DEFAULT_CSS = "CoresPane { height: auto; }"
    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self._baseline = None
        self._baseline_stop = -1
        self.changed: set[str] = set()   # registers of the selected core highlighted now

    def render_snapshot(self, snap):
        if snap.stop_serial != self._baseline_stop:
            # a new stop: what changed is measured against the previous stop
            self._prev_stop, self._baseline_stop = self._baseline, snap.stop_serial
            self._baseline = snap
        base = getattr(self, "_prev_stop", None)
        if snap.running:
            base = self._baseline
        sel = self.selected
        c = snap.cores[sel]
        b = base.cores[sel] if base is not None else None
        self.changed = _changed(c, b)
        parts = [self._full(c, b)]
        parts.append(Text("─" * 52, style="dim"))
        for o in snap.cores:
            if o.index != sel:
                parts.append(self._compact(o))
        return Group(*parts)

    def _full(self, c, b):
        changed = (lambda get: b is not None and get(b) != get(c))
        head = Text()
        head.append(f"core {c.index} ", style="bold")
        head.append(f"{el_text(c.pstate)} ", style=CHANGED if changed(lambda s: s.pstate & 0xF) else "bold")
        head.append(c.state, style=_STATE_STYLE.get(c.state, ""))
        head.append("  VMID ")
        head.append("-" if c.vmid is None else str(c.vmid),
                    style=CHANGED if changed(lambda s: s.vmid) else "bold magenta")
        head.append(f"  {c.instructions:,} insns", style="dim")
        lines = [head]
        if c.fault:
            lines.append(Text(f"fault: {c.fault}", style="bold red"))
        pc = Text("PC ")
        pc.append(hex64(c.pc), style=CHANGED if changed(lambda s: s.pc) else "bold")
        name = sym(self.symbols, c.pc, c)
        if name:
            pc.append(f" <{name}>", style="cyan")
        lines.append(pc)
        sp = Text("SP ")
        sp.append(hex64(c.sp), style=CHANGED if changed(lambda s: s.sp) else "")
        sp.append(f"  SPSel {c.spsel}  DAIF ")
        sp.append(daif_text(c.pstate), style=CHANGED if changed(lambda s: s.pstate & 0x3C0) else "")
        sp.append("  NZCV ")
        sp.append(nzcv_text(c.pstate), style=CHANGED if changed(lambda s: s.pstate >> 28) else "")
        lines.append(sp)
        for row in range(16):
            t = Text()
            for n in (row, row + 16):
                if n > 30:
                    continue
                t.append(f"x{n:<2} ", style="dim")
                t.append(hex64(c.x[n]), style=CHANGED if b is not None and b.x[n] != c.x[n] else "")
                t.append("  ")
            lines.append(t)
        return Group(*lines)

    def _compact(self, c):
        t = Text()
        t.append(f"{c.index} ", style="bold")
        t.append(f"{el_text(c.pstate).split()[0]:<5} ")
        t.append(f"{c.state:<7}", style=_STATE_STYLE.get(c.state, ""))
        t.append(f" PC {c.pc:#x}")
        name = sym(self.symbols, c.pc, c)
        if name:
            t.append(f" <{name}>", style="cyan")
        t.append(f"  VMID {'-' if c.vmid is None else c.vmid}", style="magenta")
        return t


def _changed(c, b) -> set[str]:
    if b is None:
        return set()
    out = {f"X{n}" for n in range(31) if c.x[n] != b.x[n]}
    out |= {n for n in ("pc", "sp", "pstate", "vmid") if getattr(c, n) != getattr(b, n)}
    return {n.upper() for n in out}
