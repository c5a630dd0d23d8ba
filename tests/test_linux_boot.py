"""Debian's Linux 6.1 boots to a busybox shell on four cores, on vizor directly
(--dtb/--initrd/--append), from a card made by `vizor mksd` (and through our
armstub, images/armstub), and prints the kernel log QEMU raspi3b prints, apart
from the departures listed in tests/linux_runs.py (issue 19).

The kernel and busybox are Debian's, fetched by .ci/run into tests/.linux-cache
(tests/linux_material.py); without them these tests skip and say so.  Each boot
happens once per pytest run: its result is shared by the module's tests and,
under pytest-xdist, between the workers through a file under a lock, so the
four boots can run on four workers at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess

import pytest
from initramfs import END_MARKER, MARKER, initramfs
from linux_material import material, missing
from linux_runs import (
    QEMU,
    Boot,
    log_differences,
    make_card,
    qemu_boot,
    vizor_card,
    vizor_direct,
    write_initramfs,
)


def shared(tmp_path_factory, name: str, compute) -> Boot:
    """``compute(workdir)`` once per pytest run, its Boot kept in the run's shared temp dir."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    workdir = root / f"linux-{name}"
    with open(root / f"linux-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = root / f"linux-{name}.json"
        if not result.exists():
            workdir.mkdir(exist_ok=True)
            result.write_text(json.dumps(compute(str(workdir)).__dict__))
        return Boot(**json.loads(result.read_text()))


@pytest.fixture(scope="module")
def linux():
    why = missing()
    if why:
        pytest.skip(why)
    return material()


@pytest.fixture(scope="module")
def direct(linux, tmp_path_factory) -> Boot:
    return shared(tmp_path_factory, "direct", lambda d: vizor_direct(linux, write_initramfs(linux, d)))


@pytest.fixture(scope="module")
def card(linux, tmp_path_factory) -> Boot:
    return shared(tmp_path_factory, "card", lambda d: vizor_card(make_card(linux, d)))


@pytest.fixture(scope="module")
def stub(linux, tmp_path_factory) -> Boot:
    return shared(tmp_path_factory, "stub", lambda d: vizor_card(make_card(linux, d, armstub=True)))


@pytest.fixture(scope="module")
def qemu(linux, tmp_path_factory) -> Boot:
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} not installed: no reference log")
    return shared(tmp_path_factory, "qemu", lambda d: qemu_boot(linux, write_initramfs(linux, d)))


def reached_the_shell_on_four_cpus(boot: Boot, who: str) -> None:
    assert boot.status == 0, f"{who}: status {boot.status}\n{boot.out[-2000:]}\n{boot.err[-2000:]}"
    assert MARKER in boot.out and END_MARKER in boot.out, f"{who} never reached /init:\n{boot.out[-2000:]}"
    assert re.search(r"^online: 0-3$", boot.out, re.MULTILINE), f"{who}: not four CPUs online"
    bad = [line for line in boot.out.splitlines() if "WARNING" in line or "couldn't lock" in line]
    assert not bad, f"{who}: " + "\n".join(bad)


def nothing_is_unmodelled(boot: Boot) -> None:
    m = re.search(r"unmodelled MMIO: .*", boot.err)
    assert m is None, m.group(0)
    # the AXI bridges read "brdg" (0x3F00A020), so the power-domain driver probes
    assert "bcm2835-power: Broadcom BCM2835 power domains driver" in boot.out


def test_the_initramfs_is_a_newc_archive_with_init_busybox_and_a_console():
    data = initramfs(b"\x7fELF busybox")
    assert data.startswith(b"070701") and len(data) % 4 == 0 and b"TRAILER!!!\0" in data
    if shutil.which("cpio") is None:
        return
    listing = subprocess.run(["cpio", "-itv"], input=data, capture_output=True, check=True).stdout.decode()
    names = [line.split()[-1] for line in listing.splitlines()]
    assert names == ["bin", "bin/busybox", "dev", "dev/console", "proc", "sys", "init"]
    assert re.search(r"^crw-------.* 5,\s+1 .* dev/console$", listing, re.MULTILINE)
    init = subprocess.run(["cpio", "-i", "--to-stdout", "init"], input=data, capture_output=True,
                          check=True).stdout.decode()
    assert init.startswith("#!/bin/busybox sh") and f"echo {MARKER}" in init and f"echo {END_MARKER}" in init


def test_without_the_material_the_skip_reason_says_how_to_fetch_it(tmp_path):
    assert "python tests/linux_material.py" in missing(str(tmp_path))
    (tmp_path / "VERSION").write_text("linux-image-6.1.0-1-arm64.deb\n")      # a fetch cut short
    assert "Image is missing" in missing(str(tmp_path))


def test_vizor_boots_linux_directly_to_the_shell_on_four_cpus(direct):
    reached_the_shell_on_four_cpus(direct, "vizor --dtb --initrd --append")
    nothing_is_unmodelled(direct)


def test_vizor_boots_linux_from_a_card_made_by_mksd(card):
    reached_the_shell_on_four_cpus(card, "vizor --sd")
    assert "card.img:kernel8.img at 0x200000" in card.err and "cmdline 'console=ttyAMA0'" in card.err
    nothing_is_unmodelled(card)


def test_linux_booted_through_our_armstub_prints_the_firmware_paths_log(card, stub):
    # images/armstub/armstub8.bin drops every core to EL2 and releases the
    # secondaries through its spin table: the kernel sees what the firmware's
    # direct path gives, so its log is the card boot's but for the timestamps
    # (the stub's instructions come first).
    reached_the_shell_on_four_cpus(stub, "vizor --sd (armstub)")
    assert "armstub armstub8.bin at 0, kernel at 0x200000" in stub.err
    nothing_is_unmodelled(stub)
    assert unstamped(stub.out) == unstamped(card.out)


def unstamped(out: str) -> list[str]:
    return [re.sub(r"^\[\s*\d+\.\d+\] ", "", line) for line in out.split("\n") if not line.startswith("uptime:")]


def test_qemu_boots_the_same_linux_to_the_shell_on_four_cpus(qemu):
    reached_the_shell_on_four_cpus(qemu, "QEMU raspi3b")


def test_the_kernel_log_is_qemus_but_for_the_listed_departures(direct, qemu):
    diff = log_differences(direct.out, qemu.out)
    assert not diff, "vizor's kernel log departs from QEMU's:\n" + "\n".join(diff)


def test_the_card_boot_is_the_direct_boot_to_the_byte(direct, card):
    # The same files placed by the same rules: vizor's run is deterministic,
    # so even the timestamps agree.
    assert card.out == direct.out
