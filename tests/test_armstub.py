"""vizor's own armstub (images/armstub/armstub8.S, config.txt `armstub=`):
the firmware loads it at 0 and starts every core there at EL3; it drops to
EL2 and enters the kernel as the Pi firmware's direct path does (issue 19).

A card with the demo hypervisor as kernel8.img and a device tree is booted
twice, with and without `armstub=armstub8.bin`: each core reaches the kernel
seeing the same registers (EL2h, D A I F masked, x0 = the tree for core 0,
x0-x3 = 0 for the secondaries, SCR_EL3, HCR_EL2, CNTHCTL_EL2, CNTFRQ_EL0,
MPIDR/VMPIDR), the same RAM from the kernel to the end of the tree, and the
hypervisor prints the same lines (its secondaries released through the
stub's spin table at 0xd8 + 8n).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from firmware_qemu import qemu_as_firmware
from qemu_runner import qemu_available
from test_firmware_boot import tree
from test_hyp_sd import flat_binary

from vizor.cli.card import card_plan
from vizor.cli.mksd import make_sd_image
from vizor.machine.board.board import Board
from vizor.machine.board.firmware import STUB_MAGIC, place
from vizor.machine.debug.engine import Debugger

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, "images", "armstub", "armstub8.bin")
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
KERNEL = 0x80000
SYSREGS = ("SCR_EL3", "HCR_EL2", "CNTHCTL_EL2", "CNTVOFF_EL2", "CNTFRQ_EL0", "MPIDR_EL1", "VMPIDR_EL2",
           "VPIDR_EL2", "VTTBR_EL2", "CPTR_EL2")
SCTLR_EL2_DEFINED = 0x0208100F       # EE, WXN, I, SA, C, A, M: RES1 bits aside, the MMU and caches off


def make_card(tmp_path, stub: bool) -> str:
    files = {"kernel8.img": flat_binary(HYP), "bcm2710-rpi-3-b.dtb": tree(),
             "config.txt": b"enable_uart=1\n" + (b"armstub=armstub8.bin\n" if stub else b"")}
    if stub:
        with open(STUB, "rb") as f:
            files["armstub8.bin"] = f.read()
    folder = tmp_path / ("stub" if stub else "direct")
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    out = str(folder / "card.img")
    make_sd_image(out, [str(folder / n) for n in files])
    return out


def boot(card: str) -> tuple[Board, object]:
    plan = card_plan(card, 2)
    placement = place(plan)
    board = Board()
    board.load(plan.kernel, plan.boot_el, blobs=placement.blobs, x0=placement.x0)
    return board, placement


def at_kernel(board: Board, core: int) -> dict:
    """Core ``core``'s view at its first instruction of the kernel."""
    dbg = Debugger(board)
    bp = dbg.add_breakpoint(KERNEL, core=core, el=2)
    if board.cores[core].pc != KERNEL or board.cores[core].el != 2:
        reason = dbg.run(max_insns=5_000_000)
        assert reason.kind == "breakpoint", reason
    dbg.remove(bp.id)
    c = board.cores[core]
    assert not c.exception_counts, c.exception_counts      # the stub traps nothing on its way
    view = {name: c.sysreg(name) for name in SYSREGS}
    view.update(pc=c.pc, el=c.el, spsel=c.pstate & 1, daif=(c.pstate >> 6) & 0xF,
                x=[c.regs.x(n) for n in range(4)], sctlr_el2=c.sysreg("SCTLR_EL2") & SCTLR_EL2_DEFINED)
    return view


def test_the_stub_is_ours_at_0_with_the_magic_and_an_empty_spin_table():
    with open(STUB, "rb") as f:
        stub = f.read()
    assert len(stub) == 0x100
    assert int.from_bytes(stub[0xF0:0xF4], "little") == STUB_MAGIC
    assert stub[0xD8:0xF0] == bytes(24) and stub[0xF4:0x100] == bytes(12)


def test_the_firmware_fills_the_stubs_words_and_clears_its_magic(tmp_path):
    board, placement = boot(make_card(tmp_path, stub=True))
    words = board.read_ram(0xD8, 0x28)
    assert words[:0x20] == bytes(0x20)                      # four empty slots: the magic is gone
    assert int.from_bytes(words[0x20:0x24], "little") == placement.dtb_at
    assert int.from_bytes(words[0x24:0x28], "little") == KERNEL
    assert all(c.el == 3 and c.pc == 0 for c in board.cores)


