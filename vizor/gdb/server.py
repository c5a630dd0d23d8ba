"""The gdb server: a listening socket, one client at a time, packets to the runner.

``GdbServer(runner, host, port)`` listens; ``serve()`` accepts clients one
after another until a client kills the target (``k``) or ``close()`` is
called.  A client that goes away (``D``, EOF, a broken socket) leaves the
board paused and its breakpoints removed, and the next client can connect.

All-stop: ``vCont;c`` runs every core, ``vCont;s:N`` steps core N-1 (the
board's own schedule runs until that core has executed one instruction, so
other cores may run too — as in every vizor step), 0x03 pauses.  The
server thread never touches the board: it sends the runner commands
(``Run``, ``Step``, ``Pause``, ``StepBack``, ``ReverseContinue``) and
``calls.Call``s for everything else, and learns of stops from the runner's
stop listeners (a stop in the TUI reaches a waiting gdb the same way).

Breakpoints gdb inserts (Z0/Z1) are vizor breakpoints without filters,
watchpoints (Z2/Z3/Z4) vizor watchpoints on the PA the VA has now on the
current core; gdb removes and inserts them around every stop, so removals
are applied only when the target resumes and a re-insertion of what is
still set costs nothing.
"""

from __future__ import annotations

import queue
import select
import socket
import sys
import threading

from vizor.driver.commands import Pause, Quit
from vizor.gdb import target as T
from vizor.gdb.calls import Call, GdbStop, MachineBusy, pause_for_gdb
from vizor.gdb.monitor import MonitorError
from vizor.gdb.packets import (
    PacketReader,
    address_length,
    escape,
    frame,
    run_length,
    show,
    to_hex,
    unescape,
)
from vizor.gdb.query import query
from vizor.gdb.resume import Resuming
from vizor.gdb.stops import Inserted, insert_stop, parse_z, remove_stops

NCORES = 4
POLL = 0.5                    # seconds between looks at the stop queue (a stop also wakes the loop)


class GdbServer:
    def __init__(self, runner, host: str = "127.0.0.1", port: int = 1234, *, log=None,
                 reverse: bool = False, kill_ends: bool = True) -> None:
        self.runner = runner
        self.reverse = reverse
        self.kill_ends = kill_ends    # False (vizor boot): ``k`` ends gdb's session, the board stays
        self.greeting: list[str] = []  # what the runner says when it starts the server (vizor boot)
        self.log = log or (lambda text: print(f"vizor gdb: {text}", file=sys.stderr, flush=True))
        self.stops: queue.SimpleQueue = queue.SimpleQueue()
        self.last_stop: GdbStop | None = None
        self.killed = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()   # a stop wakes the session loop at once
        runner.stop_listeners = [self._stopped]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
            self.sock.listen(1)
        except OSError:
            self.sock.close()
            raise
        self.address = self.sock.getsockname()

    def serve(self) -> None:
        """Accept and serve clients until one kills the target or ``close()``."""
        while not self.killed.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return                        # closed
            self.log(f"gdb connected from {peer[0]}:{peer[1]}")
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # replies are small: no Nagle wait
            try:
                Session(self, conn).run()
            finally:
                conn.close()
            self.log("gdb disconnected" + ("" if self.killed.is_set() else "; the board is paused, "
                                            f"waiting for the next client on port {self.address[1]}"))

    def _stopped(self, stop: GdbStop) -> None:
        """In the machine thread: a stop for the session to report."""
        self.stops.put(stop)
        try:
            self._wake_w.send(b"!")
        except OSError:
            pass

    def release(self) -> None:
        """Close this process's copies of the sockets, leaving them to the
        machine's process they were forked into (no shutdown: that would end
        the socket there too)."""
        for s in (self.sock, self._wake_w, self._wake_r):
            s.close()

    def close(self) -> None:
        self.killed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._wake_w.close()
        self._wake_r.close()

    def call(self, fn):
        c = Call(fn)
        self.runner.send(c)
        return c.wait()


