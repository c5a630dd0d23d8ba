"""The thread that owns the board: commands in through one queue, snapshots out.

``Runner.serve()`` runs in one thread: in ``vizor boot`` and ``vizor replay``
the main thread of the machine's own process (``vizor/driver/remote.py`` forks and
relays), else a thread worker of the TUI.  Only that thread touches the Board
and the Debugger.  The UI sends the
commands below with ``Runner.send``; the runner answers by calling
``publish(obj)`` with frozen objects from ``vizor.machine.inspect.snapshot``
(``BoardState``, ``WalkState``, ``CodeState``) or a ``Notice``.

While the board runs, ``Board.run``'s ``stop`` callback ends the run between
slices when a command is waiting, a pause was asked for, or ``interval``
seconds of wall time passed since the last snapshot; the runner then
publishes a snapshot and goes on.  Stops never change what the machine does,
so a run watched by the TUI is the same run as a headless one.

This module uses host time (the wall clock paces the snapshots) and lives
outside ``machine/``; it imports neither textual nor rich.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from dataclasses import replace
from typing import Callable, Optional

import vizor.driver.stop_edits as stop_edits
from vizor.driver.commands import (  # noqa: F401 - the runner's vocabulary, used as R.Run etc.
    AddBreakpoint,
    AddEventStop,
    AddWatchpoint,
    EditMemory,
    EditRegister,
    EnableStop,
    Notice,
    Pause,
    Quit,
    RecordingState,
    RemoveStop,
    ReverseContinue,
    ReverseStepInVM,
    Run,
    RunUntilVMID,
    Seek,
    ShowCode,
    StartRecording,
    Step,
    StepBack,
    StepMore,
    StopCondition,
    StopRecording,
    StopReport,
    StopsState,
    TimelineInfo,
    ToggleBreakpoint,
    UartInput,
    WalkVA,
    reason_text,
)
from vizor.machine.arch.security import world_label
from vizor.machine.board.board import StopReason
from vizor.machine.debug.engine import Debugger
from vizor.machine.inspect.snapshot import (
    BoardState,
    board_state,
    code_state,
    walk_state,
)

SNAPSHOT_INTERVAL = 0.098  # seconds of wall time between snapshots while running (>= 10 per second)


_KIND = {"Breakpoint": "breakpoint", "Watchpoint": "watchpoint", "EventStop": "catch"}


def make_debugger(board):
    return Debugger(board)


class Runner:
    def __init__(self, board, publish: Callable[[object], None], *, image: str = "",
                 interval: float = SNAPSHOT_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.board = board
        self.debugger = make_debugger(board)
        self.publish = publish
        self.image = image
        self.interval = interval
        self._clock = clock
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._waiting = threading.Event()   # a command is in the queue
        self._pause = threading.Event()     # set by send(Pause()) at once, read by stop()
        self.running = False
        self.reason = "paused at reset"
        self._serial = 0
        self._stop_serial = 0
        self._last = 0.0
        self._until: Optional[int] = None   # board.instructions at which a Run(max_insns) stops
        self._uart_out: dict[str, bytearray] = defaultdict(bytearray)
        self._uart_total: dict[str, int] = defaultdict(int)
        self._stops_shown: Optional[StopsState] = None
        self.recorder = None                 # a session.Recorder while recording (recording.py)
        self.boot_el = 2                     # what a recording started from the TUI writes down
        self.record_refusal = ""             # why this board cannot be recorded ("" if it can)
        self.record_interval: Optional[int] = None
        self.done = threading.Event()        # set when serve() has returned (a recording is closed)
        board.uart_listeners.append(self._on_uart)
        board.halt_listeners.append(lambda c: self.publish(Notice(f"core {c.index} halted ({c.fault}); the others run on", True)))

    # --- called from any thread --------------------------------------------------------

    def send(self, command) -> None:
        if isinstance(command, Pause):
            self._pause.set()
        self._commands.put(command)
        self._waiting.set()

    # --- the machine thread --------------------------------------------------------------

    def _on_uart(self, uart: str, byte: int) -> None:
        buf = self._uart_out[uart]
        buf.append(byte)
        if len(buf) > 256 * 1024:
            del buf[:128 * 1024]
        self._uart_total[uart] += 1

    def snapshot(self) -> BoardState:
        self._serial += 1
        return board_state(self.board, serial=self._serial, stop_serial=self._stop_serial,
                           running=self.running, reason="" if self.running else self.reason,
                           uart_out=self._uart_out, uart_totals=self._uart_total,
                           breakpoints=self.debugger.breakpoints, image=self.image,
                           world_switches=getattr(self.debugger, "world_switches", ()))

    def _publish_snapshot(self) -> None:
        self._last = self._clock()
        self._publish_stops()
        self.publish(self.snapshot())

    def _publish_stops(self) -> None:
        conds = getattr(self.debugger, "stops", ())
        state = StopsState(tuple(StopCondition(c.id, _KIND.get(type(c).__name__, "catch"),
                                               stop_edits.describe(self.board, c), c.enabled, c.hits)
                                 for c in conds))
        if state != self._stops_shown:
            self._stops_shown = state
            self.publish(state)

    def _stopped(self, reason: str, stop=None) -> None:
        self.running = False
        self.reason = reason
        self._stop_serial += 1
        core = getattr(stop, "core", None)
        report = StopReport(self._stop_serial, getattr(stop, "kind", "pause"), reason, core)
        if core is not None:
            c = self.board.cores[core]
            report = replace(report, el=c.el, vmid=c.vmid(), pc=c.pc, world=world_label(c.el, c.scr))
        self.publish(report)
        self._publish_snapshot()

    def _stop_check(self) -> Optional[str]:
        if self._pause.is_set():
            return "pause"
        if self._waiting.is_set():
            return "command"
        if self._clock() - self._last >= self.interval:
            return "refresh"
        return None

    def serve(self, start_running: bool = False) -> None:
        """Serve commands until Quit; run the board whenever it is running."""
        from vizor.driver.livelock import LivelockGuard
        try:
            with LivelockGuard(self.board):   # a breakpoint where QEMU sees a virtual IRQ pending
                self._serve(start_running)
        finally:
            self.done.set()

    def _serve(self, start_running: bool) -> None:
        self._publish_snapshot()
        if start_running:
            self.send(Run())
        while True:
            if self.running:
                if not self._commands.empty():
                    if not self._drain():
                        return
                    continue
                left = None if self._until is None else max(self._until - self.board.instructions, 0)
                reason = self._advance(self.debugger.run, max_insns=left, stop=self._stop_check)
                if reason.kind == "stop":
                    if reason.detail == "pause":
                        self._pause.clear()
                        self._until = None
                        self._stopped("paused")
                    elif reason.detail == "refresh":
                        self._publish_snapshot()
                    elif reason.detail != "command":   # e.g. the end of a replayed recording
                        self._until = None
                        self._stopped(reason_text(reason), reason)
                    continue
                if reason.kind == "idle" and self._cannot_run():
                    self._until = None
                    self._stopped(f"halted: {self._cannot_run()}", reason)
                    continue
                if reason.kind == "idle":
                    self._publish_snapshot()    # still "running": waiting for an event
                    self._waiting.wait()
                    continue
                self._until = None
                text = (f"ran to instruction {self.board.instructions:,}" if reason.kind == "max_insns"
                        else reason_text(reason))
                self._stopped(text, reason)
            else:
                self._waiting.wait()
                if not self._drain():
                    return

    def _drain(self) -> bool:
        """Handle every queued command; False on Quit."""
        self._waiting.clear()
        while True:
            try:
                cmd = self._commands.get_nowait()
            except queue.Empty:
                return True
            if isinstance(cmd, Quit):
                self.running = False
                self._finish()
                return False
            try:
                self._handle(cmd)
            except (ValueError, KeyError) as e:   # the engine refused it: say why
                self.publish(Notice(str(e).strip("'\""), error=True))
            except Exception as e:  # noqa: BLE001 - a bad command must not kill the machine thread
                self.publish(Notice(f"{type(cmd).__name__}: {e}", error=True))

    def _handle(self, cmd) -> None:
        if isinstance(cmd, Run):
            self._pause.clear()
            why = self._cannot_run()
            if why:
                self._until = None
                self.publish(Notice(f"the board cannot run: {why}", error=True))
                if self.running or not self.reason.startswith("halted"):
                    self._stopped(f"halted: {why}")
                return
            self._until = None if cmd.max_insns is None else self.board.instructions + cmd.max_insns
            if not self.running:
                self.running = True
                self.reason = ""
                self._publish_snapshot()
        elif isinstance(cmd, Pause):
            self._pause.clear()
            if self.running:
                self._stopped("paused")
        elif isinstance(cmd, Step):
            core = self.board.cores[cmd.core]
            if core.state == "halted":
                raise ValueError(f"core {cmd.core} is halted ({core.fault}): it cannot step"
                                 + ("" if self._cannot_run() else "; the other cores can run (space)"))
            was = self.running
            self.running = False
            reason = self._advance(self._step_fn(cmd.core), stop=self._pause_check)
            self._pause.clear()
            self._stopped(reason_text(reason) if reason.kind != "step" or was
                          else f"stepped core {cmd.core}", reason)
        elif isinstance(cmd, (StepMore, RunUntilVMID)):
            self._step_more(cmd)
        elif isinstance(cmd, (AddBreakpoint, AddWatchpoint, AddEventStop)):
            stop_edits.add_stop(self, cmd)
            self._publish_snapshot()
        elif isinstance(cmd, RemoveStop):
            bp = next((b for b in self.debugger.breakpoints if b.id == cmd.id), None)
            self.debugger.remove(cmd.id)
            if bp is not None:
                self._note_breakpoint("remove", bp)
            self.publish(Notice(f"stop condition {cmd.id} deleted"))
            self._publish_snapshot()
        elif isinstance(cmd, EnableStop):
            c = self.debugger.set_enabled(cmd.id, cmd.enabled)
            self.publish(Notice(f"{c.id}: {stop_edits.describe(self.board, c)}"))
            self._publish_snapshot()
        elif isinstance(cmd, ToggleBreakpoint):
            stop_edits.toggle(self, cmd)
            self._publish_snapshot()
        elif isinstance(cmd, UartInput):
            if self.recorder is not None:
                self.recorder.note_uart(cmd.uart, cmd.data)   # delivered where a replay can
            else:
                dev = {"pl011": "pl011", "mini": "mini_uart"}[cmd.uart]
                self.board.devices[dev].receive(cmd.data)
            if not self.running:
                self._publish_snapshot()
        elif isinstance(cmd, (EditRegister, EditMemory)):
            from vizor.driver.edits import apply_edit
            self.publish(Notice(apply_edit(self, cmd)))
            self._publish_snapshot()
        elif isinstance(cmd, WalkVA):
            self.publish(walk_state(self.board.cores[cmd.core], cmd.va, cmd.regime))
        elif isinstance(cmd, ShowCode):
            self.publish(code_state(self.board.cores[cmd.core], cmd.address))
        elif isinstance(cmd, (StartRecording, StopRecording)):
            import vizor.driver.recording as recording
            if isinstance(cmd, StartRecording):
                recording.start_recording(self, cmd.path)
            else:
                recording.stop_recording(self)
        elif not self._handle_more(cmd):
            raise ValueError(f"unknown command {cmd!r}")

    def _cannot_run(self) -> str:
        """Why no core can execute any more ("" if one can): a core halted and
        none of the others may progress (running, woken by an interrupt, released)."""
        cores = self.board.cores
        halted = [c for c in cores if c.state == "halted"]
        if not halted or any(self.board.may_progress(c) for c in cores if c.state != "halted"):
            return ""
        return "; ".join(f"core {c.index} halted ({c.fault})" for c in halted)

    def _handle_more(self, cmd) -> bool:
        """Commands of a subclass (the replay's reverse keys); False: unknown."""
        return False

    def _advance(self, fn, max_insns=None, stop=None) -> StopReason:
        """Every run of the board: ``fn(max_insns=, stop=)`` (the Debugger's run, a
        step…), through the Recorder while recording."""
        if self.recorder is not None:
            return self.recorder.run(max_insns=max_insns, stop=stop, run=fn)
        return fn(max_insns=max_insns, stop=stop)

    def _step_fn(self, core: int):
        """One instruction of ``core`` as a run that may be cut and resumed."""
        target = self.board.cores[core].instructions + 1
        dbg = self.debugger

        def step(max_insns=None, stop=None, **_kw):
            return dbg.step(core, count=target - self.board.cores[core].instructions,
                            max_insns=max_insns, stop=stop)
        return step

    def _finish(self) -> None:
        if self.recorder is not None:
            import vizor.driver.recording as recording
            recording.stop_recording(self)

    def _note_breakpoint(self, action: str, bp) -> None:
        if self.recorder is not None:
            self.recorder.note_breakpoint(action, bp.address, vmid=bp.vmid, el=bp.el, core=bp.core)

    def _pause_check(self) -> Optional[str]:
        return "pause" if self._pause.is_set() or self._waiting.is_set() else None

    def _step_more(self, cmd) -> None:
        """Step over/out/in VM, run until a VMID: these may run for long, so
        they are interruptible (a pause or any other command ends them); a
        recording may checkpoint inside them, a replay deliver its inputs."""
        from vizor.machine.debug.stepping import StepRun
        self.running = True
        self.reason = ""
        self._publish_snapshot()
        try:
            step = (StepRun(self.debugger, "until", vmid=cmd.vmid) if isinstance(cmd, RunUntilVMID)
                    else StepRun(self.debugger, cmd.how, cmd.core))
        except ValueError:
            self.running = False
            self._publish_snapshot()
            raise
        with step:
            reason = self._advance(step, stop=self._refreshing_pause_check)
        self._pause.clear()
        self._stopped(reason_text(reason), reason)

    def _refreshing_pause_check(self) -> Optional[str]:
        why = self._pause_check()
        if why is None and self._clock() - self._last >= self.interval:
            self._publish_snapshot()
        return why
