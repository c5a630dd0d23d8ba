"""Delay loops polling the generic timer are advanced in one step, bit-identically.

images/bench/delay.elf waits three times in three shapes of loop (a deadline
with CNTPCT, elapsed ticks with a SUB, CNTVCT with the compare's operands
swapped; see delay.S).  Runs with the skipping on and off must agree, whole
machine hash included, at every instruction count: mid-loop, at a loop's exit
and after it.  On QEMU the same image prints the same lines.
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

DELAY = os.path.join(os.path.dirname(__file__), "..", "images", "bench", "delay.elf")


def board_for(millis: int, skip: bool) -> Board:
    return bench_board("delay.elf", skip, millis)


@pytest.mark.parametrize("n", [5_000, 1_000_003, 1_200_030, 2_400_101, 3_000_000, 3_600_200])
def test_a_polling_loop_skipped_is_the_loop_executed(n):
    skipped, executed = board_for(1, True), board_for(1, False)
    skipped.run(max_insns=n)
    executed.run(max_insns=n)
    assert_same_machine(skipped, executed)
    assert executed.cores[0].skipped == 0
    if n > 1_000_000:
        assert skipped.cores[0].skipped > n // 2


def test_a_one_second_wait_takes_a_few_slices():
    board = board_for(1000, True)
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    reason = board.run(max_insns=5_000_000_000, stop=lambda: "done" if "DONE\n" in "".join(out) else None)
    assert reason.kind == "stop" and "".join(out) == "wait\n1\n2\n3\nDONE\n"
    core = board.cores[0]
    assert core.skipped > 3_500_000_000      # three seconds of 1.2 GHz, nearly none executed
    assert core.instructions - core.skipped < 2_000_000


def test_a_breakpoint_inside_the_loop_is_still_hit():
    board = board_for(1000, True)
    # the cmp of the second loop: the next iteration, not a skipped one
    assert_breakpoint_hit_each_iteration(board, board.symbols.by_name["wait2"] + 8, 4, 5_000_000_000)


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-aarch64 not installed")
def test_the_delays_print_what_qemu_prints(tmp_path):
    data = bytearray(open(DELAY, "rb").read())
    board = board_for(50, True)          # the ELF's file offset of `millis`: via the board's symbols
    from elftools.elf.elffile import ELFFile
    with open(DELAY, "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")
        off = text["sh_offset"] + board.symbols.by_name["millis"] - text["sh_addr"]
    data[off:off + 8] = (50).to_bytes(8, "little")
    short = tmp_path / "delay50.elf"
    short.write_bytes(bytes(data))
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    board.run(max_insns=1_000_000_000, stop=lambda: "done" if "DONE\n" in "".join(out) else None)
    assert run_qemu(str(short), timeout=30) == "".join(out) == "wait\n1\n2\n3\nDONE\n"


def test_the_summary_counts_what_was_skipped_and_no_skip_idle_executes_it(capsys):
    from vizor.cli.main import main
    assert main(["run", DELAY, "--max-insns", "3000000"]) == 0
    skipping = capsys.readouterr().err
    assert main(["run", DELAY, "--max-insns", "3000000", "--no-skip-idle"]) == 0
    executing = capsys.readouterr().err
    assert "skipped: " in skipping and "skipped" not in executing
    assert skipping.splitlines()[1] == executing.splitlines()[1]     # instructions and virtual time
    assert skipping.splitlines()[2] == executing.splitlines()[2]     # core 0: EL, state, PC, count


def test_a_recording_through_skipped_waits_replays_identically(tmp_path):
    import subprocess
    import sys
    session = str(tmp_path / "delay.vzs")
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "run", DELAY, "--until-uart", "DONE", "--record",
                        session, "--quiet"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", session, "--verify"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "identical" in r.stderr, r.stderr
