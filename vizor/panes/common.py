"""What the panes share: the snapshot-rendering base class and input parsing."""

from __future__ import annotations

import io
import re

from rich.console import Console, Group
from rich.text import Text
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from vizor.machine.inspect.symbols import Symbols
from vizor.panes.fit import fit_line, fold_row, place

MASK64 = (1 << 64) - 1
CHANGED = "bold black on yellow"
_NEAR = 0x1000


class BadInput(ValueError):
    """Input the UI refuses; the message is shown to the user as it is."""


class SnapshotPane(Widget):
    """A pane that renders ``snapshot`` (a frozen BoardState) when it is on screen.

    Subclasses implement ``render_snapshot(snapshot)`` returning a ``Group`` of
    ``Text`` lines (``TextGrid`` lays out tables as such lines), which are made to
    fit the pane's width (``fit.py``: never a sideways scroll).  The pane keeps
    one Strip per line and, on a new snapshot, converts and repaints only the
    lines that changed: with the board running this is what keeps the UI
    thread (and so its hold on the GIL) short.  A pane hidden in an inactive
    tab skips the work and renders when it is shown.
    """

    DEFAULT_CSS = "SnapshotPane { height: auto; }"
    snapshot = reactive(None, always_update=True, layout=False, repaint=False)
    selected = reactive(0, init=False)

    def __init__(self, symbols: Symbols | None = None, **kw) -> None:
        super().__init__(**kw)
        self.symbols = symbols or Symbols()
        self._stale = False
        self._key = None
        self._texts: list = []
        self._strips: list[Strip] = []
        self.content = Group()         # what the pane shows now (a Group of Text lines)
        self._style = None

    def watch_snapshot(self, _snapshot) -> None:
        self._refresh_view()

    def watch_selected(self, _core: int) -> None:
        self._key = None
        self._refresh_view()

    def on_show(self) -> None:
        if self._stale:
            self._refresh_view()

    def _shown(self) -> bool:
        node = self
        while node is not None and hasattr(node, "display"):
            if not node.display:
                return False
            node = node.parent
        return True

    def _refresh_view(self) -> None:
        if self.snapshot is None:
            return
        if not self._shown():
            self._stale = True
            return
        self._stale = False
        key = self.view_key(self.snapshot)
        if key is not None:
            key = (key, self.size.width)      # lines are fitted to the width
        if key is not None and key == self._key:
            return                     # what this pane shows did not change: skip the render
        self._key = key
        self.show_lines(self.render_snapshot(self.snapshot))

    def on_resize(self, _event) -> None:
        self._key = None
        self._refresh_view()

    def show_lines(self, content) -> None:
        """Show ``content`` (a Group of Text, a Text or a str) fitted to the pane's width,
        repainting changed lines only."""
        self.content = content
        width = self.size.width if self.is_attached else 0
        texts = list(_flat(content, width or None))
        old_texts, old = self._texts, self._strips
        console = self.app.console if self.is_attached else _CONSOLE
        strips, dirty = [], []
        for y, t in enumerate(texts):
            if y < len(old_texts) and old_texts[y] == t:
                strips.append(old[y])
            else:
                strips.append(Strip(list(t.render(console, end="")), t.cell_len))
                dirty.append(y)
        self._texts, self._strips = texts, strips
        if not self.is_attached:
            return
        if len(texts) != len(old_texts):
            height = self.styles.height
            self.refresh(layout=height is None or height.is_auto)
        elif dirty:
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in dirty))

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._strips)

    def get_content_width(self, container, viewport) -> int:
        return max((s.cell_length for s in self._strips), default=0)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style = None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self._style
        if style is None:
            style = self._style = self.rich_style   # walks every ancestor: once, not per line
        if y >= len(self._strips):
            return Strip.blank(width, style)
        return self._strips[y].crop_extend(0, width, style).apply_style(style)

    def view_key(self, snapshot):
        """What the pane's view depends on (None: always render); equal keys skip a render."""
        return None

    def render_snapshot(self, snapshot):  # pragma: no cover - abstract
        raise NotImplementedError


