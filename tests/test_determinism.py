"""Two runs of the same image give the same instruction-by-instruction state."""

from __future__ import annotations

import hashlib

from conformance import image

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.cpu.regs import X_IDS


def machine_hash(board: Board) -> str:
    h = hashlib.blake2b()
    for c in board.cores:
        for rid in X_IDS:
            h.update(c.uc.reg_read(rid).to_bytes(8, "little"))
        for name in ("PC", "SP", "PSTATE", "ELR_EL1", "ELR_EL2", "ESR_EL1", "ESR_EL2"):
            h.update(c.regs.read(name).to_bytes(8, "little"))
        h.update(c.state.encode())
    h.update(board.ram)
    h.update(board.clock.base.to_bytes(8, "little"))
    return h.hexdigest()


def run(n: int, name: str = "smp_spinlock.elf") -> Board:
    board = Board()
    board.load(load_image(image(name)), 2)
    board.run(max_insns=n)
    return board


def test_two_runs_hash_the_same_mid_way_through_a_four_core_spinlock():
    a, b = run(2_345_678), run(2_345_678)
    assert a.instructions == b.instructions == 2_345_678
    assert machine_hash(a) == machine_hash(b)


def test_a_run_split_in_two_equals_one_run():
    whole = run(1_500_001)
    split = Board()
    split.load(load_image(image("smp_spinlock.elf")), 2)
    split.run(max_insns=700_000)
    split.run(max_insns=800_001)
    assert machine_hash(whole) == machine_hash(split)


def test_different_instruction_counts_hash_differently():
    assert machine_hash(run(1_000_000)) != machine_hash(run(1_000_001))
