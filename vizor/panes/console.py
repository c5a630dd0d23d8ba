"""Console: what a UART printed, wrapped to the pane's width; keys typed while the
pane has focus go to that UART.  Only ``c`` focuses it (Tab never lands there:
Tab is a byte for the guest once inside), and Escape always gives focus back."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Log

UARTS = ("pl011", "mini")
_KEYS = {"enter": b"\r", "tab": b"\t", "backspace": b"\x7f", "ctrl+c": b"\x03", "ctrl+d": b"\x04"}
KEEP = 64 * 1024          # characters of output kept to re-wrap after a resize


@dataclass
class ConsoleTyped(Message):
    uart: str
    data: bytes


class ConsoleLog(Log):
    """The UART output, wrapped at the pane's width (re-wrapped when it changes);
    focusable only while ``c`` has given it focus, and every key typed on it
    becomes a byte for the guest.  Escape gives focus back to the app."""

    DEFAULT_CSS = "ConsoleLog { overflow-x: hidden; }"

    def __init__(self, **kw) -> None:
        super().__init__(max_lines=4000, **kw)
        self.can_focus = False            # out of the Tab chain until `c` asks for it
        self.uart = "pl011"
        self._text = ""                   # the last KEEP characters, unwrapped
        self._col = 0                     # cells used on the open last row
        self._wrap = 0                    # the width rows are wrapped at (0: not laid out yet)

    def enter(self) -> None:
        self.can_focus = True
        self.focus()

    def on_focus(self) -> None:
        self.parent.show_status()

    def on_blur(self) -> None:
        self.can_focus = False
        self.parent.show_status()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            event.prevent_default()
            self.screen.set_focus(None)
            return
        data = _KEYS.get(event.key)
        if data is None and event.character and event.is_printable:
            data = event.character.encode("utf-8")
        if data is not None:
            event.stop()
            event.prevent_default()
            self.post_message(ConsoleTyped(self.uart, data))

    # --- wrapping ---------------------------------------------------------------------

    def add(self, text: str) -> None:
        text = text.expandtabs(8)
        self._text = (self._text + text)[-KEEP:]
        if self._wrap:
            self.write(self._wrapped(text))

    def reset(self) -> None:
        self._text, self._col = "", 0
        self.clear()

    def _wrap_width(self) -> int:
        return max(8, self.size.width - self.styles.scrollbar_size_vertical)

    def on_resize(self, _event: events.Resize) -> None:
        width = self._wrap_width()
        if width != self._wrap:
            self._wrap, self._col = width, 0
            self.clear()
            self.write(self._wrapped(self._text))

    def _wrapped(self, text: str) -> str:
        out, width, col = [], self._wrap, self._col
        for n, piece in enumerate(text.split("\n")):
            if n:
                out.append("\n")
                col = 0
            while col + len(piece) > width:
                take = width - col
                out.append(piece[:take] + "\n")
                piece, col = piece[take:], 0
            out.append(piece)
            col += len(piece)
        self._col = col
        return "".join(out)


class ConsolePane(Vertical):
    """The console; its border's subtitle says what the UARTs hold and how to type."""

    DEFAULT_CSS = """
    ConsolePane { height: 1fr; }
    ConsolePane ConsoleLog { height: 1fr; }
    """
    snapshot = reactive(None, always_update=True, layout=False, repaint=False)
    uart = reactive("pl011", init=False)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._shown_total = 0
        self._status_text = ""

    def compose(self):
        yield ConsoleLog(id="console-log")

    def watch_uart(self, uart: str) -> None:
        log = self.query_one(ConsoleLog)
        log.uart = uart
        self._shown_total = 0
        log.reset()
        self.watch_snapshot(self.snapshot)

    def watch_snapshot(self, snap) -> None:
        if snap is None:
            return
        u = snap.uart(self.uart)
        log = self.query_one(ConsoleLog)
        new = u.total - self._shown_total
        if new < 0:
            log.reset()
            new = u.total
        if new:
            tail = u.text[-new:] if new <= len(u.text) else u.text
            log.add(tail.decode("latin-1").replace("\r\n", "\n").replace("\r", ""))
            self._shown_total = u.total
        self.show_status(snap)

    def show_status(self, snap=None) -> None:
        snap = snap or self.snapshot
        if snap is None:
            return
        u = snap.uart(self.uart)
        log = self.query_one(ConsoleLog)
        other = "  ".join(f"{x.name} {x.total:,} B" for x in snap.uarts if x.name != self.uart)
        focus = "typing to the guest, Esc: back" if log.has_focus else "c: type"
        text = (f"{self.uart} {u.total:,} B out, {u.rx_waiting} unread │ {other} │ u: switch │ {focus}")
        if text != self._status_text:
            self._status_text = text
            self.border_subtitle = text
