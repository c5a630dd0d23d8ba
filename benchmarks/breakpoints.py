"""What stop conditions cost while they do not fire.

    python benchmarks/breakpoints.py [--scale F] [--short]

Measured side by side in one run (median of 5 alternating runs each; the
process's CPU time, which other load on a shared machine disturbs less than
wall time does; nothing asserted, figures printed):

1. compute loop (images/bench/loop.elf): MIPS with no debugger, with a
   Debugger and 0 breakpoints, and with 20 breakpoints that never hit (on
   addresses the image never executes).  Goal (issue 7): 20 breakpoints
   within 5 % of none.
2. demo hypervisor (images/hyp/hyp.elf, trap-heavy, two mini OS VMs): MIPS
   with no breakpoint, and with a breakpoint on the mini OS ``schedule``
   filtered to a VMID that does not exist — every arrival in the real VMs is
   a filtered miss, the cost a VMID breakpoint has in the other VMs.

--short (for CI): one run of each at 5 % of the counts (2 M hypervisor instructions).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from vizor.machine.board.board import Board  # noqa: E402
from vizor.machine.board.loader import load_image  # noqa: E402
from vizor.machine.debug.engine import Debugger  # noqa: E402

LOOP = os.path.join(ROOT, "images", "bench", "loop.elf")
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
RUNS = 5


def loop_mips(iterations: int, breakpoints: int | None) -> float:
    image = load_image(LOOP)
    board = Board()
    board.load(image, 2)
    board.write_ram(image.symbols.by_name["iterations"], iterations.to_bytes(8, "little"))
    if breakpoints is not None:
        dbg = Debugger(board)
        for i in range(breakpoints):
            dbg.add_breakpoint(0x3000000 + 0x40 * i)  # never executed
    t0 = time.process_time()
    why = board.run(max_insns=64 * (iterations + 1000))
    wall = time.process_time() - t0
    assert why.kind == "idle", why
    return board.instructions / wall / 1e6


def hyp_mips(insns: int, miss: bool) -> tuple[float, int]:
    """MIPS after boot, and how many times a core arrived at ``schedule``."""
    board = Board()
    board.load(load_image(HYP), 2)
    board.run(max_insns=2_000_000)  # boot: the VMs are up
    arrivals = 0
    if miss:
        dbg = Debugger(board)
        dbg.add_breakpoint(board.contexts.resolve("schedule", 2), vmid=200)
        check = board.debug_check

        def counting(core):
            nonlocal arrivals
            arrivals += core.at_exit
            return check(core)
        board.debug_check = counting
    start = board.instructions
    t0 = time.process_time()
    why = board.run(max_insns=insns)
    wall = time.process_time() - t0
    assert why.kind == "max_insns", why
    return (board.instructions - start) / wall / 1e6, arrivals


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--short", action="store_true", help="CI mode: one run each, --scale 0.05")
    args = ap.parse_args()
    nruns, hruns = (1, 1) if args.short else (RUNS, 3)
    if args.short and args.scale == 1.0:
        args.scale = 0.05
    iters = int(20_000_000 * args.scale)
    runs: dict[str, list[float]] = {"none": [], "debugger, 0 breakpoints": [], "20 breakpoints": []}
    for _ in range(nruns):  # alternate, so that load on the machine hits all alike
        runs["none"].append(loop_mips(iters, None))
        runs["debugger, 0 breakpoints"].append(loop_mips(iters, 0))
        runs["20 breakpoints"].append(loop_mips(iters, 20))
    base = statistics.median(runs["none"])
    print(f"compute loop, {iters * 8 / 1e6:.0f} M instructions, median of {nruns}:")
    for name, values in runs.items():
        m = statistics.median(values)
        print(f"  {name:<26} {m:8.1f} MIPS  {100 * m / base:6.1f} %")
    n = int(5_000_000 * args.scale)
    if args.short:
        n = max(n, 2_000_000)   # enough for the mini OS guests to reach schedule
    plain = [hyp_mips(n, False)[0] for _ in range(hruns)]
    missed = [hyp_mips(n, True) for _ in range(hruns)]
    p, m = statistics.median(plain), statistics.median(x for x, _ in missed)
    print(f"demo hypervisor, {n / 1e6:.2f} M instructions after boot, median of {hruns}:")
    print(f"  no breakpoint              {p:8.2f} MIPS  100.0 %")
    print(f"  schedule@vmid=200 (misses) {m:8.2f} MIPS  {100 * m / p:6.1f} %  "
          f"({missed[0][1]} filtered arrivals per run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
