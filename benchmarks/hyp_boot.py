"""Boot of the demo hypervisor to "every VM has printed", on vizor and on QEMU.

    python benchmarks/hyp_boot.py

vizor: instructions (all cores) and wall seconds until each VM's console
buffer (vms[i].out_n in hyp.elf) holds its first line.  QEMU raspi3b: wall
seconds (QEMU start included) until VM 3's console, selected with Ctrl-A 3
as soon as the echo guest's banner appears, shows a mini OS line.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from hyp_session import CTRL_A, VizorSession, run_qemu_script  # noqa: E402

VM_SIZE, OUT_N = 5256, 5224     # sizeof(struct vm), offsetof(struct vm, out_n): hyp.h


def vizor_once():
    t = time.perf_counter()
    s = VizorSession(boot_el=2)
    base = s.board.symbols.by_name["vms"]

    def lines(i):
        a = base + i * VM_SIZE + OUT_N
        return int.from_bytes(s.board.ram[a:a + 8], "little")
    while not all(lines(i) > 40 for i in range(3)):
        s.board.run(max_insns=10_000)
    return s.board.instructions, time.perf_counter() - t


def qemu_once():
    t = time.perf_counter()
    out = run_qemu_script([("echo: type, I echo\n", CTRL_A + b"3"), ("minios: mini OS guest", None)])
    return None if out is None else time.perf_counter() - t


def main():
    runs = [vizor_once() for _ in range(3)]
    print(f"vizor: {statistics.median(r[0] for r in runs):,.0f} instructions, "
          f"{statistics.median(r[1] for r in runs):.2f} s wall (median of 3)")
    q = [qemu_once() for _ in range(3)]
    if None in q:
        print("QEMU: not installed")
    else:
        print(f"QEMU: {statistics.median(q):.2f} s wall (median of 3)")


if __name__ == "__main__":
    main()
