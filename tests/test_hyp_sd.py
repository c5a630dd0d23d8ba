"""The demo hypervisor's SD boot mode (images/hyp/sd.c, fat.c): with a card
whose FAT32 partition 1 holds ECHO.BIN / MINIOS.BIN (flat binaries of
images/guests/*.elf), the VMs boot those instead of the built-in copies, and
a "hyp: guests:" line says which it did.  The cards are made by `vizor mksd`;
the flat binaries are made here from the ELFs as `objcopy -O binary` makes
them (the loadable segments' file contents at their physical addresses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile
from hyp_session import CTRL_A, HYP, VizorSession, normalise, run_qemu_script
from qemu_runner import qemu_available

from vizor.machine.board.wiring import insert_sd

GUESTS = os.path.join(os.path.dirname(os.path.dirname(HYP)), "guests")
ECHO_BANNER = b"echo: type, I echo"
PATCHED = b"echo: TYPE, I ECHO"      # the same length: only the string changes


def flat_binary(elf: str) -> bytes:
    with open(elf, "rb") as f:
        segs = [(s["p_paddr"], s.data()[:s["p_filesz"]]) for s in ELFFile(f).iter_segments()
                if s["p_type"] == "PT_LOAD" and s["p_filesz"]]
    base = min(a for a, _ in segs)
    out = bytearray(max(a + len(d) for a, d in segs) - base)
    for a, d in segs:
        out[a - base:a - base + len(d)] = d
    return bytes(out)


def make_card(tmp_path, files: dict[str, bytes]) -> str:
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    card = str(tmp_path / "card.img")
    r = vizor("mksd", card, *paths)
    assert r.returncode == 0, r.stderr
    return card


def vizor(*args):
    return subprocess.run([sys.executable, "-m", "vizor.cli", *args], capture_output=True,
                          text=True, timeout=300)


def run_hyp(*args, until="echo: type, I echo") -> str:
    """`vizor run hyp.elf ARGS` until `until` appears on the PL011 (VM 1's console)."""
    r = vizor("run", HYP, *args, "--until-uart", until, "--max-insns", "60000000", "--quiet")
    assert r.returncode == 0, r.stderr
    return normalise(r.stdout)


# VM 1's banner, then VM 2's console until its first process has ticked
SCRIPT = [("echo: type, I echo\n", CTRL_A + b"2"), ("[pid 1] tick 1\n", None)]


def session(card: str | None) -> str:
    s = VizorSession(boot_el=2)
    if card:
        insert_sd(s.board, card)
    return s.script(SCRIPT)


@pytest.fixture(scope="module")
def echo_bin() -> bytes:
    return flat_binary(os.path.join(GUESTS, "echo.elf"))


@pytest.fixture(scope="module")
def minios_bin() -> bytes:
    return flat_binary(os.path.join(GUESTS, "minios.elf"))


def test_guests_boot_from_the_card_and_print_as_usual(tmp_path, echo_bin, minios_bin):
    card = make_card(tmp_path, {"ECHO.BIN": echo_bin, "MINIOS.BIN": minios_bin})
    out = run_hyp("--sd", card)
    assert "hyp: guests: 3 of 3 VMs from the SD card\n" in out
    assert f"hyp: VM 1: ECHO.BIN from the SD card, {len(echo_bin)} bytes\n" in out
    assert f"hyp: VM 2: MINIOS.BIN from the SD card, {len(minios_bin)} bytes\n" in out
    assert f"hyp: VM 3: MINIOS.BIN from the SD card, {len(minios_bin)} bytes\n" in out
    assert "echo: MPIDR_EL1 80000000 ID_AA64PFR0_EL1 00000022 ID_AA64AFR0_EL1 00000001\n" in out
    assert ECHO_BANNER.decode() in out


def test_mini_os_instances_loaded_from_the_card_run_their_processes(tmp_path, echo_bin, minios_bin):
    card = make_card(tmp_path, {"ECHO.BIN": echo_bin, "MINIOS.BIN": minios_bin})
    out = session(card)
    assert "hyp: guests: 3 of 3 VMs from the SD card\n" in out
    assert "hyp: console: VM 2 (minios)\n" in out
    assert "minios: mini OS guest, kernel at 0xffff000000000000" in out


def test_the_vm_runs_the_cards_image_not_the_built_in_one(tmp_path, echo_bin):
    assert echo_bin.count(ECHO_BANNER) == 1
    card = make_card(tmp_path, {"ECHO.BIN": echo_bin.replace(ECHO_BANNER, PATCHED)})
    out = run_hyp("--sd", card, until=PATCHED.decode())
    assert PATCHED.decode() in out and ECHO_BANNER.decode() not in out


def test_a_card_without_a_guests_file_leaves_that_vm_built_in(tmp_path, echo_bin):
    card = make_card(tmp_path, {"ECHO.BIN": echo_bin, "OTHER.TXT": b"not a guest\n"})
    out = session(card)
    assert "hyp: guests: 1 of 3 VMs from the SD card\n" in out
    assert "hyp: VM 2: no MINIOS.BIN on the SD card, built in\n" in out
    assert "minios: mini OS guest" in out


def test_without_a_card_the_built_in_guests_boot_and_it_says_so():
    out = run_hyp()
    assert "hyp: guests: built in (no SD card)\n" in out
    assert "from the SD card" not in out and ECHO_BANNER.decode() in out


def test_a_card_with_no_fat32_partition_leaves_the_guests_built_in(tmp_path):
    card = tmp_path / "blank.img"
    card.write_bytes(bytes(64 << 20))
    out = run_hyp("--sd", str(card))
    assert "hyp: guests: built in (no FAT32 in partition 1 of the SD card)\n" in out
    assert ECHO_BANNER.decode() in out


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-aarch64 is not installed")
def test_qemu_boots_the_same_guests_from_the_card(tmp_path, echo_bin, minios_bin):
    """QEMU raspi3b's SD card sits behind the same Arasan EMMC (-drive if=sd);
    the hypervisor's lines and the guests' banners match vizor's."""
    card = make_card(tmp_path, {"ECHO.BIN": echo_bin.replace(ECHO_BANNER, PATCHED),
                                "MINIOS.BIN": minios_bin})
    qcard = str(tmp_path / "qemu.img")
    shutil.copyfile(card, qcard)                   # QEMU may write to its image
    steps = [(PATCHED.decode() + "\n", CTRL_A + b"2"), ("[pid 1] tick 1\n", None)]
    qemu = run_qemu_script(steps, timeout=60, sd=qcard)
    s = VizorSession(boot_el=2)
    insert_sd(s.board, card)
    ours = s.script(steps)

    def lines(text):
        return [ln.replace("entered at EL3", "entered at EL*").replace("entered at EL2", "entered at EL*")
                for ln in text.split("\n")
                if ln.startswith(("hyp: ", "echo:", "minios: mini OS"))]
    assert "hyp: guests: 3 of 3 VMs from the SD card" in lines(qemu)
    assert PATCHED.decode() in lines(qemu)
    assert lines(qemu) == lines(ours)
