"""The stop-condition dialog: a breakpoint, a watchpoint or an event stop, with the
filters the debugger knows (VMID, EL, core), a condition and an ignore count.

The parsers are plain functions (``breakpoint_command`` …) from the fields'
text to a runner command; they raise ``BadInput`` with one clear sentence, and
the dialog then shows it and stays open: bad input changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from .. import commands as C
from ..machine import exceptions as X
from ..machine.stops import Condition
from .common import BadInput, parse_address, parse_number

EVENTS = ("exception", "vm-exit", "vm-entry", "sysreg", "mmio")

# (field id, label, placeholder) per dialog kind
FIELDS = {
    "break": (("where", "address", "hex, symbol or symbol+off (empty: the selected core's PC)"),
              ("vmid", "VMID", "0-255, any VM if empty (it need not have run yet)"),
              ("el", "EL", "0-3, any if empty"),
              ("core", "core", "0-3, any if empty"),
              ("cond", "condition", "e.g. x0 == 0x10, sp < 0x80000, x2 & 4"),
              ("ignore", "ignore", "hits to let pass before stopping (default 0)")),
    "watch": (("where", "address", "hex or symbol"),
              ("space", "space", "pa (every VM and the hypervisor) or va (translated now)"),
              ("access", "access", "write (default), read or access"),
              ("length", "length", "bytes, 1-4096 (default 8)"),
              ("vmid", "VMID", "0-255, any if empty"),
              ("el", "EL", "0-3, any if empty"),
              ("core", "core", "0-3, any if empty")),
    "catch": (("event", "event", "exception [svc|hvc|dabt|iabt|irq|EC], vm-exit, vm-entry, sysreg REG, mmio"),
              ("vmid", "VMID", "from / into this VM (0-255), any if empty"),
              ("el", "to EL", "exceptions taken to this EL, any if empty"),
              ("core", "core", "0-3, any if empty")),
}
TITLES = {"break": "Breakpoint", "watch": "Watchpoint", "catch": "Stop on an event"}


def _opt(values: dict, key: str, what: str, low: int, high: int) -> int | None:
    text = values.get(key, "").strip()
    if not text:
        return None
    n = parse_number(text, what)
    if not low <= n <= high:
        raise BadInput(f"{what} {n} is out of range ({low}-{high})")
    return n


def _filters(values: dict) -> dict:
    vmid = _opt(values, "vmid", "VMID", 0, 255)
    el = _opt(values, "el", "EL", 0, 3)
    core = _opt(values, "core", "core", 0, 3)
    if vmid is not None and el is not None and el >= 2:
        raise BadInput(f"a VMID filter needs EL0 or EL1, not EL{el}")
    return {"vmid": vmid, "el": el, "core": core}


def breakpoint_command(values: dict, symbols, pc: int | None, selected: int) -> C.AddBreakpoint:
    f = _filters(values)
    where = values.get("where", "").strip()
    if where:
        address = parse_address(where, symbols, f["vmid"])
    elif pc is not None:
        address = pc
    else:
        raise BadInput("no address given")
    cond = values.get("cond", "").strip() or None
    if cond is not None:
        try:
            Condition.parse(cond)
        except ValueError as e:
            raise BadInput(str(e)) from None
    ignore = _opt(values, "ignore", "ignore count", 0, 1 << 32) or 0
    # a guest VA is checked against the selected core's tables only when no VMID names the context
    return C.AddBreakpoint(address, condition=cond, ignore=ignore,
                           check_core=selected if f["vmid"] is None else None, **f)


def watchpoint_command(values: dict, symbols, selected: int) -> C.AddWatchpoint:
    f = _filters(values)
    where = values.get("where", "").strip()
    if not where:
        raise BadInput("a watchpoint needs an address")
    address = parse_address(where, symbols, f["vmid"])
    space = values.get("space", "").strip().lower() or "pa"
    if space not in ("pa", "va"):
        raise BadInput(f"space {space!r}: pa or va")
    access = values.get("access", "").strip().lower() or "write"
    if access not in ("read", "write", "access", "r", "w", "rw"):
        raise BadInput(f"access {access!r}: read, write or access")
    reads = access in ("read", "access", "r", "rw")
    writes = access in ("write", "access", "w", "rw")
    length = _opt(values, "length", "length", 1, 4096) or 8
    return C.AddWatchpoint(address, space, length, reads, writes, via_core=selected, **f)


def catch_command(values: dict) -> C.AddEventStop:
    words = values.get("event", "").split()
    if not words:
        raise BadInput(f"which event? ({', '.join(EVENTS)})")
    kind = words[0].lower()
    if kind not in EVENTS:
        raise BadInput(f"unknown event {words[0]!r} ({', '.join(EVENTS)})")
    vmid = _opt(values, "vmid", "VMID", 0, 255)
    to_el = _opt(values, "el", "EL", 0, 3)
    core = _opt(values, "core", "core", 0, 3)
    ec, exc_kind, register = None, "sync", None
    if kind == "exception" and len(words) > 1:
        arg = words[1]
        if arg.lower() in ("irq", "fiq"):
            exc_kind = arg.lower()
        else:
            by_name = {n.lower().replace(" ", ""): k for k, n in X.EC_NAMES.items()}
            by_name.update(dabt=0x24, iabt=0x20, sysreg=0x18, wfi=0x01)
            ec = by_name.get(arg.lower())
            if ec is None:
                ec = parse_number(arg, "exception class")
    elif kind == "sysreg":
        if len(words) < 2:
            raise BadInput("sysreg: name the register, e.g. sysreg VTTBR_EL2")
        register = words[1].upper()
    return C.AddEventStop(kind, ec=ec, exc_kind=exc_kind, vmid=vmid, to_el=to_el,
                          register=register, core=core)


@dataclass
class DialogContext:
    symbols: object
    pc: int | None
    selected: int


class StopDialog(ModalScreen):
    """Fields for one kind of stop condition; Enter sets it, Esc cancels.
    Dismisses with the runner command, or None."""

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

    def __init__(self, kind: str, ctx: DialogContext) -> None:
        super().__init__()
        self.kind = kind
        self.ctx = ctx

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
        v, ctx = self.values(), self.ctx
        if self.kind == "break":
            return breakpoint_command(v, ctx.symbols, ctx.pc, ctx.selected)
        if self.kind == "watch":
            return watchpoint_command(v, ctx.symbols, ctx.selected)
        return catch_command(v)

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
