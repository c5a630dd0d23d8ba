"""The per-core cache of fault-classification walks (faults.walk_for) is never stale."""

from __future__ import annotations

from vizor.machine.board.board import Board
from vizor.machine.cpu.faults import walk_for

TABLE = 0x100000
BLOCK_1G = 0x40000000


def el2_with_mmu(board: Board):
    core = board.cores[0]
    core.reset(0x80000, 2)
    # TCR_EL2: T0SZ=25 (39-bit VA, start at level 1), 4 KiB granule, PS=32 bits
    core.set_sysreg("TCR_EL2", 25 | (0 << 14))
    core.set_sysreg("MAIR_EL2", 0xFF)
    core.set_sysreg("TTBR0_EL2", TABLE)
    core.set_sysreg("SCTLR_EL2", core.sysreg("SCTLR_EL2") | 1)
    return core


def set_l1(board: Board, index: int, desc: int) -> None:
    board.write_ram(TABLE + 8 * index, desc.to_bytes(8, "little"))


def test_an_unchanged_table_reuses_the_cached_walk():
    board = Board()
    core = el2_with_mmu(board)
    set_l1(board, 0, 0x0 | (1 << 10) | 1)  # 1 GiB block at PA 0, AF, valid
    first = walk_for(core, 0x1234, 2, "r")
    assert first.fault is None and first.output == 0x1234
    assert walk_for(core, 0x1234, 2, "r") is first


def test_a_descriptor_changed_without_tlb_maintenance_is_seen():
    board = Board()
    core = el2_with_mmu(board)
    set_l1(board, 0, (1 << 10) | 1)
    assert walk_for(core, 0x1234, 2, "r").fault is None
    set_l1(board, 0, 0)  # now invalid: no TLBI, the cache must notice by itself
    walk = walk_for(core, 0x1234, 2, "r")
    assert walk.fault is not None and walk.fault.kind == "translation" and walk.fault.level == 1
    set_l1(board, 0, (1 << 10) | 1)  # valid again
    assert walk_for(core, 0x1234, 2, "r").fault is None


def test_a_register_change_is_a_different_walk():
    board = Board()
    core = el2_with_mmu(board)
    set_l1(board, 0, (1 << 10) | 1)
    assert walk_for(core, 0x1234, 2, "r").output == 0x1234
    board.write_ram(0x200000, ((0x3000_0000 & ~(BLOCK_1G - 1)) | (1 << 10) | 1).to_bytes(8, "little"))
    core.set_sysreg("TTBR0_EL2", 0x200000)
    assert walk_for(core, 0x1234, 2, "r").output == 0x1234  # block 0 of the new table: PA 0 again
    board.write_ram(0x200000, (BLOCK_1G | (1 << 10) | 1).to_bytes(8, "little"))
    assert walk_for(core, 0x1234, 2, "r").output == BLOCK_1G + 0x1234
