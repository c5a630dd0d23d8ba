"""Reverse execution on a replay: step back, reverse-continue, reverse step in VM.

Nothing runs backwards: each operation restores a checkpoint and runs forward
deterministically to the place wanted (``Replay.seek`` /
``Replay.goto_core_count``).  A stop where core c has executed m
instructions is "the first moment core c has executed m instructions" —
exactly where a forward ``Debugger.step`` or a breakpoint stop leaves it (a
breakpoint stops before its instruction, so after the core's previous one) —
so stepping back k times shows the states stepping forward showed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import vizor.machine.session.checkpoint as C
from vizor.machine.board.board import StopReason

CANCELLED = "reverse-continue cancelled"

if TYPE_CHECKING:
    from vizor.machine.debug.engine import Debugger
    from vizor.machine.session.replay import Replay


def step_back(replay: "Replay", core: int, count: int = 1) -> StopReason:
    """Back to where core ``core`` had executed ``count`` fewer instructions."""
    c = replay.board.cores[core]
    target = c.instructions - count
    if target < 0:
        raise ValueError(f"core {core} has executed only {c.instructions} instructions")
    if target == 0:
        first = replay.session.checkpoints[0]
        if first.core_counts[core] != 0:
            raise ValueError(f"core {core} had run before the recording started")
        replay._restore(0)
        for cc in replay.board.cores:
            cc.mark_exit_arrival()
    else:
        replay.goto_core_count(core, target)
    return StopReason("step", f"core {core} back to instruction {target:,}", core=core)


def reverse_continue(replay: "Replay", dbg: "Debugger", stop=None, progress=None) -> StopReason:
    """Back to the previous breakpoint hit (breakpoints of ``dbg``, on ``replay.board``).

    The interval from the nearest checkpoint to here is replayed with the
    breakpoints active and the last hit remembered; without one, the interval
    before that checkpoint, and so on.  Hit counts are left as they were.
    ``progress(k)`` is told each checkpoint k an interval starts from; when
    ``stop()`` (asked between slices) returns ``CANCELLED``, the search is
    abandoned and the board put back where it was.
    """
    board = replay.board
    here = C.position(board)
    saved = dict(dbg._conds)
    end_pos, k = here, replay.checkpoint_before(board.instructions)
    last = None
    cancelled = False
    try:
        while True:
            if progress is not None:
                progress(k)
            replay._restore(k)
            while True:
                r = replay.run(run=dbg.run, to_position=end_pos, stop=stop)
                if r.kind == "breakpoint" and C.position(board) != here:
                    last = (r.core, board.cores[r.core].instructions, r)
                    continue
                cancelled = r.kind == "stop" and r.detail == CANCELLED
                break
            if cancelled or last is not None or k == 0:
                break
            end_pos = replay.session.checkpoints[k].position
            k -= 1
    finally:
        dbg._conds = saved
    if cancelled or last is None:
        _back_to(replay, here)
        return StopReason("stop", "reverse-continue cancelled: back where it started" if cancelled
                          else "no earlier breakpoint hit in the recording")
    core, count, reason = last
    if replay.session.checkpoints[0].core_counts[core] >= count:
        # the hit the recording started at (R pressed at a breakpoint stop)
        replay._restore(0)
        for c in board.cores:
            c.mark_exit_arrival()   # continuing executes the instruction, as after any stop
    else:
        replay.goto_core_count(core, count)
    return reason


def _back_to(replay: "Replay", pos: list) -> None:
    replay._restore(replay.checkpoint_before(pos[0]))
    saved = replay.board.debug_check
    replay.board.debug_check = None
    try:
        replay.run(to_position=pos)
    finally:
        replay.board.debug_check = saved


def reverse_step_in_vm(replay: "Replay", core: int) -> StopReason:
    """Back to the previous instruction core ``core`` executed in the VM it is in
    now, over whatever the hypervisor (or another VM) ran in between."""
    board = replay.board
    c = board.cores[core]
    vmid = c.vmid()
    if vmid is None:
        raise ValueError(f"core {core} is not running a VM (EL{c.el})")
    here = C.position(board)
    k = c.instructions
    step_back(replay, core)
    if c.vmid() == vmid:
        return StopReason("step", f"core {core} back in vmid={vmid} at {c.pc:#x}", core=core)
    # Left the VM: find the core's exits from this VM before here, newest first,
    # one checkpoint interval at a time back from here (an exit can lie before the
    # checkpoint nearest to here, as a breakpoint hit can for reverse_continue).
    first = replay.session.checkpoints[0].core_counts[core]
    end_pos, cp = here, replay.checkpoint_before(here[0])
    while True:
        for x in sorted({e for e in _exits(replay, cp, end_pos, c, vmid) if e < k}, reverse=True):
            for m in (x + 1, x, x - 1):
                if first < m < k:
                    replay.goto_core_count(core, m)
                    if c.vmid() == vmid:
                        return StopReason("step", f"core {core} back in vmid={vmid} at {c.pc:#x}", core=core)
        if cp == 0:
            break
        end_pos, cp = replay.session.checkpoints[cp].position, cp - 1
    _back_to(replay, here)
    return StopReason("stop", f"core {core} ran nothing in vmid={vmid} earlier in the recording")


def _exits(replay: "Replay", k: int, end_pos: list, c, vmid: int) -> list[int]:
    """The counts of core ``c`` at its exits from ``vmid`` to EL2 between file
    checkpoint ``k`` and position ``end_pos`` (where the board is left)."""
    board = replay.board
    exits: list[int] = []

    def on_exception(cc, rec) -> None:
        if cc is c and rec.to_el == 2 and rec.from_el <= 1 and rec.vmid == vmid:
            # Inside Unicorn (a hook) the slice's instructions are not counted in
            # cc.instructions yet; a sync exception taken after the slice (Core.run's
            # _pending_sync) comes when they are, with the counter not yet reset.
            exits.append(cc.instructions + (cc._counter.value if cc._budget is not None else 0))
    board.exception_listeners.append(on_exception)
    saved = board.debug_check
    board.debug_check = None
    try:
        replay._restore(k)
        replay.run(to_position=end_pos)
    finally:
        board.debug_check = saved
        board.exception_listeners.remove(on_exception)
    return exits