class Session(Resuming):
    """One client: the packet loop and what it has set."""

    def __init__(self, server: GdbServer, conn: socket.socket) -> None:
        self.server, self.conn, self.runner = server, conn, server.runner
        self.reader = PacketReader()
        self.acks = True
        self.g_thread = self.c_thread = None      # core index, None: the current one
        self.current = server.last_stop.core if server.last_stop and server.last_stop.core is not None else 0
        self.inserted = Inserted()
        self.waiting = False                      # resumed: a stop reply is owed
        self.reversing = self.at_start = False
        self.last_sent = b""
        self.alive = True

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._attach()
            while self.alive and not self.server.killed.is_set():
                if self.waiting:
                    self._check_stop()
                ready, _, _ = select.select([self.conn, self.server._wake_r], [], [], POLL)
                if self.server._wake_r in ready:
                    self.server._wake_r.recv(4096)
                    continue
                if not ready:
                    continue
                data = self.conn.recv(65536)
                if not data:
                    break
                for ev in self.reader.feed(data):
                    self._event(ev)
        except OSError:
            pass
        finally:
            self._goodbye()

    def _event(self, ev) -> None:
        if ev.kind == "interrupt":
            if self.waiting:
                self.runner.send(Pause())
        elif ev.kind == "nack":
            if self.acks and self.last_sent:
                self.conn.sendall(self.last_sent)
        elif ev.kind == "bad":
            self.server.log(f"bad packet ({ev.data.decode(errors='replace')})")
            if self.acks:
                self.conn.sendall(b"-")
        elif ev.kind == "packet":
            if self.acks:
                self.conn.sendall(b"+")
            if self.waiting:                      # all-stop: nothing is asked while running
                self.server.log(f"packet while running ignored: {ev.data[:40]!r}")
                return
            try:
                reply = self.handle(ev.data)
            except (T.TargetError, MonitorError, MachineBusy, ValueError) as e:
                self.server.log(f"{show(ev.data)}: {e}")
                reply = b"E01"
            except Exception as e:  # noqa: BLE001 - a bad packet never kills the board
                self.server.log(f"{show(ev.data)}: internal error {type(e).__name__}: {e}")
                reply = b"E02"
            if reply is not None:
                self.send(reply)

    def send(self, data: bytes, binary: bool = False) -> None:
        plain = not binary and not any(c in data for c in b"#$}*")
        body = run_length(data) if plain else escape(data)
        self.last_sent = frame(body)
        self.conn.sendall(self.last_sent)

    def _attach(self) -> None:
        """A client attaches to a paused board, as to QEMU's: pause it if the
        TUI left it running (the stop is the TUI's to show, not gdb's)."""
        self.server.call(pause_for_gdb)
        while True:
            try:
                self.stops_get_nowait()
            except queue.Empty:
                break

    def _goodbye(self) -> None:
        """The client went away: the board paused, its breakpoints gone."""
        if self.server.killed.is_set():
            return                                # k or close(): the runner quits
        if self.waiting:
            self.runner.send(Pause())
        self.inserted.clear()
        try:
            self._sync()
        except Exception as e:  # noqa: BLE001
            self.server.log(f"could not remove gdb's breakpoints: {e}")

    # --- packets -------------------------------------------------------------------------------

    def handle(self, pkt: bytes) -> bytes | None:
        if not pkt:
            return b""
        head, rest = pkt[:1], pkt[1:]
        if head == b"?":
            return self._stop_reply(self.server.last_stop)
        if head == b"q" or head == b"Q":
            return query(self, pkt)
        if head == b"v":
            return self._v(pkt)
        if head == b"H":
            core = self._thread(rest[1:], allow_all=True)
            if rest[:1] == b"g":
                self.g_thread = core
            elif rest[:1] == b"c":
                self.c_thread = core
            else:
                return b""
            return b"OK"
        if head == b"T":
            self._thread(rest)
            return b"OK"
        core = self._core()
        if head == b"g":
            return self.server.call(lambda r: T.read_all(r, core))
        if head == b"G":
            data = bytes.fromhex(rest.decode("ascii"))
            self.server.call(lambda r: T.write_all(r, core, data))
            return b"OK"
        if head == b"p":
            num = int(rest, 16)
            return self.server.call(lambda r: T.read_one(r, core, num))
        if head == b"P":
            num_text, _, val = rest.partition(b"=")
            num, value = int(num_text, 16), int.from_bytes(bytes.fromhex(val.decode("ascii")), "little")
            self.server.call(lambda r: T.write_one(r, core, num, value))
            return b"OK"
        if head == b"m":
            addr, length = address_length(rest)
            return to_hex(self.server.call(lambda r: T.read_memory(r, core, addr, length)))
        if head in (b"M", b"X"):
            where, _, payload = rest.partition(b":")
            addr, length = address_length(where)
            data = bytes.fromhex(payload.decode("ascii")) if head == b"M" else unescape(payload)
            if len(data) != length:
                raise ValueError(f"{length} bytes announced, {len(data)} sent")
            self.server.call(lambda r: T.write_memory(r, core, addr, data))
            return b"OK"
        if head in (b"Z", b"z"):
            return self._breakpoint(head == b"Z", rest)
        if head in (b"c", b"C"):
            return self._resume([("c", None)])
        if head in (b"s", b"S"):
            return self._resume([("s", self.c_thread)])
        if head == b"b" and rest in (b"s", b"c") and self.server.reverse:
            return self._resume([("b" + rest.decode(), self.c_thread)])
        if head == b"D":
            self.send(b"OK")
            self.alive = False
            return None
        if head == b"k":
            self._kill()
            return None
        return b""

    def _v(self, pkt: bytes) -> bytes | None:
        if pkt == b"vCont?":
            return b"vCont;c;C;s;S"
        if pkt.startswith(b"vCont;"):
            actions = []
            for part in pkt[6:].split(b";"):
                act, _, tid = part.partition(b":")
                if not act:
                    continue
                kind = act[:1].decode("ascii", "replace").lower()
                if kind not in ("c", "s"):
                    return b"E01"
                actions.append((kind, self._thread(tid, allow_all=True) if tid else None))
            return self._resume(actions or [("c", None)])
        if pkt.startswith(b"vKill"):
            self.send(b"OK")
            self._kill()
            return None
        return b""

    # --- threads ------------------------------------------------------------------------------------

    def _thread(self, text: bytes, allow_all: bool = False) -> int | None:
        """A thread id (1..4 = cores 0..3; 0 any and -1 all: None)."""
        if text.startswith(b"p"):                 # multiprocess syntax pPID.TID
            text = text.split(b".", 1)[-1]
        value = int(text, 16) if text != b"-1" else -1
        if value in (0, -1) and allow_all:
            return None
        if not 1 <= value <= NCORES:
            raise ValueError(f"no thread {text.decode(errors='replace')}")
        return value - 1

    def _core(self) -> int:
        return self.g_thread if self.g_thread is not None else self.current

    # --- breakpoints ------------------------------------------------------------------------------

    def _breakpoint(self, insert: bool, rest: bytes) -> bytes:
        key = parse_z(rest)
        if key is None:
            return b""
        if insert:
            core = self._core()
            self.inserted.insert(key, lambda: self.server.call(lambda r: insert_stop(r, core, key)))
        else:
            self.inserted.remove(key)
        return b"OK"

    def _sync(self) -> None:
        ids = self.inserted.take_removed()
        if ids:
            self.server.call(lambda r: remove_stops(r, ids))

    def _kill(self) -> None:
        self.alive = False
        if not self.server.kill_ends:
            self.server.log("gdb killed its session; the board stays with the TUI, paused (q quits there)")
            return
        self.server.killed.set()
        self.runner.send(Quit())