_CONSOLE = Console(width=200, file=io.StringIO())


def fit_lines(content, width: int | None) -> list[Text]:
    """``content`` (a Group of Text and TextGrid, a Text or a str) as Text lines of at
    most ``width`` cells (``fit.py``), for a widget that is not a SnapshotPane."""
    return list(_flat(content, width))


def _flat(content, width: int | None = None):
    """The Text lines of ``content``, each at most ``width`` cells (None: as they are)."""
    if isinstance(content, TextGrid):
        yield from content.lines(width)
    elif isinstance(content, Group):
        for r in content.renderables:
            yield from _flat(r, width)
    elif isinstance(content, (str, Text)):
        text = Text(content) if isinstance(content, str) else content
        for line in (text.split("\n") if "\n" in text.plain else (text,)):
            yield from (line,) if width is None else fit_line(line, width)
    else:
        raise TypeError(f"a pane shows Text lines, not {type(content).__name__}")


class TextGrid:
    """A table laid out as Text lines: columns as wide as their widest cell, one
    space apart (rich's Table costs ~10x more to render, which matters 10 times a
    second).  ``add_column``/``add_row``/``caption`` as in ``rich.table.Table``; a
    column with ``overflow="fold"`` is free text, wrapped when the row is too wide."""

    def __init__(self, title: str = "", *, header: bool = True, padding: int = 1,
                 title_style: str = "bold", header_style: str = "bold") -> None:
        self.title, self.show_header, self.pad = title, header, padding
        self.title_style, self.header_style = title_style, header_style
        self.columns: list[tuple[str, str]] = []
        self.free: list[bool] = []
        self.rows: list[tuple[Text, ...]] = []
        self.caption = ""

    def add_column(self, name: str = "", *, style: str = "", overflow: str = "", **_ignored) -> None:
        self.columns.append((name, style))
        self.free.append(overflow == "fold")

    def add_row(self, *cells) -> None:
        out = []
        for i, c in enumerate(cells):
            if not isinstance(c, Text):
                c = Text(str(c), style=self.columns[i][1] if i < len(self.columns) else "")
            out.append(c)
        self.rows.append(tuple(out))

    def lines(self, width: int | None = None) -> list[Text]:
        """The table as lines; rows wider than ``width`` folded (``fit.place``)."""
        rows = list(self.rows)
        if self.show_header and any(n for n, _ in self.columns):
            rows.insert(0, tuple(Text(n, style=self.header_style) for n, _ in self.columns))
        widths = [0] * max((len(r) for r in rows), default=0)
        for r in rows:
            for i, c in enumerate(r):
                widths[i] = max(widths[i], c.cell_len)
        gap = " " * self.pad
        out = [Text(self.title, style=self.title_style)] if self.title else []
        if width is not None:
            out = [line for t in out for line in fit_line(t, width)]
        if width is not None and sum(widths) + self.pad * (len(widths) - 1) > width:
            free = self.free + [False] * (len(widths) - len(self.free))
            bands = place(widths, free, width, self.pad)
            out += [line for r in rows for line in fold_row(r, bands)]
            if self.caption:
                out += fit_line(Text(self.caption, style="dim"), width)
            return out
        for r in rows:
            t = Text(no_wrap=True)
            for i, c in enumerate(r):
                if i:
                    t.append(gap)
                t.append_text(c)
                if i < len(r) - 1:
                    t.append(" " * (widths[i] - c.cell_len))
            t.rstrip()
            out.append(t)
        if self.caption:
            out.append(Text(self.caption, style="dim"))
        return out

    def __rich__(self):
        return Group(*self.lines())


def table_of(symbols, vmid: int | None = None) -> Symbols:
    """The symbol table of one context.  ``symbols`` is a plain ``Symbols`` or the
    board's ``SymbolContexts`` (EL2's table, one per VMID); a VMID without a
    table of its own falls back to the image's."""
    return symbols.table(vmid) if hasattr(symbols, "table") else symbols


