"""Console: what a UART printed; keys typed while the pane has focus go to that UART."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Log, Static

UARTS = ("pl011", "mini")
_KEYS = {"enter": b"\r", "tab": b"\t", "backspace": b"\x7f", "ctrl+c": b"\x03", "ctrl+d": b"\x04"}


@dataclass
class ConsoleTyped(Message):
    uart: str
    data: bytes


class ConsoleLog(Log):
    """The UART output; focusable, and every key typed on it becomes a byte for the guest.

    Escape gives focus back to the app (its keys work again)."""

    can_focus = True

    def __init__(self, **kw) -> None:
        super().__init__(max_lines=2000, **kw)
        self.uart = "pl011"

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            self.screen.set_focus(None)
            event.stop()
            return
        data = _KEYS.get(event.key)
        if data is None and event.character and event.is_printable:
            data = event.character.encode("utf-8")
        if data is not None:
            event.stop()
            event.prevent_default()
            self.post_message(ConsoleTyped(self.uart, data))


class ConsolePane(Vertical):
    DEFAULT_CSS = """
    ConsolePane { height: 1fr; }
    ConsolePane #console-status { height: 1; color: $text-muted; }
    ConsolePane ConsoleLog { height: 1fr; }
    """
    snapshot = reactive(None, always_update=True, layout=False, repaint=False)
    uart = reactive("pl011", init=False)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._shown_total = 0
        self._status_text = ""

    def compose(self):
        yield Static("", id="console-status")
        yield ConsoleLog(id="console-log")

    def watch_uart(self, uart: str) -> None:
        self.query_one(ConsoleLog).uart = uart
        self._shown_total = 0
        self.query_one(ConsoleLog).clear()
        self.watch_snapshot(self.snapshot)

    def watch_snapshot(self, snap) -> None:
        if snap is None:
            return
        u = snap.uart(self.uart)
        log = self.query_one(ConsoleLog)
        new = u.total - self._shown_total
        if new < 0:
            log.clear()
            new = u.total
        if new:
            tail = u.text[-new:] if new <= len(u.text) else u.text
            log.write(tail.decode("latin-1").replace("\r\n", "\n").replace("\r", ""))
            self._shown_total = u.total
        other = [x for x in snap.uarts if x.name != self.uart]
        focus = "typing goes to the guest (Esc: back)" if log.has_focus else "c: type into the guest"
        text = (f"{self.uart}: {u.total} bytes out, {u.rx_waiting} typed and unread  |  "
            + "  ".join(f"{x.name}: {x.total} bytes" for x in other) + f"  |  u: switch UART  {focus}")
        if text != self._status_text:
            self._status_text = text
            self.query_one("#console-status", Static).update(text, layout=False)
