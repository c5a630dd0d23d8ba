"""Debian's Linux 6.1 booted to the test initramfs's end marker on vizor (directly,
or from a card made by `vizor mksd`) and on QEMU raspi3b, and the kernel log of
each normalised for comparison (issue 19).  Used by tests/test_linux_boot.py and
benchmarks/linux_boot.py.

Every run is a subprocess, as a user would start it: `python -m vizor run ...`
and `qemu-system-aarch64 -M raspi3b -kernel Image -dtb ... -initrd ... -append`.
QEMU does not end at the guest's `poweroff`, so it is killed once the marker
shows.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

from initramfs import END_MARKER, initramfs
from linux_material import Material
from qemu_runner import QEMU, output_until

APPEND = "console=ttyAMA0"
# Single-threaded TCG: the same kernel log, and 2-3 s rather than 10-22 s where the
# host has fewer CPUs than raspi3b's four vCPU threads (benchmarks/linux_boot.py)
SINGLE_THREADED = ("-accel", "tcg,thread=single")
MAX_INSNS = 3_000_000_000          # the boot takes ~1.0e9: past this vizor has gone astray
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Boot:
    wall: float                     # seconds from the process start to the marker (or the end)
    out: str                        # the UART's text, "\r\n" made "\n"
    err: str = ""                   # vizor's stderr (its choices line and summary)
    status: int = 0


def write_initramfs(m: Material, workdir: str) -> str:
    path = os.path.join(workdir, "rootfs.cpio")
    with open(m.busybox, "rb") as f:
        data = initramfs(f.read())
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_card(m: Material, workdir: str, append: str = APPEND, armstub: bool = False) -> str:
    """A card made by `vizor mksd` holding what the firmware reads (``armstub``:
    and our images/armstub/armstub8.bin, named by config.txt)."""
    stub = "armstub=armstub8.bin\n" if armstub else ""
    files = {"config.txt": f"arm_64bit=1\nenable_uart=1\n{stub}[pi3]\nkernel=kernel8.img\n"
                           "initramfs rootfs.cpio followkernel\n[all]\n",
             "cmdline.txt": append + "\n"}
    card_dir = os.path.join(workdir, "card")
    os.makedirs(card_dir, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(card_dir, name), "w") as f:
            f.write(text)
    boot_files = [(m.image, "kernel8.img"), (m.dtb, os.path.basename(m.dtb))]
    if armstub:
        boot_files.append((os.path.join(ROOT, "images", "armstub", "armstub8.bin"), "armstub8.bin"))
    for src, name in boot_files:
        dst = os.path.join(card_dir, name)
        if not os.path.exists(dst):
            os.symlink(src, dst)
    os.replace(write_initramfs(m, workdir), os.path.join(card_dir, "rootfs.cpio"))
    card = os.path.join(workdir, "card.img")
    names = [os.path.join(card_dir, n) for n in sorted(os.listdir(card_dir))]
    subprocess.run([sys.executable, "-m", "vizor", "mksd", "--force", card, *names],
                   check=True, capture_output=True, cwd=ROOT)
    return card


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").replace("\r\n", "\n").removesuffix("\r")   # cut before its newline


def vizor_boot(args: list[str], marker: str = END_MARKER, timeout: float = 600.0) -> Boot:
    """`vizor run ARGS --until-uart MARKER`, timed."""
    cmd = [sys.executable, "-m", "vizor", "run", *args, "--until-uart", marker, "--max-insns", str(MAX_INSNS)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, check=False, capture_output=True, timeout=timeout, cwd=ROOT)
    return Boot(time.perf_counter() - t0, _text(p.stdout), _text(p.stderr), p.returncode)


def vizor_direct(m: Material, initrd: str, append: str = APPEND, marker: str = END_MARKER) -> Boot:
    return vizor_boot([m.image, "--dtb", m.dtb, "--initrd", initrd, "--append", append], marker)


def vizor_card(card: str, marker: str = END_MARKER) -> Boot:
    return vizor_boot(["--sd", card], marker)


def qemu_boot(m: Material, initrd: str, append: str = APPEND, marker: str = END_MARKER,
              timeout: float = 120.0, accel: tuple[str, ...] = SINGLE_THREADED) -> Boot:
    """QEMU raspi3b to ``marker``, then killed; status 0 if the marker showed.
    ``accel``: QEMU's TCG mode (() for its default, multi-threaded)."""
    cmd = [QEMU, "-M", "raspi3b", *accel, "-kernel", m.image, "-dtb", m.dtb, "-initrd", initrd,
           "-append", append, "-display", "none", "-monitor", "none", "-nodefaults",
           "-serial", "stdio", "-serial", "null", "-no-reboot"]
    buf, reached, wall = output_until(cmd, marker.encode(), timeout)
    return Boot(wall, _text(buf), status=0 if reached else 1)


