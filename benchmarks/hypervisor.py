"""Hypervisor workloads on vizor, against QEMU and against the bare engine.

    python benchmarks/hypervisor.py [--short] [--no-qemu] [--runs R]

Measured side by side in one run (wall time, time.perf_counter(); median of
R runs each, R = 3, or 1 with --short; nothing is asserted, figures printed):

a. demo hypervisor (images/hyp/hyp.elf, firmware boot, echo + two mini OS
   VMs): after a warm-up past the boot (not timed), a fixed instruction count
   (all cores) headless with ``Board.run``: MIPS, and traps per second —
   every exception the cores took in that window (``Core.exception_counts``:
   stage-2 aborts, HVC, WFI traps, IRQs), per wall second and per million
   instructions; and the board's virtual time those instructions span, per
   wall second (the guests sleep in WFI most of the time, which costs nothing:
   the MIPS figure is bound by what each timer tick costs, not by execution).
b. hypbench (images/bench/hypbench.elf, see images/bench/hypbench/): entered
   at EL3 by all four cores (vizor ``--boot-el 3``, QEMU ``-kernel`` ELF),
   two guests print through a stage-2-trapped mini UART, polling LSR before
   every byte, with a system-timer tick switching VMs.  Wall time from
   start (vizor: Board creation; QEMU: process start) to the line
   "hypbench done" on the mini UART; for QEMU also the same minus the
   start-up (a run of the same image patched to one line and no work), and
   the ratio vizor / QEMU.  The two UART outputs are compared (the
   hypervisor prints the guests' lines in a fixed order, so they must be the
   same byte for byte).
d. delay loops (images/bench/delay.elf): three waits of `millis` (1000, or
   50 with --short) polling CNTPCT/CNTVCT, as tutorial kernels wait; wall time
   to "DONE" on vizor (Board creation included) and on QEMU (process start
   included: QEMU waits in real time).
e. system-timer waits (images/bench/clowait.elf): two waits of `millis`
   polling the BCM system timer, one `CLO - start < n` loop (skipped in one
   step) and one 64-bit CHI/CLO/CHI read in a called function (executed, its
   reads answered in C); wall time to "DONE" on vizor and on QEMU.
c. the bare-Unicorn compute ceiling: one Unicorn instance (A53, EL1, MMU
   off) running images/bench/loop.elf's loop in count-limited emu_start
   slices of 100,000 instructions (vizor's quantum), MIPS.

--short (for CI): one run of each with small counts, hypbench patched to 20
lines a guest and little work; QEMU is skipped, with the reason printed,
when qemu-system-aarch64 is absent (or with --no-qemu).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from common import QEMU, SLICE, Elf, bare_sliced, loop_insns, qemu_until, qemu_version  # noqa: E402
from unicorn import __version__ as UNICORN_VERSION  # noqa: E402

from vizor.machine.board.board import Board  # noqa: E402
from vizor.machine.board.loader import load_image  # noqa: E402
from vizor.machine.clock import CPU_HZ  # noqa: E402

HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
HYPBENCH = os.path.join(ROOT, "images", "bench", "hypbench.elf")
LOOP = os.path.join(ROOT, "images", "bench", "loop.elf")
DONE = b"hypbench done"

# (full, short)
HYP_WARMUP = (20_000_000, 2_000_000)       # the demo hypervisor has booted, the mini OS guests run
HYP_INSNS = (20_000_000, 4_000_000)
HYPBENCH_PARAMS = (None, (20, 2_000, 200))   # (lines, work, tick_us); None: as built
LOOP_ITER = (25_000_000, 1_000_000)
DELAY = os.path.join(ROOT, "images", "bench", "delay.elf")
DELAY_MILLIS = (1000, 50)
CLOWAIT = os.path.join(ROOT, "images", "bench", "clowait.elf")


# --- images ----------------------------------------------------------------------------------

# --- a. the demo hypervisor --------------------------------------------------------------------

def traps(board: Board) -> int:
    return sum(sum(c.exception_counts.values()) for c in board.cores)


def demo_hyp(warmup: int, insns: int) -> tuple[float, int, int, float]:
    """Wall time of ``insns`` instructions after ``warmup``, instructions run,
    exceptions taken, and the virtual seconds they span."""
    board = Board()
    board.load(load_image(HYP), 2)
    board.run(max_insns=warmup)
    start, t0, v0 = board.instructions, traps(board), board.virtual_time
    t = time.perf_counter()
    why = board.run(max_insns=insns)
    wall = time.perf_counter() - t
    if why.kind != "max_insns":
        raise RuntimeError(f"the demo hypervisor stopped: {why.kind}: {why.detail}")
    return wall, board.instructions - start, traps(board) - t0, (board.virtual_time - v0) / CPU_HZ


# --- b. hypbench -------------------------------------------------------------------------------

def vizor_hypbench(path: str, budget: int = 20_000_000_000) -> tuple[float, bytes, Board]:
    t = time.perf_counter()
    board = Board()
    board.load(load_image(path, 3), 3)
    out = bytearray()
    seen = [False]

    def on_uart(uart: str, byte: int) -> None:
        if uart == "mini_uart" or uart == "mini":
            out.append(byte)
            if byte == ord("\n") and out.endswith(DONE + b"\n"):
                seen[0] = True
                board.request_stop()

    board.uart_listeners.append(on_uart)
    why = board.run(max_insns=budget, stop=lambda: "hypbench done" if seen[0] else None)
    wall = time.perf_counter() - t
    if not seen[0]:
        raise RuntimeError(f"vizor: no {DONE.decode()!r} ({why.kind}: {why.detail}); output ends "
                           f"{bytes(out[-200:])!r}")
    return wall, bytes(out), board


def qemu_hypbench(path: str, timeout: float = 120.0) -> tuple[float, bytes]:
    """Wall time from QEMU's start to the end of the line "hypbench done" on the mini UART."""
    return qemu_until(path, DONE + b"\n", mini_uart=True, timeout=timeout)


