"""The machine in its own process (vizor/driver/remote.py): the same run as headless,
pauses as fast as in a thread, a dead child reported, a recording closed when the
UI's process goes away, and only stale snapshots dropped on the way."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import tui_fakes

import vizor.driver.runner as R
from vizor.driver.commands import Notice
from vizor.driver.recording import start_recording
from vizor.driver.remote import RemoteRunner, _Outbox
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.inspect.snapshot import BoardState
from vizor.machine.session.format import SessionError
from vizor.machine.session.reader import load_session

HYP = "images/hyp/hyp.elf"
LOOP = "images/bench/loop.elf"


def remote(path: str):
    board = Board()
    board.load(load_image(path))
    runner = RemoteRunner(R.Runner(board, None, image=path))
    got: list = []
    runner.publish = got.append
    thread = threading.Thread(target=runner.serve, daemon=True)
    thread.start()
    return runner, got, thread


def wait(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def last_board(got) -> BoardState:
    return [o for o in got if isinstance(o, BoardState)][-1]


def test_a_run_in_the_machine_process_ends_exactly_where_a_headless_run_does():
    n = 3_000_000
    runner, got, thread = remote(HYP)
    try:
        runner.send(R.Run(max_insns=n))
        wait(lambda: any(isinstance(o, BoardState) and not o.running and o.instructions == n for o in got))
    finally:
        runner.send(R.Quit())
        thread.join(20)
    snap = last_board(got)
    board = Board()
    board.load(load_image(HYP))
    board.run(max_insns=n)
    assert [(c.pc, c.x, c.pstate, c.instructions) for c in snap.cores] == \
        [(c.pc, tuple(list(c.regs.xregs.read())[:31]), c.pstate, c.instructions) for c in board.cores]
    assert runner.done.is_set() and runner.exitcode == 0


def test_pause_through_the_machine_process_takes_effect_within_100_ms():
    board = Board()
    board.load(load_image(LOOP))
    board.write_ram(board.symbols.by_name["iterations"], (1 << 62).to_bytes(8, "little"))
    runner = RemoteRunner(R.Runner(board, None))
    got: list = []
    runner.publish = got.append
    thread = threading.Thread(target=runner.serve, args=(True,), daemon=True)
    thread.start()
    try:
        wait(lambda: any(isinstance(o, BoardState) and o.running and o.instructions > 0 for o in got))
        time.sleep(0.3)
        sent = time.monotonic()
        runner.send(R.Pause())
        wait(lambda: got and getattr(got[-1], "reason", "") == "paused", timeout=2)
        assert time.monotonic() - sent < 0.1
    finally:
        runner.send(R.Quit())
        thread.join(20)


def test_a_killed_machine_process_is_reported_and_serve_returns():
    runner, got, thread = remote(LOOP)
    wait(lambda: any(isinstance(o, BoardState) for o in got))
    runner._proc.kill()
    thread.join(20)
    assert not thread.is_alive() and runner.done.is_set()
    notices = [o for o in got if isinstance(o, Notice)]
    assert notices and notices[-1].error and "killed by SIGKILL" in notices[-1].text
    runner.send(R.Run())          # after the child is gone a command is dropped, not raised


def _ui_script(session, ending: str) -> str:
    """A UI process: records the demo through a RemoteRunner, prints the machine
    process's pid once it runs, then ``ending``."""
    return textwrap.dedent(f"""
        import os, sys, threading, time
        sys.path.insert(0, {os.getcwd()!r})
        import vizor.driver.runner as R
        from vizor.machine.board.board import Board
        from vizor.machine.board.loader import load_image
        from vizor.driver.remote import RemoteRunner
        from vizor.driver.recording import start_recording
        board = Board(); board.load(load_image({HYP!r}))
        runner = R.Runner(board, lambda _o: None, image={HYP!r})
        start_recording(runner, {str(session)!r})
        remote = RemoteRunner(runner)
        got = []
        remote.publish = got.append
        threading.Thread(target=remote.serve, daemon=True).start()
        remote.send(R.Run())
        while sum(1 for o in got if type(o).__name__ == "BoardState") < 4:
            time.sleep(0.01)
        print(remote._proc.pid, flush=True)
        {ending}
        """)


