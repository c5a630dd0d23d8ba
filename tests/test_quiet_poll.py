"""A core polling a quiet status register is skipped to the end of its slice, bit-identically.

images/bench/getc.elf waits for console input by polling the PL011's FR
(see getc.S).  With no input the poll is a fixed point, and vizor counts the
rest of each slice as executed (cpu/quiet.py).  Runs with skipping on and off
must agree on the whole machine at every instruction count, with input typed
at any moment; a loop that stores, or a breakpoint in it, is not skipped.
"""
from __future__ import annotations

import os

import pytest
from qemu_runner import qemu_available, run_qemu
from skip_checks import (
    assert_breakpoint_hit_each_iteration,
    assert_same_machine,
    bench_board,
)

from vizor.machine.board import Board
from vizor.machine.cpu.quiet import quiet_instruction

GETC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "images", "bench", "getc.elf")


def board_for(skip: bool) -> Board:
    return bench_board("getc.elf", skip)


def run_typing(board: Board, plan) -> str:
    """Run in pieces, typing into the PL011 between them; return its output."""
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    for n, typed in plan:
        board.run(max_insns=n)
        if typed:
            board.devices["pl011"].receive(typed)
    return "".join(out)


@pytest.mark.parametrize("plan", [
    [(5_000, None)],
    [(2_000_003, None)],
    [(700_001, b"a"), (900_000, None)],
    [(1_000_000, b"hi"), (1, b"!"), (1_234_567, b"x"), (300_000, None)],
], ids=["boot", "waiting", "typed", "typed-often"])
def test_a_skipped_poll_is_the_poll_executed(plan):
    skipped, executed = board_for(True), board_for(False)
    out_s, out_e = run_typing(skipped, plan), run_typing(executed, plan)
    assert out_s == out_e
    assert_same_machine(skipped, executed)
    assert executed.cores[0].skipped == 0
    if sum(n for n, _ in plan) > 1_000_000:
        assert skipped.cores[0].skipped > 500_000
    typed = b"".join(t for _, t in plan if t).decode()
    assert out_s == "ready\n" + typed


def test_waiting_for_input_executes_next_to_nothing():
    board = board_for(True)
    board.run(max_insns=400_000_000)               # 1/3 s of board time
    core = board.cores[0]
    assert core.instructions - core.skipped < core.instructions // 200


def test_a_breakpoint_in_the_poll_is_still_hit():
    board = board_for(True)
    # the tbnz: the next iteration, none skipped
    assert_breakpoint_hit_each_iteration(board, board.symbols.by_name["getc"] + 4, 2, 10_000_000)


@pytest.mark.parametrize("word,ok", [
    (0xB9401A81, True),     # ldr w1, [x20, #0x18]
    (0x3727FFE1, True),     # tbnz w1, #4, .-4
    (0x91000421, True),     # add x1, x1, #1
    (0xEB02003F, True),     # cmp x1, x2
    (0x54FFFFA3, True),     # b.lo
    (0xD65F03C0, True),     # ret
    (0xD503201F, True),     # nop
    (0xB9000281, False),    # str w1, [x20]
    (0x39000281, False),    # strb w1, [x20]
    (0xA9BF7BFD, False),    # stp x29, x30, [sp, #-16]!
    (0xB8210282, False),    # ldadd w1, w2, [x20]
    (0x885F7E81, False),    # ldxr w1, [x20]
    (0xBD401A80, False),    # ldr s0, [x20, #0x18]
    (0x1E212800, False),    # fadd s0, s0, s1
    (0xD53BE021, False),    # mrs x1, cntpct_el0
    (0xD51B4201, False),    # msr nzcv, x1
    (0xD503207F, False),    # wfi
    (0xD4000001, False),    # svc #0
])
def test_only_instructions_that_write_registers_alone_qualify(word, ok):
    assert quiet_instruction(word) is ok


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-aarch64 not installed")
def test_the_echo_prints_what_qemu_prints():
    board = board_for(True)
    out = run_typing(board, [(2_000_000, b"hi!\n"), (2_000_000, None)])
    assert run_qemu(GETC, timeout=30, until="hi!", input_bytes=b"hi!\n") == out == "ready\nhi!\n"