def normalise(b: bytes) -> bytes:
    return b.replace(b"\r\n", b"\n")


def hb_stats(board: Board, elf: Elf) -> dict[str, int]:
    """hypbench's own counters (struct stats in hypbench.c), read from RAM."""
    names = ("exits", "aborts", "lsr_reads", "io_writes", "other_mmio", "hvcs", "ticks", "switches", "lines")
    base = elf.sym["hb_stats"]
    return {n: int.from_bytes(board.ram[base + 8 * i:base + 8 * i + 8], "little") for i, n in enumerate(names)}


# --- d. delay loops ----------------------------------------------------------------------------

def vizor_delay(millis: int, image: str = DELAY) -> tuple[float, str, int]:
    """Wall time to "DONE", the PL011 output, and the instructions skipped."""
    t = time.perf_counter()
    board = Board()
    board.load(load_image(image, 2), 2)
    board.write_ram(board.symbols.by_name["millis"], millis.to_bytes(8, "little"))
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    why = board.run(max_insns=10 * 1_200_000 * millis,
                    stop=lambda: "done" if "".join(out[-5:]) == "DONE\n" else None)
    if why.kind != "stop":
        raise RuntimeError(f"{os.path.basename(image)}: {why.kind}: {why.detail}")
    return time.perf_counter() - t, "".join(out), board.cores[0].skipped


# --- c. the bare engine -----------------------------------------------------------------------

