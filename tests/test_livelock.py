"""A breakpoint where QEMU sees a virtual IRQ pending (HCR_EL2.VI set by the demo
hypervisor while it runs at EL2) livelocks Unicorn at the exit; vizor/driver/livelock.py
breaks it, and the breakpoint is reported where it is, whatever the timing."""

from __future__ import annotations

import os

from vizor.driver.livelock import LivelockGuard
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
WARM = 25_000_000       # the guests run and the hypervisor injects their interrupts


def hits(patience: float, n: int = 6):
    board = Board()
    board.load(load_image(HYP, 2), 2)
    board.run(max_insns=WARM)
    dbg = Debugger(board)
    dbg.add_breakpoint(board.symbols.by_name["hyp_sync_lower"], el=2)
    out = []
    with LivelockGuard(board, patience=patience) as guard:
        for _ in range(n):
            r = dbg.run(max_insns=5_000_000)
            out.append((r.kind, r.core, board.cores[r.core].pc, board.instructions))
    return out, guard.broken


def test_breakpoints_in_the_hypervisor_while_a_virtual_irq_is_pending_are_hit_not_hung():
    quick, broken = hits(0.012)
    slow, _ = hits(0.3)
    at = load_image(HYP, 2).symbols.by_name["hyp_sync_lower"]
    assert broken >= 1                                # the livelock happened and was broken
    assert all(k == "breakpoint" and pc == at for k, _c, pc, _n in quick)
    assert quick == slow                              # where they fall does not depend on timing


def test_the_runner_behind_the_tui_gets_past_such_a_breakpoint_again_and_again():
    import threading
    import time

    import vizor.driver.runner as R
    from vizor.driver.commands import StopReport
    board = Board()
    board.load(load_image(HYP, 2), 2)
    board.run(max_insns=WARM)
    got: list = []
    runner = R.Runner(board, got.append)
    runner.debugger.add_breakpoint(board.symbols.by_name["hyp_sync_lower"], el=2)
    thread = threading.Thread(target=runner.serve, daemon=True)
    thread.start()
    try:
        for n in range(1, 7):
            runner.send(R.Run())
            end = time.monotonic() + 20
            while sum(isinstance(o, StopReport) and o.kind == "breakpoint" for o in got) < n:
                assert time.monotonic() < end, f"stuck before hit {n}"
                time.sleep(0.01)
    finally:
        runner.send(R.Quit())
        thread.join(20)
    assert not thread.is_alive()
