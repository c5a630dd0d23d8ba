"""What the panes share: the snapshot-rendering base class and input parsing."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..machine.loader import Symbols

MASK64 = (1 << 64) - 1
CHANGED = "bold black on yellow"
_NEAR = 0x1000


class BadInput(ValueError):
    """Input the UI refuses; the message is shown to the user as it is."""


class SnapshotPane(Static):
    """A pane that renders ``snapshot`` (a frozen BoardState) when it is on screen.

    Subclasses implement ``render_snapshot(snapshot) -> renderable``.  A pane
    hidden in an inactive tab skips the work and renders when it is shown.
    """

    snapshot = reactive(None, always_update=True, layout=False, repaint=False)
    selected = reactive(0, init=False)

    def __init__(self, symbols: Symbols | None = None, **kw) -> None:
        super().__init__(**kw)
        self.symbols = symbols or Symbols()
        self._stale = False
        self._key = None
        self._rendered = False
        self._shape = None


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
        if key is not None and key == self._key:
            return                     # what this pane shows did not change: skip the render
        self._key = key
        shape = self.shape_key(self.snapshot)
        relayout = not self._rendered or shape is None or shape != self._shape
        self._rendered, self._shape = True, shape
        self.update(self.render_snapshot(self.snapshot), layout=relayout)

    def shape_key(self, snapshot):
        """What the pane's height depends on (None: unknown); while it stays equal,
        updates skip Textual's layout pass, which is what costs most while running."""
        return None

    def view_key(self, snapshot):
        """What the pane's view depends on (None: always render); equal keys skip a render."""
        return None

    def render_snapshot(self, snapshot):  # pragma: no cover - abstract
        raise NotImplementedError


def sym(symbols: Symbols, addr: int) -> str:
    """``name+0x10`` for an address near a symbol, else ''."""
    hit = symbols.lookup(addr)
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


def parse_address(text: str, symbols: Symbols) -> int:
    """A VA as hex/decimal, an ELF symbol, or ``symbol+offset``."""
    s = text.strip()
    if not s:
        raise BadInput("no address given")
    try:
        value = int(s.replace("_", ""), 0)
    except ValueError:
        name, _, off = s.partition("+")
        addr = symbols.by_name.get(name.strip())
        if addr is None:
            raise BadInput(f"address {s!r} is neither a number nor a symbol of the image") from None
        try:
            value = addr + (int(off.strip(), 0) if off.strip() else 0)
        except ValueError:
            raise BadInput(f"address {s!r}: the offset {off.strip()!r} is not a number") from None
    if not 0 <= value <= MASK64:
        raise BadInput(f"address {s!r} is not a 64-bit address")
    return value
