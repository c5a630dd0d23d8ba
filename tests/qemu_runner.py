"""Run a bare-metal image on QEMU's raspi3b (the reference machine) and capture
what it prints on the PL011 UART.

    from tests.qemu_runner import run_qemu, QemuMissing
    text = run_qemu("images/tests/exc_sync.elf")      # None if QEMU is absent

Only the PL011 output reaches the returned string: the monitor is disabled, no
display, and `-serial stdio` is the first UART (PL011 on raspi3b).
`run_qemu_uarts(..., mini_input=b"...")` also gives the mini UART (the second
UART) a unix-socket chardev, types into it and captures what it prints.  Line endings
are normalised to "\\n".  The run stops as soon as `until` has been printed (the
conformance kernels end with "DONE") or at `timeout` seconds.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

QEMU = "qemu-system-aarch64"


class QemuMissing(RuntimeError):
    """qemu-system-aarch64 is not installed (tests should skip)."""


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


def qemu_command(elf_path: str, mini_chardev: str | None = None, *, sd: str | None = None,
                 reboot: bool = False) -> list[str]:
    """The QEMU command line.  ``mini_chardev``: a -chardev spec with id=mini for
    UART1 (the mini UART); without it the mini UART goes to null.  ``sd``: a raw
    image for the SD card (QEMU writes to it: pass a copy).  ``reboot``: let a
    guest reset restart the machine (default: -no-reboot, a reset ends QEMU)."""
    mini = ["-chardev", mini_chardev, "-serial", "chardev:mini"] if mini_chardev else ["-serial", "null"]
    extra = ["-drive", f"file={os.fspath(sd)},if=sd,format=raw"] if sd else []
    extra += [] if reboot else ["-no-reboot"]
    return [
        QEMU,
        "-M", "raspi3b",
        "-kernel", os.fspath(elf_path),
        "-display", "none",
        "-monitor", "none",
        "-serial", "stdio",     # UART0 = PL011
        *mini,                  # UART1 = mini UART
        "-nodefaults",
        *extra,
    ]


def run_qemu(elf_path, timeout: float = 30.0, until: str | None = "DONE",
             input_bytes: bytes = b"", raise_if_missing: bool = False) -> str | None:
    """Run `elf_path` on QEMU raspi3b and return the PL011 text.

    Returns None when qemu-system-aarch64 is not installed (or raises
    QemuMissing when raise_if_missing=True).  Stops when `until` appears in the
    output (None: run to the timeout) and kills QEMU; never raises on timeout.
    `input_bytes` are typed into the PL011.
    """
    res = run_qemu_uarts(elf_path, timeout, until, pl011_input=input_bytes,
                         raise_if_missing=raise_if_missing)
    return None if res is None else res["pl011"]


def _connect(path: str, proc: subprocess.Popen, deadline: float) -> socket.socket | None:
    """Connect to QEMU's listening unix socket (it waits for us before starting)."""
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
        time.sleep(0.01)
    return None


