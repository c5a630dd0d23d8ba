"""Throughput of vizor against its engine and against QEMU.

    python benchmarks/throughput.py [--scale F] [--no-qemu] [--short]

Measures, side by side in one run (median of 3 runs each, wall time with
time.perf_counter(); nothing is asserted, the figures are only printed):

1. compute loop (images/bench/loop.elf, 8 instructions per iteration):
   a. vizor: Board(), board.load(image, 2), board.run() to the final WFI,
      MIPS = board.instructions / wall time of board.run;
   b. one bare Unicorn instance (A53, fresh = EL1, MMU off, code at the same
      address) running the loop unbounded: emu_start(entry, until=done) —
      the engine's ceiling;
   c. the same bare instance in count-limited slices of 100,000 instructions
      (vizor's quantum): vizor is printed as a percentage of this (goal >= 85 %);
   d. QEMU raspi3b (where installed): wall time until "DONE" appears on the
      PL011, minus the time of a zero-iteration run (QEMU start-up).
2. HVC round trips (images/bench/hvc.elf): EL1 loops `hvc #0` into an EL2
   vector that is a bare ERET; round trips per second on vizor (goal >= 50,000/s),
   counted from the cores' HVC exception counters.  And stage-2 data-abort
   round trips (images/bench/abort.elf): EL1 loops a load from an IPA stage 2
   does not map, EL2 steps ELR over it and ERETs (a trapped MMIO read with
   nothing emulated); aborts per second (goal >= 100,000/s).
3. timer ticks (images/bench/tick.elf): all four cores run the compute loop of
   1 with a 1 kHz CNTHP tick each (virtual time: one tick per 1.2 M
   instructions of a core), taken at EL2 through the ARM-local controller and
   re-armed by the handler; interrupts taken per second of wall time, and
   MIPS next to the idle-free compute figure of 1a measured in the same run.

The kernels' iteration count is a patchable `.quad` literal (symbol
`iterations`); each engine gets a count that takes about 1-2 s (--scale
multiplies them).  The ELFs are committed; no cross compiler is needed.
--short (for CI): one run of each at 2 % of the counts.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

from common import (
    LOOP_BODY,
    SLICE,
    Elf,
    bare_sliced,
    bare_uc,
    loop_insns,
    qemu_until,
    qemu_version,
)
from unicorn import __version__ as UNICORN_VERSION
from unicorn import arm64_const as A

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.clock import CPU_HZ

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(HERE), "images", "bench")
LOOP_ELF = os.path.join(BENCH, "loop.elf")
HVC_ELF = os.path.join(BENCH, "hvc.elf")
ABORT_ELF = os.path.join(BENCH, "abort.elf")
TICK_ELF = os.path.join(BENCH, "tick.elf")
RUNS = 3
# iterations for ~1.5 s per measurement on the development machine (x86-64,
# Unicorn 2.1.4: ~270 MIPS vizor and sliced, ~2,300 MIPS unbounded, ~3,000 QEMU)
ITER_VIZOR = 50_000_000
ITER_BARE = 400_000_000
ITER_SLICED = 50_000_000
ITER_QEMU = 550_000_000
ITER_HVC = 75_000
ITER_ABORT = 20_000
ITER_TICK = 12_000_000  # per core, four cores: ~384 M instructions, 80 ticks per core
TICK_CYCLES = CPU_HZ // 1000  # 1 kHz tick in virtual cycles


# --- kernels -------------------------------------------------------------------------------

class Kernel(Elf):
    """A committed benchmark ELF whose iteration count is the patchable word ``iterations``."""

    def patched(self, iterations: int) -> bytes:
        """The ELF file with `iterations` replaced."""
        return super().patched("iterations", (iterations,))

    def loop_insns(self, iterations: int) -> int:
        """Instructions core 0 executes from _start up to (not including) the WFI at `done`."""
        return loop_insns(self, iterations)


# --- measurements ----------------------------------------------------------------------------

def median_of(fn, runs: int | None = None) -> tuple[float, list]:
    results = [fn() for _ in range(runs or RUNS)]
    return statistics.median(r[0] for r in results), results


def vizor_run(kernel: Kernel, iterations: int) -> tuple[float, Board]:
    board = Board()
    board.load(load_image(kernel.path), 2)
    board.write_ram(kernel.sym["iterations"], iterations.to_bytes(8, "little"))
    t0 = time.perf_counter()
    why = board.run(max_insns=kernel_budget(kernel, iterations))
    wall = time.perf_counter() - t0
    if why.kind != "idle":
        raise RuntimeError(f"vizor stopped on {why.kind}: {why.detail}")
    return wall, board


def kernel_budget(kernel: Kernel, iterations: int) -> int:
    # generous upper bound: the run is expected to end on WFI (idle), not on this
    return 64 * (iterations + 1000)


def bare_unbounded(kernel: Kernel, iterations: int) -> tuple[float]:
    uc = bare_uc(kernel, iterations)
    done = kernel.sym["done"]
    t0 = time.perf_counter()
    uc.emu_start(kernel.entry, done)
    wall = time.perf_counter() - t0
    assert uc.reg_read(A.UC_ARM64_REG_PC) == done
    return (wall,)


def qemu_run(elf_path: str, timeout: float = 60.0) -> tuple[float]:
    return (qemu_until(elf_path, b"DONE", timeout=timeout)[0],)


# --- report ------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every iteration count")
    ap.add_argument("--no-qemu", action="store_true", help="skip the QEMU reference")
    ap.add_argument("--short", action="store_true", help="CI mode: one run each, --scale 0.02")
    args = ap.parse_args()
    global RUNS
    if args.short:
        RUNS = 1
        if args.scale == 1.0:
            args.scale = 0.02

    def n(x: int) -> int:
        return max(1, int(x * args.scale))

    loop, hvc, tick = Kernel(LOOP_ELF), Kernel(HVC_ELF), Kernel(TICK_ELF)
    abort = Kernel(ABORT_ELF)
    qver = None if args.no_qemu else qemu_version()
    print(f"Python  {platform.python_version()} ({platform.python_implementation()}, {platform.machine()})")
    print(f"Unicorn {UNICORN_VERSION}")
    print(f"QEMU    {qver or 'not measured (qemu-system-aarch64 not found or --no-qemu)'}")
    print(f"median of {RUNS} runs each; loop body {LOOP_BODY} instructions; slices of {SLICE:,} instructions")
    print()
    rows: list[tuple[str, str, str, str]] = []

    # 1a-1c, interleaved (round i runs vizor, bare unbounded, bare sliced) so
    # that a busy host slows the three alike and the ratios stay meaningful
    it_v, it_b, it_c = n(ITER_VIZOR), n(ITER_BARE), n(ITER_SLICED)
    times: dict[str, list[float]] = {"vizor": [], "bare": [], "sliced": []}
    insns = 0
    for _ in range(RUNS):
        wall, board = vizor_run(loop, it_v)
        times["vizor"].append(wall)
        insns = board.instructions
        del board
        times["bare"].append(bare_unbounded(loop, it_b)[0])
        times["sliced"].append(bare_sliced(loop, it_c)[0])
    t_viz, t_b, t_c = (statistics.median(times[k]) for k in ("vizor", "bare", "sliced"))

    expected = loop.loop_insns(it_v)
    mips_viz = insns / t_viz / 1e6
    rows.append(("compute loop", "vizor Board.run", f"{insns:,} insns / {t_viz:.3f} s", f"{mips_viz:8.1f} MIPS"))
    if abs(insns - expected) > 4:
        print(f"note: vizor executed {insns:,} instructions, the loop accounts for {expected:,}")

    insns_b = loop.loop_insns(it_b)
    mips_b = insns_b / t_b / 1e6
    rows.append(("compute loop", "bare Unicorn, unbounded", f"{insns_b:,} insns / {t_b:.3f} s", f"{mips_b:8.1f} MIPS"))

    insns_c = loop.loop_insns(it_c)
    mips_c = insns_c / t_c / 1e6
    rows.append(("compute loop", f"bare Unicorn, count={SLICE:,} slices",
                 f"{insns_c:,} insns / {t_c:.3f} s", f"{mips_c:8.1f} MIPS"))

    # 1d QEMU
    mips_q = None
    if qver:
        it = n(ITER_QEMU)
        insns_q = loop.loop_insns(it)
        with tempfile.TemporaryDirectory() as tmp:
            zero, full = os.path.join(tmp, "loop0.elf"), os.path.join(tmp, "loopN.elf")
            with open(zero, "wb") as f:
                f.write(loop.patched(0))
            with open(full, "wb") as f:
                f.write(loop.patched(it))
            t_start, _ = median_of(lambda: qemu_run(zero))
            t_full, _ = median_of(lambda: qemu_run(full))
        t_q = t_full - t_start
        mips_q = insns_q / t_q / 1e6 if t_q > 0 else float("nan")
        rows.append(("compute loop", "QEMU raspi3b (start-up subtracted)",
                     f"{insns_q:,} insns / {t_full:.3f} - {t_start:.3f} s", f"{mips_q:8.1f} MIPS"))

    # 2 HVC round trips
    it = n(ITER_HVC)
    t_h, res = median_of(lambda: vizor_run(hvc, it))
    hvcs = sum(c.exception_counts["HVC"] for c in res[0][1].cores)
    rate = hvcs / t_h
    rows.append(("HVC round trip", "vizor Board.run (EL1 hvc -> EL2 eret)",
                 f"{hvcs:,} HVCs / {t_h:.3f} s", f"{rate:8,.0f} /s"))

    it = n(ITER_ABORT)
    t_a, res = median_of(lambda: vizor_run(abort, it))
    aborts = sum(c.exception_counts["data abort (lower EL)"] for c in res[0][1].cores)
    rows.append(("stage-2 abort round trip", "vizor Board.run (EL1 ldr -> EL2 eret)",
                 f"{aborts:,} aborts / {t_a:.3f} s", f"{aborts / t_a:8,.0f} /s"))

    # 3 timer ticks, 1 kHz per core on four cores
    it = n(ITER_TICK)
    t_t, res = median_of(lambda: vizor_run(tick, it))
    board = res[0][1]
    irqs = sum(c.exception_counts["IRQ"] for c in board.cores)
    expected_ticks = sum(c.instructions // TICK_CYCLES for c in board.cores)
    if abs(irqs - expected_ticks) > 4:
        print(f"note: {irqs} timer IRQs taken, virtual time accounts for {expected_ticks}")
    mips_t = board.instructions / t_t / 1e6
    irq_rate = irqs / t_t
    rows.append(("1 kHz tick x 4 cores", "vizor Board.run (CNTHP IRQ at EL2)",
                 f"{board.instructions:,} insns / {t_t:.3f} s", f"{mips_t:8.1f} MIPS"))
    rows.append(("1 kHz tick x 4 cores", "  interrupts taken",
                 f"{irqs:,} IRQs / {t_t:.3f} s", f"{irq_rate:8,.0f} /s"))
    del res, board

    w = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("case", "engine", "work / median wall", "rate")
    w = [max(a, len(b)) for a, b in zip(w, head)]
    print("  ".join(h.ljust(x) for h, x in zip(head, w)))
    print("  ".join("-" * x for x in w))
    for r in rows:
        print("  ".join(c.ljust(x) if i < 3 else c.rjust(x) for i, (c, x) in enumerate(zip(r, w))))
    print()
    print(f"vizor / bare unbounded      {100 * mips_viz / mips_b:6.1f} %")
    print(f"vizor / bare sliced         {100 * mips_viz / mips_c:6.1f} %   (goal >= 85 %)")
    if mips_q:
        print(f"vizor / QEMU raspi3b        {100 * mips_viz / mips_q:6.1f} %")
    print(f"HVC round trips             {rate:8,.0f} /s (goal >= 50,000/s)")
    print(f"stage-2 abort round trips   {aborts / t_a:8,.0f} /s (goal >= 100,000/s)")
    print(f"1 kHz tick x 4 / compute    {100 * mips_t / mips_viz:6.1f} %   "
          f"({irq_rate:,.0f} timer IRQs per wall second)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
