"""Emulation throughput with the TUI's panes refreshing, against headless Board.run.

    python benchmarks/tui.py [--insns N] [--runs R]

For each image (images/bench/loop.elf: a compute loop on core 0;
images/bench/tick.elf: four busy cores with a 1 kHz CNTHP tick each), the loop
iteration count is patched to "for ever" and the board runs exactly N
instructions (all cores together):

1. headless: ``Board.run(max_insns=N)``, MIPS = N / wall time;
2. TUI: the Textual app (headless driver, 120x36, every pane mounted, the
   runner publishing a snapshot every 80 ms and the panes rendering it) is
   sent ``Run(max_insns=N)``; MIPS = N / wall time from the command to the
   paused snapshot.

Prints medians of R runs and the ratio TUI / headless (goal >= 85 %).
Nothing is asserted; the machine is shared, so figures vary by a few percent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vizor import runner as R  # noqa: E402
from vizor.app import VizorApp  # noqa: E402
from vizor.machine.board import Board  # noqa: E402
from vizor.machine.loader import load_image  # noqa: E402

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "images", "bench")
FOREVER = 1 << 62


def fresh_board(path: str) -> Board:
    image = load_image(path)
    board = Board()
    board.load(image)
    board.write_ram(image.symbols.by_name["iterations"], FOREVER.to_bytes(8, "little"))
    return board


def headless(path: str, n: int) -> float:
    board = fresh_board(path)
    t = time.perf_counter()
    board.run(max_insns=n)
    return n / (time.perf_counter() - t) / 1e6


async def _tui(path: str, n: int) -> tuple[float, int]:
    board = fresh_board(path)
    runner = R.Runner(board, lambda _o: None, image=os.path.basename(path))
    app = VizorApp(runner, board.symbols, image=os.path.basename(path))
    async with app.run_test(size=(120, 36)) as pilot:
        while app.snapshot is None:
            await pilot.pause(0.01)
        serial = app.snapshot.serial
        t = time.perf_counter()
        runner.send(R.Run(max_insns=n))
        while not (app.snapshot.instructions >= n and not app.snapshot.running):
            await asyncio.sleep(0.002)
        wall = time.perf_counter() - t
        snapshots = app.snapshot.serial - serial
        await pilot.press("q")
    return n / wall / 1e6, snapshots


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--insns", type=int, default=300_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"{args.insns:,} instructions per run, median of {args.runs}")
    print(f"{'image':<10} {'headless MIPS':>14} {'TUI MIPS':>10} {'snapshots/s':>12} {'TUI/headless':>13}")
    for name in ("loop.elf", "tick.elf"):
        path = os.path.join(BENCH, name)
        base = statistics.median(headless(path, args.insns) for _ in range(args.runs))
        tui = [asyncio.run(_tui(path, args.insns)) for _ in range(args.runs)]
        mips = statistics.median(m for m, _ in tui)
        rate = statistics.median(s / (args.insns / (m * 1e6)) for m, s in tui)
        print(f"{name:<10} {base:>14.1f} {mips:>10.1f} {rate:>12.1f} {mips / base:>12.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
