"""A raspvisor-style card booted end to end with no flags (issue 19): config.txt
says `kernel_old=1` and `disable_commandline_tags=1`, kernel8.img is a
hypervisor linked at 0 (images/hyp/hyp0.elf, the demo hypervisor built there),
and its guests are files on the card (ECHO.BIN, MINIOS.BIN), which it reads
through the EMMC.  `vizor mksd` makes the card and `vizor run --sd CARD` boots
it: the firmware loads kernel8.img at 0, writes nothing below it, and starts
all four cores there at EL3.

QEMU raspi3b has no card firmware; started with no -kernel it resets every
core at 0 in EL3, so with kernel8.img loaded at 0 and the card as -drive
if=sd (tests/firmware_qemu.py) it boots the card the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from firmware_qemu import qemu_as_firmware
from qemu_runner import qemu_available
from test_hyp_sd import GUESTS, flat_binary

from vizor.cli.card import card_plan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP0 = os.path.join(ROOT, "images", "hyp", "hyp0.elf")
CONFIG = b"arm_64bit=1\nkernel_old=1\ndisable_commandline_tags=1\n"
BANNER = "echo: type, I echo"


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("raspvisor")
    files = {"config.txt": CONFIG, "kernel8.img": flat_binary(HYP0),
             "ECHO.BIN": flat_binary(os.path.join(GUESTS, "echo.elf")),
             "MINIOS.BIN": flat_binary(os.path.join(GUESTS, "minios.elf"))}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    out = str(folder / "card.img")
    r = subprocess.run([sys.executable, "-m", "vizor", "mksd", out, *(str(folder / n) for n in files)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return out


def vizor_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vizor", "run", *args, "--max-insns", "200000000"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def hyp_lines(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.startswith(("hyp: ", "echo:"))]


def test_the_card_says_kernel_old_at_0_on_every_core_at_el3_and_no_tree(card):
    plan = card_plan(card, 2)
    assert plan.boot_el == 3 and plan.kernel.low == 0 and plan.kernel.entry == 0
    assert plan.dtb is None and plan.cmdline is None and not plan.extra


def test_vizor_boots_the_card_with_no_flags_and_the_guests_come_from_it(card):
    r = vizor_run("--sd", card, "--until-uart", BANNER)
    assert r.returncode == 0, r.stderr
    assert "card.img:kernel8.img at 0x0, all cores at EL3, kernel_old=1, disable_commandline_tags=1" in r.stderr
    out = r.stdout
    assert "hyp: vizor demo hypervisor, entered at EL3, 3 VMs" in out
    assert "hyp: guests: 3 of 3 VMs from the SD card" in out
    assert "hyp: VM 2: MINIOS.BIN from the SD card" in out and "hyp: 4 cores up" in out
    assert BANNER in out


def test_the_mini_os_from_the_card_runs_its_processes(card):
    r = vizor_run("--sd", card, "--input", "\\x012", "--until-uart", "[pid 1] tick 1", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "hyp: console: VM 2 (minios)" in r.stdout and "[pid 2] work 0" in r.stdout


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-aarch64 is not installed")
def test_qemu_booting_the_same_kernel_the_same_way_prints_the_same(card, tmp_path):
    qemu = qemu_as_firmware(card, str(tmp_path), BANNER)
    assert BANNER in qemu, qemu[-2000:]
    r = vizor_run("--sd", card, "--until-uart", BANNER, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "hyp: guests: 3 of 3 VMs from the SD card" in qemu
    assert hyp_lines(r.stdout) == hyp_lines(qemu)
