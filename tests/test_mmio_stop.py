"""A stop asked for inside an MMIO access falls after that instruction, which
completes exactly once (Unicorn abandons it and would run it, and its access,
again); a WFI that is the last instruction of a slice's budget still sleeps.
Both made a recording that ended there fail its own --verify."""

from __future__ import annotations

import os
import struct
import subprocess
import sys

import pytest
from test_determinism import machine_hash

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXC = os.path.join(ROOT, "images", "tests", "exc_levels.elf")


def uart_run(stop_at: int):
    board = Board()
    board.load(load_image(EXC))
    out: list[str] = []

    def listen(_uart, byte):
        out.append(chr(byte))
        if len(out) == stop_at:
            board.request_stop()          # inside the store to the UART's data register
    board.uart_listeners.append(listen)
    if stop_at:
        board.run(max_insns=100_000, stop=lambda: "seen" if len(out) >= stop_at else None)
    stopped = board.cores[0].pc, board.cores[0].instructions
    board.run(max_insns=40_000 - board.instructions)
    return stopped, "".join(out), machine_hash(board)


def test_a_stop_inside_a_uart_store_falls_after_it_and_the_byte_is_sent_once():
    (pc, _n), text, h = uart_run(5)
    (_, _), plain_text, plain_h = uart_run(0)
    store = load_image(EXC).symbols.by_name["puts"] + 0x28    # str w3, [x4]: the data register
    assert pc == store + 4
    assert text == plain_text and h == plain_h


def test_a_stop_inside_an_unmodelled_load_falls_after_it_and_it_is_logged_once():
    board = Board()
    board.load(load_image(EXC))
    code = [0xD2A7E000,   # movz x0, #0x3f00, lsl #16
            0xF2920000,   # movk x0, #0x9000: 0x3f009000, nothing is there
            0xB9400001,   # ldr w1, [x0]
            0x91000442,   # add x2, x2, #1
            0x14000000]   # b .
    board.write_ram(0x100000, b"".join(struct.pack("<I", w) for w in code))
    core = board.cores[0]
    core.reset(0x100000, 2)
    for other in board.cores[1:]:
        other.state = "parked"
    dbg = Debugger(board)
    dbg.add_event_stop("mmio")
    reason = dbg.run(max_insns=1000)
    assert reason.kind == "mmio" and core.pc == 0x10000C and core.instructions == 3
    dbg.run(max_insns=10)
    assert len(board.bus.unmodelled) == 1 and core.regs.x(2) == 1


def test_a_wfi_that_ends_a_slices_budget_still_sleeps():
    live = Board()
    live.load(load_image(EXC))
    assert live.run(max_insns=10_000_000).kind == "idle"
    states = [c.state for c in live.cores]
    cut = Board()
    cut.load(load_image(EXC))
    cut.run(max_insns=live.instructions)          # the count ends exactly at the last WFI
    assert [c.state for c in cut.cores] == states and "running" not in states


@pytest.mark.parametrize("until", [None, "exc_levels"])
def test_a_recording_that_ends_idle_or_at_until_uart_verifies_identical(until, tmp_path):
    path = str(tmp_path / "s.vzs")
    cmd = [sys.executable, "-m", "vizor.cli", "run", EXC, "--record", path, "--quiet"]
    r = subprocess.run(cmd + (["--until-uart", until] if until else []), capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", path, "--verify"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and "identical" in r.stderr, r.stderr
