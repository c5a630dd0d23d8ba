"""What the tests of skipped waits share (test_busy_wait, test_clo_wait, test_quiet_poll):
a bench kernel booted with its wait patched, the machine compared bit for bit
with and without skipping, and a breakpoint in a skipped loop hit at the next
iteration."""

from __future__ import annotations

import os

from test_determinism import machine_hash

from vizor.machine.board import Board, load_image
from vizor.machine.session.checkpoint import cpu_bytes

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "images", "bench")


def bench_board(name: str, skip: bool, millis: int | None = None) -> Board:
    """images/bench/``name`` booted at EL2, its ``millis`` literal patched if given."""
    board = Board()
    board.load(load_image(os.path.join(BENCH, name), 2), 2)
    if millis is not None:
        board.write_ram(board.symbols.by_name["millis"], millis.to_bytes(8, "little"))
    for c in board.cores:
        c.skip_idle = skip
    return board


def assert_same_machine(a: Board, b: Board) -> None:
    assert machine_hash(a) == machine_hash(b)
    # the CPU's whole context, byte for byte: flags in QEMU's own representation too
    assert [cpu_bytes(c.save_context()) for c in a.cores] == [cpu_bytes(c.save_context()) for c in b.cores]


def assert_breakpoint_hit_each_iteration(board: Board, address: int, length: int, max_insns: int) -> None:
    """A breakpoint at ``address`` in a loop of ``length`` instructions stops twice,
    one iteration apart: none is skipped past it."""
    from vizor.machine.debug import Debugger
    dbg = Debugger(board)
    dbg.add_breakpoint(address)
    assert dbg.run(max_insns=max_insns).kind == "breakpoint"
    first = board.cores[0].instructions
    assert dbg.run(max_insns=max_insns).kind == "breakpoint"
    assert board.cores[0].instructions - first == length
