"""Translation: a VA typed in (or the PC) walked through stage 1 and then stage 2 of the
IPA, level by level as tables of decoded descriptors; the final PA and attributes, or
where and why the walk faults.  The walk itself is done in the machine thread."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static

import vizor.machine.arch.decode as D
from vizor.machine.arch.mmu import stage2_enabled
from vizor.panes.common import TextGrid, fit_lines, table_of

REGIMES = ("auto", "el10", "sel10", "el2", "el3", "s2")


@dataclass
class WalkRequested(Message):
    text: str          # what the user typed: "VA [regime]" ("" = the selected core's PC)


def _rwx(p, priv: str) -> str:
    return p.text(priv)


def steps_table(walk, title: str, space: str, ia: str, security=None) -> TextGrid:
    """One row per descriptor; ``security`` (a stage-1 ``WalkSecurity``) adds the
    world of each lookup in a Secure regime.  In a narrow pane the fields go to a
    second line (``fit.py``)."""
    t = TextGrid(title)
    for col in ("L", "table", f"index ({ia} bits)", "descriptor", "kind", "fields"):
        t.add_column(col, overflow="fold" if col == "fields" else "")
    for i, st in enumerate(walk.steps):
        hi, lo = st.ia_bits
        desc = "(not read)" if st.desc is None else f"{st.desc:016x}"
        if st.kind == "table":
            fields = f"next {space} {st.output:#x}"
            if st.ns_table is not None:
                fields += f" NSTable={int(st.ns_table)}"
        elif st.kind in ("block", "page"):
            fields = f"OA {st.output:#x} " + " ".join(f"{k}={v}" for k, v in st.fields())
        elif st.kind == "invalid":
            fields = "invalid descriptor"
        elif st.kind == "abort":
            fields = "descriptor read failed"
        else:
            fields = st.kind
        if security is not None and security.secure_regime:
            fields += "  [Secure lookup]" if security.lookups[i] else "  [Non-secure lookup]"
        if st.s2_walk is not None:
            s2 = st.s2_walk
            fields += (f"  [table IPA {st.desc_addr:#x} via stage 2: "
                       + (f"FAULT {s2.fault}" if s2.fault else f"PA {s2.output:#x}") + "]")
        kind = Text(st.kind, style="bold red" if st.kind in ("invalid", "abort", "reserved") else "")
        t.add_row(str(st.level), f"{st.table_base:#x}", Text(f"{st.index} [{hi}:{lo}]"), desc, kind,
                  Text(fields))
    return t


def render_walk(w, symbols=None):
    """A WalkState as Rich renderables."""
    if w.walk is None:
        return Text(f"walk of {w.va:#x} on core {w.core}: {w.error}", style="bold red")
    walk, s1, regs = w.walk, w.stage1, w.regs
    parts = []
    where = ""
    if symbols is not None:
        hit = table_of(symbols).lookup(w.va)
        if hit is not None and hit[1] < 0x1000:
            where = f" <{hit[0]}+{hit[1]:#x}>"
    if w.regime == "s2":
        head = f"IPA {w.va:#x} on core {w.core} (EL{w.el}): stage 2 only, VMID {regs.vttbr_el2 >> 48 & 0xFF}"
    elif w.regime in ("el2", "el3"):
        n = w.regime[2]
        head = (f"VA {w.va:#x}{where} on core {w.core} (EL{w.el}): EL{n} regime "
                f"({'Secure' if n == '3' else 'Non-secure'}), TTBR0_EL{n} {getattr(regs, f'ttbr0_el{n}'):#x}")
    elif w.regime == "sel10":
        head = (f"VA {w.va:#x}{where} on core {w.core} (EL{w.el}): Secure EL1&0 regime, "
                "stage 1 only (EL2 does not act on Secure state)")
    else:
        s2 = stage2_enabled(regs)
        head = (f"VA {w.va:#x}{where} on core {w.core} (EL{w.el}): Non-secure EL1&0 regime, "
                + (f"stage 1 + stage 2 (VMID {regs.vttbr_el2 >> 48 & 0xFF})" if s2 else "stage 1 only"))
    parts.append(Text(head, style="bold"))
    space = "IPA" if w.regime == "el10" and stage2_enabled(regs) else "PA"
    single = w.regime in ("el2", "el3")
    priv = f"EL{w.regime[2]}" if single else "EL1"
    if s1 is not None:
        if not s1.mmu_enabled:
            reg = f"SCTLR_{priv}.M=0" if single else "SCTLR_EL1.M=0 or HCR_EL2.DC=1"
            parts.append(Text(f"stage 1: MMU off ({reg}): {space} = VA"))
        elif not s1.steps:
            parts.append(Text(f"stage 1: no table walk: {s1.fault}", style="bold red"))
        else:
            tcr = (D.decode_tcr_el2(getattr(regs, f"tcr_el{w.regime[2]}")) if single
                   else D.decode_tcr_el1(regs.tcr_el1))
            parts.append(steps_table(s1, f"stage 1 (VA -> {space}; {tcr.summary})", space, "VA", w.security))
            if s1.fault is not None:
                parts.append(Text(f"  stage 1 stops at level {s1.fault.level}: {s1.fault}", style="bold red"))
            else:
                parts.append(Text(f"  => {space} {s1.output:#x}, {s1.permissions.text(priv)}, {s1.mem_type}"))
    s2w = walk if w.regime == "s2" else walk.stage2
    if s2w is not None:
        if s2w.steps:
            parts.append(steps_table(s2w, f"stage 2 (IPA {s2w.input_address:#x} -> PA; VMID {s2w.vmid}; "
                                     f"{D.decode_vtcr_el2(regs.vtcr_el2).summary})", "PA", "IPA"))
        else:
            parts.append(Text(f"stage 2: no table walk: {s2w.fault}", style="bold red"))
    if walk.fault is not None:
        f = walk.fault
        parts.append(Text(f"FAULT: stage {f.stage}, level {f.level}: {f.kind.replace('_', ' ')}"
                          + (" on a stage-1 table read (S1PTW)" if f.s1ptw else "")
                          + (f", IPA {f.ipa:#x}" if f.ipa is not None else ""), style="bold white on red"))
    else:
        path = f"VA {w.va:#x}" + (f" -> IPA {walk.ipa:#x}" if walk.ipa is not None else "")
        if w.regime == "s2":
            path = f"IPA {w.va:#x}"
        world = f"  {w.security.text()}" if w.security is not None else ""
        parts.append(Text(f"{path} -> PA {walk.output:#x}  {walk.permissions.text(priv)}  {walk.mem_type}{world}",
                          style="bold green"))
    return Group(*parts)


class TranslationPane(Vertical):
    DEFAULT_CSS = """
    TranslationPane { height: 1fr; }
    TranslationPane Input { height: 3; }
    TranslationPane #walk-scroll { height: 1fr; overflow-x: hidden; }
    """
    walk = reactive(None, always_update=True, layout=False)

    def __init__(self, symbols=None, **kw) -> None:
        super().__init__(**kw)
        self.symbols = symbols

    def compose(self):
        yield Input(placeholder="VA to walk: hex, symbol or symbol+off, then el10|sel10|el2|el3|s2 (empty: PC)",
                    id="walk-input")
        with VerticalScroll(id="walk-scroll"):
            yield Static("type a VA and press Enter (empty: the selected core's PC)", id="walk-view")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "walk-input":
            event.stop()
            self.post_message(WalkRequested(event.value))

    def watch_walk(self, w) -> None:
        self._show()

    def on_resize(self, _event) -> None:
        self._show()

    def _show(self) -> None:
        """The walk in lines that fit the pane (room kept for the scrollbar): no sideways scroll."""
        if self.walk is None:
            return
        scroll = self.query_one("#walk-scroll")
        width = scroll.size.width - scroll.styles.scrollbar_size_vertical
        lines = fit_lines(render_walk(self.walk, self.symbols), width if width > 8 else None)
        self.query_one("#walk-view", Static).update(Group(*lines))
