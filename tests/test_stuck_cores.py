"""A core spinning in ``b .`` costs no host time, and the run is bit-identical to
executing it (Core.skip_idle on and off, whole-machine hashes compared).

The image (assembled by hand here, 15 instructions at 0x80000, booted at EL2 as
a raw kernel8.img) programs the EL1 physical timer 2,000 ticks ahead, routed to core 0's IRQ, with
HCR_EL2.IMO set, so its interrupt is taken at EL2, then spins in ``b .``.  With
IRQs unmasked the timer interrupt reaches the spinning core (its handler counts
in x3 and returns to the spin); with every interrupt masked nothing ever can.
"""
from __future__ import annotations

import gc
import struct

import pytest
from test_determinism import machine_hash

from vizor.machine.board import Board, load_image
from vizor.machine.session.checkpoint import cpu_bytes

CODE = [0x58005480,   # ldr x0, =0x80000010 (HCR_EL2: RW, IMO)
        0xD51C1100,   # msr hcr_el2, x0
        0x10003FC0,   # adr x0, vectors
        0xD51CC000,   # msr vbar_el2, x0
        0xD280FA01,   # mov x1, #2000
        0xD51BE201,   # msr cntp_tval_el0, x1
        0xD2800021,   # mov x1, #1
        0xD51BE221,   # msr cntp_ctl_el0, x1
        0xD2A80004,   # mov x4, #0x40000000
        0xF2800804,   # movk x4, #0x40      (core 0 timers interrupt control)
        0x52800045,   # mov w5, #2          (CNTPNS -> IRQ)
        0xB9000085,   # str w5, [x4]
        0xD50342FF,   # msr daifclr, #2
        0xD28000E2,   # mov x2, #7
        0x14000000]   # b .
DAIFSET_ALL = 0xD5034FDF   # msr daifset, #15
IRQ_HANDLER = [0x91000463,  # add x3, x3, #1       (VBAR_EL2 + 0x280: IRQ, current EL, SPx)
               0xD51BE23F,  # msr cntp_ctl_el0, xzr
               0xD69F03E0]  # eret


def spin_image(tmp_path, masked: bool) -> str:
    data = bytearray(0xA98)
    code = list(CODE)
    if masked:
        code[12] = DAIFSET_ALL
    struct.pack_into(f"<{len(code)}I", data, 0, *code)
    struct.pack_into("<3I", data, 0xA80, *IRQ_HANDLER)
    struct.pack_into("<Q", data, 0xA90, 0x80000010)
    path = tmp_path / f"spin{'-masked' if masked else ''}.img"
    path.write_bytes(bytes(data))
    return str(path)


def run(path: str, skip: bool, n: int) -> Board:
    board = Board()
    board.load(load_image(path, 2), 2)
    for c in board.cores:
        c.skip_idle = skip
    board.run(max_insns=n)
    return board


@pytest.mark.parametrize("masked", [True, False], ids=["masked", "timer-irq"])
def test_a_spinning_core_is_skipped_and_the_run_is_identical(tmp_path, masked):
    path = spin_image(tmp_path, masked)
    for n in (1_000, 250_007, 3_000_000):
        executed = skipped = None
        gc.collect()            # one pair of boards (4 Unicorn instances each) alive at a time
        executed, skipped = run(path, False, n), run(path, True, n)
        assert machine_hash(executed) == machine_hash(skipped), n
        assert [cpu_bytes(c.save_context()) for c in executed.cores] == \
            [cpu_bytes(c.save_context()) for c in skipped.cores]
        assert executed.cores[0].instructions == skipped.cores[0].instructions
    core = skipped.cores[0]
    assert core.skipped > 2_500_000          # nearly all of it was never executed
    assert executed.cores[0].skipped == 0
    assert core.regs.read("X2") == 7
    assert core.regs.read("X3") == (0 if masked else 1)   # the timer IRQ reached the spinning core


def test_a_breakpoint_on_the_spin_still_hits(tmp_path):
    from vizor.machine.debug import Debugger
    board = Board()
    board.load(load_image(spin_image(tmp_path, True), 2), 2)
    dbg = Debugger(board)
    dbg.add_breakpoint(0x80038)
    reason = dbg.run(max_insns=1_000_000)
    assert reason.kind == "breakpoint" and board.cores[0].pc == 0x80038
    reason = dbg.run(max_insns=1_000_000)
    assert reason.kind == "breakpoint"       # again on the next pass through b .
    assert board.cores[0].instructions < 100
