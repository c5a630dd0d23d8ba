"""The ``?`` screen: every key of the app, and the syntax of the prompts; it scrolls
(arrows, PgUp/PgDn, Home/End, the mouse wheel) when the terminal is too short."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PROMPTS = (
    ("toggle (t)", "ADDR [@vmid=N] [@el=N] [@core=N] — ADDR hex, decimal, symbol or symbol+off "
                   "(in VMID N's symbols when given, else the selected core's context); VMID 0-255, "
                   "the VM need not have run yet; empty: the selected core's PC; the same again "
                   "removes it (enables it when it is disabled)"),
    ("dialogs (b p e)", "Tab moves between fields, Enter sets the condition, Esc cancels; "
                        "a refused field says why and nothing is set"),
    ("run until (r)", "VMID 0-255 — runs until a core is scheduled into that VM"),
    ("go to (g)", "ADDR — disassembly and translation of ADDR on the selected core"),
    ("translation input", "VA [el10|el2|s2] — empty: the selected core's PC"),
    ("symbols", "a bare name is looked up in the selected core's context (its VM at EL1/EL0, "
                "else the hypervisor's); NAME@vmid=N or NAME@el=2 names another"),
    ("run N (+)", "N instructions of all cores together; edits (=) while recording are taken where it ends"),
)


class HelpScreen(ModalScreen):
    BINDINGS = [("escape", "dismiss", "Close"), ("question_mark", "dismiss", "Close"),
                ("q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 96; max-width: 95%; height: auto; max-height: 95%;
                                  border: thick $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, bindings) -> None:
        super().__init__()
        self._keys = bindings

    def compose(self):
        keys = Table(box=None, padding=(0, 2), show_header=False)
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        for key, text in self._keys:
            keys.add_row(Text(key), Text(text))
        prompts = Table(box=None, padding=(0, 2), show_header=False)
        prompts.add_column(style="bold", no_wrap=True)
        prompts.add_column()
        for name, text in PROMPTS:
            prompts.add_row(Text(name), Text(text))
        with VerticalScroll(id="help-body"):
            yield Static("[b]vizor keys[/b]  (Esc or ? closes; arrows and PgUp/PgDn scroll)")
            yield Static(keys, id="help-keys")
            yield Static(prompts, id="help-prompts")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
