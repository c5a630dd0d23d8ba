"""Saved sessions of boards booted from boot files (issue 19): `--dtb/--initrd/
--append` beside an IMAGE, and a card's config.txt with no IMAGE (`--sd CARD`:
a raspvisor-style kernel_old=1 card, an armstub card).  The session carries
the image where it was placed, the blobs beside it (tree, initramfs, a kernel
behind a stub, the stub's words) and x0 (docs/session-format.md, "Boot
files"), so `vizor replay --verify` reports identical; a damaged boot file
in the file is refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from linux_material import material, missing
from test_armstub import make_card as stub_card
from test_firmware_boot import tree
from test_hyp_sd import GUESTS, flat_binary

from vizor.driver.recording import start_recording, stop_recording
from vizor.driver.runner import Runner
from vizor.machine.session.format import MAGIC, SessionError, read_chunks, write_chunk
from vizor.machine.session.reader import load_session
from vizor.machine.session.replay import Replay

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
HYP0 = os.path.join(ROOT, "images", "hyp", "hyp0.elf")
BANNER = "echo: type, I echo"


def vizor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vizor", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def record_and_verify(session: str, *run_args: str) -> subprocess.CompletedProcess:
    r = vizor("run", *run_args, "--quiet", "--record", session)
    assert r.returncode == 0, r.stderr
    v = vizor("replay", "--verify", session)
    assert v.returncode == 0 and "identical" in v.stderr, v.stderr
    return r


@pytest.fixture(scope="module")
def raspvisor_card(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("raspvisor")
    files = {"config.txt": b"kernel_old=1\ndisable_commandline_tags=1\n", "kernel8.img": flat_binary(HYP0),
             "ECHO.BIN": flat_binary(os.path.join(GUESTS, "echo.elf"))}
    for name, data in files.items():
        (d / name).write_bytes(data)
    out = str(d / "card.img")
    assert vizor("mksd", out, *(str(d / n) for n in files)).returncode == 0
    return out


def test_a_direct_boot_with_a_tree_initramfs_and_cmdline_replays_identically(tmp_path):
    (tmp_path / "t.dtb").write_bytes(tree())
    (tmp_path / "rd").write_bytes(bytes(range(256)) * 64)
    s = str(tmp_path / "s.vzs")
    r = record_and_verify(s, HYP, "--dtb", str(tmp_path / "t.dtb"), "--initrd", str(tmp_path / "rd"),
                          "--append", "console=ttyAMA0", "--until-uart", BANNER)
    assert BANNER in r.stdout
    session = load_session(s)
    fw = session.header["boot"]["firmware"]
    assert session.header["format"] == 3 and fw["kernel_at"] is None
    (rd_at, rd), (dtb_at, dtb) = session.files
    assert rd == bytes(range(256)) * 64 and dtb[:4] == b"\xd0\x0d\xfe\xed" and fw["x0"] == dtb_at > rd_at


def test_a_raspvisor_card_replays_identically_at_el3(raspvisor_card, tmp_path):
    s = str(tmp_path / "s.vzs")
    r = record_and_verify(s, "--sd", raspvisor_card, "--until-uart", BANNER)
    assert "hyp: guests: 1 of 3 VMs from the SD card" in r.stdout
    session = load_session(s)
    assert session.boot_el == 3 and session.card is not None       # kernel_old=1, not --boot-el
    assert session.header["image"]["name"] == "card.img:kernel8.img" and session.header["format"] == 2


def test_an_armstub_card_carries_the_kernel_behind_the_stub_and_its_words(tmp_path):
    card = stub_card(tmp_path, stub=True)
    s = str(tmp_path / "s.vzs")
    record_and_verify(s, "--sd", card, "--until-uart", BANNER)
    session = load_session(s)
    assert session.header["image"]["name"] == "card.img:armstub8.bin"
    assert [pa for pa, _ in session.files] == [0x80000, session.files[1][0], 0xF0]   # kernel, tree, words
    assert session.files[0][1] == flat_binary(HYP)


def test_recording_a_card_boot_from_the_runner_as_the_tui_does(raspvisor_card, tmp_path):
    from vizor.cli.main import _parser
    from vizor.cli.options import build_board
    board, path = build_board(_parser().parse_args(["run", "--sd", raspvisor_card]))
    runner = Runner(board, lambda _obj: None, image=path)
    s = str(tmp_path / "s.vzs")
    start_recording(runner, s)
    runner._advance(board.run, max_insns=300_000)
    stop_recording(runner)
    replay = Replay(load_session(s))
    assert replay.board.boot[1] == 3 and replay.verify() is None


def test_a_damaged_boot_file_is_refused(tmp_path):
    (tmp_path / "t.dtb").write_bytes(tree())
    s = str(tmp_path / "s.vzs")
    assert vizor("run", HYP, "--dtb", str(tmp_path / "t.dtb"), "--max-insns", "1000", "--quiet",
                 "--record", s).returncode == 0
    with open(s, "rb") as f:
        chunks = read_chunks(f.read())
    bad = str(tmp_path / "bad.vzs")
    with open(bad, "wb") as f:
        f.write(MAGIC)
        for kind, payload, _ in chunks:
            if kind == b"BOOT":
                import zlib
                data = bytearray(zlib.decompress(payload))
                data[8] ^= 1
                payload = zlib.compress(bytes(data))
            write_chunk(f, kind, payload)
    with pytest.raises(SessionError, match="boot file 0 does not match its SHA-256"):
        load_session(bad)
    r = vizor("replay", "--verify", bad)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


@pytest.mark.skipif(bool(missing()), reason=missing() or "")
def test_linux_placed_at_0x200000_with_its_tree_and_initramfs_replays_identically(tmp_path):
    from linux_runs import write_initramfs
    m = material()
    s = str(tmp_path / "s.vzs")
    record_and_verify(s, m.image, "--dtb", m.dtb, "--initrd", write_initramfs(m, str(tmp_path)),
                      "--append", "console=ttyAMA0", "--max-insns", "20000000")
    fw = load_session(s).header["boot"]["firmware"]
    assert fw["kernel_at"] == 0x200000 and len(fw["files"]) == 2