def _closed_by_eof(session, pid: int) -> None:
    end = time.monotonic() + 60
    while True:                   # the child quits on the command pipe's EOF, closing the file
        try:
            loaded = load_session(str(session))
            break
        except SessionError:
            assert time.monotonic() < end, "the recording was never closed"
            time.sleep(0.1)
    assert loaded.end["instructions"] > 0
    wait(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid))


def test_the_machine_closes_the_recording_when_the_ui_process_dies(tmp_path):
    session = tmp_path / "s.vzs"
    script = _ui_script(session, "os._exit(0)   # no Quit, no atexit: the UI's process is simply gone")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    _closed_by_eof(session, int(r.stdout.split()[-1]))


def test_the_machine_closes_the_recording_when_the_terminal_hangs_up(tmp_path):
    import signal
    session = tmp_path / "s.vzs"
    # SIGHUP's default action, whatever this process inherited (under nohup it is ignored)
    proc = subprocess.Popen([sys.executable, "-c", _ui_script(session, "time.sleep(120)")],
                            stdout=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    pid = int(proc.stdout.readline())
    os.killpg(proc.pid, signal.SIGHUP)        # as a closed terminal does: the whole group
    assert proc.wait(60) == -signal.SIGHUP
    _closed_by_eof(session, pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_a_runner_never_served_is_ended_by_close_and_its_recording_closed(tmp_path):
    board = Board()
    board.load(load_image(HYP))
    runner = R.Runner(board, lambda _o: None, image=HYP)
    start_recording(runner, str(tmp_path / "s.vzs"))
    proxy = RemoteRunner(runner)
    assert proxy.recorder                  # the app sees the recording started before the fork
    proxy.close()
    assert proxy.done.is_set() and proxy.exitcode == 0
    assert load_session(str(tmp_path / "s.vzs")).end["instructions"] == 0


class _SlowPipe:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.go = threading.Event()

    def send_bytes(self, data: bytes) -> None:
        self.go.wait(10)
        self.sent.append(data)

    def close(self) -> None:
        pass


def test_a_snapshot_not_yet_written_is_replaced_by_a_newer_one_and_nothing_else_is():
    import pickle
    pipe = _SlowPipe()
    box = _Outbox(pipe)
    box.put(Notice("first"))                  # taken by the writer, blocked in send_bytes
    time.sleep(0.05)
    for serial in (1, 2, 3):
        box.put(tui_fakes.board(serial=serial))
    box.put(Notice("between"))
    box.put(tui_fakes.board(serial=4))
    box.put(tui_fakes.board(serial=5))
    pipe.go.set()
    box.close()
    objs = [pickle.loads(d) if d != b"done" else "done" for d in pipe.sent]
    shown = [o.text if isinstance(o, Notice) else o if o == "done" else o.serial for o in objs]
    assert shown == ["first", 3, "between", 5, "done"]


def test_a_child_never_told_to_serve_quits_when_its_command_pipe_closes():
    board = Board()
    board.load(load_image(LOOP))
    proxy = RemoteRunner(R.Runner(board, None))
    with proxy._send_lock:
        proxy._cmd_w.close()
    proxy._proc.join(20)
    assert proxy._proc.exitcode == 0


def test_where_no_process_can_be_forked_the_runner_serves_in_a_thread(monkeypatch):
    import multiprocessing.context

    from vizor.driver.remote import serve_apart

    def refuse(self):
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", refuse)
    board = Board()
    board.load(load_image(LOOP))
    runner = R.Runner(board, lambda _o: None)
    assert serve_apart(runner) is runner


def test_a_sigterm_to_the_machine_process_quits_it_the_orderly_way():
    import signal
    runner, got, thread = remote(LOOP)
    wait(lambda: any(isinstance(o, BoardState) for o in got))
    runner.send(R.Run())
    time.sleep(0.2)
    os.kill(runner._proc.pid, signal.SIGTERM)
    thread.join(20)
    assert runner.done.is_set() and runner.exitcode == 0
    assert not any(isinstance(o, Notice) and o.error for o in got)
