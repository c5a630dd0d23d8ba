"""Saved sessions: record the demo hypervisor, replay it exactly, refuse bad files,
seek and step backwards."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import pytest
from test_determinism import machine_hash

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger
from vizor.machine.session.format import MAGIC, SessionError, read_chunks, write_chunk
from vizor.machine.session.reader import load_session
from vizor.machine.session.recorder import Recorder
from vizor.machine.session.replay import Replay
from vizor.machine.session.reverse import reverse_continue, step_back

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
CTRL_A = b"\x01"
# Console input to VM 1 (echo), then to VM 2 (mini OS), then VM 1 again.
SCRIPT = [("echo: type, I echo", b"hello\r"), ("hello", CTRL_A + b"2"),
          ("console: VM 2", b"zz"), (None, CTRL_A + b"1"), ("console: VM 1", b"bye\r"), ("bye", None)]
INTERVAL = 400_000


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("session") / "hyp.vzs")
    board = Board()
    board.load(load_image(HYP, 2), 2)
    dbg = Debugger(board)
    out = bytearray()
    board.uart_listeners.append(lambda u, b: out.append(b) if u == "pl011" else None)
    with open(HYP, "rb") as f:
        rec = Recorder(board, path, f.read(), image_name="hyp.elf", boot_el=2, interval=INTERVAL)
    bp = dbg.add_breakpoint(board.symbols.by_name["hyp_sync_lower"], el=2)
    rec.note_breakpoint("add", bp.address, el=2)
    hits = 0
    for marker, send in SCRIPT:
        start = len(out)
        while marker is not None and marker.encode() not in out[start:]:
            r = rec.run(max_insns=2_000_000, run=dbg.run,
                        stop=lambda: "seen" if marker.encode() in out[start:] else None)
            hits += r.kind == "breakpoint"
            if hits == 3 and dbg.breakpoints:
                rec.note_breakpoint("remove", bp.address)
                dbg.remove(bp.id)  # the demo traps often; a few hits are enough
            assert board.instructions < 60_000_000, f"never saw {marker!r}"
        if send:
            rec.note_uart("pl011", send)
    rec.run(max_insns=500_000)
    rec.close()
    return path, out.decode("latin-1"), board.instructions


def test_the_recording_reached_both_vms(recorded):
    _path, text, _n = recorded
    assert "hello" in text and "console: VM 2 (minios)" in text and "bye" in text


def test_replay_verify_finds_the_run_identical(recorded):
    path, _text, n = recorded
    s = load_session(path)
    assert len(s.checkpoints) >= 3 and sum(i["kind"] == "uart" for i in s.inputs) == 5
    assert s.end["instructions"] == n
    replay = Replay(s)
    assert replay.verify() is None
    assert replay.restored == len(s.checkpoints) - 1     # every checkpoint restored and replayed on


def test_verify_names_a_restore_that_runs_on_differently(recorded, monkeypatch):
    from vizor.machine.cpu.core import Core
    path, _text, _n = recorded
    restore = Core.restore_context

    def inexact(core, data):
        restore(core, data)
        if core.index == 1:                               # one bit the checkpoint did not have
            core.regs.write_enc((3, 3, 13, 0, 3), core.regs.read_enc((3, 3, 13, 0, 3)) ^ 1)  # TPIDRRO_EL0
    monkeypatch.setattr(Core, "restore_context", inexact)
    bad = Replay(load_session(path)).verify()
    assert bad is not None and "restored" in bad.what


def test_the_cli_verifies_and_replays(recorded):
    path, text, _n = recorded
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", path, "--verify"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "identical" in r.stderr
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", path, "--quiet"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "hyp: console: VM 2 (minios)" in r.stdout


def _refused(data: bytes, tmp_path) -> str:
    p = tmp_path / "bad.vzs"
    p.write_bytes(data)
    with pytest.raises(SessionError) as e:
        load_session(str(p))
    return str(e.value)


def test_every_flipped_byte_is_refused(recorded, tmp_path):
    data = open(recorded[0], "rb").read()
    for pos in range(0, len(data), max(1, len(data) // 150)):
        bad = bytearray(data)
        bad[pos] ^= 0x5A
        msg = _refused(bytes(bad), tmp_path)
        assert "\n" not in msg and msg


def test_every_truncation_is_refused(recorded, tmp_path):
    data = open(recorded[0], "rb").read()
    for n in list(range(0, 64)) + list(range(64, len(data), max(1, len(data) // 100))):
        assert _refused(data[:n], tmp_path)


def _rewrite(data: bytes, kind: bytes, change) -> bytes:
    out = bytearray(MAGIC)
    f = io.BytesIO()
    for k, payload, _pos in read_chunks(data):
        write_chunk(f, k, change(payload) if k == kind else payload)
    return bytes(out) + f.getvalue()


def test_a_ram_block_with_a_good_checksum_but_bad_zlib_is_refused_at_load(recorded, tmp_path):
    data = open(recorded[0], "rb").read()
    blocks = sum(k == b"BLCK" for k, _p, _pos in read_chunks(data))
    seen = []

    def broken(p):
        seen.append(1)
        return p[:4] + b"\x78\x9c not zlib at all" if len(seen) == blocks else p   # the last one
    t = time.perf_counter()
    msg = _refused(_rewrite(data, b"BLCK", broken), tmp_path)
    assert "RAM block" in msg and time.perf_counter() - t < 5


def test_a_newer_format_is_refused_by_name(recorded, tmp_path):
    data = open(recorded[0], "rb").read()

    def newer(p):
        h = json.loads(p)
        h["format"] = 99
        return json.dumps(h).encode()
    assert "newer than this vizor reads" in _refused(_rewrite(data, b"HEAD", newer), tmp_path)


def test_an_image_not_matching_its_hash_is_refused(recorded, tmp_path):
    data = open(recorded[0], "rb").read()

    def altered(p):
        img = bytearray(zlib.decompress(p))
        img[0x1000] ^= 1
        return zlib.compress(bytes(img))
    assert "does not match its SHA-256" in _refused(_rewrite(data, b"IMAG", altered), tmp_path)


def test_an_oversized_chunk_is_refused_before_it_is_read(tmp_path):
    bad = MAGIC + struct.pack("<4sI", b"HEAD", 0xFFFFFFF0) + b"{}"
    assert "oversized" in _refused(bad, tmp_path)


def test_a_bad_file_on_the_cli_is_one_line_and_status_2(recorded, tmp_path):
    data = open(recorded[0], "rb").read()
    p = tmp_path / "cut.vzs"
    p.write_bytes(data[:len(data) // 2])
    before = set(os.listdir(tmp_path))
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", str(p), "--verify"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert set(os.listdir(tmp_path)) == before


def test_a_state_that_differs_is_named_by_verify(recorded, tmp_path):
    data = open(recorded[0], "rb").read()
    seen = []

    def tamper(p):
        (n,) = struct.unpack_from("<I", p)
        obj = json.loads(zlib.decompress(p[4:4 + n]))
        if obj["meta"]["instructions"] and not seen:
            seen.append(obj["meta"]["instructions"])
            obj["meta"]["cores"][1]["hcr"] ^= 1
            obj["digest"]["cores"][1] = "0" * 32
        body = zlib.compress(json.dumps(obj).encode())
        return struct.pack("<I", len(body)) + body + p[4 + n:]
    p = tmp_path / "tampered.vzs"
    p.write_bytes(_rewrite(data, b"CKPT", tamper))
    bad = Replay(load_session(str(p))).verify()
    assert bad is not None and bad.instructions == seen[0] and bad.core == 1 and "hcr" in bad.what
    r = subprocess.run([sys.executable, "-m", "vizor.cli", "replay", str(p), "--verify"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and f"instruction {seen[0]}, core 1" in r.stderr


def test_seek_lands_on_the_state_of_a_straight_replay(recorded):
    s = load_session(recorded[0])
    target = 2 * INTERVAL + 123_457
    straight = Replay(s)
    straight.run(max_insns=target)
    r = Replay(s)
    r.run(max_insns=target + 1_500_000)
    r.seek(target)
    assert r.board.instructions == target and machine_hash(r.board) == machine_hash(straight.board)


def test_stepping_back_shows_the_states_stepping_forward_showed(recorded):
    s = load_session(recorded[0])
    r = Replay(s)
    core = 0
    r.seek(INTERVAL - 20)  # the steps cross the checkpoint at INTERVAL
    r.run(core_limit=(core, r.board.cores[core].instructions + 1))
    states = []
    for _ in range(4):
        c = r.board.cores[core]
        states.append((c.instructions, machine_hash(r.board)))
        assert r.run(core_limit=(core, c.instructions + 1)).kind == "step"
    for want in reversed(states):
        step_back(r, core)
        assert (r.board.cores[core].instructions, machine_hash(r.board)) == want


def test_reverse_continue_returns_to_the_previous_breakpoint_hit(recorded):
    s = load_session(recorded[0])
    r = Replay(s)
    dbg = Debugger(r.board)
    r.seek(INTERVAL // 2)
    dbg.add_breakpoint(r.board.symbols.by_name["hyp_sync_lower"], el=2)  # guest traps
    hits = []
    while len(hits) < 3:
        reason = r.run(run=dbg.run, max_insns=3 * INTERVAL)
        assert reason.kind == "breakpoint", reason
        hits.append((r.board.instructions, machine_hash(r.board)))
    for want in reversed(hits[:-1]):
        reason = reverse_continue(r, dbg)
        assert reason.kind == "breakpoint"
        assert (r.board.instructions, machine_hash(r.board)) == want


def test_reverse_continue_reports_progress_and_a_cancel_puts_the_board_back(recorded):
    from vizor.machine.session.reverse import CANCELLED
    s = load_session(recorded[0])
    r = Replay(s)
    dbg = Debugger(r.board)
    r.seek(s.checkpoints[-1].instructions + 1000)       # late: many intervals to search
    dbg.add_breakpoint(r.board.symbols.by_name["hyp_sync_lower"], vmid=200)   # never hit
    here = (r.board.instructions, machine_hash(r.board))
    searched, asked = [], []

    def stop():
        asked.append(1)
        return CANCELLED if len(searched) == 3 else None
    from vizor.driver.livelock import LivelockGuard
    with LivelockGuard(r.board):      # breakpoints under a pending virtual IRQ, as the runner has it
        reason = reverse_continue(r, dbg, stop=stop, progress=searched.append)
    assert reason.kind == "stop" and "cancelled" in reason.detail
    assert searched == sorted(searched, reverse=True) and len(searched) == 3
    assert (r.board.instructions, machine_hash(r.board)) == here


def test_stepping_back_far_from_a_saved_checkpoint_uses_a_remembered_one_and_stays_exact(recorded):
    s = load_session(recorded[0])
    r = Replay(s)
    core = 1
    r.seek(INTERVAL + 700_000)  # far from the file's checkpoints: seek keeps one nearer in memory
    assert r._memory and r._memory[-1][0].instructions == INTERVAL + 700_000 - Replay.REMEMBER_BEFORE
    states = []
    for _ in range(3):
        c = r.board.cores[core]
        states.append((c.instructions, machine_hash(r.board)))
        assert r.run(core_limit=(core, c.instructions + 1)).kind == "step"
    for want in reversed(states):
        step_back(r, core)
        assert (r.board.cores[core].instructions, machine_hash(r.board)) == want


def test_a_session_from_another_board_model_is_named_as_such():
    from vizor.machine.session.format import BOARD_MODEL
    from vizor.machine.session.reader import Session
    old = Session({"vizor": "0.1.0", "boot": {"boot_el": 2}}, b"", [], [], {})
    assert old.board_model == 1
    assert f"board model 1; this vizor emulates model {BOARD_MODEL}" in old.model_notice()
    new = Session({"vizor": "0.1.0", "board_model": BOARD_MODEL, "boot": {"boot_el": 2}}, b"", [], [], {})
    assert new.model_notice() is None
