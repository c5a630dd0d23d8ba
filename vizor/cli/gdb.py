"""``--gdb [[HOST:]PORT]``: the gdb server for ``vizor run`` (and its address parsing).

``vizor run IMAGE --gdb`` builds the board as ``vizor run`` does, listens
(127.0.0.1:1234 by default, like QEMU's ``-s``), and waits paused at reset;
the board is driven by gdb from then on, its UART output streaming to
stdout.  ``k`` in gdb (or Ctrl-C here) ends it with the usual summary.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading

from vizor.cli.options import UsageError

DEFAULT = "127.0.0.1:1234"
_NOT_WITH_GDB = (("until_uart", "--until-uart"), ("max_insns", "--max-insns"), ("walk", "--walk"),
                 ("state", "--state"), ("screenshot", "--screenshot"))


def parse_address(text: str) -> tuple[str, int]:
    """``PORT``, ``HOST:PORT`` or ``:PORT`` -> (host, port); host 127.0.0.1 unless named."""
    host, colon, port = text.rpartition(":")
    if not colon:
        host = ""
    if not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--gdb {text!r}: give [HOST:]PORT, e.g. 1234 or 127.0.0.1:1234 "
                         f"(the image comes before --gdb)")
    return host or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except (OSError, ValueError):
            return False


def open_server(runner, text: str, *, reverse: bool = False, **kw):
    """A GdbServer listening on ``text`` ([HOST:]PORT) and the lines to say about it
    (the one-line warning for a non-loopback host last); UsageError if the
    address cannot be had."""
    from vizor.gdb.server import GdbServer
    host, port = parse_address(text)
    try:
        server = GdbServer(runner, host, port, reverse=reverse, **kw)
    except OSError as e:
        raise UsageError(f"--gdb {text}: cannot listen there: {e.strerror or e}") from None
    h, p = server.address[:2]
    lines = [f"vizor: gdb server listening on {h}:{p} (gdb-multiarch -ex 'target remote {h}:{p}')"]
    if not is_loopback(host):
        lines.append(f"vizor: warning: the gdb server listens on {host}:{p}, not only on this "
                     f"machine: whoever reaches it controls the board and reads its memory")
    return server, lines


def listen(runner, text: str, *, reverse: bool = False):
    """``open_server`` for ``vizor run``/``replay``: its lines on stderr."""
    server, lines = open_server(runner, text, reverse=reverse)
    lines[0] = lines[0].replace(" (gdb-multiarch", ", board paused (gdb-multiarch")
    for line in reversed(lines):
        print(line, file=sys.stderr, flush=True)
    return server


def gdb_runner(runner_class, text: str, *args, reverse: bool = False, **kw):
    """``vizor boot --gdb`` (and the replay TUI): a runner of ``runner_class``
    that starts its gdb server itself, beside its machine thread.  The socket
    listens now (a bad address is a UsageError before any screen); what the
    server says goes to the TUI as notices, and gdb's ``kill`` ends gdb's
    session but leaves the board to the TUI."""
    from vizor.driver.commands import Notice
    from vizor.gdb.calls import with_gdb
    runner = with_gdb(runner_class)(*args, **kw)
    server, lines = open_server(runner, text, reverse=reverse, kill_ends=False,
                                log=lambda line: runner.publish(Notice(f"gdb: {line}")))
    for line in reversed(lines):
        print(line, file=sys.stderr, flush=True)  # in the scrollback once the TUI has gone
    server.greeting = lines
    runner.gdb_server = server
    return runner


def apart(runner):
    """``serve_apart(runner)``; this process's copies of a gdb server's sockets
    closed when the board went to a process of its own."""
    from vizor.driver.remote import serve_apart
    remote = serve_apart(runner)
    server = getattr(runner, "gdb_server", None)
    if remote is not runner and server is not None:
        server.release()
    return remote


def run_gdb(args) -> int:
    """``vizor run IMAGE --gdb [[HOST:]PORT]``; the exit status."""
    from vizor.cli.options import build_board
    from vizor.driver.recording import start_recording
    from vizor.driver.runner import Runner
    from vizor.gdb.calls import with_gdb

    for attr, option in _NOT_WITH_GDB:
        if getattr(args, attr, None):
            raise UsageError(f"{option} does not go with --gdb (gdb drives the run)")
    board, path = build_board(args)
    runner = with_gdb(Runner)(board, lambda _obj: None, image=path)
    runner.snapshots = False                # no UI: no snapshots to build
    runner.boot_el = args.boot_el
    _stop_conditions(runner.debugger, args)  # checked before anything listens
    out = sys.stdout
    board.uart_listeners.append(lambda _u, b: (out.write(chr(b)), b == 10 and out.flush()))
    if args.record:
        try:
            start_recording(runner, args.record)
        except ValueError as e:
            raise UsageError(f"--record: {e}") from None
    if args.input:
        data = _input_bytes(args.input)
        if runner.recorder is not None:
            runner.recorder.note_uart(args.uart, data)
        else:
            board.devices[{"pl011": "pl011", "mini": "mini_uart"}[args.uart]].receive(data)
    return serve(runner, args, board)


def replay_gdb(args, session, replay) -> int:
    """``vizor replay FILE --gdb [[HOST:]PORT]``: the recorded run served to gdb, with
    reverse-stepi and reverse-continue; the exit status."""
    from vizor.driver.replay import ReplayRunner
    from vizor.gdb.calls import with_gdb
    name = str(session.header["image"].get("name", "image"))
    runner = with_gdb(ReplayRunner)(replay, lambda _obj: None, image=f"{args.file} ({name})")
    runner.snapshots = False
    out, printed = sys.stdout, [replay.uart.count]

    def on_uart(_uart: str, byte: int) -> None:    # each byte once, however often reverse steps replay it
        if replay.uart.count > printed[0]:
            printed[0] = replay.uart.count
            out.write(chr(byte))
            if byte == 10:
                out.flush()
    replay.board.uart_listeners.append(on_uart)
    return serve(runner, args, replay.board, reverse=True)


def serve(runner, args, board, *, reverse: bool = False) -> int:
    """Listen, run the machine thread, serve gdb until it kills the target (or a
    signal); the summary; the exit status."""
    from vizor.cli.summary import summary
    from vizor.driver.commands import Quit
    from vizor.machine.board.board import StopReason
    server = listen(runner, args.gdb, reverse=reverse)
    machine = threading.Thread(target=runner.serve, name="vizor-machine", daemon=True)
    machine.start()
    received: list[int] = []

    def on_signal(signum, _frame):
        received.append(signum)
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        server.serve()
    except KeyboardInterrupt:
        received.append(received[0] if received else signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, old)
        server.close()
        runner.send(Quit())
        runner.done.wait(30)
    sys.stdout.flush()
    if not args.quiet:
        print(summary(board, StopReason("stop", "gdb ended the session")), file=sys.stderr)
    return 128 + received[0] if received else 0


def _stop_conditions(dbg, args) -> None:
    """--break, --watch, --catch on the runner's debugger (UsageError: one line)."""
    from vizor.machine.debug.spec import SpecError, add_break, add_catch, add_watch
    for adder, items in ((add_break, args.breaks), (add_watch, args.watch), (add_catch, args.catch)):
        for spec in items:
            try:
                adder(dbg, spec)
            except SpecError as e:
                raise UsageError(str(e)) from None


def _input_bytes(text: str) -> bytes:
    import codecs
    try:
        return codecs.decode(text, "unicode_escape").encode("latin-1")
    except UnicodeEncodeError:
        raise UsageError(f"--input {text!r}: only bytes 0-255 (\\x00-\\xff) can be typed") from None
    except (UnicodeError, ValueError):
        raise UsageError(f"--input {text!r}: a bad escape (use \\n, \\r, \\t, \\\\ or \\xHH)") from None
