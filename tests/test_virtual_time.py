"""Virtual time as a core sees it, also in the later slices of a round."""

from __future__ import annotations

import struct

from vizor.machine.board.board import Board
from vizor.machine.clock import counter_at
from vizor.machine.cpu.core import PARKED

# EL2: x5 = HCR_EL2.RW|TWI; x1 = CNTPCT; three MSR HCR_EL2 (each ends the slice:
# vizor strips TWI from QEMU's copy between slices); x2 = CNTPCT; b .
PROGRAM = (0xD2B00005, 0xB27300A5, 0xD53BE021, 0xD51C1105, 0xD51C1105, 0xD51C1105, 0xD53BE022, 0x14000000)


def test_the_counter_read_in_a_later_slice_of_a_round_is_the_cores_own_time():
    board = Board()
    board.write_ram(0x80000, b"".join(struct.pack("<I", w) for w in PROGRAM))
    core = board.cores[0]
    core.reset(0x80000, 2)
    for other in board.cores[1:]:
        other.state = PARKED
    board.run(max_insns=50_000)  # half of the first 100,000-cycle round
    assert board.clock.base == 0
    core.regs.write("PC", 0x80000)
    board.run(max_insns=20)
    x1, x2 = core.regs.x(1), core.regs.x(2)
    assert x1 == counter_at(50_002)  # the third instruction of the second run
    assert x2 >= x1 and x2 == counter_at(50_006)
