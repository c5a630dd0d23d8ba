"""Events: the last exceptions and interrupts, newest first: core, VMID, EL from→to,
ESR in words, the PC it was taken at (ELR, with its symbol), and the FAR and HPFAR of an abort.
A change of the VMID between a core's exceptions is shown as a VM switch; a core
returning from EL3 into the other security state as a world switch (the
debugger's records, ``BoardState.world_switches``)."""

from __future__ import annotations

from rich.text import Text

from vizor.machine.arch.esr import decode_esr
from vizor.panes.common import SnapshotPane, TextGrid, sym, table_of

CPU_HZ = 1_200_000_000


def event_text(e) -> str:
    if e.kind != "sync":
        return e.kind.upper()
    return decode_esr(e.esr).summary


class EventsPane(SnapshotPane):
    MAX_ROWS = 60

    def view_key(self, snap):
        worlds = getattr(snap, "world_switches", ())
        return (len(snap.events), snap.events[-1] if snap.events else None, len(worlds),
                worlds[-1] if worlds else None)

    def render_snapshot(self, snap):
        t = TextGrid()
        # "what" before the addresses: in a narrow pane (fit.py) a row folds into
        # time core VMID EL what / PC FAR HPFAR, and a line with no FAR is left out
        for col, kw in (("time", {"no_wrap": True}), ("core", {"no_wrap": True}),
                        ("VMID", {"no_wrap": True}), ("EL", {"no_wrap": True}),
                        ("what", {"overflow": "fold"}), ("PC (ELR)", {"no_wrap": True}),
                        ("FAR", {"no_wrap": True}), ("HPFAR", {"no_wrap": True})):
            t.add_column(col, **kw)
        rows = []
        last_vmid: dict[int, int] = {}
        for e in snap.events:                    # oldest first, to see switches
            if e.vmid is not None:
                before = last_vmid.get(e.core)
                if before is not None and before != e.vmid:
                    rows.append(("switch", e, before))
                last_vmid[e.core] = e.vmid
            rows.append(("event", e, None))
        worlds = getattr(snap, "world_switches", ())
        if worlds:      # merged by virtual time (a stable sort keeps the VM switches before their event)
            rows = sorted(rows + [("world", w, None) for w in worlds], key=lambda r: r[1].cycles)
        for kind, e, before in reversed(rows[-self.MAX_ROWS:]):
            us = f"{e.cycles / (CPU_HZ / 1e6):,.1f}µs"
            if kind == "world":
                style = "bold yellow" if e.to_secure else "bold cyan"
                name = sym(table_of(self.symbols, None), e.pc)
                t.add_row(us, str(e.core), "-", f"{3 if e.from_el is None else e.from_el}→{e.to_el}",
                          Text(f"world switch: {e.path('→')} (now {'Secure' if e.to_secure else 'Non-secure'})",
                               style=style), f"{e.pc:#x}" + (f" <{name}>" if name else ""))
                continue
            if kind == "switch":
                t.add_row(us, str(e.core), Text(f"{before}→{e.vmid}", style="bold magenta"), "",
                          Text(f"VM switch: core {e.core} now runs VMID {e.vmid} (was {before})",
                               style="bold magenta"))
                continue
            name = sym(table_of(self.symbols, e.vmid if e.from_el < 2 else None), e.elr)
            style = "yellow" if e.kind != "sync" else ""
            t.add_row(us, str(e.core), "-" if e.vmid is None else str(e.vmid), f"{e.from_el}→{e.to_el}",
                      Text(event_text(e), style=style), f"{e.elr:#x}" + (f" <{name}>" if name else ""),
                      "" if e.far is None else f"{e.far:#x}",
                      "" if getattr(e, "hpfar", None) is None else f"{e.hpfar:#x}")
        if not rows:
            return Text("no exceptions taken yet", style="dim")
        return t