# --- report ------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="CI mode: one run each, small counts")
    ap.add_argument("--no-qemu", action="store_true", help="skip the QEMU reference")
    ap.add_argument("--runs", type=int, default=None, help="runs per figure (default 3, 1 with --short)")
    args = ap.parse_args()
    k = 1 if args.short else 0
    runs = args.runs or (1 if args.short else 3)
    qver = None if args.no_qemu else qemu_version()
    why_no_qemu = "--no-qemu" if args.no_qemu else f"{QEMU} not found on PATH"

    print(f"Python  {platform.python_version()} ({platform.python_implementation()}, {platform.machine()})")
    print(f"Unicorn {UNICORN_VERSION}")
    print(f"QEMU    {qver or f'skipped ({why_no_qemu})'}")
    print(f"{'short mode, ' if args.short else ''}median of {runs} run{'s' if runs > 1 else ''} each")
    print()

    rows: list[tuple[str, str, str, str]] = []

    # a. the demo hypervisor
    res = [demo_hyp(HYP_WARMUP[k], HYP_INSNS[k]) for _ in range(runs)]
    wall = statistics.median(r[0] for r in res)
    insns, exc, virt = res[0][1], res[0][2], res[0][3]
    rows.append(("demo hypervisor (hyp.elf)", "vizor Board.run, after boot",
                 f"{insns:,} insns / {wall:.3f} s", f"{insns / wall / 1e6:8.2f} MIPS"))
    rows.append(("", "  traps (all exceptions taken)",
                 f"{exc:,} / {wall:.3f} s = {exc / (insns / 1e6):,.0f} per M insns", f"{exc / wall:8,.0f} /s"))
    rows.append(("", "  the board's time they span",
                 f"{virt:.3f} virtual s / {wall:.3f} s", f"{virt / wall:8.2f} x real"))

    # b. hypbench
    hb = Elf(HYPBENCH)
    params = HYPBENCH_PARAMS[k]
    with tempfile.TemporaryDirectory() as tmp:
        image = HYPBENCH
        if params is not None:
            image = os.path.join(tmp, "hypbench-short.elf")
            with open(image, "wb") as f:
                f.write(hb.patched("hb_params", params))
        startup = os.path.join(tmp, "hypbench-startup.elf")
        with open(startup, "wb") as f:
            f.write(hb.patched("hb_params", (1, 0, 2_000)))
        lines = params[0] if params else hb.word("hb_params")

        vz = [vizor_hypbench(image) for _ in range(runs)]
        v_wall = statistics.median(r[0] for r in vz)
        v_out, board = vz[0][1], vz[0][2]
        st = hb_stats(board, hb)
        v_exc = traps(board)
        rows.append((f"hypbench ({lines} lines a guest)", "vizor, Board() to 'hypbench done'",
                     f"{board.instructions:,} insns / {v_wall:.3f} s", f"{v_wall:8.3f} s"))
        rows.append(("", "  traps (all exceptions taken)",
                     (f"{v_exc:,} / {v_wall:.3f} s ({st['aborts']:,} MMIO aborts, "
                      f"{st['ticks']} ticks, {st['switches']} switches)"), f"{v_exc / v_wall:8,.0f} /s"))
        q_wall = q_net = None
        same = None
        if qver:
            q = [qemu_hypbench(image) for _ in range(runs)]
            q0 = [qemu_hypbench(startup)[0] for _ in range(runs)]
            q_wall, q_start = statistics.median(r[0] for r in q), statistics.median(q0)
            q_net = q_wall - q_start
            same = normalise(q[0][1]) == normalise(v_out)
            rows.append(("", "QEMU raspi3b, start to 'hypbench done'",
                         "process start included", f"{q_wall:8.3f} s"))
            rows.append(("", "QEMU raspi3b, start-up subtracted",
                         f"{q_wall:.3f} - {q_start:.3f} s (1-line run)", f"{q_net:8.3f} s"))
        else:
            rows.append(("", "QEMU raspi3b", f"skipped: {why_no_qemu}", "-"))

    # d. delay loops (generic timer), e. system-timer waits
    millis = DELAY_MILLIS[k]
    for image, what in ((DELAY, f"delay.elf (3 waits of {millis} ms)"),
                        (CLOWAIT, f"clowait.elf (2 waits of {millis} ms)")):
        dl = [vizor_delay(millis, image) for _ in range(runs)]
        d_wall, d_out, d_skipped = statistics.median(r[0] for r in dl), dl[0][1], dl[0][2]
        rows.append((what, "vizor, Board() to 'DONE'", f"{d_skipped:,} insns skipped", f"{d_wall:8.3f} s"))
        if qver:
            elf = Elf(image)
            with tempfile.TemporaryDirectory() as tmp:
                patched = os.path.join(tmp, os.path.basename(image))
                with open(patched, "wb") as f:
                    f.write(elf.patched("millis", (millis,)))
                q = [qemu_until(patched, b"DONE\n") for _ in range(runs)]
            q_delay = statistics.median(r[0] for r in q)
            d_same = normalise(q[0][1]) == d_out.encode()
            rows.append(("", "QEMU raspi3b, start to 'DONE'", "output " + ("identical" if d_same else "DIFFERS"),
                         f"{q_delay:8.3f} s"))
            same = same if d_same else False

    # c. the bare engine
    loop = Elf(LOOP)
    bs = [bare_sliced(loop, LOOP_ITER[k]) for _ in range(runs)]
    b_wall, b_insns = statistics.median(r[0] for r in bs), loop_insns(loop, LOOP_ITER[k])
    rows.append(("compute ceiling (loop.elf)", f"bare Unicorn, count={SLICE:,} slices",
                 f"{b_insns:,} insns / {b_wall:.3f} s", f"{b_insns / b_wall / 1e6:8.1f} MIPS"))

    head = ("case", "engine", "work / median wall", "rate")
    w = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    print("  ".join(h.ljust(x) for h, x in zip(head, w)))
    print("  ".join("-" * x for x in w))
    for r in rows:
        print("  ".join(c.ljust(x) if i < 3 else c.rjust(x) for i, (c, x) in enumerate(zip(r, w))))
    print()
    if q_wall:
        print(f"hypbench vizor / QEMU wall      {v_wall / q_wall:7.1f} x   (QEMU start-up included)")
        if q_net and q_net > 0:
            print(f"hypbench vizor / QEMU net       {v_wall / q_net:7.1f} x   (QEMU start-up subtracted)")
        print(f"hypbench UART output            {'identical on vizor and QEMU' if same else 'DIFFERS between vizor and QEMU'}")
    else:
        print(f"hypbench vizor / QEMU           not measured ({why_no_qemu})")
    return 0 if same is not False else 1


if __name__ == "__main__":
    sys.exit(main())
