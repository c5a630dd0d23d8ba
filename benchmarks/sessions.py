"""What saved sessions cost (issue 8's figures), side by side in one run.

    python benchmarks/sessions.py [--insns N]

On the demo hypervisor (images/hyp/hyp.elf), N instructions (default 100 M):

1. recording overhead: process CPU time of a plain ``Board.run`` against the
   same run through a ``Recorder`` (checkpoint every 25 M instructions);
   goal <= 10 %;
2. the session file's size, and that size per 100 M instructions;
3. the latency of one reverse step (``reverse.step_back``) of a running core
   at the end of the recorded run, i.e. N instructions in, after playing the
   replay there as the TUI does (it keeps an in-memory checkpoint every half
   second of replay; here every 2.5 M instructions): restore the nearest
   checkpoint and run forward to that core's previous instruction; goal <= 0.5 s.

Nothing is asserted; the figures are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from vizor.machine.board import Board  # noqa: E402
from vizor.machine.loader import load_image  # noqa: E402
from vizor.machine.replay import Replay  # noqa: E402
from vizor.machine.reverse import step_back  # noqa: E402
from vizor.machine.session import Recorder, load_session, read_image_bytes  # noqa: E402

HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")


def plain(n: int) -> float:
    board = Board()
    board.load(load_image(HYP), 2)
    t0 = time.process_time()
    board.run(max_insns=n)
    return time.process_time() - t0


def recorded(n: int, path: str) -> float:
    board = Board()
    board.load(load_image(HYP), 2)
    t0 = time.process_time()
    rec = Recorder(board, path, read_image_bytes(HYP), image_name="hyp.elf", boot_el=2)
    rec.run(max_insns=n)
    rec.close()
    return time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--insns", type=int, default=100_000_000)
    args = ap.parse_args()
    n = args.insns
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hyp.vzs")
        p1, r1 = plain(n), recorded(n, path)
        p2, r2 = plain(n), recorded(n, path)  # twice, alternating, against other load
        p, r = min(p1, p2), min(r1, r2)
        size = os.path.getsize(path)
        replay = Replay(load_session(path))
        # play it to the end as the TUI does, which keeps an in-memory
        # checkpoint every half second of replay (here: every 2.5 M instructions)
        while replay.board.instructions < n:
            replay.run(max_insns=min(2_500_000, n - replay.board.instructions))
            replay.remember()
        # a core that is running there (one asleep in WFI last executed long before)
        running = [c for c in replay.board.cores if c.state == "running"] or replay.board.cores
        core = max(running, key=lambda c: c.instructions).index
        t0 = time.perf_counter()
        step_back(replay, core)
        back = time.perf_counter() - t0
    print(f"demo hypervisor, {n:,} instructions (process CPU time, best of 2):")
    print(f"  plain run            {p:7.2f} s")
    print(f"  recorded run         {r:7.2f} s   overhead {100 * (r - p) / p:5.1f} %  (goal <= 10 %)")
    print(f"  session file         {size / 1e6:7.2f} MB  = {size / 1e6 * 1e8 / n:.2f} MB per 100 M instructions")
    print(f"  one reverse step at {n:,}: {back:.3f} s wall  (goal <= 0.5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
