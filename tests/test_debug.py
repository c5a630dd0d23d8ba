"""Breakpoints with VMID/EL/core filters, and stepping (vizor/machine/debug/engine.py)."""

from __future__ import annotations

import pytest
from conformance import image
from test_determinism import machine_hash

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger


def boot(name: str = "stage2.elf", boot_el: int = 2):
    board = Board()
    img = load_image(image(name), boot_el)
    board.load(img, boot_el)
    return board, Debugger(board), img.symbols.by_name


def test_a_breakpoint_stops_before_its_instruction_on_the_core_that_reached_it():
    board, dbg, sym = boot()
    bp = dbg.add_breakpoint(sym["t_ldr"])
    reason = dbg.run(max_insns=20_000_000)
    assert reason.kind == "breakpoint" and reason.breakpoint == bp.id and reason.core == 0
    core = board.cores[0]
    assert core.pc == sym["t_ldr"]
    assert dbg.breakpoints[0].hits == 1


def test_continuing_from_a_breakpoint_executes_it_and_finds_the_next_hit():
    board, dbg, sym = boot()
    dbg.add_breakpoint(sym["t_ldr"])
    dbg.run(max_insns=20_000_000)
    first = board.instructions
    reason = dbg.run(max_insns=20_000_000)
    assert reason.kind == "breakpoint" and board.instructions > first
    assert dbg.breakpoints[0].hits == 2


def test_a_vmid_filter_skips_the_other_vms_at_the_same_address():
    # stage2.elf reads through t_ldr at EL1 under VMID 5 first, later under VMID 7.
    board, dbg, sym = boot()
    dbg.add_breakpoint(sym["t_ldr"], vmid=7)
    reason = dbg.run(max_insns=40_000_000)
    core = board.cores[reason.core]
    assert reason.kind == "breakpoint"
    assert core.vmid() == 7 and core.el == 1

    board5, dbg5, _ = boot()
    dbg5.add_breakpoint(sym["t_ldr"], vmid=5)
    dbg5.run(max_insns=40_000_000)
    assert board5.instructions < board.instructions  # VMID 5 runs there first


def test_an_el_filter_that_never_matches_lets_the_image_finish():
    board, dbg, sym = boot()
    dbg.add_breakpoint(sym["t_ldr"], el=2)  # t_ldr only ever runs at EL1
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    reason = dbg.run(max_insns=60_000_000, stop=lambda: "done" if "DONE" in "".join(out[-8:]) else None)
    assert reason.kind == "stop"
    assert dbg.breakpoints[0].hits == 0


def test_a_disabled_breakpoint_does_not_stop():
    board, dbg, sym = boot()
    bp = dbg.add_breakpoint(sym["t_ldr"])
    dbg.set_enabled(bp.id, False)
    assert dbg.run(max_insns=15_000).kind == "max_insns"  # t_ldr first runs after 11,135
    assert dbg.breakpoints[0].hits == 0
    dbg.set_enabled(bp.id, True)
    assert dbg.run(max_insns=40_000_000).kind == "breakpoint"
    assert board.cores[0].pc == sym["t_ldr"] and board.instructions > 15_000


def test_step_executes_exactly_one_instruction_of_the_stepped_core():
    board, dbg, _ = boot("smp_spinlock.elf")
    dbg.run(max_insns=1_234_567)
    for core in (0, 2, 2, 3):
        before = [c.instructions for c in board.cores]
        reason = dbg.step(core)
        assert reason.kind == "step" and reason.core == core
        assert board.cores[core].instructions == before[core] + 1


def test_breakpoints_and_steps_do_not_change_the_run():
    plain = Board()
    plain.load(load_image(image("smp_spinlock.elf")), 2)
    plain.run(max_insns=3_000_000)

    board, dbg, sym = boot("smp_spinlock.elf")
    dbg.add_breakpoint(sym["main"])
    stops = 0
    while board.instructions < 3_000_000:
        reason = dbg.run(max_insns=3_000_000 - board.instructions)
        stops += 1
        if reason.kind == "breakpoint":
            dbg.step(reason.core)
    assert stops >= 2
    assert machine_hash(board) == machine_hash(plain)


def test_a_step_that_lands_on_a_breakpoint_reports_it_once():
    board, dbg, sym = boot()
    target = sym["t_ldr"]
    dbg.add_breakpoint(target)
    dbg.run(max_insns=20_000_000)
    bp = dbg.add_breakpoint(target + 4)  # the next instruction
    reason = dbg.step(0)
    assert reason.kind == "breakpoint" and reason.breakpoint == bp.id
    assert board.cores[0].pc == target + 4
    reason = dbg.step(0)  # executes it; no second report
    assert reason.kind == "step" and board.cores[0].pc != target + 4


@pytest.mark.parametrize("kwargs,message", [
    ({"vmid": 256}, "VMID 256"), ({"el": 4}, "EL4"), ({"core": 4}, "no core 4"),
    ({"vmid": 1, "el": 2}, "EL0 or EL1"),
])
def test_impossible_filters_are_refused(kwargs, message):
    _board, dbg, _ = boot()
    with pytest.raises(ValueError, match=message):
        dbg.add_breakpoint(0x80000, **kwargs)
    assert dbg.breakpoints == ()
