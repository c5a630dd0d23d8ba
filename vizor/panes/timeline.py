"""The replay's timeline: one line, the recording from its first to its last instruction,
with its checkpoints (│), inputs (i typed bytes, b breakpoints, e edits) and where the
replay stands now (▲)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

MARKS = {"uart": "i", "breakpoint": "b", "register": "e", "memory": "e"}


def timeline_text(info, now: int, width: int) -> Text:
    """The line for ``info`` (a TimelineInfo) at instruction ``now``, ``width`` cells wide."""
    label = f"replay {now:,} / {info.end:,}  "
    cells = max(width - len(label) - 2, 4)
    span = max(info.end - info.start, 1)

    def cell(count: int) -> int:
        return min(max((count - info.start) * (cells - 1) // span, 0), cells - 1)
    bar = ["─"] * cells
    style = [""] * cells
    for count in info.checkpoints:
        bar[cell(count)] = "│"
        style[cell(count)] = "cyan"
    for count, kind in info.inputs:
        bar[cell(count)] = MARKS.get(kind, "?")
        style[cell(count)] = "yellow"
    here = cell(now)
    bar[here] = "▲"
    style[here] = "bold green"
    text = Text(label)
    text.append("[")
    for ch, st in zip(bar, style):
        text.append(ch, style=st or None)
    text.append("]")
    return text


class Timeline(Static):
    """Renders ``timeline_text`` for the snapshot it is given."""

    now = reactive(0, init=False)

    def __init__(self, info, **kw) -> None:
        super().__init__("", **kw)
        self.info = info

    def on_mount(self) -> None:
        self.now = self.info.start
        self.update(timeline_text(self.info, self.now, self.size.width or 100))

    def watch_now(self, now: int) -> None:
        self.update(timeline_text(self.info, now, self.size.width or 100), layout=False)

    def on_resize(self) -> None:
        self.update(timeline_text(self.info, self.now, self.size.width or 100))
