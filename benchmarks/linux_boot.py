"""Debian's Linux 6.1 booted to a busybox shell on four cores, vizor against QEMU.

    python benchmarks/linux_boot.py [--short]

The kernel, device tree and busybox are those of the Linux boot tests
(tests/.linux-cache, fetched by .ci/run or as root by `python
tests/linux_material.py`); the initramfs is theirs too (tests/initramfs.py),
and the command line `console=ttyAMA0`.  Measured side by side in one run:
the wall time from the process start (Python's and QEMU's start-up included)
until the UART shows the init's end marker, for `vizor run IMAGE --dtb
--initrd --append --until-uart` and for QEMU raspi3b (-kernel -dtb -initrd
-append, killed at the marker), then the ratio.  Issue 19's goal: <= 3x.

QEMU is timed in both its TCG modes and vizor is compared with the faster.
Multi-threaded TCG (QEMU's default) runs the four vCPUs on four host
threads; on a host with fewer CPUs they contend, and the boot took 10-22 s
(the guest's own uptime at the marker ~1.6 s) against 2.0-2.4 s with
`-accel tcg,thread=single` (two-CPU host, December 2026).

--short (for CI): one run each, with `earlycon` added so that the kernel
prints from its first line, only as far as "smp: Brought up" (all four cores
up, before the drivers probe).  Without the Linux material it prints why and
measures nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from common import qemu_version  # noqa: E402
from initramfs import END_MARKER  # noqa: E402
from linux_material import material, missing  # noqa: E402
from linux_runs import APPEND, qemu_boot, vizor_direct, write_initramfs  # noqa: E402

SHORT_APPEND = APPEND + " earlycon=pl011,0x3f201000"
SHORT_MARKER = "smp: Brought up 1 node, 4 CPUs"
QEMU_TCG = {"multi-threaded TCG": (), "single-threaded TCG": ("-accel", "tcg,thread=single")}


def median_wall(boot, n: int, who: str, marker: str) -> float:
    """The median wall time of ``n`` runs of ``boot()``, each of which must reach ``marker``."""
    runs = []
    for _ in range(n):
        b = boot()
        if b.status != 0:
            raise SystemExit(f"{who} did not reach {marker!r} (status {b.status}):\n{(b.err or b.out)[-1500:]}")
        runs.append(b.wall)
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true",
                    help="CI mode: one run each, with earlycon, to 'smp: Brought up'")
    args = ap.parse_args()
    why = missing()
    if why:
        print(f"linux_boot: skipped: {why}")
        return
    m = material()
    n = 1 if args.short else 3
    append, marker = (SHORT_APPEND, SHORT_MARKER) if args.short else (APPEND, END_MARKER)
    what = "one run" if n == 1 else f"median of {n}"
    print(f"{m.version}; append {append!r}; to {marker!r} ({what})")
    with tempfile.TemporaryDirectory() as tmp:
        initrd = write_initramfs(m, tmp)
        vizor = median_wall(lambda: vizor_direct(m, initrd, append, marker), n, "vizor", marker)
        print(f"vizor: {vizor:.2f} s wall")
        if qemu_version() is None:
            print("QEMU: skipped (qemu-system-aarch64 not installed)")
            return
        qemu = {}
        for mode, accel in QEMU_TCG.items():
            qemu[mode] = median_wall(lambda: qemu_boot(m, initrd, append, marker, accel=accel), n, "QEMU", marker)
            print(f"QEMU, {mode}: {qemu[mode]:.2f} s wall")
    best = min(qemu, key=qemu.get)
    print(f"QEMU: {qemu_version()}; the faster mode: {best}")
    goal = "" if args.short else " (goal <= 3x)"      # the goal is the whole boot's
    print(f"vizor / QEMU ({best}): {vizor / qemu[best]:.1f}x{goal}")


if __name__ == "__main__":
    main()
