"""The TUI's view keys: tabs (``[`` ``]``), the console (``c``, ``u``), help (``?``),
the message line and the status line.  A mixin of ``VizorApp`` (kept apart to keep
app.py short); nothing here sends the machine anything but UART bytes."""

from __future__ import annotations

import os

from textual.widgets import Input, Static, TabbedContent

from vizor.app.keys import TABS
from vizor.panes.common import context_of
from vizor.panes.console import UARTS, ConsoleLog, ConsolePane
from vizor.panes.help import HelpScreen

CPU_HZ = 1_200_000_000
MESSAGE_SECONDS = 10.0     # a message (an error too) is cleared after this long


def state_markup(snap) -> str:
    """RUNNING, PAUSED or HALTED (the board cannot run: a core halted, none can go on)."""
    if snap.running:
        return "[b green]RUNNING[/]"
    if snap.reason.startswith("halted"):
        return "[b white on red]HALTED[/]"
    return "[b yellow]PAUSED[/]"


class ViewControls:
    _message_serial = 0

    def _here(self):
        """The symbol context of the selected core: where a bare name is looked up."""
        snap = self.snapshot
        return context_of(snap.cores[self.selected] if snap is not None else None)

    def action_tab(self, delta: int) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [t for t, _ in TABS]
        now = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(now + delta) % len(ids)]
        self.set_focus(None)

    def action_console(self) -> None:
        self.query_one(ConsoleLog).enter()
        if self.snapshot is not None:
            self.query_one(ConsolePane).snapshot = self.snapshot

    def action_switch_uart(self) -> None:
        pane = self.query_one(ConsolePane)
        pane.uart = UARTS[(UARTS.index(pane.uart) + 1) % len(UARTS)]
        self.say(f"console shows and types into the {pane.uart} UART")

    def action_walk(self) -> None:
        self.query_one(TabbedContent).active = "tab-walk"
        self.query_one("#walk-input", Input).focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.HELP))

    def say(self, text: str, *, error: bool = False) -> None:
        """One line on the message line; it goes away after MESSAGE_SECONDS
        (or when the next message replaces it)."""
        msg = self.query_one("#message", Static)
        msg.set_class(error, "error")
        msg.update(("⚠ " if error else "") + text)
        self._message_serial += 1
        serial = self._message_serial
        if text:
            self.set_timer(MESSAGE_SECONDS, lambda: self._clear_message(serial))

    def _clear_message(self, serial: int) -> None:
        if serial == self._message_serial:
            self.say("")

    def _status(self, snap) -> None:
        c = snap.cores[self.selected]
        vm = f"VMID {c.vmid}" if c.vmid is not None else "no guest"
        state = "HALTED" if c.state == "halted" else c.state
        text = (f"{self._session_status()}{state_markup(snap)}  {snap.instructions:,} insns  "
                f"t={snap.cycles / CPU_HZ * 1e3:,.3f} ms │ core {c.index}: {c.world} "
                f"{state}, {vm} │ {os.path.basename(self.image)}")
        if text != self._status_text:
            self._status_text = text
            self._status_bar.update(text, layout=False)
