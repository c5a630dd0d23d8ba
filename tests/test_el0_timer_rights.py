"""EL0's access to the counters follows CNTKCTL_EL1, which only QEMU holds (an
MSR to it has no vizor hook): vizor reads it when EL0 touches a timer.

Hand-assembled, booted at EL2: EL1 sets CNTKCTL_EL1.EL0PCTEN and ERETs to EL0,
which reads CNTPCT_EL0 (allowed), takes an SVC whose handler clears CNTKCTL_EL1,
and reads CNTPCT_EL0 again: now trapped to EL1 with EC 0x18 (the handler keeps
ESR in x11 and skips the MRS)."""
from __future__ import annotations

import struct

from vizor.machine.board import Board, load_image

BOOT = [0x58000300, 0xD51C1100, 0xD2800060, 0xD51CE100, 0x10003F80, 0xD518C000, 0x100000A0,
        0xD51C4020, 0xD28078A0, 0xD51C4000, 0xD69F03E0,                      # EL2: to EL1 at el1
        0xD2800020, 0xD518E100, 0x10000080, 0xD5184020, 0xD518401F, 0xD69F03E0,  # el1: CNTKCTL = 1; to EL0
        0xD53BE025, 0xD2800026, 0xD4000001, 0xD53BE027, 0xD2800028, 0x14000000,  # el0
        0x00000000, 0x80000000, 0x00000000]
LOWER_SYNC = [0xD5385209, 0xD35AFD2A, 0xF100555F, 0x54000061, 0xD518E11F, 0xD69F03E0,   # SVC: CNTKCTL = 0
              0xAA0903EB, 0x910005AD, 0xD538402C, 0x9100118C, 0xD518402C, 0xD69F03E0]  # else: x11 = ESR, x13++, skip


def test_el0_counter_access_follows_cntkctl_written_without_a_hook(tmp_path):
    data = bytearray(0xC30)
    struct.pack_into(f"<{len(BOOT)}I", data, 0, *BOOT)
    struct.pack_into(f"<{len(LOWER_SYNC)}I", data, 0xC00, *LOWER_SYNC)   # VBAR_EL1 0x800 + 0x400
    path = tmp_path / "el0timer.img"
    path.write_bytes(bytes(data))
    board = Board()
    board.load(load_image(str(path), 2), 2)
    board.run(max_insns=200)
    core = board.cores[0]
    x = {n: core.regs.read(f"X{n}") for n in (6, 8, 11, 13)}
    assert x[6] == 1 and x[8] == 1                     # EL0 ran to its end
    assert x[13] == 1                                  # one trap: the first read was allowed ...
    assert x[11] >> 26 == 0x18                          # ... but trapped to EL1 as an MRS
    assert (x[11] >> 1) & 0xF == 0 and x[11] & 1 == 1   # (CRm 0, a read)
