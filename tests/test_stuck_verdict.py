"""A core looping on the same exception is declared stuck only when nothing
can ever interrupt the loop (issue 18.3).

The image (assembled by hand, booted at EL2 as a raw kernel8.img) is a
hypervisor in miniature: HCR_EL2.IMO set, CNTHP armed 2000 ticks ahead and routed to
core 0's IRQ, then an ERET to a guest at EL1 whose first instruction and whose
own synchronous vector are UDF, so the guest re-takes the same exception from
its handler for ever, with PSTATE.I set.  The IRQ goes to EL2 all the same
(IMO), as a scheduler tick would: its handler counts in x3, disables the timer
and returns to the guest.  Only then can nothing interrupt the loop, and only
then is the core halted as stuck.
"""
from __future__ import annotations

import struct

import pytest

from vizor.machine.board import Board, load_image

BOOT = [0x58000280, 0xD51C1100, 0x10007FC0, 0xD51CC000, 0x10003F80, 0xD518C000,  # hcr, vbar_el2/el1
        0x58000201, 0xD51CE201, 0xD2800021, 0xD51CE221,     # cnthp_tval = 2000; ctl = 1
        0x580001C4, 0x52800085, 0xB9000085,                 # 0x40000040 (core 0 timers) = CNTHP IRQ
        0x100000C0, 0xD51C4020, 0xD28078A0, 0xD51C4000,     # elr_el2 = guest, spsr_el2 = EL1h masked
        0xD2800003, 0xD69F03E0,                             # x3 = 0; eret
        0x00000000,                                         # guest: udf #0
        0x80000010, 0, 2000, 0, 0x40000040, 0]             # literals
EL1_SYNC = 0x800 + 0x200        # VBAR_EL1 + current EL with SP_ELx, synchronous: udf #1
EL2_IRQ_LOWER = 0x1000 + 0x480  # VBAR_EL2 + lower EL AArch64, IRQ
TICK = [0x91000463, 0xD51CE23F, 0xD69F03E0]   # add x3, x3, #1; msr cnthp_ctl_el2, xzr; eret


def image(tmp_path, tick: bool) -> str:
    data = bytearray(0x1490)
    boot = list(BOOT)
    if not tick:
        boot[9] = 0xD503201F    # nop instead of enabling the timer
    struct.pack_into(f"<{len(boot)}I", data, 0, *boot)
    struct.pack_into("<I", data, EL1_SYNC, 0x00000001)
    struct.pack_into("<3I", data, EL2_IRQ_LOWER, *TICK)
    path = tmp_path / ("tick.img" if tick else "notick.img")
    path.write_bytes(bytes(data))
    return str(path)


@pytest.mark.parametrize("tick", [True, False], ids=["tick", "no-timer"])
def test_a_guest_faulting_for_ever_is_stuck_only_once_nothing_can_interrupt_it(tmp_path, tick):
    board = Board()
    board.load(load_image(image(tmp_path, tick), 2), 2)
    reason = board.run(max_insns=20_000_000)
    core = board.cores[0]
    assert reason.kind == "halted" and "stuck" in reason.detail, reason
    assert core.regs.read("X3") == (1 if tick else 0)        # the tick came before the verdict
    # with the tick, the verdict comes after it (~125,000 cycles in), not after the first 200 faults
    assert (core.instructions > 100_000) if tick else (core.instructions < 2_000)


def test_an_interruptible_core_is_not_stuck_while_its_timer_is_armed(tmp_path):
    board = Board()
    board.load(load_image(image(tmp_path, True), 2), 2)
    reason = board.run(max_insns=40_000)
    assert reason.kind == "max_insns", reason
    assert board.cores[0].regs.read("X3") == 0


# Core 0 releases core 1 (spin table slot 0xe0, SEV) into a counting loop
# (``add x4, x4, #1; b .-4``, or ``b .``), then gets stuck as above with no timer.
RELEASE = [0x100001E0, 0xD2801C01, 0xF9000020, 0xD5033F9F, 0xD503209F,   # adr x0, core1; [0xe0] = x0; dsb; sev
           0x580001A0, 0xD51C1100, 0x10003F20, 0xD518C000,               # hcr_el2 = RW|IMO; vbar_el1
           0x100000A0, 0xD51C4020, 0xD28078A0, 0xD51C4000, 0xD69F03E0,   # elr = guest, spsr = EL1h; eret
           0x00000000,                                                   # guest: udf #0
           0x91000484, 0x17FFFFFF,                                       # core1: add x4, x4, #1; b core1
           0x00000000, 0x80000010, 0]
SPIN = 0x14000000


def two_core_image(tmp_path, counting: bool) -> str:
    data = bytearray(0xA04)
    words = list(RELEASE)
    if not counting:
        words[15] = SPIN                 # core 1 spins in b . and nothing can interrupt it
    struct.pack_into(f"<{len(words)}I", data, 0, *words)
    struct.pack_into("<I", data, 0xA00, 0x00000001)          # VBAR_EL1 (0x800) + 0x200: udf #1
    path = tmp_path / ("count.img" if counting else "spin.img")
    path.write_bytes(bytes(data))
    return str(path)


def test_a_stuck_core_halts_alone_and_the_others_run_on(tmp_path):
    board = Board()
    board.load(load_image(two_core_image(tmp_path, True), 2), 2)
    heard = []
    board.halt_listeners.append(lambda c: heard.append((c.index, c.fault)))
    reason = board.run(max_insns=3_000_000)
    assert reason.kind == "max_insns", reason
    assert board.cores[0].state == "halted" and "stuck" in board.cores[0].fault
    assert [i for i, _ in heard] == [0]
    assert board.cores[1].regs.read("X4") > 1_000_000          # core 1 went on counting


def test_the_run_ends_when_no_other_core_can_progress(tmp_path):
    board = Board()
    board.load(load_image(two_core_image(tmp_path, False), 2), 2)
    reason = board.run(max_insns=50_000_000)
    assert reason.kind == "halted" and "core 0" in reason.detail and "stuck" in reason.detail, reason
    assert board.instructions < 1_000_000
    assert board.run(max_insns=1_000).kind == "halted"          # and again at once, not a spin for ever
