"""Side by side with QEMU's own gdb stub: the same conformance kernel, the same
breakpoint, and gdb prints the same general and system registers on both.

QEMU starts every core of an ELF at its entry at EL3 (its loader's
convention); ``--boot-el 3`` does the same on vizor.  Only core 0 is compared:
the other cores run on at their own pace on both.  Registers where QEMU is
not the board (CNTFRQ_EL0: QEMU 62.5 MHz, the firmware 19.2 MHz) are left out.
"""
from __future__ import annotations

import os

import pytest
from gdb_client import (
    GDB,
    QEMU,
    ROOT,
    gdb_batch,
    qemu_gdb_server,
    register,
    vizor_gdb_server,
)

pytestmark = [pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed (Debian: gdb-multiarch)"),
              pytest.mark.skipif(QEMU is None, reason="qemu-system-aarch64 is not installed "
                                                      "(Debian: qemu-system-arm)")]

GENERAL = [f"x{i}" for i in range(31)] + ["sp", "pc", "cpsr", "fpsr", "fpcr"]
# Named alike by both stubs (QEMU calls SCTLR_EL1 "SCTLR", VBAR_EL1 "VBAR").
SYSTEM = ["SCTLR_EL2", "SCTLR_EL3", "HCR_EL2", "SCR_EL3", "VTTBR_EL2", "VTCR_EL2", "TTBR0_EL1", "TTBR1_EL1",
          "TCR_EL1", "TTBR0_EL2", "TCR_EL2", "MAIR_EL1", "MAIR_EL2", "VBAR_EL2", "VBAR_EL3",
          "ESR_EL1", "ESR_EL2", "ESR_EL3", "FAR_EL1", "FAR_EL2", "FAR_EL3", "ELR_EL1", "ELR_EL2", "ELR_EL3",
          "SPSR_EL1", "SPSR_EL2", "SPSR_EL3", "HPFAR_EL2", "SP_EL0", "SP_EL1", "SP_EL2", "VMPIDR_EL2",
          "VPIDR_EL2", "CPTR_EL2", "CNTHCTL_EL2", "CNTVOFF_EL2", "CNTP_CTL_EL0", "CNTV_CTL_EL0",
          "CNTHP_CTL_EL2", "PAR_EL1"]
CASES = [("exc_levels", "main"), ("exc_levels", "el1_body"), ("stage2", "main")]


def _symbol(image: str, name: str) -> int:
    from elftools.elf.elffile import ELFFile
    with open(image, "rb") as f:
        for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            if sym.name == name:
                return sym["st_value"]
    raise KeyError(name)


def _registers(port: int, address: int) -> tuple[str, dict[str, int]]:
    out = gdb_batch(port, f"break *{address:#x}", "continue", "thread 1",
                    "info registers " + " ".join(GENERAL), "info registers " + " ".join(SYSTEM))
    return out, {name: register(out, name) for name in GENERAL + SYSTEM}


@pytest.mark.parametrize("kernel,where", CASES)
def test_the_same_breakpoint_shows_the_same_registers_on_vizor_and_qemu(kernel, where):
    image = os.path.join(ROOT, "images", "tests", f"{kernel}.elf")
    address = _symbol(image, where)
    with vizor_gdb_server(image, "--boot-el", "3") as port:
        ours, mine = _registers(port, address)
    with qemu_gdb_server(image) as port:
        theirs, qemu = _registers(port, address)
    assert "Thread 1 hit Breakpoint 1" in ours and "Thread 1 hit Breakpoint 1" in theirs, ours + theirs
    assert mine["pc"] == address
    differ = {n: (hex(mine[n]), hex(qemu[n])) for n in mine if mine[n] != qemu[n]}
    assert not differ, f"vizor vs QEMU at {where}: {differ}"
