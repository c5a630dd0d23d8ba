"""Run a bare-metal image on QEMU's raspi3b (the reference machine) and capture
what it prints on the PL011 UART.

    from tests.qemu_runner import run_qemu, QemuMissing
    text = run_qemu("images/tests/exc_sync.elf")      # None if QEMU is absent

Only the PL011 output reaches the returned string: the monitor is disabled, no
display, and `-serial stdio` is the first UART (PL011 on raspi3b).  Line endings
are normalised to "\\n".  The run stops as soon as `until` has been printed (the
conformance kernels end with "DONE") or at `timeout` seconds.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time

QEMU = "qemu-system-aarch64"


class QemuMissing(RuntimeError):
    """qemu-system-aarch64 is not installed (tests should skip)."""


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


def qemu_command(elf_path: str) -> list[str]:
    return [
        QEMU,
        "-M", "raspi3b",
        "-kernel", os.fspath(elf_path),
        "-display", "none",
        "-monitor", "none",
        "-serial", "stdio",     # UART0 = PL011
        "-serial", "null",      # UART1 = mini UART: discard
        "-nodefaults",
        "-no-reboot",
    ]


def run_qemu(elf_path, timeout: float = 30.0, until: str | None = "DONE",
             input_bytes: bytes = b"", raise_if_missing: bool = False) -> str | None:
    """Run `elf_path` on QEMU raspi3b and return the UART text.

    Returns None when qemu-system-aarch64 is not installed (or raises
    QemuMissing when raise_if_missing=True).  Stops when `until` appears in the
    output (None: run to the timeout) and kills QEMU; never raises on timeout.
    """
    if not qemu_available():
        if raise_if_missing:
            raise QemuMissing(f"{QEMU} not found on PATH")
        return None
    if not os.path.exists(elf_path):
        raise FileNotFoundError(elf_path)
    proc = subprocess.Popen(
        qemu_command(elf_path),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    out = bytearray()
    try:
        if input_bytes:
            try:
                proc.stdin.write(input_bytes)
                proc.stdin.flush()
            except BrokenPipeError:
                pass
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        marker = until.encode() if until else None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break           # QEMU exited
                out += chunk
                if marker and marker in out:
                    # give the rest of the line a moment to arrive
                    end = time.monotonic() + 0.2
                    while b"\n" not in out[out.rfind(marker):] and time.monotonic() < end:
                        r, _, _ = select.select([fd], [], [], 0.05)
                        if r:
                            more = os.read(fd, 65536)
                            if not more:
                                break
                            out += more
                    break
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except Exception:
                pass
    text = out.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Checks whose QEMU 7.2 output departs from the architecture (the committed
# images/tests/<name>.expected holds the architectural line, <name>.qemu.txt
# what QEMU prints).  Keys: kernel file name; values: check names (the word(s)
# after "ok "/"FAIL " up to the first detail).  See images/tests/README.md.
QEMU_DEVIATIONS: dict[str, tuple[str, ...]] = {
    "exc_sync.elf": ("sp_align_el1t",),
    "exc_traps.elf": ("tidcp mrs_l2ctlr", "twe wfe"),
    "exc_levels.elf": (),
    "stage2.elf": ("s1ptw_s2_trans_l3",),
    "smp_spinlock.elf": (),
    "irq_timers.elf": (),
    "smp_mailbox.elf": (),
    "systimer.elf": (),
}


def is_deviation(kernel: str, line: str) -> bool:
    """True if `line` of `kernel`'s output is one where QEMU departs from the architecture."""
    name = os.path.basename(kernel)
    for check in QEMU_DEVIATIONS.get(name, ()):
        for status in ("ok ", "FAIL "):
            if line.startswith(status + check + " "):
                return True
    return False


def strip_entry_dependent(text: str) -> str:
    """Drop lines tagged "[el3]": they need our own EL3 code, i.e. an entry at EL3
    (QEMU -kernel x.elf, vizor --boot-el 3); entered at EL2 (Pi firmware, vizor's
    default) the kernels print "skip [el3] ..." there instead."""
    return "".join(l for l in text.splitlines(keepends=True) if "[el3]" not in l)


if __name__ == "__main__":      # python3 tests/qemu_runner.py image.elf [timeout]
    import sys
    res = run_qemu(sys.argv[1], timeout=float(sys.argv[2]) if len(sys.argv) > 2 else 30.0)
    if res is None:
        sys.exit("qemu-system-aarch64 not installed")
    sys.stdout.write(res)
