"""hypbench (images/bench/hypbench.elf) on vizor and on QEMU raspi3b: the same UART output.

The image is the trap-heavy pattern of a Pi 3 hypervisor (all cores enter at 0 at
EL3, cores 1-3 park in ``b .`` with interrupts masked, two guests poll a mini UART
that stage 2 leaves unmapped, the EL2 handler saves and restores the EL1 context
on every exit, a system-timer tick switches VMs).  It exercises the native
system-register filter and the skipping of spinning cores against an oracle no
one here wrote.  ``hb_params`` is patched to a short run.
"""
from __future__ import annotations

import io
import os

import pytest
from elftools.elf.elffile import ELFFile
from qemu_runner import qemu_available, run_qemu_uarts
from test_determinism import machine_hash

from vizor.machine.board import Board, load_image

HYPBENCH = os.path.join(os.path.dirname(__file__), "..", "images", "bench", "hypbench.elf")
DONE = "hypbench done\n"
SHORT = (12, 1_000, 200)     # lines per guest, work per line, tick in µs


def short_image(tmp_path) -> str:
    with open(HYPBENCH, "rb") as f:
        data = bytearray(f.read())
    elf = ELFFile(io.BytesIO(bytes(data)))
    addr = elf.get_section_by_name(".symtab").get_symbol_by_name("hb_params")[0]["st_value"]
    seg = next(s for s in elf.iter_segments()
               if s["p_type"] == "PT_LOAD" and s["p_vaddr"] <= addr < s["p_vaddr"] + s["p_filesz"])
    off = seg["p_offset"] + addr - seg["p_vaddr"]
    for i, word in enumerate(SHORT):
        data[off + 8 * i:off + 8 * i + 8] = word.to_bytes(8, "little")
    path = tmp_path / "hypbench-short.elf"
    path.write_bytes(bytes(data))
    return str(path)


def vizor_mini(path: str, skip_idle: bool = True) -> tuple[str, Board]:
    board = Board()
    board.load(load_image(path, 3), 3)
    for c in board.cores:
        c.skip_idle = skip_idle
    out: list[str] = []
    board.uart_listeners.append(lambda u, b: out.append(chr(b)) if u == "mini" else None)
    reason = board.run(max_insns=2_000_000_000, stop=lambda: "done" if "".join(out[-16:]).endswith(DONE) else None)
    assert reason.kind == "stop", (reason.kind, reason.detail, "".join(out[-200:]))
    return "".join(out), board


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-aarch64 not installed")
def test_hypbench_prints_what_qemu_prints(tmp_path):
    path = short_image(tmp_path)
    text, board = vizor_mini(path)
    qemu = run_qemu_uarts(path, timeout=60, until="hypbench done", mini_input=b"")
    assert qemu["mini"].replace("\r\n", "\n") == text
    assert text.count("\nA ") + text.startswith("A ") == SHORT[0]
    assert all(c.skipped > 0 for c in board.cores[1:])   # the parked cores were never run


def test_hypbench_is_the_same_with_parked_cores_executed(tmp_path):
    path = short_image(tmp_path)
    skipped, a = vizor_mini(path, True)
    executed, b = vizor_mini(path, False)
    assert skipped == executed
    assert [c.instructions for c in a.cores] == [c.instructions for c in b.cores]
    assert machine_hash(a) == machine_hash(b)
