"""Recording a live board into a session file (the format: format.py, docs/session-format.md).

``Recorder`` takes a checkpoint at its start, every ``interval``
instructions and/or wherever its ``checkpoint_due`` predicate says so (runs
go through ``Recorder.run``, which ends slices at the checkpoint counts and
asks the predicate between slices; vizor/driver/pacing.py makes it a wall-clock
period), and notes every input with the exact place in the schedule where
it arrived (``checkpoint.position``).
"""

from __future__ import annotations

import hashlib
import os
import zlib
from typing import Callable

import vizor.machine.session.checkpoint as C
from vizor.machine.board.board import Board, StopReason
from vizor.machine.session.format import (
    _DUE,
    BOARD_MODEL,
    DEFAULT_INTERVAL,
    FORMAT,
    MAGIC,
    VIZOR_VERSION,
    CheckpointTooLarge,
    UartLog,
    _json,
    block_payload,
    checkpoint_payload,
    write_chunk,
)


class Recorder:
    """Record a board into ``path``.  Create it right after ``board.load``
    (or at any later stop: the first checkpoint is then the start), send
    every run through ``run`` and every input through the ``note_*`` methods,
    and ``close()`` at the end."""

    def __init__(self, board: Board, path: str, image: bytes, *, image_name: str, boot_el: int,
                 interval: int | None = DEFAULT_INTERVAL,
                 checkpoint_due: Callable[[], bool] | None = None) -> None:
        if interval is not None and interval <= 0:
            raise ValueError("the checkpoint interval must be positive")
        import vizor.machine.session.sd as session_sd
        from vizor.machine.session.boot import firmware_record, write_files
        card = session_sd.card_of(board)   # ValueError before the file is made
        seed = session_sd.rng_seed(board)
        firmware, blobs = firmware_record(board)   # the boot files beside the image, if any
        if board.boot is not None:
            boot_el = board.boot[1]                # as the board was loaded (a card may say kernel_old=1)
        self.board = board
        self.interval = interval
        # Asked between slices (wrapped into every run's stop callback): True
        # takes a checkpoint there.  vizor/driver/pacing.py's WallPacer makes it
        # every second of wall time; ``interval`` may add count checkpoints.
        self.checkpoint_due = checkpoint_due
        self.inputs = 0
        self.checkpoints = 0
        self.left_out = 0              # checkpoints too large to write (see checkpoint())
        self._carry: dict[int, bytes] = {}
        self.uart = UartLog(board)
        self.tracker = C.RamTracker(board)
        self._cut = True
        self._pending: list = []
        from vizor.machine.session.symbols import symbols_record
        tables = symbols_record(getattr(board, "contexts", None))   # the attached symbols, for replay
        self._f = open(path, "wb")
        self._f.write(MAGIC)
        write_chunk(self._f, b"HEAD", _json({
            "format": FORMAT if firmware else 2, "vizor": VIZOR_VERSION, "board_model": BOARD_MODEL,
            "from_boot": board.instructions == 0,
            "image": {"name": image_name, "sha256": hashlib.sha256(image).hexdigest(), "size": len(image)},
            "boot": {"boot_el": boot_el, "quantum": board.quantum, **seed,
                     **({"firmware": firmware} if firmware else {})},
            "checkpoint_interval": interval,
            "checkpoint_seconds": getattr(checkpoint_due, "seconds", None),
            **({"sd": card.header()} if card else {}),
            **({"symbols": tables} if tables else {})}))
        write_chunk(self._f, b"IMAG", zlib.compress(image, 6))
        write_files(self._f, blobs, write_chunk)
        if card is not None:
            card.write(self._f, write_chunk)
        try:
            self.checkpoint()
        except CheckpointTooLarge:
            self._f.close()
            os.unlink(path)            # nothing half-written is left behind
            raise

    @property
    def next_checkpoint(self) -> int | None:
        if self.interval is None:
            return None
        return (self.board.instructions // self.interval + 1) * self.interval

    def checkpoint(self) -> C.Checkpoint:
        """Write a checkpoint of the board now.  One too large for a reader is
        left out (its RAM blocks go into the next one), so that the file stays
        readable; the first one cannot be: CheckpointTooLarge."""
        cp = C.capture(self.board, self.tracker)
        if self._carry:
            cp.blocks = {**self._carry, **cp.blocks}
        try:
            payload = checkpoint_payload(cp, self.uart.summary(), self.inputs)
        except CheckpointTooLarge:
            if not self.checkpoints:
                raise
            self._carry = cp.blocks
            self.left_out += 1
            return cp
        self._carry = {}
        write_chunk(self._f, b"CKPT", payload)
        for blk, data in sorted(cp.blocks.items()):
            write_chunk(self._f, b"BLCK", block_payload(blk, data))
        self.checkpoints += 1
        return cp

    def run(self, max_insns: int | None = None, stop: Callable[[], str | None] | None = None,
            run: Callable[..., StopReason] | None = None, **kw) -> StopReason:
        """``run(max_insns=..., stop=...)`` (Board.run or Debugger.run/step…),
        cut at each checkpoint count."""
        run = run or self.board.run
        end = None if max_insns is None else self.board.instructions + max_insns
        due = self.checkpoint_due
        if due is not None:
            outer = stop

            def stop() -> str | None:
                if due():
                    return _DUE
                return outer() if outer is not None else None
        while True:
            self._deliver()
            nxt = self.next_checkpoint
            bounds = [t for t in (end, nxt) if t is not None]
            target = min(bounds) if bounds else None
            reason = run(max_insns=None if target is None else target - self.board.instructions,
                         stop=stop, **kw)
            self._cut = reason.kind in ("max_insns", "idle")
            if reason.kind == "stop" and reason.detail == _DUE:
                self.checkpoint()
                continue
            if reason.kind != "max_insns":
                return reason
            if nxt is not None and self.board.instructions == target == nxt:
                self.checkpoint()
            if end is not None and self.board.instructions >= end:
                return StopReason("max_insns", f"{max_insns:,} instructions")

    # Inputs are delivered where a run cut by instruction count stops (or
    # where the board went idle): only there does a replay, cutting its run
    # at the same count, stand in exactly the same state.  A stop that ended
    # a slice early (a breakpoint, a pause, a fault being taken) is not
    # such a place, so an input noted there waits until the next run, which
    # first executes one instruction (the next in the schedule) and then
    # delivers it.
    def _deliver(self) -> None:
        if not self._pending:
            return
        board = self.board
        if not self._cut:
            saved = board.debug_check
            board.debug_check = None
            try:
                board.run(max_insns=1)
            finally:
                board.debug_check = saved
            self._cut = True
        for kind, fields, apply in self._pending:
            write_chunk(self._f, b"INPT", _json({"kind": kind, "at": C.position(board), **fields}))
            self.inputs += 1
            apply()
        self._pending.clear()

    def _note(self, kind: str, apply: Callable[[], None], **fields) -> None:
        self._pending.append((kind, fields, apply))
        if self._cut:
            self._deliver()

    @property
    def at_count_boundary(self) -> bool:
        """Whether an input noted now is delivered now (else after one more instruction)."""
        return self._cut

    @property
    def pending_inputs(self) -> int:
        """Inputs noted at a stop that is not a count cut, delivered by the next ``run``."""
        return len(self._pending)

    def note_uart(self, uart: str, data: bytes) -> None:
        """Record bytes typed into ``uart`` ("pl011" or "mini") and deliver them."""
        dev = self.board.devices["mini_uart" if uart == "mini" else "pl011"]
        self._note("uart", lambda: dev.receive(data), uart=uart, data=data.hex())

    def note_register(self, core: int, name: str, value: int) -> None:
        """Record a register edit made from the debugger and make it."""
        self._note("register", lambda: apply_register(self.board, core, name, value),
                   core=core, name=name, value=value)

    def note_memory(self, pa: int, data: bytes) -> None:
        self._note("memory", lambda: self.board.write_ram(pa, data), pa=pa, data=data.hex())

    def note_breakpoint(self, action: str, address: int, **filters) -> None:
        """For the record only (breakpoints never change the run): written at once."""
        write_chunk(self._f, b"INPT", _json({"kind": "breakpoint", "at": C.position(self.board),
                                             "action": action, "address": address, **filters}))
        self.inputs += 1

    def flush(self) -> None:
        """Write what is buffered to the file (before the process forks)."""
        self._f.flush()

    def close(self) -> None:
        if self._f.closed:
            return
        if self._pending:
            self._deliver()
        cp = C.capture(self.board, None)
        ram = self.tracker
        ram.changes()
        write_chunk(self._f, b"END ", _json({
            "instructions": self.board.instructions, "position": C.position(self.board),
            "uart": self.uart.summary(), "inputs": self.inputs, "checkpoints": self.checkpoints,
            "digest": C.digest(self.board, cp.meta, cp.contexts, ram.ram_digest())}))
        self._f.close()


def apply_register(board: Board, core: int, name: str, value: int) -> None:
    """An edit of a register; the core's slice in progress ends (an interrupt
    the edit unmasks is taken before its next instruction)."""
    c = board.cores[core]
    c.slice_left = 0
    if name in ("HCR_EL2", "SCR_EL3") or name.startswith("SPSR_EL"):
        c.set_sysreg(name, value)
    else:
        c.regs.write(name, value)
