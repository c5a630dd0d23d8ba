"""Scripted console sessions with the demo hypervisor (images/hyp/hyp.elf),
on vizor and on QEMU raspi3b, for tests/test_hyp.py.

A script is a list of steps ``(wait_for, send)``: run until ``wait_for`` has
appeared in the PL011 output printed since the previous step, then type
``send`` (bytes) on the PL011.  Both runners return the whole output with
line endings normalised to "\\n".  On QEMU this wraps tests/qemu_runner
(its command line), reading and writing the serial port as the script says.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

from qemu_runner import qemu_available, qemu_command

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image

HERE = os.path.dirname(os.path.abspath(__file__))
HYP = os.path.join(os.path.dirname(HERE), "images", "hyp", "hyp.elf")
CTRL_A = b"\x01"


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class VizorSession:
    """The hypervisor on a vizor board, driven step by step."""

    CHUNK = 250_000     # instructions between two samples of the cores

    def __init__(self, boot_el: int = 2, image: str = HYP) -> None:
        self.board = Board()
        self.board.load(load_image(image, boot_el), boot_el)
        self.out = bytearray()
        self.board.uart_listeners.append(self._on_uart)
        self.board.exception_listeners.append(lambda _c, rec: self.exceptions.append(rec))
        self.mini_uart_bytes = 0
        self.exceptions = []    # every exception any core took
        self.samples = []       # (instructions, ((el, vmid, pc) per core))

    def _sample(self) -> None:
        self.samples.append((self.board.instructions,
                             tuple((c.el, c.vmid(), c.pc) for c in self.board.cores)))

    def _on_uart(self, uart: str, byte: int) -> None:
        if uart == "pl011":
            self.out.append(byte)
        else:
            self.mini_uart_bytes += 1

    @property
    def text(self) -> str:
        return normalise(self.out.decode("latin-1"))

    def run_until(self, marker: str, max_insns: int = 200_000_000) -> bool:
        start = len(self.out)
        want = marker.encode("latin-1")

        def stop():
            return "seen" if want in normalise_bytes(self.out[start:]) else None
        if stop():
            return True
        end = self.board.instructions + max_insns
        while self.board.instructions < end:
            reason = self.board.run(max_insns=min(self.CHUNK, end - self.board.instructions), stop=stop)
            self._sample()
            if reason.kind != "max_insns":
                return reason.kind == "stop"
        return False

    def run(self, max_insns: int) -> None:
        end = self.board.instructions + max_insns
        while self.board.instructions < end:
            reason = self.board.run(max_insns=min(self.CHUNK, end - self.board.instructions))
            self._sample()
            if reason.kind != "max_insns":
                return

    def type(self, data: bytes) -> None:
        self.board.devices["pl011"].receive(data)

    def script(self, steps, max_insns: int = 200_000_000) -> str:
        for wait_for, send in steps:
            if wait_for and not self.run_until(wait_for, max_insns):
                raise AssertionError(f"vizor: {wait_for!r} never appeared; output:\n{self.text}")
            if send:
                self.type(send)
        return self.text


def normalise_bytes(b: bytes) -> bytes:
    return bytes(b).replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def run_qemu_script(steps, image: str = HYP, timeout: float = 20.0,
                    sd: str | None = None) -> str | None:
    """Run the script on QEMU raspi3b (``sd``: a raw card image, which QEMU may
    write to); None when QEMU is not installed."""
    if not qemu_available():
        return None
    proc = subprocess.Popen(qemu_command(image, sd=sd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    out = bytearray()
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    try:
        for wait_for, send in steps:
            start = len(out)
            want = (wait_for or "").encode("latin-1")
            while want not in normalise_bytes(out[start:]):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"QEMU: {wait_for!r} never appeared; output:\n"
                                         f"{normalise(out.decode('latin-1'))}")
                ready, _, _ = select.select([fd], [], [], min(left, 0.1))
                if ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        raise AssertionError("QEMU exited")
                    out += chunk
            if send:
                proc.stdin.write(send)
                proc.stdin.flush()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    return normalise(out.decode("latin-1"))
