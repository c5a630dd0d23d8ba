"""Where a run is cut, and whether a core is single-stepped, never changes
what the machine does.

The board takes a pending interrupt where a core's slice starts (Unicorn has
no line to raise: board.py).  A slice is planned once, and a run cut inside
it (``max_insns``, a checkpoint, an input, a breakpoint's exit, a step of
the debugger) resumes the same slice: no interrupt is taken at the cut that
the uncut run would not take there.  Without this a core stepped by the
debugger, or a replay cut at a checkpoint or at a jump's target, took an
interrupt waiting on PSTATE.I at the instruction after ``msr daifclr``,
where the uncut run took it later (irq_timers' ``unmask_window``).

Checked by the whole machine's hash against the uncut run, on the
conformance kernels with interrupts and on the demo hypervisor.
"""

from __future__ import annotations

import os
import random

import pytest
from conformance import image
from test_determinism import machine_hash

from vizor.machine.board.board import QUANTUM, Board
from vizor.machine.board.loader import load_image

HYP = os.path.join(os.path.dirname(image("x")), "..", "hyp", "hyp.elf")
# (image, boot EL, instructions): the kernels' whole runs (each ends idle), the demo's first 6 M
CASES = [("irq_timers.elf", 2, 32_464), ("irq_timers.elf", 3, 32_512), ("smp_mailbox.elf", 2, 236_083),
         ("smp_mailbox.elf", 3, 136_107), ("systimer.elf", 2, 18_728), ("hyp", 2, 6_000_000)]


def boot(name: str, el: int, quantum: int = QUANTUM) -> Board:
    board = Board(quantum=quantum)
    path = HYP if name == "hyp" else image(name)
    board.load(load_image(path, el), el)
    return board


def straight(name: str, el: int, n: int, quantum: int = QUANTUM) -> tuple[str, int]:
    board = boot(name, el, quantum)
    board.run(max_insns=n)     # or until the kernel is done and the board idle
    return machine_hash(board), board.instructions


@pytest.mark.parametrize("name,el,n", CASES)
def test_a_run_cut_anywhere_is_the_uncut_run(name, el, n):
    rng = random.Random(f"{name}{el}")
    board = boot(name, el)
    reason = None
    while board.instructions < n and (reason is None or reason.kind == "max_insns"):
        reason = board.run(max_insns=min(rng.choice((1, 2, 3, 7, 61, 997, 20_011)), n - board.instructions))
    assert (machine_hash(board), board.instructions) == straight(name, el, n)


@pytest.mark.parametrize("name,el,n", CASES)
def test_a_core_stepped_by_the_debugger_runs_as_unstepped(name, el, n):
    """Each core in turn single-stepped over a stretch where interrupts come
    and go (a stop check that never stops: every instruction is a slice of
    its own to Unicorn, none to the schedule)."""
    board = boot(name, el)
    board.debug_check = lambda core: None
    for k, core in enumerate(board.cores):
        board.run(max_insns=n // 8)
        core.single_step = True
        board.run(max_insns=n // 16)
        core.single_step = False
    board.run(max_insns=n - board.instructions)
    assert (machine_hash(board), board.instructions) == straight(name, el, n)


# 0x80000 (EL1): x1 = 0x40000000; mailbox IRQ enable for core 0 (0x50) and mailbox 0
# set (0x80): an IRQ is pending from here on.  1: msr daifclr,#2; msr daifset,#2;
# b 1b  (one instruction boundary in three unmasked, no WFI)
WINDOW = (0xD2A80001, 0x52800022, 0xB9005022, 0xB9008022, 0xD50342FF, 0xD50342DF, 0x17FFFFFE)
HANDLER = 0x90000 + 0x280      # VBAR_EL1 + current EL with SP_ELx, IRQ


def window_board(step: bool) -> Board:
    import struct

    from vizor.machine.cpu.core import PARKED
    board = Board(quantum=3_001)     # the line is raised mid-round: slices of MASKED_SLICE after it
    board.write_ram(0x80000, b"".join(struct.pack("<I", w) for w in WINDOW))
    board.write_ram(HANDLER, struct.pack("<I", 0x14000000))     # b .
    core = board.cores[0]
    core.reset(0x80000, 1)
    core.set_sysreg("VBAR_EL1", 0x90000)
    for other in board.cores[1:]:
        other.state = PARKED
    if step:
        board.debug_check = lambda c: None
        core.single_step = True
    board.run(max_insns=20_000)
    return board


def test_stepping_takes_an_interrupt_only_where_the_unstepped_run_does():
    """An interrupt pending under PSTATE.I, unmasked for one instruction in a
    loop: the unstepped run takes it at a slice's start, where it happens to
    fall in the window; single-stepping the core takes it there too, not at the
    first window."""
    free, stepped = window_board(False), window_board(True)
    irqs = [r for r in free.cores[0].exceptions if r.kind == "irq"]
    assert irqs and irqs[0].to_el == 1
    assert [r for r in stepped.cores[0].exceptions if r.kind == "irq"] == irqs
    assert machine_hash(stepped) == machine_hash(free)


@pytest.mark.parametrize("name,n", [("irq_timers.elf", 32_464), ("smp_mailbox.elf", 236_083), ("hyp", 3_000_000)])
def test_a_recording_made_while_cores_are_stepped_verifies_and_is_the_straight_run(name, n, tmp_path):
    """Recorded with checkpoints while the debugger single-steps one core after
    another: ``replay --verify`` restores every checkpoint and finds each
    identical, and the recording's end is the uncut, unstepped run's.  Short
    rounds, so that the checkpoints between slices are many."""
    from test_session_exact import SlicePacer

    from vizor.machine.session.reader import load_session
    from vizor.machine.session.recorder import Recorder
    from vizor.machine.session.replay import Replay
    quantum = 5_000
    board = boot(name, 2, quantum)
    board.debug_check = lambda core: None
    path = str(tmp_path / "stepped.vzs")
    with open(HYP if name == "hyp" else image(name), "rb") as f:
        data = f.read()
    rec = Recorder(board, path, data, image_name=name, boot_el=2, interval=n // 4 + 1,
                   checkpoint_due=SlicePacer(board, n // 12))
    for core in board.cores:
        rec.run(max_insns=n // 8 - board.instructions % (n // 8) + 1)
        core.single_step = True
        rec.run(max_insns=n // 40)
        core.single_step = False
    rec.run(max_insns=n - board.instructions)
    rec.close()
    assert (machine_hash(board), board.instructions) == straight(name, 2, n, quantum)
    replay = Replay(load_session(path))
    assert len(replay.session.checkpoints) >= 3
    assert replay.verify() is None
    assert replay.restored == len(replay.session.checkpoints) - 1
