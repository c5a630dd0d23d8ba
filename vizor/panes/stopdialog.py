"""The stop-condition dialog: a breakpoint, a watchpoint or an event stop, with the
filters the debugger knows (VMID, EL, core), a condition and an ignore count.

The dialog is given the parser of its fields (``app/stop_commands.py``): a plain
function from the fields' text to whatever the caller wants back, raising
``BadInput`` with one clear sentence; the dialog then shows it and stays open:
bad input changes nothing.
"""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from vizor.panes.common import BadInput

EVENTS = ("exception", "smc", "world", "vm-exit", "vm-entry", "sysreg", "mmio")

# (field id, label, placeholder) per dialog kind
FIELDS = {
    "break": (("where", "address", "hex, symbol or symbol+off (empty: the selected core's PC)"),
              ("vmid", "VMID", "0-255, any VM if empty (it need not have run yet)"),
              ("el", "EL", "0-3, any if empty"),
              ("core", "core", "0-3, any if empty"),
              ("world", "world", "secure or ns (EL3 is Secure), any if empty"),
              ("cond", "condition", "e.g. x0 == 0x10, sp < 0x80000, x2 & 4"),
              ("ignore", "ignore", "hits to let pass before stopping (default 0)")),
    "watch": (("where", "address", "hex or symbol"),
              ("space", "space", "pa (every VM and the hypervisor) or va (translated now)"),
              ("access", "access", "write (default), read or access"),
              ("length", "length", "bytes, 1-4096 (default 8)"),
              ("vmid", "VMID", "0-255, any if empty"),
              ("el", "EL", "0-3, any if empty"),
              ("core", "core", "0-3, any if empty"),
              ("world", "world", "secure or ns, any if empty")),
    "catch": (("event", "event", "exception [svc|hvc|dabt|iabt|irq|EC], smc, world, vm-exit, vm-entry, "
                                 "sysreg REG, mmio"),
              ("vmid", "VMID", "from / into this VM (0-255), any if empty"),
              ("el", "to EL", "exceptions taken to this EL, any if empty"),
              ("core", "core", "0-3, any if empty"),
              ("world", "world", "secure or ns: taken from (exception, smc) / entered (world)")),
}
TITLES = {"break": "Breakpoint", "watch": "Watchpoint", "catch": "Stop on an event"}


class StopDialog(ModalScreen):
    """Fields for one kind of stop condition; Enter sets it, Esc cancels.
    Dismisses with what ``parse`` made of the fields, or None."""

    DEFAULT_CSS = """
    StopDialog { align: center middle; }
    StopDialog > Vertical { width: 90; height: auto; border: round $accent; background: $panel;
                            padding: 0 1; }
    StopDialog Grid { grid-size: 2; grid-columns: 11 1fr; height: auto; grid-gutter: 0 1; }
    StopDialog Label { padding: 1 0 0 0; }
    StopDialog Input { height: 3; }
    StopDialog #dialog-error { color: $error; text-style: bold; height: auto; }
    """
    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, kind: str, parse: Callable[[str, dict], object]) -> None:
        super().__init__()
        self.kind = kind
        self.parse = parse

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{TITLES[self.kind]}[/b]  Enter sets it, Esc cancels, Tab moves")
            with Grid():
                for fid, label, hint in FIELDS[self.kind]:
                    yield Label(label)
                    yield Input(placeholder=hint, id=f"f-{fid}")
            yield Static("", id="dialog-error")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def values(self) -> dict:
        return {i.id[2:]: i.value for i in self.query(Input)}

    def command(self):
        return self.parse(self.kind, self.values())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            cmd = self.command()
        except BadInput as e:
            self.query_one("#dialog-error", Static).update(f"⚠ {e}")
            return
        self.dismiss(cmd)

    def action_cancel(self) -> None:
        self.dismiss(None)
