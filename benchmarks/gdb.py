"""A VMID-filtered breakpoint through gdb, three ways.

    python benchmarks/gdb.py [--hits N] [--short]

The workload (images/bench/vmfilter.elf) is the case a VMID filter is for:
two VMs run the same guest code at the same VA, and the one being debugged
is the quiet one.  One core runs both in turn (HVC #0 yields, no timers, so
the interleaving is the same on every emulator): VM 1 (VMID 1) calls
``spot`` 1000 times per turn, VM 2 (VMID 2) once.  A breakpoint at ``spot``
for VM 2 is therefore passed 1000 times in VM 1 for each hit, as a
hypervisor developer's breakpoint in shared guest kernel code is passed by
the busy guests while the one under study does its rarer thing.  (On the
demo hypervisor the two mini OS guests run ``schedule`` equally often, so a
condition costs about one extra stop per hit and every way measures about
the same; that is no test of filtering.)

gdb-multiarch (batch mode, timed inside gdb with its Python) waits for the
first stop in VMID 2, then for N more (default 5); printed are the wall time
of those N and how often VM 1 passed ``spot`` meanwhile (EL2 counts VM 1's
turns in x22):

1. vizor, ``monitor break spot@vmid=2`` (by address): the VMID filter is
   checked by vizor where the breakpoint's carrier fires (a Unicorn exit);
   VM 1's arrivals never stop the board.
2. vizor, ``break *spot if ($VTTBR_EL2 >> 48) == 2``: gdb's own condition;
   every arrival in either VM stops, gdb reads VTTBR_EL2 and resumes.
3. QEMU raspi3b (its own gdb stub, ``-S -gdb``, the ELF entered at EL3), the
   same conditional breakpoint; skipped with a message where
   qemu-system-aarch64 is missing.

Goal (issue 20): (1) at least 100x faster than (3).  The ratio is, per hit,
~1,000 gdb round trips on QEMU against ~1,000 checks inside vizor, so it
says what one unwanted arrival costs each way.  --short (CI): 1 hit, VM 1
making 100 calls per turn (a patched copy of the image), and (2), the
slowest, skipped; its ratio is smaller (vizor's fixed cost per stop weighs
more) and is not the goal's measurement.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from gdb_client import GDB, QEMU, gdb_batch, qemu_gdb_server, vizor_gdb_server  # noqa: E402

IMAGE = os.path.join(ROOT, "images", "bench", "vmfilter.elf")
BUSY_CALLS = 1000                     # vmfilter.S: VM 1's calls of spot per turn (EL2 counts turns in x22)


def spot_address() -> int:
    from vizor.machine.board.loader import load_image
    return load_image(IMAGE).symbols.by_name["spot"]


def with_busy_calls(calls: int, folder: str) -> str:
    """A copy of vmfilter.elf whose VM 1 calls spot ``calls`` times per turn."""
    from elftools.elf.elffile import ELFFile
    with open(IMAGE, "rb") as f:
        data = bytearray(f.read())
        f.seek(0)
        elf = ELFFile(f)
        addr = elf.get_section_by_name(".symtab").get_symbol_by_name("busy_calls")[0]["st_value"]
        seg = next(s for s in elf.iter_segments() if s["p_vaddr"] <= addr < s["p_vaddr"] + s["p_filesz"])
    at = seg["p_offset"] + addr - seg["p_vaddr"]
    data[at:at + 8] = calls.to_bytes(8, "little")
    path = os.path.join(folder, "vmfilter.elf")
    with open(path, "wb") as f:
        f.write(data)
    return path


def timed(port: int, setup: str, hits: int, busy: int) -> tuple[float, int, int]:
    """Seconds for ``hits`` stops after the first, how many were in VMID 2, and
    how often VM 1 passed ``spot`` meanwhile."""
    vm1_calls = (f"python _a.append(int(gdb.parse_and_eval('$x22')) * {busy})",)
    cmds = [setup, "continue", "python _a = []", *vm1_calls, "python import time; _t0 = time.perf_counter()"]
    for _ in range(hits):
        cmds += ["continue", "python print('VMID', gdb.parse_and_eval('$VTTBR_EL2 >> 48'))"]
    cmds += ["python _el = time.perf_counter() - _t0", *vm1_calls,
             "python print('ELAPSED %.6f PASSED %d' % (_el, _a[1] - _a[0]))"]
    out = gdb_batch(port, *cmds, timeout=1800)
    m = re.search(r"ELAPSED ([0-9.]+) PASSED (-?\d+)", out)
    if not m:
        raise RuntimeError(f"gdb did not finish:\n{out[-2000:]}")
    return float(m.group(1)), len(re.findall(r"^VMID 2$", out, re.MULTILINE)), int(m.group(2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hits", type=int, default=5)
    ap.add_argument("--short", action="store_true", help="CI mode: 1 hit, no gdb condition on vizor")
    args = ap.parse_args()
    hits = 1 if args.short else args.hits
    busy = 100 if args.short else BUSY_CALLS
    if GDB is None:
        print("gdb-multiarch is not installed: nothing measured (Debian: gdb-multiarch)")
        return 0
    spot = spot_address()
    conditional = f"break *{spot:#x} if ($VTTBR_EL2 >> 48) == 2"
    rows = []
    folder = tempfile.mkdtemp(prefix="vizor-gdb-bench-")
    image = with_busy_calls(busy, folder)
    with vizor_gdb_server(image) as port:
        rows.append(("vizor, monitor break spot@vmid=2", *timed(port, f"monitor break {spot:#x}@vmid=2", hits, busy)))
    if args.short:
        print("vizor, gdb conditional breakpoint: skipped (--short)")
    else:
        with vizor_gdb_server(image) as port:
            rows.append(("vizor, gdb conditional breakpoint", *timed(port, conditional, hits, busy)))
    if QEMU is None or shutil.which("qemu-system-aarch64") is None:
        print("QEMU: skipped (qemu-system-aarch64 not installed)")
    else:
        with qemu_gdb_server(image) as port:
            rows.append(("QEMU raspi3b, gdb conditional breakpoint", *timed(port, conditional, hits, busy)))
    shutil.rmtree(folder, ignore_errors=True)
    print(f"{hits} stop(s) in VMID 2 at spot (after the first), vmfilter.elf with {busy} calls in VM 1 per turn, "
          f"wall time inside gdb:")
    for name, seconds, in_vm, passed in rows:
        print(f"  {name:<42} {seconds:8.3f} s  ({in_vm}/{hits} in VMID 2; VM 1 passed spot {passed:,} times, "
              f"{seconds / max(passed, 1) * 1e6:,.1f} us each)")
    if rows[-1][0].startswith("QEMU") and rows[0][1] > 0:
        print(f"  monitor break vs QEMU conditional: {rows[-1][1] / rows[0][1]:.0f}x faster (goal >= 100x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