def run_qemu_uarts(elf_path, timeout: float = 30.0, until: str | None = "DONE",
                   pl011_input: bytes = b"", mini_input: bytes | None = None,
                   raise_if_missing: bool = False, sd: str | None = None,
                   reboot: bool = False) -> dict[str, str] | None:
    """Run `elf_path` and return {"pl011": text, "mini": text}.

    With `mini_input` (bytes, possibly empty) the mini UART is a unix-socket
    chardev that QEMU waits on before it starts the guest: the bytes are
    typed into it and its output is captured.  Otherwise it goes to null and
    "mini" is "".  `until` is looked for in the PL011 output, and in the mini
    UART's when it is captured.
    """
    if not qemu_available():
        if raise_if_missing:
            raise QemuMissing(f"{QEMU} not found on PATH")
        return None
    if not os.path.exists(elf_path):
        raise FileNotFoundError(elf_path)
    tmp = tempfile.mkdtemp(prefix="vizor-qemu-") if mini_input is not None else None
    sock_path = os.path.join(tmp, "mini.sock") if tmp else None
    chardev = f"socket,id=mini,path={sock_path},server=on,wait=on" if sock_path else None
    proc = subprocess.Popen(
        qemu_command(elf_path, chardev, sd=sd, reboot=reboot),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    out = bytearray()
    mini_out = bytearray()
    sock = None
    try:
        deadline = time.monotonic() + timeout
        if sock_path:
            sock = _connect(sock_path, proc, deadline)
            if sock is not None and mini_input:
                sock.sendall(mini_input)
        if pl011_input:
            try:
                proc.stdin.write(pl011_input)
                proc.stdin.flush()
            except BrokenPipeError:
                pass
        fd = proc.stdout.fileno()
        fds = [fd] + ([sock.fileno()] if sock is not None else [])
        marker = until.encode() if until else None
        end_after = None            # set once the marker is seen: let the line finish
        while True:
            now = time.monotonic()
            limit = deadline if end_after is None else min(deadline, end_after)
            if now >= limit:
                break
            ready, _, _ = select.select(fds, [], [], min(limit - now, 0.2))
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            if sock is not None and sock.fileno() in ready:
                chunk = sock.recv(65536)
                if chunk:
                    mini_out += chunk
                else:
                    fds.remove(sock.fileno())
            if fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break           # QEMU exited
                out += chunk
            seen = out if marker and marker in out else mini_out
            if marker and end_after is None and marker in seen:
                end_after = time.monotonic() + 0.2
            if end_after is not None and b"\n" in seen[seen.rfind(marker):]:
                if sock is not None and sock.fileno() in fds:
                    # QEMU's socket chardev may still hold mini-UART bytes the
                    # guest wrote before the marker: drain until it is quiet.
                    _drain_quiet(sock, mini_out, deadline)
                break
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        for f in (proc.stdin, proc.stdout, sock):
            try:
                if f is not None:
                    f.close()
            except Exception:
                pass
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return {"pl011": _text(out), "mini": _text(mini_out)}


def output_until(cmd: list[str], marker: bytes, timeout: float) -> tuple[bytes, bool, float]:
    """Start QEMU ``cmd`` (in its own session, output on stdout), read until
    ``marker`` shows, QEMU exits or ``timeout`` passes, then kill it:
    (output, whether the marker showed, seconds from the start to then)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    out = b""
    try:
        fd = proc.stdout.fileno()
        while marker not in out and time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([fd], [], [], 0.2)
            chunk = os.read(fd, 65536) if ready else b""
            if ready and not chunk:
                break                      # QEMU ended before the marker
            out += chunk
        wall = time.perf_counter() - t0
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        proc.stdout.close()
    return out, marker in out, wall


def _drain_quiet(sock: socket.socket, into: bytearray, deadline: float,
                 quiet: float = 0.5) -> None:
    """Read `sock` into `into` until it stays silent for `quiet` seconds."""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], quiet)
        chunk = sock.recv(65536) if ready else b""
        if not chunk:
            return
        into += chunk


def _text(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
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
    # QEMU's mini UART ignores LCR, BAUD and SCRATCH writes (they read 0), and
    # its IIR reads ID 01 ("transmit holding register empty") with bit 0 = 1
    # whenever the RX FIFO is empty, where the manual's ID for "no interrupt"
    # is 00 (IIR = 0xc1).
    "uart_rx.elf": ("mini_readback", "mini_drained"),
    "sdcard.elf": (),
    # QEMU's RNG_STATUS always reports one word available, even before RBGEN
    # is set (the board's FIFO fills only once the generator runs).
    "rng.elf": ("before_enable",),
    "watchdog.elf": (),
    "framebuffer.elf": (),
    # QEMU fetches the instruction right after an MSR that switches the MMU
    # through the new regime; the in-order A53 has fetched it already, so
    # without an ISB it still runs under the old one (vizor follows the board).
    "mmu_switch.elf": ("mmu_on_no_isb", "mmu_off_no_isb"),
    "secmon.elf": (),
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
