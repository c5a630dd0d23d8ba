"""Hostile and mistaken inputs are refused at once, in one line naming the file once."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from vizor.machine.board.loader import ImageError, load_image
from vizor.machine.session.format import SessionError
from vizor.machine.session.reader import load_session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")


def vizor(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vizor.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def one_line(r) -> str:
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/"])
def test_a_device_or_a_directory_is_refused_before_it_is_read(path):
    for cmd in ("run", "replay"):
        line = one_line(vizor(cmd, path))
        assert line.count(path) == 1 and ("regular file" in line or "directory" in line), line


def test_a_huge_sparse_image_is_refused_by_its_size(tmp_path):
    big = tmp_path / "sparse.img"
    with open(big, "wb") as f:
        f.truncate(1_200_000_000)
    t = time.perf_counter()
    with pytest.raises(ImageError, match="larger than"):
        load_image(str(big))
    with pytest.raises(SessionError):
        load_session(str(big))          # not a session either: refused, not read whole
    assert time.perf_counter() - t < 1.0


def test_a_missing_session_is_named_once():
    line = one_line(vizor("replay", "missing.vzs"))
    assert line == "vizor: missing.vzs: no such file"


@pytest.mark.parametrize("spec,why", [("0xffffffffffffffffff", "wider than a 64-bit address"),
                                      ("hyp_main+0xffffffffffffffff", "wider than a 64-bit address"),
                                      ("pa:0xffffffffffff", "outside RAM")])
def test_an_address_beyond_64_bits_or_outside_ram_is_refused(spec, why):
    assert why in one_line(vizor("run", HYP, "--break", spec, "--max-insns", "10"))


def test_a_bad_input_escape_is_one_clear_line():
    line = one_line(vizor("run", HYP, "--input", "\\xZZ", "--max-insns", "10"))
    assert "bad escape" in line and "codec" not in line


def test_mksd_never_overwrites_its_input_and_asks_for_force(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("hello\n")
    assert "one of the files" in one_line(vizor("mksd", str(text), str(text)))
    assert text.read_text() == "hello\n"
    card = tmp_path / "card.img"
    assert vizor("mksd", str(card), str(text)).returncode == 0
    assert "--force" in one_line(vizor("mksd", str(card), str(text)))
    assert vizor("mksd", "--force", str(card), str(text)).returncode == 0


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_polling_guest_and_keeps_the_recording(tmp_path, sig):
    import signal
    session = tmp_path / "s.vzs"
    getc = os.path.join(ROOT, "images", "bench", "getc.elf")
    # --no-skip-idle: the guest polls the UART's status through a Python hook on every
    # iteration, where a KeyboardInterrupt would be swallowed by ctypes (a timer poll
    # would not do: counter reads are answered in C)
    proc = subprocess.Popen([sys.executable, "-m", "vizor.cli", "run", getc, "--no-skip-idle",
                             "--record", str(session)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == "ready\n"         # it is polling now
    time.sleep(0.5)
    t = time.perf_counter()
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=30)
    assert time.perf_counter() - t < 2.0
    assert proc.returncode == 128 + getattr(signal, sig)
    assert "interrupted by" in err and "Traceback" not in err and "Exception ignored" not in err
    r = vizor("replay", str(session), "--verify")
    assert r.returncode == 0 and "identical" in r.stderr, r.stderr


@pytest.mark.parametrize("mode", ["--verify", "--headless"])
def test_a_signal_during_a_replay_ends_it_without_a_verdict(tmp_path, mode):
    import signal
    session = tmp_path / "s.vzs"
    getc = os.path.join(ROOT, "images", "bench", "getc.elf")
    r = vizor("run", getc, "--no-skip-idle", "--max-insns", "3000000", "--record", str(session))
    assert r.returncode in (0, 1), r.stderr
    # --no-skip-idle: every poll of the UART goes through a Python hook, where a
    # KeyboardInterrupt would be swallowed by ctypes (and a verify would report a divergence)
    proc = subprocess.Popen([sys.executable, "-m", "vizor.cli", "replay", str(session), mode, "--no-skip-idle"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip(f"the replay ({mode}) finished before the signal (a fast machine)")
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "Traceback" not in err and "Exception ignored" not in err and "diverged" not in err, err
    assert "interrupted" in err


def test_a_small_session_declaring_a_huge_image_of_zeros_is_refused_at_once(tmp_path):
    import json
    import zlib

    from vizor.machine.session.format import MAGIC, write_chunk
    comp = zlib.compressobj(9)
    image = b"".join(comp.compress(bytes(1 << 24)) for _ in range(59)) + comp.flush()   # ~1 MB for ~1 GB
    path = tmp_path / "bomb.vzs"
    with open(path, "wb") as f:
        f.write(MAGIC)
        header = {"format": 2, "vizor": "0.1.0", "boot": {"boot_el": 2},
                  "image": {"name": "x", "size": 59 << 24, "sha256": "0" * 64}}
        write_chunk(f, b"HEAD", json.dumps(header).encode())
        write_chunk(f, b"IMAG", image)
        write_chunk(f, b"END ", b"{}")
    t = time.perf_counter()
    with pytest.raises(SessionError, match="neither an ELF file"):
        load_session(str(path))
    assert time.perf_counter() - t < 1.0
