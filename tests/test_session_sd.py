"""Saved sessions of boards with an SD card (--sd, --sd-writable) or an RNG seed
(--rng-seed): the recording carries the card's base image and the seed, the
replay reproduces the run exactly, and a damaged card in the file is refused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

import pytest
from test_hyp_sd import GUESTS, flat_binary

from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.board.wiring import insert_sd
from vizor.machine.session.format import MAGIC, SessionError, read_chunks, write_chunk
from vizor.machine.session.reader import load_session
from vizor.machine.session.recorder import Recorder
from vizor.machine.session.replay import Replay
from vizor.machine.session.sd import MAX_SD, SD_PIECE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
TESTS = os.path.join(ROOT, "images", "tests")
# sdcard.elf writes blocks 100, 200 and 201; block 100 gets (i * 7 + 3) & 0xFF
WRITTEN = bytes((i * 7 + 3) & 0xFF for i in range(512))
HYP_INSNS = 10_500_000   # past "[pid 1] tick 1" on VM 2's console
# Runs end by count before the test kernels go idle (all cores in WFI): a
# recording that ends idle does not pass --verify yet, with or without a card
# (the replay's run, cut at the recorded count, leaves the core whose WFI was
# the last instruction running: Core.run enters WFI only when a slice ends early).
SDCARD_INSNS = 57_000    # sdcard.elf has written its blocks (idle at 58,466)
RNG_INSNS = 1_297_800    # rng.elf has read its 16 words (idle at 1,298,392)


def vizor(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "vizor.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> str:
    """A card made by `vizor mksd`: the hypervisor's guests and sdcard.elf's files."""
    d = tmp_path_factory.mktemp("card")
    files = {"ECHO.BIN": flat_binary(os.path.join(GUESTS, "echo.elf")),
             "MINIOS.BIN": flat_binary(os.path.join(GUESTS, "minios.elf")),
             "hello.txt": b"Hello from the SD card\n", "A long file name.txt": b"long name body\n"}
    for name, data in files.items():
        (d / name).write_bytes(data)
    out = str(d / "card.img")
    r = vizor("mksd", out, *(str(d / n) for n in files))
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def hyp_recording(card, tmp_path_factory):
    """`vizor run hyp.elf --sd CARD --input '^A2' --record`: the guests boot from the card."""
    d = tmp_path_factory.mktemp("hyp")
    path = str(d / "hyp.vzs")
    mine = str(d / "card.img")
    shutil.copy(card, mine)
    r = vizor("run", HYP, "--sd", mine, "--input", "\\x012", "--max-insns", str(HYP_INSNS),
              "--record", path, "--quiet")
    assert r.returncode == 0, r.stderr
    return path, r.stdout, mine


def _refused(data: bytes, tmp_path) -> str:
    p = tmp_path / "bad.vzs"
    p.write_bytes(data)
    with pytest.raises(SessionError) as e:
        load_session(str(p))
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


def _rewrite(data: bytes, change) -> bytes:
    """The file with every chunk passed through ``change(kind, payload)`` (None drops it)."""
    f = io.BytesIO()
    for k, payload, _pos in read_chunks(data):
        new = change(k, payload)
        if new is not None:
            write_chunk(f, k, new)
    return MAGIC + f.getvalue()


def _header(data: bytes) -> dict:
    return json.loads(read_chunks(data)[0][1])


def _with_header(data: bytes, edit) -> bytes:
    def change(kind, payload):
        if kind != b"HEAD":
            return payload
        h = json.loads(payload)
        edit(h)
        return json.dumps(h).encode()
    return _rewrite(data, change)


# --- the hypervisor booting its guests from the card -------------------------------------

def test_the_hypervisor_booting_from_a_card_replays_identically_without_the_card_file(hyp_recording):
    path, out, mine = hyp_recording
    assert "hyp: guests: 3 of 3 VMs from the SD card\n" in out and "[pid 1] tick 1" in out
    with open(mine, "r+b") as f:      # the replay must not need (or read) the file
        f.write(bytes(1 << 20))
    r = vizor("replay", path, "--verify")
    assert r.returncode == 0 and "identical" in r.stderr, r.stderr
    r = vizor("replay", path, "--headless", "--quiet")
    assert r.returncode == 0 and r.stdout == out


def test_the_header_names_the_card_and_the_file_holds_it_in_pieces(hyp_recording, card):
    data = open(hyp_recording[0], "rb").read()
    head = _header(data)
    image = open(card, "rb").read()
    assert head["format"] == 2 and "rng_seed" not in head["boot"]
    assert head["sd"] == {"name": "card.img", "size": len(image), "writable": False,
                          "sha256": hashlib.sha256(image).hexdigest()}
    pieces = [p for k, p, _ in read_chunks(data) if k == b"SDCD"]
    assert len(pieces) == len(image) // SD_PIECE
    assert b"".join(zlib.decompress(p[4:]) for p in pieces) == image


def test_a_replay_without_the_embedded_card_diverges(hyp_recording):
    s = load_session(hyp_recording[0])
    s.card = None
    out = []
    replay = Replay(s)
    replay.board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    bad = replay.verify()
    assert bad is not None and bad.instructions == 0 and "device emmc" in bad.what
    replay = Replay(s)
    replay.board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    replay.run()
    assert "hyp: guests: built in (no SD card)" in "".join(out)


# --- the card's writes: in the checkpoints, back on restore ------------------------------------

def _record_sdcard(card, path, interval):
    board = Board()
    board.load(load_image(os.path.join(TESTS, "sdcard.elf"), 2), 2)
    sd = insert_sd(board, card)
    with open(os.path.join(TESTS, "sdcard.elf"), "rb") as f:
        rec = Recorder(board, path, f.read(), image_name="sdcard.elf", boot_el=2, interval=interval)
    overlays = {}
    while board.instructions < SDCARD_INSNS:
        reason = rec.run(max_insns=min(interval, SDCARD_INSNS - board.instructions))
        assert reason.kind == "max_insns"
        overlays[board.instructions] = dict(sd.image.overlay)
    rec.close()
    return overlays


def test_seeking_restores_the_cards_written_blocks_as_they_were(card, tmp_path):
    path = str(tmp_path / "sdcard.vzs")
    overlays = _record_sdcard(card, path, 10_000)
    assert sorted(overlays[max(overlays)]) == [100, 200, 201] and overlays[max(overlays)][100] == WRITTEN
    assert open(card, "rb").read()[100 * 512:101 * 512] != WRITTEN   # a read-only card
    s = load_session(path)
    assert len(s.checkpoints) >= 4 and Replay(s).verify() is None
    replay = Replay(s)
    counts = sorted(overlays, reverse=True)      # backwards: every seek restores a checkpoint
    assert overlays[counts[0]] and not overlays[counts[-1]]
    for n in counts:
        replay.seek(n)
        assert replay.board.devices["emmc"].card.image.overlay == overlays[n], n


def test_a_writable_card_is_recorded_exactly_and_the_replay_writes_no_file(card, tmp_path):
    mine = str(tmp_path / "rw.img")
    shutil.copy(card, mine)
    path = str(tmp_path / "rw.vzs")
    r = vizor("run", os.path.join(TESTS, "sdcard.elf"), "--sd", mine, "--sd-writable",
              "--max-insns", str(SDCARD_INSNS), "--record", path, "--quiet")
    assert r.returncode == 0 and "ok cmd25_cmd18" in r.stdout, r.stderr
    after = open(mine, "rb").read()
    assert after[100 * 512:101 * 512] == WRITTEN          # the recording wrote the file
    s = load_session(path)
    assert s.header["sd"]["writable"] is True
    assert s.card.disk_image().read_block(100) == open(card, "rb").read()[100 * 512:101 * 512]
    r = vizor("replay", path, "--verify")
    assert r.returncode == 0, r.stderr
    r = vizor("replay", path, "--headless", "--quiet")
    assert "ok cmd25_cmd18" in r.stdout and open(mine, "rb").read() == after


def test_a_recording_started_mid_run_in_the_tui_carries_the_card_and_the_seed(card, tmp_path):
    """`R` in `vizor boot --sd CARD --rng-seed N`: the first checkpoint holds the blocks
    written before it, and the replay starts from it with the card and the seed."""
    from argparse import Namespace

    import vizor.driver.runner as R
    from vizor.cli.options import board_options
    from vizor.driver.recording import start_recording, stop_recording
    sdcard = os.path.join(TESTS, "sdcard.elf")
    board = Board()
    board.load(load_image(sdcard, 2), 2)
    board_options(board, Namespace(rng_seed=99, sd=card, sd_writable=False))
    board.run(max_insns=45_000)
    written = dict(board.devices["emmc"].card.image.overlay)
    assert written
    runner = R.Runner(board, lambda _o: None, image=sdcard)
    path = str(tmp_path / "mid.vzs")
    start_recording(runner, path)
    runner._advance(board.run, max_insns=SDCARD_INSNS - 45_000)
    stop_recording(runner)
    s = load_session(path)
    assert not s.header["from_boot"] and s.header["boot"]["rng_seed"] == 99 and s.card is not None
    replay = Replay(s)
    assert replay.board.devices["emmc"].card.image.overlay == written
    assert replay.board.devices["rng"].seed == 99
    assert Replay(load_session(path)).verify() is None


# --- the RNG seed ---------------------------------------------------------------------------

def _words(board) -> list[int]:
    pa = board.symbols.by_name["words"]
    raw = bytes(board.ram[pa:pa + 64])
    return list(struct.unpack("<16I", raw))


@pytest.fixture(scope="module")
def rng_recordings(tmp_path_factory):
    d = tmp_path_factory.mktemp("rng")
    out = {}
    for seed in (7, 8):
        path = str(d / f"rng{seed}.vzs")
        r = vizor("run", os.path.join(TESTS, "rng.elf"), "--rng-seed", str(seed), "--max-insns", str(RNG_INSNS),
                  "--record", path, "--quiet")
        assert r.returncode == 0 and "ok words read=16" in r.stdout, r.stderr
        out[seed] = path
    return out


def test_a_recording_with_a_seed_replays_the_same_random_numbers(rng_recordings):
    live = Board()
    live.load(load_image(os.path.join(TESTS, "rng.elf"), 2), 2)
    live.devices["rng"].seed = 7
    live.devices["rng"].reset()
    live.run(max_insns=RNG_INSNS)
    words = {}
    for seed, path in rng_recordings.items():
        s = load_session(path)
        assert s.header["boot"]["rng_seed"] == seed and s.header["format"] == 2
        replay = Replay(s)
        replay.run()
        words[seed] = _words(replay.board)
        assert Replay(load_session(path)).verify() is None
    assert words[7] == _words(live) and len(set(words[7])) > 1
    assert words[8] != words[7]


def test_a_replay_that_ignores_the_seed_is_caught_by_verify(rng_recordings):
    s = load_session(rng_recordings[7])
    del s.header["boot"]["rng_seed"]      # what a reader without rng_seed would do
    bad = Replay(s).verify()
    assert bad is not None and bad.instructions == 0 and "device rng" in bad.what


def test_a_recording_without_card_or_seed_has_no_card_chunks_and_no_seed(tmp_path):
    path = str(tmp_path / "plain.vzs")
    r = vizor("run", os.path.join(TESTS, "rng.elf"), "--max-insns", "100000", "--record", path, "--quiet")
    assert r.returncode == 0, r.stderr
    data = open(path, "rb").read()
    head = _header(data)
    assert head["format"] == 2 and "sd" not in head and "rng_seed" not in head["boot"]
    assert b"SDCD" not in {k for k, _p, _o in read_chunks(data)}
    assert load_session(path).card is None


# --- damaged cards ---------------------------------------------------------------------------

def test_a_flipped_byte_in_the_embedded_card_is_refused(hyp_recording, tmp_path):
    data = open(hyp_recording[0], "rb").read()
    for where in (8, 100, -20):
        def flip(kind, payload, seen=[]):
            if kind == b"SDCD" and not seen:
                seen.append(1)
                p = bytearray(payload)
                p[where] ^= 0x5A
                return bytes(p)
            return payload
        msg = _refused(_rewrite(data, flip), tmp_path)      # CRC right, card wrong
        assert "SD card piece 0" in msg or "SHA-256" in msg, msg


def test_an_altered_card_or_hash_is_refused_by_its_sha256(hyp_recording, tmp_path):
    data = open(hyp_recording[0], "rb").read()

    def altered(kind, payload):
        if kind == b"SDCD" and payload[:4] == bytes(4):
            piece = bytearray(zlib.decompress(payload[4:]))
            piece[510] ^= 1                                   # the MBR signature
            return payload[:4] + zlib.compress(bytes(piece))
        return payload
    assert "SD card image does not match its SHA-256" in _refused(_rewrite(data, altered), tmp_path)
    other = _with_header(data, lambda h: h["sd"].update(sha256="0" * 64))
    assert "does not match its SHA-256" in _refused(other, tmp_path)


def test_a_truncated_or_missing_card_chunk_is_refused(hyp_recording, tmp_path):
    data = open(hyp_recording[0], "rb").read()
    first = next(o for k, _p, o in read_chunks(data) if k == b"SDCD")
    assert "truncated: SDCD chunk" in _refused(data[:first + 500], tmp_path)

    def drop_last(kind, payload):
        return None if kind == b"SDCD" and payload[:4] == struct.pack("<I", 63) else payload
    assert "has 63 of its 64 chunks" in _refused(_rewrite(data, drop_last), tmp_path)
    r = vizor("replay", str(tmp_path / "bad.vzs"), "--verify")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_an_oversized_card_is_refused_before_it_is_inflated(hyp_recording, tmp_path):
    data = open(hyp_recording[0], "rb").read()
    huge = _with_header(data, lambda h: h["sd"].update(size=MAX_SD + SD_PIECE))
    assert "oversized: SD card image" in _refused(huge, tmp_path)

    def bomb(kind, payload):
        if kind == b"SDCD" and payload[:4] == bytes(4):
            return payload[:4] + zlib.compress(bytes(SD_PIECE + 4096))
        return payload
    assert "oversized: SD card piece 0" in _refused(_rewrite(data, bomb), tmp_path)


def test_card_chunks_without_a_card_and_a_bad_seed_are_refused(hyp_recording, tmp_path):
    data = open(hyp_recording[0], "rb").read()
    assert "without a card" in _refused(_with_header(data, lambda h: h.pop("sd")), tmp_path)
    for seed in (-1, "7", 1 << 64):
        bad = _with_header(data, lambda h: h["boot"].update(rng_seed=seed))
        assert "rng_seed" in _refused(bad, tmp_path)


# --- what the recorder refuses -----------------------------------------------------------------

def test_a_card_too_big_to_embed_and_a_seed_too_big_are_one_line_and_status_2(tmp_path):
    big = tmp_path / "big.img"
    with open(big, "wb") as f:
        f.truncate(MAX_SD + SD_PIECE)        # sparse: nothing is written
    out = tmp_path / "big.vzs"
    r = vizor("run", os.path.join(TESTS, "rng.elf"), "--sd", str(big), "--max-insns", "1000",
              "--record", str(out))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "embeds at most 2 GiB" in r.stderr
    assert not out.exists()
    r = vizor("run", os.path.join(TESTS, "rng.elf"), "--rng-seed", str(1 << 64), "--max-insns", "1000")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "the seed is 64 bits" in r.stderr
