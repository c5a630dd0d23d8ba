"""The running side of a gdb session: resuming the board (c, s, bs, bc, vCont)
and telling gdb where it stopped.  A mixin of ``server.Session``.

All-stop: a resume sends the runner one command (``Run``, ``Step``,
``StepBack``, ``ReverseContinue`` or ``Seek``) and the session waits for the
runner's next stop, whoever caused it — gdb, a breakpoint, or the TUI's
space or step keys in ``vizor boot``.  Stops nobody waited for (the TUI ran
and paused the board while gdb sat at its prompt) are dropped at the next
resume.
"""

from __future__ import annotations

import queue

from vizor.driver.commands import ReverseContinue, Run, Seek, Step, StepBack
from vizor.gdb.calls import GdbStop
from vizor.gdb.packets import to_hex
from vizor.gdb.stops import stop_reply
from vizor.machine.session.replay import END_OF_RECORDING


class Resuming:
    """Needs the Session's runner, server, inserted, current, c_thread, send and _sync."""

    def _resume(self, actions: list[tuple[str, int | None]]) -> None:
        self._sync()
        while True:                               # stops nobody waited for
            try:
                self.stops_get_nowait()
            except queue.Empty:
                break
        kind, core = next(((k, c) for k, c in actions if k in ("s", "bs")), actions[0])
        core = core if core is not None else (self.c_thread if self.c_thread is not None else self.current)
        self.reversing = kind.startswith("b")
        if kind == "s":
            self.runner.send(Step(core))
        elif kind == "bs":
            self.runner.send(StepBack(core))
        elif kind == "bc":
            if self.server.call(lambda r: bool(r.debugger.breakpoints)):
                self.runner.send(ReverseContinue())
            else:
                self._to_start()
        else:
            self.runner.send(Run())
        self.waiting = True

    def _to_start(self) -> None:
        """Reverse-continue with nothing to stop it: to the start of the recording."""
        start = self.server.call(lambda r: r.replay.session.checkpoints[0].instructions)
        self.runner.send(Seek(start))
        self.at_start = self.waiting = True

    def stops_get_nowait(self) -> GdbStop:
        return self.server.stops.get_nowait()

    def _check_stop(self) -> None:
        try:
            stop = self.stops_get_nowait()
        except queue.Empty:
            return
        if self.reversing and stop.kind == "stop" and not self.at_start:   # no earlier hit
            self._to_start()
            return
        self.waiting = False
        self.server.last_stop = stop
        if stop.core is not None:
            self.current = stop.core
        extra = b""
        if stop.kind == "stop" and stop.text.endswith(END_OF_RECORDING):
            extra = b"replaylog:end;"
        elif self.at_start:
            extra = b"replaylog:begin;"
            self.at_start = False
        if not self.inserted.key_of(stop.condition) and stop.kind not in ("step", "pause"):
            self.send(b"O" + to_hex(f"vizor: {stop.text}\n".encode()))
        self.send(self._stop_reply(stop, extra))

    def _stop_reply(self, stop: GdbStop | None, extra: bytes = b"") -> bytes:
        core = stop.core if stop is not None and stop.core is not None else self.current
        self.g_thread = None                      # gdb takes the stop's thread as the general one
        self.current = core
        return stop_reply(stop, core, self.inserted, extra)
