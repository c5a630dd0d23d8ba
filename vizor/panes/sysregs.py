"""System registers of the selected core, decoded: SCTLR, HCR_EL2, SCR_EL3 field by field
and the core's world, VTTBR_EL2 (the VMID large), TCR, VBAR, ELR/SPSR/ESR/FAR per EL with
ESR in words, MPIDR/VMPIDR.

AArch64 banks no EL1 register by security state (SCTLR_EL1, TTBRn_EL1, VBAR_EL1 ... are
one set that EL3 saves and restores when it switches worlds), so the registers shown are
the core's, whichever world it is in; the pane says so beside SCR_EL3."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

import vizor.machine.arch.decode as D
from vizor.machine.arch.esr import decode_esr
from vizor.panes.common import SnapshotPane, TextGrid, sym


def _flags(value: int, layout) -> str:
    return " ".join(D.set_flags(value, layout)) or "(none)"


def scr_fields(value: int) -> str:
    """Every SCR_EL3 field with its value: ``NS=1 IRQ=0 FIQ=0 EA=0 SMD=1 ...``."""
    return " ".join(f"{f.name}={f.value}" for f in D.decode_fields(value, D.SCR_EL3))


def sctlr_words(value: int, el: int) -> str:
    m = "MMU on" if value & 1 else "MMU off"
    c = "D-cache on" if value >> 2 & 1 else "D-cache off"
    i = "I-cache on" if value >> 12 & 1 else "I-cache off"
    return f"{m}, {c}, {i}"


class SysregsPane(SnapshotPane):
    def view_key(self, snap):
        c = snap.cores[self.selected]
        last = next((e for e in reversed(snap.events) if e.core == c.index), None)
        return (c.index, c.pstate & 0xF, c.vmid, tuple(c.sysregs.values()), last)

    def render_snapshot(self, snap):
        c = snap.cores[self.selected]
        r = c.sysregs
        el = c.el
        rows = TextGrid(header=False)
        rows.add_column(style="bold", no_wrap=True)
        rows.add_column(no_wrap=True)
        rows.add_column(overflow="fold")
        sctlr_el = max(el, 1)
        sctlr = r[f"SCTLR_EL{sctlr_el}"]
        rows.add_row(f"SCTLR_EL{sctlr_el}", f"{sctlr:#x}", Text(sctlr_words(sctlr, sctlr_el), style="bold"))
        if sctlr_el != 1:
            s1 = r["SCTLR_EL1"]
            rows.add_row("SCTLR_EL1", f"{s1:#x}", f"guest: {sctlr_words(s1, 1)}")
        hcr = r["HCR_EL2"]
        rows.add_row("HCR_EL2", f"{hcr:#x}", _flags(hcr, D.HCR_EL2))
        scr = r["SCR_EL3"]
        room = max(24, (self.size.width or 60) - 26)    # beside the name and value columns
        lines: list[str] = []
        for field in scr_fields(scr).split():           # as many rows as the pane's width needs
            if lines and len(lines[-1]) + 1 + len(field) <= room:
                lines[-1] += " " + field
            else:
                lines.append(field)
        for i, line in enumerate(lines):
            rows.add_row("" if i else "SCR_EL3", "" if i else f"{scr:#x}", line)
        world = Text(c.world, style="bold black on yellow" if c.secure else "bold")
        world.append(f" {'Secure' if c.secure else 'Non-secure'}; EL1 registers not banked", style="")
        rows.add_row("world", "", world)
        rows.add_row("TCR_EL1", f"{r['TCR_EL1']:#x}", D.decode_tcr_el1(r["TCR_EL1"]).summary)
        rows.add_row("TCR_EL2", f"{r['TCR_EL2']:#x}", D.decode_tcr_el2(r["TCR_EL2"]).summary)
        rows.add_row("VTCR_EL2", f"{r['VTCR_EL2']:#x}", D.decode_vtcr_el2(r["VTCR_EL2"]).summary)
        rows.add_row("VBAR", "", f"EL1 {r['VBAR_EL1']:#x}  EL2 {r['VBAR_EL2']:#x}  EL3 {r['VBAR_EL3']:#x}")
        rows.add_row("MPIDR", f"{c.mpidr:#x}", D.decode_mpidr(c.mpidr).summary + ", EL2/3 see")
        vm = r["VMPIDR_EL2"]
        rows.add_row("VMPIDR_EL2", f"{vm:#x}", D.decode_mpidr(vm).summary + ", EL1 sees")
        return Group(self._vmid_banner(c), rows, self._per_el(c, snap))

    def _vmid_banner(self, c) -> Text:
        vttbr = c.sysregs["VTTBR_EL2"]
        vmid = vttbr >> 48 & 0xFF
        on = bool(c.sysregs["HCR_EL2"] & 1)
        t = Text()
        t.append(f" VMID {vmid} ", style="bold white on magenta" if on else "bold white on grey37")
        t.append(f"  VTTBR_EL2 {vttbr:#x}, tables @ {vttbr & 0xFFFF_FFFF_FFFE:#x}, ")
        if c.vmid is not None:
            t.append(f"guest VMID {c.vmid} running at EL{c.el}", style="bold magenta")
        elif on:
            t.append("stage 2 on, no guest running now" if c.el >= 2 else "stage 2 on")
        else:
            t.append("stage 2 off (HCR_EL2.VM=0)")
        return t

    def _per_el(self, c, snap) -> TextGrid:
        last = next((e for e in reversed(snap.events) if e.core == c.index), None)
        t = TextGrid()
        t.add_column("EL", no_wrap=True)
        t.add_column("ELR", no_wrap=True)
        t.add_column("SPSR", no_wrap=True)
        t.add_column("FAR", no_wrap=True)
        t.add_column("ESR", overflow="fold")        # last: free text, wrapped in a narrow pane
        r = c.sysregs
        for el in (1, 2, 3):
            elr, spsr, esr, far = (r[f"{n}_EL{el}"] for n in ("ELR", "SPSR", "ESR", "FAR"))
            mark = "▶" if last is not None and last.to_el == el else " "
            name = sym(self.symbols, elr, c if el == 1 else None)
            esr_text = f"{esr:08x} {decode_esr(esr).summary}" if esr else "0"
            t.add_row(f"{mark}EL{el}", f"{elr:#x}" + (f" <{name}>" if name else ""),
                      D.decode_cpsr(spsr).summary.split()[0] if spsr else "0", f"{far:#x}", esr_text)
        if last is not None:
            t.caption = (f"▶ last exception: {last.kind} EL{last.from_el}→EL{last.to_el}"
                         + (f" from VMID {last.vmid}" if last.vmid is not None else ""))
        return t
