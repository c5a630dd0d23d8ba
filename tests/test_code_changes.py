"""Code written by one core and run by another after IC maintenance.

Each core is its own Unicorn instance with its own translated code: QEMU
drops a translation when its own instance writes the code, never when another
core does.  vizor applies IC IVAU / IALLU / IALLUIS itself (Core._code_changed,
accel.c): the executing core drops the line (or all); the other cores drop
their translations of the line's PA (IVAU), or all of their code before they
next run (IALLUIS).  A core that no other core ran beside
since it last dropped its code keeps IC maintenance in C, since only its own
writes, which QEMU saw, can have changed its code.  Hand-assembled A64 words.
"""
from __future__ import annotations

from vizor.machine.board.board import Board
from vizor.machine.cpu.corestate import HALTED, RUNNING

F = 0x90000                   # the function that is rewritten: movz x1, #N; ret
MOVZ_X1 = {1: 0xD2800021, 2: 0xD2800041}
RET = 0xD65F03C0
B_SELF = 0x14000000
WAIT_X5 = 0xB4000005          # cbz x5, .
STR_W2_X3 = 0xB9000062        # str w2, [x3]
IC_IVAU_X3 = 0xD50B7523
DSB_ISH = 0xD5033B9F
ISB = 0xD5033FDF


def bl(at: int, to: int) -> int:
    return 0x94000000 | (((to - at) >> 2) & 0x3FFFFFF)


def put(board: Board, at: int, words) -> None:
    board.ram[at:at + 4 * len(words)] = b"".join(w.to_bytes(4, "little") for w in words)


def board_with(reader, writer) -> Board:
    """Core 0 runs ``reader`` at 0x80000 (x3 = F), core 1 ``writer`` at 0xA0000
    (x2 = the new first word of F, x3 = F); both wait until released."""
    board = Board()
    put(board, F, [MOVZ_X1[1], RET])
    put(board, 0x80000, reader)
    put(board, 0xA0000, writer)
    board.flush_code_caches()
    for c, pc in ((board.cores[0], 0x80000), (board.cores[1], 0xA0000)):
        c.reset(pc, 2)
        c.regs.set_x(3, F)
    board.cores[1].regs.set_x(2, MOVZ_X1[2])
    for c in board.cores[1:]:
        c.state = HALTED
    return board


def reader_code(ic: bool):
    words = [bl(0x80000, F), WAIT_X5]                      # x1 = 1, then wait for x5
    words += [IC_IVAU_X3, DSB_ISH] if ic else []
    words += [ISB]
    at = 0x80000 + 4 * len(words)
    return words + [bl(at, F), B_SELF]


def run_phases(board: Board) -> int:
    core0, core1 = board.cores[0], board.cores[1]
    board.run(max_insns=1_000)                      # core 0 runs F once and waits
    assert core0.regs.x(1) == 1
    core0.state, core1.state = HALTED, RUNNING      # core 1 alone rewrites F
    board.run(max_insns=1_000)
    core0.state, core1.state = RUNNING, HALTED      # core 0 alone again
    assert int.from_bytes(board.ram[F:F + 4], "little") == MOVZ_X1[2]
    core0.regs.set_x(5, 1)                          # release core 0: it runs F again
    board.run(max_insns=1_000)
    assert core0.fault is None and core1.fault is None, (core0.fault, core1.fault)
    return core0.regs.x(1)


def test_the_reader_ic_ivau_drops_code_another_core_wrote():
    board = board_with(reader_code(ic=True), [STR_W2_X3, B_SELF])
    assert run_phases(board) == 2


def test_the_writer_ic_ivau_reaches_the_other_cores():
    board = board_with(reader_code(ic=False), [STR_W2_X3, DSB_ISH, IC_IVAU_X3, DSB_ISH, B_SELF])
    assert run_phases(board) == 2


def test_a_core_rewriting_its_own_code_alone_sees_it_at_once():
    code = [bl(0x80000, F), 0xB9000062, IC_IVAU_X3, DSB_ISH, ISB]     # str w2, [x3] between
    code += [bl(0x80000 + 4 * len(code), F), B_SELF]
    board = board_with(code, [B_SELF])
    board.cores[0].regs.set_x(2, MOVZ_X1[2])
    board.run(max_insns=1_000)
    assert board.cores[0].regs.x(1) == 2


def test_another_cores_ivau_drops_exactly_that_lines_translation_by_pa():
    """Core.drop_code: QEMU's invalidation by PA in another core's instance, which
    may map the line at another VA or not at all.  The core keeps its stale
    translation without it, and drops only the lines named."""
    board = Board()
    assert board.code_by_pa
    other = 0x91000
    put(board, F, [MOVZ_X1[1], RET])
    put(board, other, [MOVZ_X1[1], RET])
    core = board.cores[1]

    def x1_after(at: int) -> int:
        core.reset(at, 2)
        core.uc.emu_start(at, 0xFFFFFFFFFFFFFFFF, 0, 1)
        return core.regs.x(1)

    assert x1_after(F) == 1 and x1_after(other) == 1
    put(board, F, [MOVZ_X1[2]])          # written behind the instance's back, as by another core
    put(board, other, [MOVZ_X1[2]])
    assert x1_after(F) == 1 and x1_after(other) == 1   # stale: translated before
    board.cores[0]._others_drop([F])
    assert x1_after(F) == 2 and x1_after(other) == 1   # only the line named is dropped
