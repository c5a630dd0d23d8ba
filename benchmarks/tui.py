"""Emulation throughput with the TUI's panes refreshing, against headless Board.run.

    python benchmarks/tui.py [--runs R] [--loop-insns N] [--hyp-insns N] [--short]

Two images:

- images/bench/loop.elf: a compute loop on core 0 (iteration count patched to
  "for ever"), N instructions from reset;
- images/hyp/hyp.elf: the demo hypervisor, trap-heavy (every guest MMIO access
  is a stage-2 abort, taken in C once classified; WFI traps, timer IRQs, VM switches);
  warmed up headless past the boot (HYP_WARMUP instructions, not timed), then
  N instructions of its steady state with the guests running.

For each image the board runs exactly N instructions (all cores together):

1. headless: ``Board.run(max_insns=N)``, MIPS = N / wall time;
2. TUI: the Textual app (headless driver, 120x36, every pane mounted, the
   runner publishing a snapshot every ~98 ms and the panes rendering it)
   over the machine in its own process (``vizor.driver.remote``, as ``vizor boot``
   runs it) is sent ``Run(max_insns=N)``; the wall time runs from the
   command to the moment the paused snapshot arrives (taken in the thread
   that relays the child's objects, so the benchmark's own waiting does not
   disturb the measurement);
3. thread: the same with the runner in a thread of the UI's process (what
   ``vizor.driver.remote`` avoids; printed for comparison).

Prints medians of R runs, the snapshots per second the UI received and the
ratios TUI / headless (goal >= 85 %) and thread / headless.  Nothing is
asserted; the machine is shared, so figures vary by several percent between
runs.

--short (for CI): one run, 20 M loop instructions, 1 M hypervisor
instructions after a 2 M warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import vizor.driver.runner as R  # noqa: E402
from vizor.app.app import VizorApp  # noqa: E402
from vizor.driver.remote import RemoteRunner  # noqa: E402
from vizor.machine.board.board import Board  # noqa: E402
from vizor.machine.board.loader import load_image  # noqa: E402
from vizor.machine.inspect.snapshot import BoardState  # noqa: E402

FOREVER = 1 << 62
HYP_WARMUP = 20_000_000   # the hypervisor has booted and both mini OS guests run


def fresh_board(path: str) -> Board:
    """The image loaded; the hypervisor also warmed up (HYP_WARMUP, not timed)."""
    image = load_image(path)
    board = Board()
    board.load(image)
    if "iterations" in image.symbols.by_name:
        board.write_ram(image.symbols.by_name["iterations"], FOREVER.to_bytes(8, "little"))
    else:
        board.run(max_insns=HYP_WARMUP)
    return board


def headless(path: str, n: int) -> float:
    board = fresh_board(path)
    t = time.perf_counter()
    board.run(max_insns=n)
    return n / (time.perf_counter() - t) / 1e6


async def _tui(path: str, n: int, apart: bool) -> tuple[float, float]:
    board = fresh_board(path)
    target = board.instructions + n
    runner = R.Runner(board, lambda _o: None, image=os.path.basename(path))
    if apart:
        runner = RemoteRunner(runner)    # forked here, before the app starts its threads
    app = VizorApp(runner, board.symbols, image=os.path.basename(path))
    done = threading.Event()
    count = [0, 0.0]
    to_app = runner.publish

    def publish(obj) -> None:            # runs in the machine thread
        if isinstance(obj, BoardState):
            count[0] += 1
            if not obj.running and obj.instructions >= target and not done.is_set():
                count[1] = time.perf_counter()
                done.set()
        to_app(obj)

    runner.publish = publish
    async with app.run_test(size=(120, 36)) as pilot:
        while app.snapshot is None:
            await pilot.pause(0.05)
        await pilot.pause(0.3)           # the first full render is done
        first = count[0]
        t = time.perf_counter()
        runner.send(R.Run(max_insns=n))
        while not done.is_set():
            await asyncio.sleep(0.05)
        wall = count[1] - t
        rate = (count[0] - first) / wall
        await pilot.press("q")
    return n / wall / 1e6, rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--loop-insns", type=int, default=1_000_000_000)
    ap.add_argument("--hyp-insns", type=int, default=15_000_000)
    ap.add_argument("--short", action="store_true", help="CI mode: one run, small counts")
    args = ap.parse_args()
    if args.short:
        global HYP_WARMUP
        HYP_WARMUP = 2_000_000
        args.runs, args.loop_insns, args.hyp_insns = 1, 20_000_000, 1_000_000
    print(f"median of {args.runs} runs; TUI = the machine in its own process, as `vizor boot` runs it; "
          f"thread = the machine in a thread of the UI's process")
    print(f"{'image':<10} {'instructions':>13} {'headless MIPS':>14} {'TUI MIPS':>9} {'snapshots/s':>12} "
          f"{'TUI/headless':>13} {'thread/headless':>16}")
    for path, n in ((os.path.join(ROOT, "images", "bench", "loop.elf"), args.loop_insns),
                    (os.path.join(ROOT, "images", "hyp", "hyp.elf"), args.hyp_insns)):
        base, tui, thread = [], [], []
        for _ in range(args.runs):        # interleaved, so a busy moment hits all three
            base.append(headless(path, n))
            tui.append(asyncio.run(_tui(path, n, apart=True)))
            thread.append(asyncio.run(_tui(path, n, apart=False)))
        b = statistics.median(base)
        mips = statistics.median(m for m, _ in tui)
        rate = statistics.median(r for _, r in tui)
        same = statistics.median(m for m, _ in thread)
        print(f"{os.path.basename(path):<10} {n:>13,} {b:>14.2f} {mips:>9.2f} {rate:>12.1f} {mips / b:>12.1%} "
              f"{same / b:>15.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
