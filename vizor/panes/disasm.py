"""Disassembly (capstone) around the selected core's PC, or around an address jumped to,
with ELF symbols and breakpoint markers (● enabled, ○ disabled, ▶ the PC).  A pane
narrower than 64 cells (120 columns) leaves out the instruction words and shows offsets
(``+0x44``) under the function's ``<name>:`` line (the title names the first one), or
with 64-bit addresses no offsets, to keep the instructions whole."""

from __future__ import annotations

from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs
from rich.console import Group
from rich.text import Text

from vizor.panes.common import SnapshotPane, symbol_of

_cs = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
_cache: dict[tuple[int, int], str] = {}


def disassemble(addr: int, word: int | None) -> str:
    if word is None:
        return "?? (not mapped)"
    key = (addr, word)
    text = _cache.get(key)
    if text is None:
        insns = list(_cs.disasm_lite(word.to_bytes(4, "little"), addr, 1))
        text = f"{insns[0][2]} {insns[0][3]}".strip() if insns else f".word {word:#010x}"
        if len(_cache) > 20000:
            _cache.clear()
        _cache[key] = text
    return text


class DisassemblyPane(SnapshotPane):
    def view_key(self, snap):
        c = snap.cores[self.selected]
        return (c.index, c.pc, c.code, snap.breakpoints, snap.stop_serial, id(self.code))
    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.code = None           # a CodeState from "go to", shown until the next stop
        self._code_stop = -1
        self.height_hint = 12
        self._first = None         # the address at the top of the window

    def show_code(self, code, stop_serial: int) -> None:
        self.code = code
        self._code_stop = stop_serial
        self._key = None
        self._refresh_view()

    def watch_selected(self, core: int) -> None:
        self.code = None
        super().watch_selected(core)

    def on_resize(self, _event) -> None:
        self._key = None
        self._refresh_view()

    def render_snapshot(self, snap):
        core = snap.cores[self.selected]
        words = core.code
        title = f"core {core.index} at PC"
        if self.code is not None and self._code_stop == snap.stop_serial and self.code.core == core.index:
            words = self.code.words
            title = f"core {core.index} at {self.code.address:#x}"
            center = self.code.address
        else:
            self.code = None
            center = core.pc
        bps = {}
        for bp in snap.breakpoints:
            if bp.core is None or bp.core == core.index:
                bps.setdefault(bp.address, bp)
        rows = max(4, (self.size.height or self.height_hint))
        addrs = [a for a, _ in words]
        idx = next((i for i, a in enumerate(addrs) if a == (center & ~3)), 0)
        # the window stays put while the PC moves inside it (a loop repaints two lines,
        # not all of them); it re-centres when the PC leaves its middle part
        first = self._first
        if first in addrs and first <= center < first + 4 * (rows - 3):
            start = addrs.index(first)
        else:
            start = max(0, min(idx - rows // 3, len(words) - rows))
        self._first = addrs[start] if addrs else None
        narrow = 0 < self.size.width < 64
        sym_width, addr_width = (7, 8) if narrow else (18, 10)
        shown = words[start:start + rows - 1]
        if narrow and any(a >> 32 for a, _ in shown):
            sym_width = 0              # 16-digit addresses: the instruction keeps the room
        if narrow and shown:           # the offset column has no room for names: the title names
            hit = symbol_of(self.symbols, core, shown[0][0])   # the function the listing starts in
            if hit is not None and 0 < hit[1] < 0x1000:
                title += f", from <{hit[0]}+{hit[1]:#x}>"
        lines = [Text(title, style="dim")]
        for addr, word in shown:
            hit = symbol_of(self.symbols, core, addr)
            if hit is not None and hit[1] == 0:
                lines.append(Text(f"<{hit[0]}>:", style="cyan"))
            bp = bps.get(addr)
            t = Text(no_wrap=True, overflow="ellipsis")
            t.append("●" if bp is not None and bp.enabled else ("○" if bp is not None else " "),
                     style="bold red")
            t.append("▶" if addr == core.pc else " ", style="bold green")
            off = "" if hit is None or hit[1] >= 0x1000 else f"+{hit[1]:#x}" if narrow else f"<{hit[0]}+{hit[1]:#x}>"
            column = f"{off:<{sym_width}.{sym_width}} " if sym_width else ""
            t.append(f"{addr:0{addr_width}x} {column}", style="bold" if addr == core.pc else "dim")
            if not narrow:
                t.append(f"{word:08x}  " if word is not None else "--------  ", style="dim")
            t.append(disassemble(addr, word), style="bold" if addr == core.pc else "")
            if bp is not None and (bp.vmid is not None or bp.el is not None):
                t.append("  [" + " ".join(x for x in (f"VMID {bp.vmid}" if bp.vmid is not None else "",
                                                    f"EL{bp.el}" if bp.el is not None else "") if x) + "]",
                         style="red")
            lines.append(t)
        return Group(*lines)