def symbol_of(symbols, core, addr: int) -> tuple[str, int] | None:
    """The symbol of ``addr`` on ``core`` (a CoreState): looked up in the context
    that core runs — its VM's table at EL1/EL0 under stage 2, the hypervisor's
    otherwise.  Every pane asks this one function."""
    return table_of(symbols, core.vmid if core is not None else None).lookup(addr)


def sym(symbols, addr: int, core=None) -> str:
    """``name+0x10`` for an address near a symbol (in ``core``'s context), else ''."""
    hit = symbol_of(symbols, core, addr)
    if hit is None or hit[1] >= _NEAR:
        return ""
    name, off = hit
    return f"{name}+{off:#x}" if off else name


def hex64(v: int) -> str:
    return f"{v:016x}"


def styled(text: str, changed: bool, base: str = "") -> Text:
    return Text(text, style=CHANGED if changed else base)


def parse_number(text: str, what: str) -> int:
    try:
        return int(text.strip().replace("_", ""), 0)
    except ValueError:
        raise BadInput(f"{what} {text.strip()!r} is not a number") from None


EL2 = "el2"                # the hypervisor's context in parse_address
_SUFFIX = re.compile(r"@(?:vmid=(\d+)|el=?2)\s*$", re.IGNORECASE)


def context_of(core) -> int | str:
    """The symbol context ``core`` (a CoreState, or None) runs in: its VMID at EL1/EL0
    under stage 2, else the hypervisor's (``EL2``)."""
    return core.vmid if core is not None and core.vmid is not None else EL2


def context_name(context) -> str:
    return "the hypervisor (EL2)" if context in (None, EL2) else f"VMID {context}"


def parse_address(text: str, symbols, context: int | str | None = None) -> int:
    """A VA as hex/decimal, an ELF symbol, or ``symbol+offset``.  A name is looked
    up in one context only: ``context`` (a VMID, or ``EL2`` for the hypervisor;
    a trailing ``@vmid=N`` or ``@el=2`` in the text overrides it).  A name not
    there is refused with the contexts that define it ("schedule is in VMID 2,
    3: add @vmid=").  ``context`` None: wherever the name is unique."""
    s = text.strip()
    m = _SUFFIX.search(s)
    if m:
        context = int(m.group(1)) if m.group(1) is not None else EL2
        s = s[:m.start()].strip()
    if not s:
        raise BadInput("no address given")
    try:
        value = int(s.replace("_", ""), 0)
    except ValueError:
        name, _, off = s.partition("+")
        addr = _resolve(name.strip(), symbols, context, s)
        try:
            value = addr + (int(off.strip(), 0) if off.strip() else 0)
        except ValueError:
            raise BadInput(f"address {s!r}: the offset {off.strip()!r} is not a number") from None
    if not 0 <= value <= MASK64:
        raise BadInput(f"address {s!r} is not a 64-bit address")
    return value


def _resolve(name: str, symbols, context, text: str) -> int:
    vms = getattr(symbols, "vms", None)
    if vms is None:                                  # one plain table
        addr = symbols.by_name.get(name)
        if addr is None:
            raise BadInput(f"address {text!r} is neither a number nor a symbol of the image")
        return addr
    if context is None:
        try:
            return symbols.resolve(name)
        except ValueError as e:
            raise BadInput(f"address {text!r} is neither a number nor a known symbol ({e})") from None
    table = symbols.el2 if context == EL2 else symbols.table(context)
    if name in table.by_name:
        return table.by_name[name]
    where = sorted(v for v, t in vms.items() if name in t.by_name)
    if where:
        hint = f"{name} is in VMID {', '.join(map(str, where))}: add @vmid="
    elif name in symbols.el2.by_name:
        hint = f"{name} is in the hypervisor (EL2): add @el=2"
    else:
        raise BadInput(f"address {text!r} is neither a number nor a symbol of any context")
    raise BadInput(f"{hint} ({context_name(context).replace(' (EL2)', ', EL2,')} has no {name})")
