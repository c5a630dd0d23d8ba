"""Delay loops polling the system timer's CLO: read in C, skipped in one step, bit-identically.

images/bench/clowait.elf waits twice (see clowait.S): `CLO - start < n` in a
four-instruction loop, which vizor advances in one step (systimer.c counts the
reads from one PC and asks idle.py, which decodes the loop), and a 64-bit
CHI/CLO/CHI read in a called function, which quiet.py checks reads nothing
but the timer and systimer.c then advances within each microsecond.  Runs with skipping on and off, and with the native path on
and off (VIZOR_NATIVE=0), must agree on the whole machine at every
instruction count; QEMU prints the same lines.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from qemu_runner import qemu_available, run_qemu
from skip_checks import (
    assert_breakpoint_hit_each_iteration,
    assert_same_machine,
    bench_board,
)

import vizor.machine.cpu.accel as accel
from vizor.machine.board import Board

HERE = os.path.dirname(os.path.abspath(__file__))
CLOWAIT = os.path.join(HERE, "..", "images", "bench", "clowait.elf")
needs_accel = pytest.mark.skipif(accel.TIMER_READ is None, reason=f"native accelerator {accel.STATUS}")


def board_for(millis: int, skip: bool) -> Board:
    return bench_board("clowait.elf", skip, millis)


@pytest.mark.parametrize("n", [5_000, 600_017, 1_200_060, 1_500_001, 2_400_100, 2_500_000])
def test_a_clo_loop_skipped_is_the_loop_executed(n):
    skipped, executed = board_for(1, True), board_for(1, False)
    skipped.run(max_insns=n)
    executed.run(max_insns=n)
    assert_same_machine(skipped, executed)
    assert executed.cores[0].skipped == 0
    if n > 1_000_000 and accel.TIMER_READ is not None:
        assert skipped.cores[0].skipped > n // 3
    if n > 2_400_000 and accel.TIMER_READ is not None:   # the second wait is advanced too
        assert skipped.cores[0].skipped > 2_000_000


@needs_accel
def test_a_one_second_clo_wait_takes_a_few_slices():
    board = board_for(1000, True)
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    reason = board.run(max_insns=5_000_000_000, stop=lambda: "one" if "1\n" in "".join(out) else None)
    assert reason.kind == "stop" and "".join(out) == "wait\n1\n"
    core = board.cores[0]
    assert core.skipped > 1_190_000_000      # a second of 1.2 GHz, nearly none executed
    assert core.instructions - core.skipped < 2_000_000


@needs_accel
def test_the_called_function_wait_is_advanced_within_each_microsecond():
    """The second wait (CHI, CLO, CHI in a called function) is not decoded, but
    reads nothing but the timer: C advances it within each microsecond."""
    board = board_for(100, True)
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    board.run(max_insns=1_000_000_000, stop=lambda: "done" if "DONE\n" in "".join(out) else None)
    assert "".join(out) == "wait\n1\n2\nDONE\n"
    core = board.cores[0]
    assert core.instructions > 240_000_000                       # two waits of 0.1 s at 1.2 GHz
    assert core.instructions - core.skipped < core.instructions // 10


HASH_SCRIPT = r"""
import sys
sys.path[:0] = {paths!r}
from test_clo_wait import board_for
from test_determinism import machine_hash
board = board_for(1, True)
board.run(max_insns={n})
print(board.instructions, machine_hash(board))
"""


@needs_accel
@pytest.mark.parametrize("n", [1_300_000, 2_500_000])
def test_the_native_clo_reads_are_the_python_ones(n):
    code = HASH_SCRIPT.format(paths=[os.path.dirname(HERE), HERE], n=n)
    outs = []
    for native in ("1", "0"):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, VIZOR_NATIVE=native))
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.split())
    assert outs[0] == outs[1]


def test_a_breakpoint_inside_the_clo_loop_is_still_hit():
    board = board_for(1000, True)
    # the cmp: the next iteration, not a skipped one
    assert_breakpoint_hit_each_iteration(board, board.symbols.by_name["wait1"] + 8, 4, 5_000_000_000)


@needs_accel      # in Python a CLO read costs ~7 µs: 48 M of them would take a minute
@pytest.mark.skipif(not qemu_available(), reason="qemu-system-aarch64 not installed")
def test_the_clo_waits_print_what_qemu_prints(tmp_path):
    from elftools.elf.elffile import ELFFile
    board = board_for(20, True)
    data = bytearray(open(CLOWAIT, "rb").read())
    with open(CLOWAIT, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text")
        off = text["sh_offset"] + board.symbols.by_name["millis"] - text["sh_addr"]
    data[off:off + 8] = (20).to_bytes(8, "little")
    short = tmp_path / "clowait20.elf"
    short.write_bytes(bytes(data))
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    board.run(max_insns=1_000_000_000, stop=lambda: "done" if "DONE\n" in "".join(out) else None)
    assert run_qemu(str(short), timeout=30) == "".join(out) == "wait\n1\n2\nDONE\n"


@needs_accel
def test_a_recording_through_a_skipped_clo_wait_replays_identically(tmp_path):
    session = str(tmp_path / "clo.vzs")
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "run", CLOWAIT, "--max-insns", "30000000",
                        "--record", session, "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", session, "--verify"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "identical" in r.stderr, r.stderr
