"""The runner's side of the gdb server: a command that runs a function in the
machine thread, and the stops gdb is told about.

``with_gdb(Runner)`` (or ``ReplayRunner``) is the runner class with both: a
``Call`` sent through ``runner.send`` is executed between slices by the one
thread that owns the board (the server thread waits for its result), and
every stop the runner reports (a breakpoint, a step, a pause — from gdb or
from the TUI) is handed to the ``stop_listeners`` as a ``GdbStop``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vizor.driver.commands import Notice

CALL_TIMEOUT = 30.0     # seconds a packet waits for the machine thread


class MachineBusy(RuntimeError):
    """The machine thread did not answer in time (it is in a long step or search)."""


@dataclass(frozen=True, eq=False)
class Call:
    """``fn(runner)`` in the machine thread; ``wait()`` gives its result or raises its error."""

    fn: Callable[[Any], Any]
    done: threading.Event = field(default_factory=threading.Event)
    box: list = field(default_factory=list)

    def execute(self, runner) -> None:
        try:
            self.box.append((True, self.fn(runner)))
        except Exception as e:  # noqa: BLE001 - handed to the server thread, which answers E
            self.box.append((False, e))
        finally:
            self.done.set()

    def wait(self, timeout: float = CALL_TIMEOUT):
        if not self.done.wait(timeout):
            raise MachineBusy("the machine did not answer")
        ok, value = self.box[0]
        if not ok:
            raise value
        return value


@dataclass(frozen=True)
class GdbStop:
    """A stop as gdb is told it (built in the machine thread)."""

    serial: int
    kind: str                     # StopReason.kind, or "pause"
    text: str
    core: int | None
    condition: object = None      # the Breakpoint / Watchpoint / EventStop that fired, if any
    pc: int | None = None


class GdbCalls:
    """Mixin for a Runner class (``with_gdb``)."""

    snapshots = True              # False: no board snapshots are built (no UI to show them)
    gdb_server = None             # a GdbServer this runner starts itself (vizor boot, see serve)

    def serve(self, start_running: bool = False) -> None:
        """The runner's loop, and with ``gdb_server`` the server in a thread of
        this process beside it: in ``vizor boot`` the machine's own process
        (remote.py forks before any thread starts), so gdb's packets reach
        this runner and only the machine thread touches the board."""
        server = self.gdb_server
        if server is None:
            return super().serve(start_running)
        thread = threading.Thread(target=server.serve, name="vizor-gdb", daemon=True)
        thread.start()
        for line in server.greeting:
            self.publish(Notice(line.removeprefix("vizor: "), error="warning" in line))
        try:
            return super().serve(start_running)
        finally:
            server.close()
            thread.join(2)

    def _handle_more(self, cmd) -> bool:
        if isinstance(cmd, Call):
            cmd.execute(self)
            return True
        return super()._handle_more(cmd)

    def _publish_snapshot(self) -> None:
        if self.snapshots:
            super()._publish_snapshot()
        else:
            self._last = self._clock()

    def _stopped(self, reason: str, stop=None) -> None:
        super()._stopped(reason, stop)
        core = getattr(stop, "core", None)
        cond = None
        cond_id = getattr(stop, "breakpoint", None)
        if cond_id is not None:
            try:
                cond = self.debugger.get(cond_id)
            except KeyError:
                cond = None
        kind = getattr(stop, "kind", "pause")
        if kind == "stop" and getattr(stop, "detail", "") == "pause":
            kind = "pause"
        event = GdbStop(self._stop_serial, kind, reason, core, cond,
                        self.board.cores[core].pc if core is not None else None)
        for listener in list(getattr(self, "stop_listeners", ())):
            listener(event)


def pause_for_gdb(runner) -> None:
    """In the machine thread: stop a running board (gdb attaches)."""
    if runner.running:
        runner._pause.clear()
        runner._until = None
        runner._stopped("paused: gdb attached")


_CLASSES: dict[type, type] = {}


def with_gdb(runner_class: type) -> type:
    """``runner_class`` with the gdb mixin (one class per base, made once)."""
    if runner_class not in _CLASSES:
        _CLASSES[runner_class] = type(f"Gdb{runner_class.__name__}", (GdbCalls, runner_class),
                                      {"__doc__": f"{runner_class.__name__} served to gdb too."})
    return _CLASSES[runner_class]
