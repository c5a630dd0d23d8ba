"""A core waiting in a WFE loop costs no host time, and the run is bit-identical
to executing it (Core.skip_idle on and off, whole-machine hashes and CPU contexts
compared), as for ``b .`` in tests/test_stuck_cores.py.

The image (assembled by hand, booted at EL2 as a raw kernel8.img): core 0
releases core 1 (spin table, SEV), then waits for a flag with
``wfe; ldr w3, [x1]; cbz w3, wait``; core 1 counts down 300,000 iterations, sets
the flag, and waits for ever in ``wfe; ldar x7, [x1]; cbnz x7, 2b``; core 0,
released, sets x4 = 7 and idles in ``wfe; b``.
"""
from __future__ import annotations

import gc
import struct

import pytest
from test_determinism import machine_hash
from test_stuck_cores import run  # skip_idle on or off, n instructions

from vizor.machine.board import Board, load_image
from vizor.machine.session.checkpoint import cpu_bytes

WORDS = [0xD53800A9, 0x92400529, 0x10000381, 0xB5000189, 0x10000160, 0xD2801C02, 0xF9000040, 0xD5033F9F,
         0xD503209F, 0xD503205F, 0xB9400023, 0x34FFFFC3, 0xD28000E4, 0xD503205F, 0x17FFFFFF, 0x100001E1,
         0x58000185, 0xF10004A5, 0x54FFFFE1, 0x52800026, 0xB9000026, 0xD5033F9F, 0xD503209F, 0xD503205F,
         0xC8DFFC27, 0xB5FFFFC7, 0x14000000, 0x00000000, 0x000493E0, 0x00000000, 0x00000000, 0x00000000]


def image(tmp_path) -> str:
    path = tmp_path / "wfe.img"
    path.write_bytes(struct.pack(f"<{len(WORDS)}I", *WORDS))
    return str(path)


@pytest.mark.parametrize("n", [1_000, 333_331, 2_000_003])
def test_wfe_waits_are_skipped_and_the_run_is_identical(tmp_path, n):
    path = image(tmp_path)
    gc.collect()
    executed, skipped = run(path, False, n), run(path, True, n)
    assert machine_hash(executed) == machine_hash(skipped), n
    assert [cpu_bytes(c.save_context()) for c in executed.cores] == \
        [cpu_bytes(c.save_context()) for c in skipped.cores]
    assert [c.instructions for c in executed.cores] == [c.instructions for c in skipped.cores]
    if n == 2_000_003:
        assert skipped.cores[0].regs.read("X4") == 7              # core 0 saw the flag and went on
        assert skipped.cores[0].skipped > n // 3                   # waits cost nothing
        assert skipped.cores[1].skipped > 0
    assert executed.cores[0].skipped == 0


def test_a_breakpoint_in_the_wait_is_hit_on_every_pass(tmp_path):
    from vizor.machine.debug import Debugger
    board = Board()
    board.load(load_image(image(tmp_path), 2), 2)
    dbg = Debugger(board)
    dbg.add_breakpoint(0x80028, core=0)                           # ldr w3, [x1] in core 0's wait
    for _ in range(5):
        reason = dbg.run(max_insns=2_000_000)
        assert reason.kind == "breakpoint" and board.cores[0].pc == 0x80028, reason
    assert board.cores[0].skipped == 0
