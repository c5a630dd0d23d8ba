"""Drive the real gdb-multiarch against vizor's gdb server (and QEMU's), in batch mode.

    with vizor_gdb_server(image, "--boot-el", "3") as port:
        out = gdb_batch(port, "info threads", "monitor break schedule@vmid=3", "continue")

Every port is an ephemeral one (the server is asked for port 0 and says
which it got), every wait has a timeout, and the processes are ended
however the test ends, so tests never hang and run in parallel.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
GDB = shutil.which("gdb-multiarch")
QEMU = shutil.which("qemu-system-aarch64")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def vizor_gdb_server(image: str | None = HYP, *extra: str, command: str = "run", timeout: float = 60.0):
    """``vizor run IMAGE --gdb 127.0.0.1:0 ...``; yields the port it listens on."""
    args = [sys.executable, "-m", "vizor", command, *([image] if image else []), *extra, "--gdb", "127.0.0.1:0"]
    with tempfile.TemporaryFile("w+") as log:     # not a pipe: a chatty server never blocks on it
        proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=log, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            port = None
            while port is None and time.monotonic() < deadline and proc.poll() is None:
                log.seek(0)
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read())
                if m:
                    port = int(m.group(1))
                else:
                    time.sleep(0.05)
            if port is None:
                log.seek(0)
                raise RuntimeError(f"vizor did not listen: {log.read()}")
            yield port
        finally:
            _end(proc)


@contextlib.contextmanager
def qemu_gdb_server(image: str):
    """QEMU raspi3b, stopped at reset (-S), with its own stub on a free port."""
    port = free_port()
    proc = subprocess.Popen([QEMU, "-M", "raspi3b", "-kernel", image, "-S", "-gdb", f"tcp:127.0.0.1:{port}",
                             "-display", "none", "-monitor", "none", "-serial", "null", "-nodefaults"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port
    finally:
        _end(proc)


def _end(proc) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def gdb_batch(port: int, *commands: str, timeout: float = 90.0, kill: bool = True) -> str:
    """Run gdb-multiarch -batch with ``commands`` on the target at ``port``; its output."""
    args = [GDB, "-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off",
            "-ex", f"target remote 127.0.0.1:{port}"]
    for c in commands:
        args += ["-ex", c]
    if kill:
        args += ["-ex", "kill"]
    done = subprocess.run(args, check=False, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return done.stdout + done.stderr


def register(out: str, name: str) -> int:
    """The value of ``name`` in the output of ``info registers`` (the last one printed)."""
    found = re.findall(rf"^{re.escape(name)}\s+(0x[0-9a-f]+)", out, re.MULTILINE)
    assert found, f"{name} not in gdb's output:\n{out}"
    return int(found[-1], 16)
