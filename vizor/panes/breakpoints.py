"""Breakpoints: every stop condition set (breakpoints, watchpoints, event stops) with
its hit count; Enter enables or disables the one under the cursor, d or Delete
deletes it.  The list comes from the runner (``StopsState``) when it changes."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static


@dataclass
class StopEdited(Message):
    id: int
    action: str            # "enable" | "disable" | "delete"


class StopsTable(DataTable):
    BINDINGS = [Binding("enter", "toggle", "Enable/disable", show=False),
                Binding("d", "delete", "Delete", show=False),
                Binding("delete", "delete", "Delete", show=False)]

    def _current(self):
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self.parent.stop_by_key.get(key.value)

    def action_toggle(self) -> None:
        s = self._current()
        if s is not None:
            self.post_message(StopEdited(s.id, "disable" if s.enabled else "enable"))

    def action_delete(self) -> None:
        s = self._current()
        if s is not None:
            self.post_message(StopEdited(s.id, "delete"))


class BreakpointsPane(Vertical):
    """The table fits the pane: the condition (which starts with break, watch or catch,
    so no kind column) wraps in the width left by id, on and hits."""

    DEFAULT_CSS = """
    BreakpointsPane { height: 1fr; }
    BreakpointsPane StopsTable { height: 1fr; overflow-x: hidden; }
    BreakpointsPane #stops-hint { height: auto; color: $text-muted; }
    """
    FIXED = (("id", 3), ("on", 3), ("hits", 7))   # columns and widths before the condition
    SPARE = 2 + 2 * 4                             # the scrollbar, and a cell's padding each side

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.stops = ()
        self.stop_by_key: dict[str, object] = {}
        self._width = 0

    def compose(self):
        yield Static("b breakpoint  p watchpoint  e event stop  │  here: Enter enable/disable, d delete",
                     id="stops-hint")
        yield StopsTable(id="stops-table", cursor_type="row", zebra_stripes=False)

    def on_resize(self, _event) -> None:
        self.show(None)

    def show(self, state) -> None:
        """Show a StopsState (None: the same, at the pane's width now), keeping the
        cursor on the same row."""
        stops = self.stops if state is None else state.stops
        width = max(16, self.size.width - sum(w for _, w in self.FIXED) - self.SPARE)
        if state is None and width == self._width:
            return
        self.stops = stops
        table = self.query_one(StopsTable)
        row = table.cursor_row
        table.clear(columns=width != self._width)
        if width != self._width or not table.columns:
            self._width = width
            for name, w in self.FIXED:
                table.add_column(name, width=w)
            table.add_column("condition", width=width)
        self.stop_by_key = {}
        for s in stops:
            key = str(s.id)
            self.stop_by_key[key] = s
            table.add_row(str(s.id), Text("yes", style="bold green") if s.enabled else Text("no", style="dim"),
                          f"{s.hits:,}", Text(s.text), key=key, height=None)
        if stops:
            table.move_cursor(row=min(row, len(stops) - 1))

    def text(self) -> str:
        """The list as plain lines (what a reader of the pane sees)."""
        return "\n".join(f"{s.id} {s.kind} {'yes' if s.enabled else 'no'} {s.hits} {s.text}"
                         for s in self.stops)