# Where the Pi 3 (and so vizor) and QEMU 7.2's raspi3b print different kernel
# lines for the same kernel, tree and initramfs (docs/machine.md, "Booting as the
# firmware does").  Each entry: a pattern, and what is done with a matching line:
# "mask" compares it as the pattern only (it must be there on both, at the same
# place), "float" takes it out of the ordered comparison but it must be there on
# both as often, "drop" ignores it (it may be on one side only).
DEPARTURES = [
    # The counter: 19.2 MHz on the Pi (the firmware's CNTFRQ), 62.5 MHz on QEMU,
    # and the lines derived from it.
    (r"arch_timer: cp15 timer\(s\) running at", "mask"),
    (r"clocksource: arch_sys_counter: mask:", "mask"),
    (r"sched_clock: \d+ bits at", "mask"),
    (r"Calibrating delay loop \(skipped\).*BogoMIPS", "mask"),
    # Timing figures: vizor's time is instructions, QEMU's the host's.
    (r"node 0 deferred pages initialised in \d+ms", "mask"),
    # audit's first record comes from its own thread, at a time that follows
    # each machine's timing, and bears a timestamp.
    (r"audit: type=2000 audit\(", "float"),
    (r"^uptime: ", "mask"),
    # QEMU on a loaded host: an hrtimer interrupt that took long in host time.
    (r"hrtimer: interrupt took \d+ ns", "drop"),
    # The initramfs is unpacked asynchronously: its lines land among the other
    # initcalls' and the probes' wherever the unpacking starts and ends, which
    # follows each machine's timing.
    (r"Trying to unpack rootfs image as initramfs\.\.\.", "float"),
    (r"Freeing initrd memory: \d+K", "float"),
    # QEMU places the initramfs and tree elsewhere than the firmware (vizor).
    (r"Memory: \d+K/\d+K available", "mask"),
    # The firmware revision date the mailbox reports.
    (r"raspberrypi-firmware soc:firmware: Attached to firmware from", "mask"),
    # The AXI bridges' ID (0x3F00A020): "brdg" on the board and vizor, 0 on QEMU,
    # which does not map the block, so the power-domain driver's probe fails there.
    (r"^bcm2835-power bcm2835-power: (Broadcom BCM2835 power domains driver"
     r"|ASB register ID returned 0x00000000)$", "mask"),
]
_STAMP = re.compile(r"^\[\s*\d+\.\d+\] ")


def kernel_log(out: str) -> tuple[list[str], list[str]]:
    """(the ordered lines, the floating lines) of a boot's output up to the end
    marker, timestamps removed and departures applied."""
    lines, floating = [], []
    for raw in out.split("\n"):
        line = _STAMP.sub("", raw.rstrip())
        if line.startswith(END_MARKER):
            break
        for pattern, how in DEPARTURES:
            if re.search(pattern, line):
                if how == "mask":
                    lines.append(f"<{pattern}>")
                elif how == "float":
                    floating.append(f"<{pattern}>")
                break
        else:
            lines.append(line)
    return lines, floating


def log_differences(vizor_out: str, qemu_out: str) -> list[str]:
    """A unified diff of the two normalised kernel logs; empty when they agree."""
    (v, vf), (q, qf) = kernel_log(vizor_out), kernel_log(qemu_out)
    diff = list(difflib.unified_diff(q, v, "qemu", "vizor", n=1, lineterm=""))
    if sorted(vf) != sorted(qf):
        diff.append(f"floating lines: qemu {sorted(qf)} vizor {sorted(vf)}")
    return diff
