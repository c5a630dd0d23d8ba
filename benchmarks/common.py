"""What the benchmarks share: an ELF with symbols and patchable words, QEMU run to a
marker on its serial output, and the bare-Unicorn sliced loop (vizor's ceiling)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time

from elftools.elf.elffile import ELFFile
from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, UC_PROT_ALL, Uc
from unicorn import arm64_const as A

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from qemu_runner import output_until  # noqa: E402  (the tests' read-until-marker loop)

QEMU = "qemu-system-aarch64"
SLICE = 100_000                   # vizor's quantum: instructions per count-limited emu_start
LOOP_BODY = 8                     # instructions per iteration of images/bench/loop.S
PL011_DR = 0x3F201000


class Elf:
    """An ELF's bytes and symbols, with a way to patch 64-bit words at a symbol."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        elf = ELFFile(io.BytesIO(self.data))
        self.entry = elf["e_entry"]
        self.sym = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}
        self.segments = [(s["p_vaddr"], s["p_offset"], s["p_filesz"]) for s in elf.iter_segments()
                         if s["p_type"] == "PT_LOAD"]
        text = elf.get_section_by_name(".text")
        self.text_addr, self.text = text["sh_addr"], text.data()

    def file_offset(self, addr: int) -> int:
        for vaddr, off, size in self.segments:
            if vaddr <= addr < vaddr + size:
                return off + addr - vaddr
        raise ValueError(f"{addr:#x} is not in a loaded segment of {self.path}")

    def word(self, symbol: str, index: int = 0) -> int:
        off = self.file_offset(self.sym[symbol]) + 8 * index
        return int.from_bytes(self.data[off:off + 8], "little")

    def patched(self, symbol: str, words: tuple[int, ...]) -> bytes:
        """The ELF file with the 64-bit words at ``symbol`` replaced."""
        b = bytearray(self.data)
        off = self.file_offset(self.sym[symbol])
        for i, w in enumerate(words):
            b[off + 8 * i:off + 8 * i + 8] = w.to_bytes(8, "little")
        return bytes(b)


def loop_insns(loop: Elf, iterations: int) -> int:
    """Instructions loop.elf's core 0 executes from _start up to (not including) ``done``."""
    s = loop.sym
    return (s["loop"] - s["_start"]) // 4 + LOOP_BODY * iterations + (s["done"] - s["loop_end"]) // 4


def bare_uc(loop: Elf, iterations: int) -> Uc:
    """One bare Unicorn instance (A53, EL1, MMU off) holding loop.elf's code."""
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM64_A53)
    uc.mem_map(0, 0x200000, UC_PROT_ALL)
    uc.mem_map(PL011_DR & ~0xFFF, 0x1000, UC_PROT_ALL)   # RAM stand-in for the UART's DR
    uc.mem_write(loop.text_addr, loop.text)
    uc.mem_write(loop.sym["iterations"], iterations.to_bytes(8, "little"))
    return uc


def bare_sliced(loop: Elf, iterations: int) -> tuple[float, int]:
    """Wall time of loop.elf in count-limited slices of SLICE, and the slices run."""
    uc = bare_uc(loop, iterations)
    done = loop.sym["done"]
    pc, slices = loop.entry, 0
    t0 = time.perf_counter()
    while pc != done:
        uc.emu_start(pc, done, 0, SLICE)
        pc = uc.reg_read(A.UC_ARM64_REG_PC)
        slices += 1
    return time.perf_counter() - t0, slices


def qemu_version() -> str | None:
    if shutil.which(QEMU) is None:
        return None
    out = subprocess.run([QEMU, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else "?"


def qemu_until(elf_path: str, marker: bytes, *, mini_uart: bool = False,
               timeout: float = 120.0) -> tuple[float, bytes]:
    """Run ``elf_path`` on QEMU raspi3b: wall time from the process start until ``marker``
    appears on the PL011 (or, with ``mini_uart``, the mini UART), and the output so far."""
    serial = ["-serial", "null", "-serial", "stdio"] if mini_uart else ["-serial", "stdio", "-serial", "null"]
    cmd = [QEMU, "-M", "raspi3b", "-kernel", elf_path, "-display", "none", "-monitor", "none",
           "-nodefaults", *serial]
    buf, reached, wall = output_until(cmd, marker, timeout)
    if not reached:
        raise RuntimeError(f"QEMU printed no {marker.decode()!r} within {timeout} s (or exited before)")
    return wall, buf
