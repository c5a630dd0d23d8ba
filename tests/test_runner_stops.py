"""The runner's stop-condition commands on a real board (no UI): what the dialogs and
the Breakpoints tab send is set, listed with hit counts, enabled, deleted, stepped."""

from __future__ import annotations

import threading

import vizor.driver.runner as R
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image


def start(image: str):
    board = Board()
    board.load(load_image(image))
    got: list = []
    cv = threading.Condition()

    def publish(obj) -> None:
        with cv:
            got.append(obj)
            cv.notify_all()
    runner = R.Runner(board, publish, image=image)
    thread = threading.Thread(target=runner.serve, daemon=True)
    thread.start()

    def wait(pred, timeout: float = 20.0):
        with cv:
            assert cv.wait_for(lambda: any(pred(o) for o in got), timeout), "no such answer"
            return next(o for o in reversed(got) if pred(o))
    return board, runner, got, wait, thread


def stops_of(got):
    return next(o for o in reversed(got) if isinstance(o, R.StopsState)).stops


def test_conditions_set_listed_hit_disabled_and_deleted_and_a_stop_reported():
    board, runner, got, wait, thread = start("images/hyp/hyp.elf")
    sched = board.contexts.resolve("schedule", 3)
    runner.send(R.AddBreakpoint(sched, vmid=3, condition="x0 != 0x12345", ignore=1))
    runner.send(R.AddEventStop("sysreg", register="VTTBR_EL2"))
    runner.send(R.AddWatchpoint(0x1000, "pa", 8, False, True))
    wait(lambda o: isinstance(o, R.StopsState) and len(o.stops) == 3)
    kinds = [(s.id, s.kind, s.enabled) for s in stops_of(got)]
    assert kinds == [(1, "breakpoint", True), (2, "catch", True), (3, "watchpoint", True)]
    runner.send(R.EnableStop(2, False))
    runner.send(R.RemoveStop(3))
    wait(lambda o: isinstance(o, R.StopsState) and len(o.stops) == 2 and not o.stops[1].enabled)
    runner.send(R.Run())
    report = wait(lambda o: isinstance(o, R.StopReport) and o.kind == "breakpoint")
    assert report.vmid == 3 and report.el == 1 and report.pc == sched
    # the first hit was ignored (the list with the new counts may follow the report)
    bp = wait(lambda o: isinstance(o, R.StopsState) and o.stops and o.stops[0].hits >= 2).stops[0]
    assert bp.hits == 2
    assert board.cores[report.core].vmid() == 3
    runner.send(R.StepMore(report.core, "vm"))
    step = wait(lambda o: isinstance(o, R.StopReport) and o.stop_serial > report.stop_serial)
    assert step.vmid == 3 and step.core == report.core and step.pc == sched + 4
    runner.send(R.Quit())
    thread.join(5)


def test_a_refused_condition_is_a_notice_and_sets_nothing():
    board, runner, got, wait, thread = start("images/hyp/hyp.elf")
    runner.send(R.AddWatchpoint(0x3F000000, "pa"))           # MMIO, not RAM
    runner.send(R.AddEventStop("sysreg", register="NOT_A_REG"))
    runner.send(R.StepMore(0, "vm"))                          # core 0 is at EL2: no VM
    notices = [wait(lambda o, t=t: isinstance(o, R.Notice) and o.error and t in o.text)
               for t in ("is not RAM", "unknown system register", "not running a VM")]
    assert len(notices) == 3
    assert not [o for o in got if isinstance(o, R.StopsState) and o.stops]
    runner.send(R.Quit())
    thread.join(5)


def test_the_stops_list_names_addresses_by_symbol_in_their_context():
    board, runner, got, wait, thread = start("images/hyp/hyp.elf")
    sched = board.contexts.resolve("schedule", 3)
    exit8 = board.contexts.resolve("sched_exit", None, el2=True) + 8
    lock = board.contexts.resolve("lock_word", None, el2=True)
    runner.send(R.AddBreakpoint(sched, vmid=3))
    runner.send(R.AddBreakpoint(exit8, el=2))
    runner.send(R.AddWatchpoint(lock, "va", 4, False, True))     # EL2's MMU is off at reset: VA = PA
    runner.send(R.AddBreakpoint(0x1000))                         # no symbol near: the bare address
    wait(lambda o: isinstance(o, R.StopsState) and len(o.stops) == 4)
    assert [s.text for s in stops_of(got)] == [
        f"break at schedule ({sched:#x}) vmid=3", f"break at sched_exit+0x8 ({exit8:#x}) EL2",
        f"watch write VA lock_word ({lock:#x}) (PA {lock:#x})+4", "break at 0x1000"]
    runner.send(R.Quit())
    thread.join(5)


def test_t_with_nothing_typed_toggles_the_breakpoint_marked_at_the_pc_whatever_its_filters():
    board, runner, got, wait, thread = start("images/hyp/hyp.elf")
    pc = board.cores[0].pc
    runner.send(R.AddBreakpoint(pc, core=1))                     # another core's: not marked on core 0
    runner.send(R.AddBreakpoint(pc, el=2))                       # the one core 0's disassembly marks
    wait(lambda o: isinstance(o, R.StopsState) and len(o.stops) == 2)
    runner.send(R.EnableStop(2, False))
    runner.send(R.ToggleBreakpoint(pc, pc_of=0))                 # disabled: enabled
    wait(lambda o: isinstance(o, R.Notice) and "breakpoint 2" in o.text and "enabled" in o.text)
    runner.send(R.ToggleBreakpoint(pc, pc_of=0))                 # enabled: removed, none added
    wait(lambda o: isinstance(o, R.Notice) and "breakpoint 2" in o.text and "removed" in o.text)
    assert [(b.id, b.core, b.el) for b in runner.debugger.breakpoints] == [(1, 1, None)]
    runner.send(R.ToggleBreakpoint(pc, pc_of=0))                 # none marked there: one is set
    wait(lambda o: isinstance(o, R.Notice) and "breakpoint 3 set" in o.text)
    assert [(b.id, b.core, b.el, b.vmid) for b in runner.debugger.breakpoints] == \
        [(1, 1, None, None), (3, None, None, None)]
    runner.send(R.Quit())
    thread.join(5)
