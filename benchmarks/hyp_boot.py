"""Boot of the demo hypervisor to "every VM has printed", on vizor and on QEMU.

    python benchmarks/hyp_boot.py [--short]

vizor: instructions (all cores) and wall seconds until each VM's console
buffer (vms[i].out_n in hyp.elf) holds its first line.  QEMU raspi3b: wall
seconds (QEMU start included) until VM 3's console, selected with Ctrl-A 3
as soon as the echo guest's banner appears, shows a mini OS line.

The layout of ``struct vm`` (its size, the offset of ``out_n``) is read
from hyp.elf's DWARF, so that it follows the hypervisor's sources.
--short (for CI): one run each instead of the median of 3.
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
sys.path.insert(0, os.path.join(ROOT, "tests"))

from elftools.elf.elffile import ELFFile  # noqa: E402
from hyp_session import CTRL_A, HYP, VizorSession, run_qemu_script  # noqa: E402

MAX_INSNS = 200_000_000     # a boot that takes longer than this is a failure, not a figure


def struct_layout(path: str, struct: str, member: str) -> tuple[int, int]:
    """(sizeof(struct), offsetof(struct, member)) from the ELF's DWARF."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        if not elf.has_dwarf_info():
            raise SystemExit(f"{path} has no debug info: cannot find struct {struct}")
        for cu in elf.get_dwarf_info().iter_CUs():
            for die in cu.iter_DIEs():
                if die.tag != "DW_TAG_structure_type" or "DW_AT_byte_size" not in die.attributes:
                    continue
                name = die.attributes.get("DW_AT_name")
                if name is None or name.value.decode() != struct:
                    continue
                for m in die.iter_children():
                    mname = m.attributes.get("DW_AT_name")
                    if m.tag == "DW_TAG_member" and mname is not None and mname.value.decode() == member:
                        return die.attributes["DW_AT_byte_size"].value, m.attributes["DW_AT_data_member_location"].value
    raise SystemExit(f"{path}: no struct {struct} with a member {member} in its debug info")


def vizor_once():
    vm_size, out_n = struct_layout(HYP, "vm", "out_n")
    t = time.perf_counter()
    s = VizorSession(boot_el=2)
    vms = s.board.symbols.by_name["vms"]
    count = s.board.symbols.by_name.get("hyp_nvms")
    nvms = 3 if count is None else int.from_bytes(s.board.ram[count:count + 8], "little")

    def lines(i):
        a = vms + i * vm_size + out_n
        return int.from_bytes(s.board.ram[a:a + 8], "little")
    while not all(lines(i) > 40 for i in range(nvms)):
        if s.board.instructions >= MAX_INSNS:
            raise SystemExit(f"vizor: not every VM printed within {MAX_INSNS:,} instructions "
                             f"(out_n: {[lines(i) for i in range(nvms)]})")
        s.board.run(max_insns=10_000)
    return s.board.instructions, time.perf_counter() - t


def qemu_once():
    t = time.perf_counter()
    out = run_qemu_script([("echo: type, I echo\n", CTRL_A + b"3"), ("minios: mini OS guest", None)])
    return None if out is None else time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="CI mode: one run each")
    args = ap.parse_args()
    n = 1 if args.short else 3
    what = "one run" if n == 1 else f"median of {n}"
    runs = [vizor_once() for _ in range(n)]
    print(f"vizor: {statistics.median(r[0] for r in runs):,.0f} instructions, "
          f"{statistics.median(r[1] for r in runs):.2f} s wall ({what})")
    q = [qemu_once() for _ in range(n)]
    if None in q:
        print("QEMU: skipped (qemu-system-aarch64 not installed)")
    else:
        print(f"QEMU: {statistics.median(q):.2f} s wall ({what})")


if __name__ == "__main__":
    main()
