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
    DEFAULT_CSS = """
    BreakpointsPane { height: 1fr; }
    BreakpointsPane StopsTable { height: 1fr; }
    BreakpointsPane #stops-hint { height: 1; color: $text-muted; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.stops = ()
        self.stop_by_key: dict[str, object] = {}

    def compose(self):
        yield Static("b breakpoint  p watchpoint  e event stop  │  here: Enter enable/disable, d delete",
                     id="stops-hint")
        table = StopsTable(id="stops-table", cursor_type="row", zebra_stripes=False)
        table.add_columns("id", "kind", "on", "hits", "condition")
        yield table

    def show(self, state) -> None:
        """Show a StopsState, keeping the cursor on the same row."""
        self.stops = state.stops
        table = self.query_one(StopsTable)
        row = table.cursor_row
        table.clear()
        self.stop_by_key = {}
        for s in state.stops:
            key = str(s.id)
            self.stop_by_key[key] = s
            table.add_row(str(s.id), s.kind, Text("yes", style="bold green") if s.enabled else
                          Text("no", style="dim"), str(s.hits), s.text, key=key)
        if state.stops:
            table.move_cursor(row=min(row, len(state.stops) - 1))

    def text(self) -> str:
        """The list as plain lines (what a reader of the pane sees)."""
        return "\n".join(f"{s.id} {s.kind} {'yes' if s.enabled else 'no'} {s.hits} {s.text}"
                         for s in self.stops)