def test_each_core_enters_the_kernel_as_the_firmware_path_leaves_it(tmp_path):
    direct, d_place = boot(make_card(tmp_path, stub=False))
    stubbed, s_place = boot(make_card(tmp_path, stub=True))
    assert d_place.dtb_at == s_place.dtb_at
    end = d_place.dtb_at + 0x1000
    for core in range(4):
        want, got = at_kernel(direct, core), at_kernel(stubbed, core)
        assert got == want, f"core {core}"
        if core == 0:
            assert got["x"] == [d_place.dtb_at, 0, 0, 0] and got["el"] == 2 and got["daif"] == 0xF
            assert direct.read_ram(KERNEL, end - KERNEL) == stubbed.read_ram(KERNEL, end - KERNEL)
        else:
            assert got["x"] == [0, 0, 0, 0]


def test_vizor_run_boots_the_hypervisor_through_the_stub_with_no_flags(tmp_path):
    def run(card):
        r = subprocess.run([sys.executable, "-m", "vizor", "run", "--sd", card, "--until-uart", "cores up",
                            "--max-insns", "60000000", "--quiet"], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        return r
    direct, stubbed = run(make_card(tmp_path, stub=False)), run(make_card(tmp_path, stub=True))
    assert "armstub armstub8.bin at 0, kernel at 0x80000" in stubbed.stderr
    assert "hyp: vizor demo hypervisor, entered at EL2" in stubbed.stdout
    assert "hyp: 4 cores up" in stubbed.stdout
    assert stubbed.stdout == direct.stdout


def test_vizor_run_image_with_armstub_boots_as_the_card_does(tmp_path):
    """`vizor run IMAGE --dtb FILE --armstub FILE` places what a card with
    `armstub=` places: the same one-line choice, the same output, and a
    recording of it replays identical.  The card is in the slot for both, so
    the hypervisor finds the same (no) guests on it."""
    (tmp_path / "hyp.img").write_bytes(flat_binary(HYP))
    (tmp_path / "tree.dtb").write_bytes(tree())
    until = ["--until-uart", "cores up", "--max-insns", "60000000", "--quiet"]
    sd = make_card(tmp_path, stub=True)
    card = subprocess.run([sys.executable, "-m", "vizor", "run", "--sd", sd, *until],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    rec = str(tmp_path / "direct.vzs")
    direct = subprocess.run([sys.executable, "-m", "vizor", "run", str(tmp_path / "hyp.img"), "--dtb",
                             str(tmp_path / "tree.dtb"), "--armstub", STUB, "--sd", sd, *until, "--record", rec],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert direct.returncode == 0, direct.stderr
    assert "armstub8.bin at 0, kernel at 0x80000" in direct.stderr
    assert "hyp: 4 cores up" in direct.stdout and direct.stdout == card.stdout
    verify = subprocess.run([sys.executable, "-m", "vizor", "replay", rec, "--verify"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert verify.returncode == 0 and "identical" in verify.stderr, verify.stdout + verify.stderr


def test_armstub_refuses_an_elf_kernel_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "vizor", "run", HYP, "--armstub", STUB],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "needs a raw kernel image" in r.stderr, r.stderr
    assert r.stderr.startswith(f"vizor: {HYP}: an ELF"), r.stderr          # the ELF is named, not the stub


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-aarch64 is not installed")
def test_qemu_started_at_el3_on_the_same_placement_prints_the_same(tmp_path):
    """QEMU raspi3b has no card firmware: started with no -kernel (every core
    at 0 in EL3) and what vizor's firmware placed loaded at the same
    addresses, the stub runs there as on the board."""
    card = make_card(tmp_path, stub=True)
    until = "echo: type, I echo"
    qemu = qemu_as_firmware(card, str(tmp_path), until)
    r = subprocess.run([sys.executable, "-m", "vizor", "run", "--sd", card, "--until-uart", until,
                        "--max-insns", "60000000", "--quiet"], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert until in qemu and "hyp: vizor demo hypervisor, entered at EL2" in qemu
    assert hyp_lines(r.stdout) == hyp_lines(qemu)


def hyp_lines(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.startswith(("hyp: ", "echo:"))]
