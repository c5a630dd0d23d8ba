"""``monitor`` commands (qRcmd), in vizor's command-line syntax.

    monitor break schedule@vmid=3       (the --break syntax: @vmid= @el= @core= @if= @ignore=, pa:/ipa:)
    monitor watch pa:0xa0000+8@w        (the --watch syntax)
    monitor catch vm-exit@vmid=1        (the --catch syntax)
    monitor stops | delete N | enable N | disable N
    monitor vmid | state | events [N]
    monitor walk VA [el10|sel10|el2|el3|s2]       (on gdb's current thread, i.e. core)
    monitor symbols FILE@vmid=N|@el2
    monitor help

Each runs in the machine thread (``run_monitor(runner, core, text)``) and
returns the text gdb prints; a mistake is one line (``MonitorError``).  The
parsers are vizor's own (``vizor.machine.debug.spec``,
``vizor.machine.inspect.text``), so what works after ``--break`` works here.
"""

from __future__ import annotations

from vizor.machine.arch.esr import decode_esr
from vizor.machine.board.loader import ImageError
from vizor.machine.debug.spec import SpecError, add_break, add_catch, add_watch
from vizor.machine.inspect.snapshot import recent_events
from vizor.machine.inspect.text import (
    REGIMES,
    InspectError,
    parse_address,
    state_report,
    walk_report,
)

HELP = """vizor monitor commands (the syntax of vizor run's options):
  break LOC[@vmid=N][@el=E][@core=C][@secure|@ns][@if=COND][@ignore=N]   LOC: ADDR, SYMBOL[+OFF], pa:, ipa:
  watch [pa:|va:]ADDR[+LEN][@r|@w|@rw][@vmid=N][@el=E][@core=C][@secure|@ns]
  catch exception[:EC]|smc|world|vm-exit|vm-entry|sysreg:REG|mmio[@vmid=N][@el=E][@core=C][@secure|@ns]
  stops                 list vizor's stop conditions (those above; gdb's own are listed by gdb)
  delete N, enable N, disable N
  vmid                  what each core runs: VMID, EL, PC
  state                 each core decoded: EL, MMU, stage 2, HCR_EL2, last exception
  events [N]            the last N exceptions (default 20)
  walk VA [el10|sel10|el2|el3|s2] the translation of VA on the current thread's core, level by level
  symbols FILE@vmid=N   attach a guest's symbols to a VMID (or FILE@el2)
  help                  this text"""


class MonitorError(ValueError):
    """A monitor command refused, in one line."""


def run_monitor(runner, core_index: int, text: str) -> str:
    words = text.strip().split(None, 1)
    if not words:
        return HELP
    verb, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    handler = _COMMANDS.get(verb)
    if handler is None:
        raise MonitorError(f"unknown monitor command {verb!r} (monitor help lists them)")
    return handler(runner, core_index, rest)


def _stop(adder, what: str):
    def handler(runner, _core, rest: str) -> str:
        if not rest:
            raise MonitorError(f"{what}: give a specification (monitor help)")
        try:
            cond = adder(runner.debugger, rest)
        except SpecError as e:
            raise MonitorError(str(e).replace(f"--{what} ", f"{what} ", 1)) from None
        if what == "break":
            runner._note_breakpoint("add", cond)
        runner._publish_snapshot()
        return f"{cond.id}: {cond.describe()}"
    return handler


def _number(rest: str, verb: str) -> int:
    try:
        return int(rest, 0)
    except ValueError:
        raise MonitorError(f"{verb}: give the number of a stop condition (monitor stops)") from None


def _delete(runner, _core, rest: str) -> str:
    n = _number(rest, "delete")
    try:
        cond = runner.debugger.get(n)
        runner.debugger.remove(n)
    except KeyError as e:
        raise MonitorError(str(e).strip("'\"")) from None
    if type(cond).__name__ == "Breakpoint":
        runner._note_breakpoint("remove", cond)
    runner._publish_snapshot()
    return f"{n} deleted"


def _enable(enabled: bool):
    def handler(runner, _core, rest: str) -> str:
        n = _number(rest, "enable" if enabled else "disable")
        try:
            cond = runner.debugger.set_enabled(n, enabled)
        except KeyError as e:
            raise MonitorError(str(e).strip("'\"")) from None
        runner._publish_snapshot()
        return f"{n}: {cond.describe()} {'enabled' if enabled else 'disabled'}"
    return handler


def _stops(runner, _core, _rest: str) -> str:
    conds = runner.debugger.stops
    if not conds:
        return "no vizor stop conditions (monitor break/watch/catch set them)"
    return "\n".join(f"{c.id}: {c.describe()}{'' if c.enabled else ' (disabled)'}, {c.hits} hit(s)"
                     for c in conds)


def _vmid(runner, _core, _rest: str) -> str:
    from vizor.gdb.target import vmid_lines
    return "\n".join(vmid_lines(runner))


def _state(runner, _core, _rest: str) -> str:
    return state_report(runner.board)


def _events(runner, _core, rest: str) -> str:
    n = _number(rest, "events") if rest else 20
    recs = recent_events(runner.board, max(1, min(n, 1000)))
    if not recs:
        return "no exceptions taken yet"
    lines = []
    for e in recs:
        vm = f" vmid={e.vmid}" if e.vmid is not None else ""
        what = decode_esr(e.esr).summary if e.kind == "sync" else e.kind.upper()
        lines.append(f"cycle {e.cycles}: core {e.core} EL{e.from_el}{vm} -> EL{e.to_el}: {what}, "
                     f"ELR {e.elr:#x}")
    return "\n".join(lines)


def _walk(runner, core_index: int, rest: str) -> str:
    parts = rest.split()
    if not parts or len(parts) > 2:
        raise MonitorError("walk VA [el10|sel10|el2|el3|s2]")
    regime = parts[1].lower() if len(parts) > 1 else "auto"
    if regime not in REGIMES:
        raise MonitorError(f"walk: regime {parts[1]!r}: choose one of {', '.join(REGIMES)}")
    try:
        va = parse_address(parts[0], runner.board.contexts)
    except InspectError as e:
        raise MonitorError(str(e).replace("--walk ", "walk ", 1)) from None
    return walk_report(runner.board.cores[core_index], va, regime)


def _symbols(runner, _core, rest: str) -> str:
    if not rest:
        raise MonitorError("symbols FILE@vmid=N or FILE@el2")
    try:
        return str(runner.board.contexts.attach_file(rest) or f"attached {rest}")
    except (OSError, ValueError, ImageError) as e:
        raise MonitorError(f"symbols {rest!r}: {e}") from None


def _help(_runner, _core, _rest: str) -> str:
    return HELP


_COMMANDS = {
    "break": _stop(add_break, "break"), "b": _stop(add_break, "break"),
    "watch": _stop(add_watch, "watch"), "catch": _stop(add_catch, "catch"),
    "stops": _stops, "info": _stops, "delete": _delete, "enable": _enable(True), "disable": _enable(False),
    "vmid": _vmid, "state": _state, "events": _events, "walk": _walk, "symbols": _symbols, "help": _help,
}
