"""Replaying a saved session: the recorded run again, exactly, and checks that it is.

``Replay(session)`` boots the embedded image on a fresh board (or, for a
recording started mid-run, restores its first checkpoint) and runs it with
every recorded input delivered at the place in the schedule where it arrived.
``run`` goes forward (breakpoints of a ``Debugger`` on ``replay.board`` stop it
as in a live session), ``seek(n)`` jumps to instruction count n: it restores
the nearest checkpoint at or before n and runs forward exactly.  Reverse
execution builds on ``seek`` (``reverse.py``).  ``verify()`` re-runs from
the start and compares every checkpoint's hashes and the end of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import vizor.machine.session.checkpoint as C
from vizor.machine.board.board import Board, StopReason
from vizor.machine.board.loader import ImageError
from vizor.machine.session.boot import load_recorded
from vizor.machine.session.format import SessionError, UartLog, inflate
from vizor.machine.session.plain import CheckpointError
from vizor.machine.session.reader import SavedCheckpoint, Session
from vizor.machine.session.recorder import apply_register
from vizor.machine.session.sd import prepare_board
from vizor.machine.session.symbols import attach_recorded

END_OF_RECORDING = "end of the recorded session"
_AT_GOAL = "\0at the recorded position"


class VerifyCancelled(Exception):
    """A verify stopped by a signal before it could decide."""


@dataclass(frozen=True)
class Divergence:
    instructions: int
    core: int | None
    what: str

    def __str__(self) -> str:
        where = f"at instruction {self.instructions}" + (f", core {self.core}" if self.core is not None else "")
        return f"diverged {where}: {self.what}"


class Replay:
    def __init__(self, session: Session, *, quantum: int | None = None) -> None:
        self.restored = 0          # checkpoints verify() restored and replayed from
        self.session = session
        boot = session.header["boot"]
        q = boot.get("quantum")
        self.board = Board(quantum=q if isinstance(q, int) and q > 0 else quantum or 100_000)
        name = str(session.header["image"].get("name", "image"))
        try:
            self.image = load_recorded(self.board, name, session)   # with the boot files, as recorded
        except (ImageError, ValueError) as e:
            raise SessionError(f"the embedded image does not load: {e}") from None
        prepare_board(self.board, session.header, session.card)   # --rng-seed and --sd as recorded
        attach_recorded(self.board.contexts, session.header)      # the recorded run's symbol tables
        self.uart = UartLog(self.board)
        self.next_input = 0
        self._ram_cache: dict[int, dict[int, bytes]] = {}
        if not session.header.get("from_boot"):
            self._restore(0)
        # In-memory checkpoints taken near the places seek/goto_core_count
        # went to, so that stepping back from there again is short.
        self._memory: list[tuple[SavedCheckpoint, dict[int, bytes]]] = []

    # --- inputs ---------------------------------------------------------------------------

    @property
    def end(self) -> int:
        return self.session.end["instructions"]

    @property
    def breakpoints_recorded(self) -> list[dict]:
        return [i for i in self.session.inputs if i["kind"] == "breakpoint"]

    def _apply(self, inp: dict) -> None:
        b = self.board
        try:
            if inp["kind"] == "uart":
                b.devices["mini_uart" if inp["uart"] == "mini" else "pl011"].receive(bytes.fromhex(inp["data"]))
            elif inp["kind"] == "register":
                apply_register(b, inp["core"], inp["name"], inp["value"])
            elif inp["kind"] == "memory":
                b.write_ram(inp["pa"], bytes.fromhex(inp["data"]))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise SessionError(f"corrupt: input at instruction {inp['at'][0]}: {e}") from None

    def _at(self, pos: list) -> bool:
        return C.position(self.board) == pos

    # --- running forward --------------------------------------------------------------------

    def run(self, max_insns: int | None = None, stop: Callable[[], str | None] | None = None,
            run: Callable[..., StopReason] | None = None, core_limit: tuple[int, int] | None = None,
            to_position: list | None = None, inputs_until: int | None = None) -> StopReason:
        """Run forward like ``Board.run`` (``run`` may be a Debugger's), delivering
        the recorded inputs on the way.  Without ``max_insns`` it stops at the
        end of the recording; with it, it may run on past the end."""
        board = self.board
        run = run or board.run
        limit = None if max_insns is None else board.instructions + max_insns
        inputs = self.session.inputs
        kw = {"core_limit": core_limit} if core_limit is not None else {}
        while True:
            last = len(inputs) if inputs_until is None else min(inputs_until, len(inputs))
            pending = inputs[self.next_input] if self.next_input < last else None
            if pending is not None and self._at(pending["at"]):
                self._apply(pending)
                self.next_input += 1
                continue
            if to_position is not None and self._at(to_position):
                return StopReason("stop", "reached the position")
            goal = pending["at"] if pending is not None else to_position
            if goal is not None:
                target = goal[0]
                if limit is not None and limit < target:
                    target, goal = limit, None
            elif limit is not None:
                target = limit
            else:
                if board.instructions >= self.end:
                    return StopReason("stop", END_OF_RECORDING)
                target = self.end
            if board.instructions > target:
                return StopReason("stop", f"passed the recorded position {goal}")

            def stop_here(goal=goal) -> str | None:
                if goal is not None and C.position(board) == goal:
                    return _AT_GOAL
                return stop() if stop is not None else None
            reason = run(max_insns=target - board.instructions, stop=stop_here, **kw)
            if reason.kind == "stop" and reason.detail == _AT_GOAL:
                continue
            if goal is not None and reason.kind in ("max_insns", "idle", "halted"):
                if self._at(goal):
                    continue
                if reason.kind == "idle" and board.instructions == goal[0] and board.clock.base < goal[1]:
                    continue  # an earlier idle stop at the same count
                if reason.kind == "max_insns":
                    return StopReason("stop", f"the recorded position {goal} was not reached")
                return reason
            if reason.kind == "max_insns":
                if limit is not None and board.instructions >= limit:
                    return StopReason("max_insns", f"{max_insns:,} instructions")
                continue
            if reason.kind == "idle" and limit is None and board.instructions >= self.end:
                return StopReason("stop", END_OF_RECORDING)   # asleep where the recording ended
            return reason

    # --- checkpoints and seeking ----------------------------------------------------------

    def _ram_at(self, k: int) -> dict[int, bytes]:
        """The RAM of checkpoint k: every non-zero block, from the cumulative deltas."""
        if k in self._ram_cache:
            return self._ram_cache[k]
        ram: dict[int, bytes] = {}
        for cp in self.session.checkpoints[:k + 1]:
            for blk, data in cp.blocks.items():
                ram[blk] = data
        out = {}
        for blk, data in ram.items():
            raw = inflate(data, C.BLOCK, f"RAM block {blk}")
            if len(raw) != C.BLOCK:
                raise SessionError(f"corrupt: RAM block {blk} is {len(raw)} bytes")
            if raw != C.ZERO_BLOCK:
                out[blk] = raw
        if len(self._ram_cache) > 4:
            self._ram_cache.pop(next(iter(self._ram_cache)))
        self._ram_cache[k] = out
        return out

    def _restore(self, k: int) -> None:
        cp: SavedCheckpoint = self.session.checkpoints[k]
        try:
            C.restore(self.board, cp.meta, cp.contexts, self._ram_at(k))
        except SessionError:
            raise
        except (CheckpointError, KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise SessionError(f"corrupt: checkpoint at instruction {cp.instructions} cannot be "
                               f"restored: {e}") from None
        self.next_input = cp.inputs_before
        self.uart.count = cp.uart.get("bytes", 0)

    REMEMBER_BEFORE = 100_000  # instructions before a far seek's target where one is kept
    REMEMBERED = 16

    def remember(self) -> None:
        """Keep a checkpoint of the board as it is now, in memory."""
        board = self.board
        cp = C.capture(board, None)
        ram = {}
        for blk in C.RamTracker(board).touched():
            data = bytes(board.ram[blk * C.BLOCK:(blk + 1) * C.BLOCK])
            if data != C.ZERO_BLOCK:
                ram[blk] = data
        saved = SavedCheckpoint(cp.instructions, cp.meta, cp.digest, {"bytes": self.uart.count},
                                self.next_input, cp.contexts)
        self._memory.append((saved, ram))
        del self._memory[:-self.REMEMBERED]

    def _best_memory(self, pick: Callable[[SavedCheckpoint], bool], than: int):
        """The latest remembered checkpoint that ``pick`` accepts and that is
        later than file checkpoint ``than``, or None."""
        best = None
        floor = self.session.checkpoints[than].instructions
        for entry in self._memory:
            cp = entry[0]
            if pick(cp) and cp.instructions > floor and (best is None or cp.instructions > best[0].instructions):
                best = entry
        return best

    def _restore_memory(self, entry) -> None:
        cp, ram = entry
        C.restore(self.board, cp.meta, cp.contexts, ram)
        self.next_input = cp.inputs_before
        self.uart.count = cp.uart.get("bytes", 0)

    def _start_near(self, pick: Callable[[SavedCheckpoint], bool]) -> None:
        """Restore the latest checkpoint (file or remembered) that ``pick`` accepts."""
        k = self.checkpoint_before(1 << 62, pick)
        mem = self._best_memory(pick, k)
        if mem is not None:
            self._restore_memory(mem)
        else:
            self._restore(k)

    def checkpoint_before(self, n: int, pick: Callable[[SavedCheckpoint], bool] | None = None) -> int:
        best = 0
        for k, cp in enumerate(self.session.checkpoints):
            if cp.instructions <= n and (pick is None or pick(cp)):
                best = k
        return best

    def seek(self, n: int) -> StopReason:
        """Go to instruction count ``n`` (the place a run of exactly n stops at)."""
        if n < self.session.checkpoints[0].instructions:
            raise ValueError(f"the recording starts at instruction {self.session.checkpoints[0].instructions}")
        self._start_near(lambda cp: cp.instructions <= n)
        if n - self.board.instructions > 2 * self.REMEMBER_BEFORE:
            self._forward_to(n - self.REMEMBER_BEFORE)
            self.remember()
        return self._forward_to(n)

    def _forward_to(self, n: int | None, core_limit: tuple[int, int] | None = None) -> StopReason:
        board = self.board
        saved = board.debug_check
        board.debug_check = None  # breakpoints do not stop a seek
        try:
            if core_limit is None:
                reason = self.run(max_insns=n - board.instructions)
            else:
                reason = self.run(core_limit=core_limit)
        finally:
            board.debug_check = saved
        for c in board.cores:
            c.mark_exit_arrival()  # a breakpoint at the place reached is not hit again
        return reason

    def goto_core_count(self, core: int, count: int) -> StopReason:
        """Go to the first moment core ``core`` has executed ``count`` instructions
        (where a step that ends there stops)."""
        self._start_near(lambda cp: cp.core_counts[core] < count)
        c = self.board.cores[core]
        if c.instructions >= count:
            raise ValueError(f"core {core} had executed {count} instructions before the recording started")
        if count - c.instructions > 2 * self.REMEMBER_BEFORE:
            reason = self._forward_to(None, core_limit=(core, count - self.REMEMBER_BEFORE))
            if reason.kind == "step":
                self.remember()
        reason = self._forward_to(None, core_limit=(core, count))
        if reason.kind != "step":
            raise ValueError(f"core {core} does not reach {count} instructions in the recording "
                             f"({reason.detail})")
        return reason

    # --- verification -------------------------------------------------------------------------

    def verify(self, cancelled=None) -> Divergence | None:
        """Re-run from the start, then from every checkpoint restored in turn to the next
        one; the first divergence, or None.  VerifyCancelled once ``cancelled()`` is true."""
        self._cancelled = cancelled
        return self._verify_straight() or self._verify_restores()

    def _verify_run(self, **kw):
        reason = self.run(**kw)
        if self._cancelled is not None and self._cancelled():
            raise VerifyCancelled()
        return reason

    def _verify_restores(self) -> Divergence | None:
        """Restore each checkpoint and replay to the next: the state reached must be
        the recorded one (which the straight replay has just matched)."""
        cps = self.session.checkpoints
        # The last first: each restore lands on a board that stands elsewhere (at the
        # checkpoint after the next), so that state a restore leaves as it was shows.
        # Restored in order, the board would stand at that very checkpoint already.
        first = None
        for k in reversed(range(len(cps) - 1)):
            self._restore(k)
            nxt = cps[k + 1]
            reason = self._verify_run(to_position=nxt.position, inputs_until=nxt.inputs_before)
            here = f"from the checkpoint at instruction {cps[k].instructions}, restored: "
            if not self._at(nxt.position):
                first = Divergence(self.board.instructions, None,
                                   here + f"the next checkpoint ({nxt.instructions}) was not reached "
                                          f"({reason.kind}: {reason.detail})")
                continue
            # the UART's bytes were checked by the straight replay; a restore resumes their count
            uart = dict(nxt.uart, bytes=self.uart.count)
            bad = compare(nxt, C.capture(self.board, C.RamTracker(self.board)), uart)
            if bad is not None:
                first = Divergence(bad.instructions, bad.core, here + bad.what)
        if first is not None:
            return first
        self.restored = max(len(cps) - 1, 0)
        return None

    def _verify_straight(self) -> Divergence | None:
        tracker = C.RamTracker(self.board)
        for k, cp in enumerate(self.session.checkpoints):
            if k == 0 and not self.session.header.get("from_boot"):
                tracker.changes()
                continue
            reason = self._verify_run(to_position=cp.position, inputs_until=cp.inputs_before)
            if not self._at(cp.position):
                return Divergence(self.board.instructions, None,
                                  f"the checkpoint at instruction {cp.instructions} was not reached "
                                  f"({reason.kind}: {reason.detail})")
            if self.next_input != cp.inputs_before:
                return Divergence(cp.instructions, None, "inputs out of step with the checkpoints")
            now = C.capture(self.board, tracker)
            bad = compare(cp, now, self.uart.summary())
            if bad is not None:
                return bad
        end = self.session.end
        reason = self._verify_run(to_position=end.get("position"))
        if self.board.instructions != end["instructions"]:
            return Divergence(self.board.instructions, None, f"the run ended at instruction "
                                                              f"{self.board.instructions}, not {end['instructions']} "
                                                              f"({reason.kind}: {reason.detail})")
        if self.uart.summary() != end["uart"]:
            return Divergence(end["instructions"], None,
                              f"UART output: {self.uart.count} bytes (SHA-256 {self.uart.summary()['sha256'][:16]}…), "
                              f"recorded {end['uart'].get('bytes')} bytes")
        final = C.capture(self.board, None)
        tracker.changes()
        want = end.get("digest") or {}
        got = C.digest(self.board, final.meta, final.contexts, tracker.ram_digest())
        if want and want != got:
            return Divergence(end["instructions"], None, f"final state differs ({_which(want, got)})")
        return None


def _which(want: dict, got: dict) -> str:
    for i, (a, b) in enumerate(zip(want.get("cores", []), got["cores"])):
        if a != b:
            return f"core {i}"
    return "devices" if want.get("devices") != got["devices"] else "RAM"


def compare(saved: SavedCheckpoint, now: C.Checkpoint, uart: dict) -> Divergence | None:
    n = saved.instructions
    if now.digest == saved.digest and uart == saved.uart:
        return None
    was = saved.meta
    for i, (a, b) in enumerate(zip(was.get("cores", []), now.meta["cores"])):
        for key in b:
            if a.get(key) != b[key]:
                return Divergence(n, i, f"{key}: {_short(b[key])} (recorded {_short(a.get(key))})")
    for i, (a, b) in enumerate(zip(saved.contexts, now.contexts)):
        if C.cpu_bytes(a) != C.cpu_bytes(b):
            return Divergence(n, i, "CPU registers (the Unicorn context) differ")
    for key in ("position", "clock", "lines", "power"):
        if was.get(key) != now.meta.get(key):
            return Divergence(n, None, f"{key}: {_short(now.meta.get(key))} (recorded {_short(was.get(key))})")
    for name, st in now.meta["devices"].items():
        if was.get("devices", {}).get(name) != st:
            return Divergence(n, None, f"device {name} state differs")
    if saved.digest.get("ram") != now.digest["ram"]:
        changed = sorted(set(saved.blocks) ^ set(now.blocks)) or sorted(now.blocks)
        where = f" (block at PA {changed[0] * C.BLOCK:#x})" if changed else ""
        return Divergence(n, None, f"RAM differs{where}")
    if uart != saved.uart:
        return Divergence(n, None, f"UART output: {uart.get('bytes')} bytes, recorded {saved.uart.get('bytes')}")
    return Divergence(n, None, "state hash differs")


def _short(v) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."

