"""What the stop-condition dialog's fields mean: plain functions from their text to a
runner command, raising ``BadInput`` with one clear sentence (the dialog shows it
and stays open)."""

from __future__ import annotations

from dataclasses import dataclass

import vizor.driver.commands as C
import vizor.machine.arch.exceptions as X
from vizor.machine.arch.mmu import unreachable
from vizor.machine.debug.stops import Condition, check_world
from vizor.panes.common import EL2, BadInput, parse_address, parse_number
from vizor.panes.stopdialog import EVENTS


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
    world = world_of(values.get("world", ""))
    try:
        check_world(world, el, vmid)
    except ValueError as e:
        raise BadInput(str(e)) from None
    return {"vmid": vmid, "el": el, "core": core, "world": world}


_WORLD_WORDS = {"secure": "secure", "s": "secure", "ns": "ns", "non-secure": "ns", "nonsecure": "ns"}


def world_of(text: str) -> str | None:
    """``secure`` / ``ns`` (or empty: any world) from what was typed."""
    text = text.strip().lower().lstrip("@")
    if not text:
        return None
    if text not in _WORLD_WORDS:
        raise BadInput(f"world {text!r}: secure or ns (empty: any)")
    return _WORLD_WORDS[text]


def _context(f: dict, here):
    """Where the dialog's name is looked up: the VMID field, the hypervisor for EL2/3,
    else ``here`` (the selected core's context)."""
    if f["vmid"] is not None:
        return f["vmid"]
    return EL2 if (f["el"] or 0) >= 2 else here


def breakpoint_command(values: dict, symbols, pc: int | None, selected: int, here=EL2) -> C.AddBreakpoint:
    f = _filters(values)
    where = values.get("where", "").strip()
    if where:
        address = parse_address(where, symbols, _context(f, here))
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
    if unreachable(address, f["el"]):
        raise BadInput(unreachable(address, f["el"]))
    # a guest VA is checked against the selected core's tables only when no VMID names the context
    return C.AddBreakpoint(address, condition=cond, ignore=ignore,
                           check_core=selected if f["vmid"] is None else None, **f)


def watchpoint_command(values: dict, symbols, selected: int, here=EL2) -> C.AddWatchpoint:
    f = _filters(values)
    where = values.get("where", "").strip()
    if not where:
        raise BadInput("a watchpoint needs an address")
    address = parse_address(where, symbols, _context(f, here))
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
    world = world_of(values.get("world", ""))
    ec, exc_kind, register = None, "sync", None
    if kind == "smc":
        kind, words = "exception", ["exception", "smc"]
    if world is not None and kind not in ("exception", "world"):
        raise BadInput(f"a world goes with exception, smc or world, not {kind}")
    if world == "secure" and vmid is not None:
        raise BadInput("a VMID names a Non-secure guest: not with the Secure world")
    if kind == "world" and (vmid is not None or to_el is not None):
        raise BadInput("world takes only a world (the one entered) and a core")
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
                          register=register, core=core, world=world)


@dataclass
class DialogContext:
    symbols: object
    pc: int | None
    selected: int
    here: object = EL2          # the selected core's symbol context (panes.common.context_of)


def command_for(ctx: DialogContext):
    """The parser a ``StopDialog`` is given: (kind, fields) -> a runner command."""
    def parse(kind: str, v: dict):
        if kind == "break":
            return breakpoint_command(v, ctx.symbols, ctx.pc, ctx.selected, ctx.here)
        if kind == "watch":
            return watchpoint_command(v, ctx.symbols, ctx.selected, ctx.here)
        return catch_command(v)
    return parse
