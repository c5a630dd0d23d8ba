"""Cores: the selected core in full (its world, PC, SP, X0-X30, PSTATE decoded), the others
compact (one line each: the world -- S-EL1, NS-EL1, EL2 (NS), EL3 by SCR_EL3.NS --, the VMID before the PC so that a narrow pane never cuts it; a core
halted as stuck says so in red, with why, even while the others run on).

Values that changed since the board last stopped (pause, step, breakpoint)
are highlighted: the pane keeps the snapshot of the last stop as its baseline.
"""

from __future__ import annotations

import textwrap

from rich.console import Group
from rich.text import Text

import vizor.machine.arch.decode as D
from vizor.panes.common import CHANGED, SnapshotPane, hex64, sym

_WORLD_STYLE = {True: "bold black on yellow", False: "bold"}   # Secure stands out
_STATE_STYLE = {"running": "green", "wfi": "cyan", "parked": "dim", "halted": "bold white on red"}
REG_CELL = 20             # "x12 " and 16 hex digits: three columns need 62 cells


def state_text(state: str) -> str:
    return "HALTED" if state == "halted" else state


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
        width = self.size.width or 60
        parts = [self._full(c, b, 3 if width >= 3 * REG_CELL + 2 else 2)]
        parts.append(Text("─" * min(width, 62), style="dim"))
        for o in snap.cores:
            if o.index != sel:
                parts.append(self._compact(o))
                if o.fault:
                    parts.extend(Text(t, style="red") for t in textwrap.wrap(o.fault, width - 1,
                                                                             initial_indent="  ", subsequent_indent="  "))
        return Group(*parts)

    def on_resize(self, _event) -> None:
        self._key = None
        self._refresh_view()

    def _full(self, c, b, columns: int = 3):
        changed = (lambda get: b is not None and get(b) != get(c))
        head = Text()
        head.append(f"core {c.index} ", style="bold")
        head.append(c.world, style=CHANGED if changed(lambda s: s.world) else _WORLD_STYLE[c.secure])
        head.append(f" {el_text(c.pstate)} ", style=CHANGED if changed(lambda s: s.pstate & 0xF) else "")
        head.append(state_text(c.state), style=_STATE_STYLE.get(c.state, ""))
        head.append("  VMID ")
        head.append("-" if c.vmid is None else str(c.vmid),
                    style=CHANGED if changed(lambda s: s.vmid) else "bold magenta")
        room = (self.size.width or 60) - 1 - len(head.plain)
        count = f"  {c.instructions:,} insns"            # on the line while it fits, shorter if not
        if len(count) > room:
            count = f"  {c.instructions:,}" if len(count) - 6 <= room else f"  {c.instructions / 1e6:.1f}M"
        head.append(count, style="dim")
        lines = [head]
        if c.fault:
            width = max(20, (self.size.width or 60) - 1)
            lines.extend(Text(t, style="bold red") for t in textwrap.wrap(f"fault: {c.fault}", width))
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
        rows = -(-31 // columns)
        for row in range(rows):
            t = Text()
            for n in range(row, 31, rows):
                if n != row:
                    t.append(" " if columns > 2 else "  ")
                t.append(f"x{n:<2} ", style="dim")
                t.append(hex64(c.x[n]), style=CHANGED if b is not None and b.x[n] != c.x[n] else "")
            lines.append(t)
        return Group(*lines)

    def _compact(self, c):
        t = Text()
        t.append(f"{c.index} ", style="bold")
        t.append(f"{c.world:<8}", style=_WORLD_STYLE[c.secure])
        t.append(" ")
        t.append(f"VMID {'-' if c.vmid is None else c.vmid:<3} ", style="magenta")
        t.append(f"{state_text(c.state):<7}", style=_STATE_STYLE.get(c.state, ""))
        t.append(f" PC {c.pc:#x}")
        name = sym(self.symbols, c.pc, c)
        if name:
            t.append(f" <{name}>", style="cyan")
        t.no_wrap, t.overflow = True, "ellipsis"
        return t


def _changed(c, b) -> set[str]:
    if b is None:
        return set()
    out = {f"X{n}" for n in range(31) if c.x[n] != b.x[n]}
    out |= {n for n in ("pc", "sp", "pstate", "vmid") if getattr(c, n) != getattr(b, n)}
    return {n.upper() for n in out}
