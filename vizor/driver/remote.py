"""The machine in its own process: a Runner served to the TUI across two pipes.

In one process the machine thread and the UI share one GIL.  On a trap-heavy
image (every guest MMIO access a stage-2 abort decoded in Python) the machine
thread is mostly Python, and it waits whenever the panes render.  So
``vizor boot`` and ``vizor replay`` fork the process once the board is built
(before the UI starts any thread): the child owns the Runner and its board
and serves it; the parent keeps a ``RemoteRunner`` with the Runner's
interface (``send``, ``serve``, ``publish``, ``done``) and renders.  Each
process has its own GIL, and on a host with two CPUs the board runs while
the UI draws.

Both ways are plain pickles of the frozen objects in ``vizor.driver.commands`` and
``vizor.machine.inspect.snapshot``, in order.  The child pickles in the machine
thread (a snapshot is ~26 KB and ~0.3 ms) and a writer thread sends, so the
machine never blocks on a slow reader; while the UI has not taken a
snapshot yet, a newer one replaces it (only the latest board is worth
drawing; every other object is delivered).

Ending: ``Quit`` from the UI, or the parent going away (the command pipe
reads EOF), makes the child's runner quit as usual, closing a recording in
progress, so no session is lost with the terminal.  If the child dies
instead (a bug, a signal), ``serve`` publishes a ``Notice`` saying so and
returns.

Like runner.py this module uses no textual and no rich.  Without ``fork``
(not POSIX), or when the fork fails, ``serve_apart`` returns the runner
itself, served in a thread as before.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import pickle
import signal
import threading
from typing import Callable, Optional

from vizor.driver.commands import Notice, Quit
from vizor.machine.inspect.snapshot import BoardState

_SERVE = "serve"        # first message to the child: ("serve", start_running)
_DONE = b"done"          # last bytes from the child: the runner has returned
JOIN_TIMEOUT = 10.0      # seconds to wait for the child after it said done


def serve_apart(runner):
    """A RemoteRunner serving ``runner`` from a forked child; ``runner`` itself
    where this platform cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return runner
    try:
        return RemoteRunner(runner)
    except OSError:           # no process to be had (limits, memory): the same board in a thread
        return runner


class RemoteRunner:
    """The parent's end: what the app calls ``runner``."""

    in_process = False   # the app need not share the GIL with the machine

    def __init__(self, runner) -> None:
        self.publish: Callable[[object], None] = lambda _obj: None
        self.image = runner.image
        self.recorder = True if runner.recorder is not None else None   # the app only asks "recording?"
        self.recorder_path = getattr(runner, "recorder_path", None)
        self.done = threading.Event()
        self.exitcode: Optional[int] = None
        if runner.recorder is not None:
            runner.recorder.flush()   # the child writes the file from here; nothing buffered twice
        ctx = multiprocessing.get_context("fork")
        cmd_r, self._cmd_w = ctx.Pipe(duplex=False)
        self._out_r, out_w = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child_main, name="vizor-machine",
                                 args=(runner, cmd_r, out_w, (self._cmd_w, self._out_r)),
                                 daemon=True)   # a last resort: close() and serve() end it first
        try:
            self._proc.start()
        finally:
            cmd_r.close()
            out_w.close()
        self._send_lock = threading.Lock()
        self._served = False

    # --- the UI's side ---------------------------------------------------------------------

    def send(self, command) -> None:
        with self._send_lock:
            try:
                self._cmd_w.send(command)
            except (OSError, ValueError):   # the child has gone: serve() says so
                pass

    def serve(self, start_running: bool = False) -> None:
        """Relay what the child publishes until it is done (in the app's worker)."""
        if self._served:
            raise RuntimeError("a RemoteRunner serves once")
        self._served = True
        clean = False
        try:
            self.send((_SERVE, start_running))
            while True:
                try:
                    data = self._out_r.recv_bytes()
                except (EOFError, OSError):
                    break
                if data == _DONE:
                    clean = True
                    break
                self.publish(pickle.loads(data))
        finally:
            self._reap(JOIN_TIMEOUT if clean else 1.0)
            if not clean:
                self.publish(Notice(_death(self.exitcode), error=True))
            self._out_r.close()
            with self._send_lock:
                self._cmd_w.close()
            self.done.set()

    def close(self) -> None:
        """Make sure the child ends (after the UI has gone, whatever way it went)."""
        if self.done.is_set():
            return
        self.send(Quit())
        if self._served:               # serve() in the app's worker joins the child
            self.done.wait(JOIN_TIMEOUT + 2)
            return
        with self._send_lock:
            self._cmd_w.close()        # EOF: the child quits even before it was told to serve
        self._reap(JOIN_TIMEOUT)
        self.done.set()

    def _reap(self, timeout: float) -> None:
        """Wait for the child to end (killing it after ``timeout`` seconds)."""
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self.exitcode = self._proc.exitcode


def _death(code: Optional[int]) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the machine process was killed by {name}; the board is gone (quit and start again)"
    return f"the machine process ended unexpectedly (exit status {code}); the board is gone"


# --- the child's side ------------------------------------------------------------------------

class _Outbox:
    """Pickles in the caller's thread, writes in its own; a snapshot not yet
    written is replaced by a newer one."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self._items: collections.deque = collections.deque()   # (is_snapshot, bytes)
        self._cond = threading.Condition()
        self._closed = False
        self.broken = False
        self._thread = threading.Thread(target=self._write, name="vizor-outbox", daemon=True)
        self._thread.start()

    def put(self, obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        snap = isinstance(obj, BoardState)
        with self._cond:
            if snap and self._items and self._items[-1][0]:
                self._items[-1] = (True, data)
            else:
                self._items.append((snap, data))
            self._cond.notify()

    def _write(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                if not self._items:
                    return
                _snap, data = self._items.popleft()
            try:
                self._conn.send_bytes(data)
            except OSError:             # the parent has gone; the runner quits on EOF anyway
                self.broken = True
                with self._cond:
                    self._items.clear()
                    self._closed = True
                return

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        if not self.broken:
            try:
                self._conn.send_bytes(_DONE)
            except OSError:
                pass
        self._conn.close()


def _child_main(runner, commands, out, parent_ends) -> None:
    # The terminal is the parent's: ^C is a key there, and when the terminal
    # goes away (SIGHUP to the whole group) the parent dies and the command
    # pipe's EOF ends this process the orderly way, closing a recording.  A
    # SIGTERM quits the same way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda _sig, _frame: runner.send(Quit()))
    for conn in parent_ends:       # else the command pipe never reads EOF when the parent dies
        conn.close()
    outbox = _Outbox(out)
    runner.publish = outbox.put
    try:
        try:
            first = commands.recv()
        except (EOFError, OSError):
            first = None
        if not (isinstance(first, tuple) and first and first[0] == _SERVE):
            runner.send(Quit())          # never told to serve: close a recording and go
            start = False
        else:
            start = bool(first[1])
            threading.Thread(target=_relay, args=(runner, commands), name="vizor-commands",
                             daemon=True).start()
        try:
            runner.serve(start)
        except Exception as e:  # noqa: BLE001 - said in the UI, not as a traceback over it
            outbox.put(Notice(f"the machine failed: {type(e).__name__}: {e}", error=True))
    finally:
        outbox.close()
        os._exit(0)


def _relay(runner, commands) -> None:
    while True:
        try:
            cmd = commands.recv()
        except (EOFError, OSError):
            cmd = Quit()
        runner.send(cmd)
        if isinstance(cmd, Quit):
            return
