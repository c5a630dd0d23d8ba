"""A VMID-filtered breakpoint through gdb, three ways.

    python benchmarks/gdb.py [--hits N] [--short]

The demo hypervisor (images/hyp/hyp.elf) runs two mini OS guests (VMIDs 2
and 3) whose ``schedule`` sits at the same VA.  gdb-multiarch (batch mode,
timed inside gdb with its Python) waits for the first stop in VMID 3, then
for N more (default 5), and the wall time of those N is printed:

1. vizor, ``monitor break schedule@vmid=3``: the VMID filter is checked by
   vizor where the breakpoint's carrier fires; the other VMs never stop.
2. vizor, ``break *ADDR if ($VTTBR_EL2 >> 48) == 3``: gdb's own condition;
   every arrival in either VM stops, gdb reads VTTBR_EL2 and resumes.
3. QEMU raspi3b (its own gdb stub, ``-S -gdb``), the same conditional
   breakpoint; skipped with a message where qemu-system-aarch64 is missing.

Goal (issue 20): (1) at least 100x faster than (3).  --short (CI): 2 hits.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from gdb_client import GDB, HYP, QEMU, gdb_batch, qemu_gdb_server, vizor_gdb_server  # noqa: E402

SCHEDULE = 0xFFFF000000002EA4        # minios.elf's schedule (both mini OS guests)
CONDITIONAL = f"break *{SCHEDULE:#x} if ($VTTBR_EL2 >> 48) == 3"


def timed(port: int, setup: str, hits: int) -> tuple[float, int]:
    """Seconds for ``hits`` stops after the first, and how many were in VMID 3."""
    cmds = [setup, "continue", "python import time; _t0 = time.perf_counter()"]
    for _ in range(hits):
        cmds += ["continue", "python print('VMID', gdb.parse_and_eval('$VTTBR_EL2 >> 48'))"]
    cmds.append("python print('ELAPSED %.6f' % (time.perf_counter() - _t0))")
    out = gdb_batch(port, *cmds, timeout=600)
    m = re.search(r"ELAPSED ([0-9.]+)", out)
    if not m:
        raise RuntimeError(f"gdb did not finish:\n{out[-2000:]}")
    return float(m.group(1)), len(re.findall(r"^VMID 3$", out, re.MULTILINE))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hits", type=int, default=5)
    ap.add_argument("--short", action="store_true", help="CI mode: 2 hits")
    args = ap.parse_args()
    hits = 2 if args.short else args.hits
    if GDB is None:
        print("gdb-multiarch is not installed: nothing measured (Debian: gdb-multiarch)")
        return 0
    rows = []
    with vizor_gdb_server(HYP) as port:
        rows.append(("vizor, monitor break schedule@vmid=3", *timed(port, "monitor break schedule@vmid=3", hits)))
    with vizor_gdb_server(HYP) as port:
        rows.append(("vizor, gdb conditional breakpoint", *timed(port, CONDITIONAL, hits)))
    if QEMU is None or shutil.which("qemu-system-aarch64") is None:
        print("QEMU: skipped (qemu-system-aarch64 not installed)")
    else:
        with qemu_gdb_server(HYP) as port:
            rows.append(("QEMU raspi3b, gdb conditional breakpoint", *timed(port, CONDITIONAL, hits)))
    print(f"{hits} stops in VMID 3 at schedule (after the first), demo hypervisor, wall time inside gdb:")
    for name, seconds, in_vm in rows:
        print(f"  {name:<42} {seconds:8.3f} s  ({in_vm}/{hits} in VMID 3)")
    if len(rows) == 3 and rows[0][1] > 0:
        print(f"  monitor break vs QEMU conditional: {rows[2][1] / rows[0][1]:.0f}x faster (goal >= 100x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
