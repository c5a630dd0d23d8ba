"""Checkpoints where a pacer says (the wall-clock period of vizor/driver/pacing.py), the
compressed checkpoint state of format 2, and format-1 files still read."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from test_determinism import machine_hash
from test_session import HYP, _refused, _rewrite

from vizor.driver.pacing import WallPacer, checkpoint_policy
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.session.reader import load_session
from vizor.machine.session.recorder import Recorder
from vizor.machine.session.replay import Replay
from vizor.machine.session.reverse import step_back

N = 6_000_000


class EveryNthCall:
    """A checkpoint_due that is deterministic: every n-th time it is asked."""

    seconds = None

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls % self.n == 0


@pytest.fixture(scope="module")
def paced(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("paced") / "hyp.vzs")
    board = Board()
    board.load(load_image(HYP, 2), 2)
    with open(HYP, "rb") as f:
        rec = Recorder(board, path, f.read(), image_name="hyp.elf", boot_el=2, interval=None,
                       checkpoint_due=EveryNthCall(60))
    rec.run(max_insns=N)
    rec.close()
    return path, machine_hash(board)


def test_paced_checkpoints_fall_between_slices_and_replay_identically(paced):
    path, _h = paced
    s = load_session(path)
    counts = [cp.instructions for cp in s.checkpoints]
    assert len(counts) >= 4 and counts[0] == 0
    assert any(c % 100_000 for c in counts[1:])      # not at slice or count boundaries
    assert s.header["format"] == 2 and s.header["checkpoint_interval"] is None   # format 3 only with boot files
    assert Replay(s).verify() is None


def test_a_replay_of_a_paced_recording_ends_in_the_recorded_state(paced):
    path, h = paced
    r = Replay(load_session(path))
    r.run()
    assert r.board.instructions == N and machine_hash(r.board) == h


def test_a_step_back_restores_a_paced_checkpoint_and_matches_a_straight_run(paced):
    path, _h = paced
    s = load_session(path)
    k = len(s.checkpoints) - 1
    target = s.checkpoints[k].instructions + 12_345
    r = Replay(s)
    r.seek(target)
    core = max(r.board.cores, key=lambda c: c.instructions).index
    want = r.board.cores[core].instructions - 1
    step_back(r, core)
    straight = Replay(s)
    straight.goto_core_count(core, want)
    assert r.board.cores[core].instructions == want
    assert machine_hash(r.board) == machine_hash(straight.board)


def test_a_checkpoints_state_is_compressed_and_decoded_when_asked(paced):
    path, _h = paced
    cp = load_session(path).checkpoints[-1]
    assert cp.meta["position"] == cp.position and cp.meta["instructions"] == cp.instructions
    assert [c["instructions"] for c in cp.meta["cores"]] == cp.core_counts
    assert len(cp._packed) * 5 < len(json.dumps(cp.meta))


def _as_format_1(data: bytes) -> bytes:
    def head(p):
        h = json.loads(p)
        h["format"] = 1
        return json.dumps(h).encode()

    def plain(p):
        (n,) = struct.unpack_from("<I", p)
        body = zlib.decompress(p[4:4 + n])
        return struct.pack("<I", len(body)) + body + p[4 + n:]
    return _rewrite(_rewrite(data, b"HEAD", head), b"CKPT", plain)


def test_a_format_1_file_with_plain_json_checkpoints_still_replays(paced, tmp_path):
    old = tmp_path / "old.vzs"
    old.write_bytes(_as_format_1(open(paced[0], "rb").read()))
    s = load_session(str(old))
    assert s.header["format"] == 1
    assert Replay(s).verify() is None


def test_checkpoint_state_that_inflates_beyond_the_limit_is_refused(paced, tmp_path):
    def bomb(p):
        (n,) = struct.unpack_from("<I", p)
        body = zlib.compress(b" " * (65 << 20), 9)
        return struct.pack("<I", len(body)) + body + p[4 + n:]
    msg = _refused(_rewrite(open(paced[0], "rb").read(), b"CKPT", bomb), tmp_path)
    assert msg.startswith("oversized") and "\n" not in msg


def test_the_wall_pacer_is_due_once_per_period():
    now = [100.0]
    pacer = WallPacer(1.0, clock=lambda: now[0])
    seen = []
    for _ in range(30):
        now[0] += 0.25
        seen.append(pacer())
    assert seen.count(True) == 7 and seen[3] and not seen[4] and seen[7]
    with pytest.raises(ValueError):
        WallPacer(0)


def test_recordings_are_paced_by_wall_time_unless_an_interval_is_given():
    assert checkpoint_policy(400_000) == {"interval": 400_000}
    auto = checkpoint_policy(None)
    assert auto["interval"] is None and isinstance(auto["checkpoint_due"], WallPacer)


def test_register_and_memory_edits_are_recorded_and_replayed_at_their_places(tmp_path):
    path = str(tmp_path / "edits.vzs")
    board = Board()
    board.load(load_image(HYP, 2), 2)
    with open(HYP, "rb") as f:
        rec = Recorder(board, path, f.read(), image_name="hyp.elf", boot_el=2, interval=1_000_000)
    rec.run(max_insns=2_500_000)
    rec.note_memory(0x2F000000, b"\xde\xad\xbe\xef")          # RAM nobody uses
    rec.note_register(2, "X21", 0x5A5A)
    rec.run(max_insns=1_500_000)
    rec.note_register(1, "HCR_EL2", board.cores[1].hcr)       # through vizor's HCR shadow
    rec.run(max_insns=500_000)
    rec.close()
    s = load_session(path)
    kinds = [(i["kind"], i["at"][0]) for i in s.inputs]
    assert kinds == [("memory", 2_500_000), ("register", 2_500_000), ("register", 4_000_000)]
    r = Replay(s)
    r.seek(2_600_000)
    assert r.board.read_ram(0x2F000000, 4) == b"\xde\xad\xbe\xef"
    assert Replay(s).verify() is None
    s.inputs.pop(0)                                          # without the memory edit
    bad = Replay(load_session(path))
    bad.session.inputs[:] = s.inputs
    found = bad.verify()
    assert found is not None and found.instructions >= 2_500_000


def test_a_checkpoint_too_large_for_a_reader_is_left_out_and_the_file_stays_exact(tmp_path, monkeypatch):
    import vizor.machine.session.format as S
    path = str(tmp_path / "big.vzs")
    board = Board()
    board.load(load_image(HYP, 2), 2)
    with open(HYP, "rb") as f:
        rec = Recorder(board, path, f.read(), image_name="hyp.elf", boot_el=2, interval=1_000_000)
    rec.run(max_insns=2_000_000)
    monkeypatch.setattr(S, "MAX_JSON", 1000)          # every further checkpoint is "too large"
    rec.note_memory(0x2F000000, b"only in a left-out checkpoint's blocks")
    rec.run(max_insns=2_000_000)
    monkeypatch.undo()
    rec.run(max_insns=1_500_000)                      # this one carries the left-out RAM blocks
    rec.close()
    assert rec.left_out == 2
    s = load_session(path)
    assert [cp.instructions for cp in s.checkpoints] == [0, 1_000_000, 2_000_000, 5_000_000]
    assert Replay(s).verify() is None
    r = Replay(s)
    r.seek(5_200_000)
    straight = Replay(s)
    straight.run(max_insns=5_200_000)
    assert machine_hash(r.board) == machine_hash(straight.board)


def test_a_recording_whose_first_checkpoint_is_too_large_is_refused_and_leaves_no_file(tmp_path,
                                                                                       monkeypatch):
    import vizor.machine.session.format as S
    monkeypatch.setattr(S, "MAX_JSON", 1000)
    board = Board()
    board.load(load_image(HYP, 2), 2)
    with pytest.raises(S.CheckpointTooLarge, match="a reader accepts"):
        with open(HYP, "rb") as f:
            Recorder(board, str(tmp_path / "no.vzs"), f.read(), image_name="hyp.elf", boot_el=2)
    assert not (tmp_path / "no.vzs").exists()


PACED_INSNS = 26_000_000        # the demo idles through its first ~20 M (idle skips), then ~8 M/s here


def test_vizor_run_record_paced_by_the_wall_clock_restores_every_checkpoint_exactly(tmp_path, monkeypatch,
                                                                                    capsys):
    """The real ``vizor run --record`` (main()), its checkpoints paced by the wall clock
    (WallPacer, the period shortened to 0.1 s so that a short run gets many, wherever the
    run is then): ``vizor replay --verify`` restores every one and says so, and each,
    restored onto a board standing later, is the state a straight Board run has at its
    place (tests/session_oracle.py, which hashes it without the session code)."""
    from session_oracle import Straight, state_hash

    import vizor.driver.pacing as pacing
    from vizor.cli.main import main
    monkeypatch.setattr(pacing, "CHECKPOINT_SECONDS", 0.1)
    path = str(tmp_path / "paced.vzs")
    assert main(["run", HYP, "--max-insns", str(PACED_INSNS), "--input", "hello\\r", "--record", path,
                 "--quiet"]) == 0
    s = load_session(path)
    cps = s.checkpoints
    assert s.header["checkpoint_seconds"] == 0.1 and s.header["checkpoint_interval"] is None
    assert len(cps) >= 5, [cp.instructions for cp in cps]
    capsys.readouterr()
    assert main(["replay", path, "--verify"]) == 0
    said = capsys.readouterr().err
    assert f"identical: {len(cps)} checkpoints ({len(cps) - 1} restored and replayed to the next)" in said
    straight = Straight("hyp.elf", typed=((0, "pl011", b"hello\r"),))     # --input: at instruction 0
    want = [state_hash(straight.at_position(cp.position)) for cp in cps]
    replay = Replay(s)
    replay.run()                                       # the board stands at the end
    for k in reversed(range(len(cps))):
        replay._restore(k)
        assert state_hash(replay.board) == want[k], f"checkpoint {k} of {len(cps)} at {cps[k].position}"


def test_the_demo_recorded_for_100_million_instructions_restores_every_checkpoint_exactly(tmp_path, capsys):
    """Issue 16 as it was found: ``vizor run images/hyp/hyp.elf --max-insns 100000000
    --record`` (the real one-second pacer: ~13 checkpoints here) restored at checkpoints
    drifted from the straight run.  ``replay --verify`` now restores every one and says
    so, and each, restored onto a board standing later, hashes as a straight Board run
    at its place.  ~50 s on the two-CPU development machine (record 13 s, verify 24 s)."""
    from session_oracle import Straight, state_hash

    from vizor.cli.main import main
    path = str(tmp_path / "hyp.vzs")
    assert main(["run", HYP, "--max-insns", "100000000", "--record", path, "--quiet"]) == 0
    s = load_session(path)
    cps = s.checkpoints
    assert s.header["checkpoint_seconds"] == 1.0 and len(cps) >= 5, [cp.instructions for cp in cps]
    capsys.readouterr()
    assert main(["replay", path, "--verify"]) == 0
    said = capsys.readouterr().err
    assert f"identical: {len(cps)} checkpoints ({len(cps) - 1} restored and replayed to the next)" in said
    straight = Straight("hyp.elf", typed=())
    want = [state_hash(straight.at_position(cp.position)) for cp in cps]
    replay = Replay(s)
    for k in reversed(range(len(cps))):         # each restore lands on a board standing later
        replay._restore(k)
        assert state_hash(replay.board) == want[k], f"checkpoint {k} of {len(cps)} at {cps[k].position}"
