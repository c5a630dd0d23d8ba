"""Guest RAM costs host memory only where the guest (or a load) wrote it.

The board's 1 GB of RAM is a private anonymous mapping: a page never written
reads as the kernel's shared zero page.  It once was a *shared* anonymous
mapping (Python's mmap default), where reading a page commits it: every
whole-RAM read (a state hash, a checkpoint's block scan) cost 1 GB, and a
parallel test run was killed by the kernel's OOM killer.  The oracle is the
kernel's own accounting (/proc/self/statm, /proc/self/smaps_rollup).
"""
from __future__ import annotations

import gc
import hashlib
import os

import pytest

from vizor.machine.board import Board, load_image

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="Linux /proc needed")

MB = 1 << 20


def committed() -> int:
    """Bytes of this process resident in RAM (the zero page is not counted)."""
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no Rss in /proc/self/smaps_rollup")


def test_reading_all_of_ram_commits_no_memory():
    gc.collect()
    board = Board()
    before = committed()
    h = hashlib.blake2b()
    h.update(board.ram)              # every page of the 1 GB read once
    h.update(bytes(board.ram[:MB]))
    after = committed()
    assert after - before < 64 * MB, f"reading RAM committed {(after - before) // MB} MB"


def test_a_run_commits_about_what_the_guest_writes(tmp_path):
    from test_determinism import image, machine_hash
    gc.collect()
    before = committed()
    boards = []
    for _ in range(3):
        b = Board()
        b.load(load_image(image("smp_spinlock.elf")), 2)
        b.run(max_insns=200_000)
        machine_hash(b)
        boards.append(b)
    grown = committed() - before
    assert grown < 3 * 128 * MB, f"three small runs committed {grown // MB} MB"
