"""What gdb inserted (Z packets) and what gdb is told at a stop (T packets).

gdb removes every breakpoint and watchpoint when the target stops and
inserts them again before it resumes.  Each costs a retranslation in vizor
(breakpoints are Unicorn exits compiled into the translated code), so
``Inserted`` keeps what gdb set in the debugger across that dance: an
insertion of something still set changes nothing, and removals are applied
only when the target resumes (``take_removed``).

A breakpoint from Z0/Z1 is a vizor breakpoint without filters (gdb evaluates
its own conditions); a watchpoint from Z2/Z3/Z4 watches the PA its VA has
now on gdb's current core.
"""

from __future__ import annotations

from collections.abc import Callable

from vizor.gdb.target import TargetError

SIGTRAP, SIGINT = 5, 2
WATCH_KINDS = {2: "watch", 3: "rwatch", 4: "awatch"}

Key = tuple[int, int, int]       # (Z type, address, length; 0 for breakpoints)


def parse_z(rest: bytes) -> Key | None:
    """``type,addr,kind`` of a Z/z packet (conditions after ';' are not asked for);
    None for a type vizor does not have."""
    fields = rest.split(b";", 1)[0].split(b",")
    kind, addr = int(fields[0], 16), int(fields[1], 16)
    length = int(fields[2], 16) if len(fields) > 2 else 4
    if kind > 4:
        return None
    if not 0 <= addr < 1 << 64:
        raise ValueError(f"address {addr:#x} is wider than 64 bits")
    return (kind, addr, length if kind >= 2 else 0)


class Inserted:
    def __init__(self) -> None:
        self.wanted: set[Key] = set()           # what gdb has inserted now
        self.owned: dict[Key, int] = {}         # what is set in the debugger: key -> condition id

    def insert(self, key: Key, add: Callable[[], int]) -> None:
        if key not in self.owned:
            self.owned[key] = add()
        self.wanted.add(key)

    def remove(self, key: Key) -> None:
        self.wanted.discard(key)

    def clear(self) -> None:
        self.wanted.clear()

    def take_removed(self) -> list[int]:
        """The condition ids gdb no longer wants (forgotten here)."""
        gone = [k for k in self.owned if k not in self.wanted]
        return [self.owned.pop(k) for k in gone]

    def key_of(self, cond) -> Key | None:
        if cond is None:
            return None
        return next((k for k, v in self.owned.items() if v == cond.id), None)


def insert_stop(runner, core: int, key: Key) -> int:
    """In the machine thread: the vizor condition for ``key``; its id."""
    kind, addr, length = key
    dbg = runner.debugger
    if kind < 2:
        cond = dbg.add_breakpoint(addr)
        runner._note_breakpoint("add", cond)
    else:
        try:
            cond = dbg.add_watchpoint(va=addr, length=length, reads=kind in (3, 4), writes=kind in (2, 4),
                                      via_core=core)
        except ValueError as e:
            raise TargetError(str(e)) from None
    runner._publish_snapshot()
    return cond.id


def remove_stops(runner, ids: list[int]) -> None:
    """In the machine thread: remove these conditions (those still there)."""
    for i in ids:
        try:
            cond = runner.debugger.get(i)
            runner.debugger.remove(i)
        except KeyError:
            continue                              # deleted meanwhile (monitor delete, the TUI)
        if type(cond).__name__ == "Breakpoint":
            runner._note_breakpoint("remove", cond)
    runner._publish_snapshot()


def stop_reply(stop, core: int, inserted: Inserted, extra: bytes = b"") -> bytes:
    """``T05thread:N;core:C;swbreak:;`` and the like for a ``GdbStop`` (None: at reset)."""
    sig = SIGINT if stop is not None and stop.kind == "pause" else SIGTRAP
    reason = b""
    key = inserted.key_of(stop.condition) if stop is not None else None
    if key is not None:
        kind, addr, _length = key
        reason = (b"swbreak:;" if kind == 0 else b"hwbreak:;" if kind == 1
                  else b"%s:%x;" % (WATCH_KINDS[kind].encode(), addr))
    return b"T%02xthread:%x;core:%x;" % (sig, core + 1, core) + reason + extra
