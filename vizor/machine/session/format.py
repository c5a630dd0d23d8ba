"""Saved sessions: the file format (chunks, limits, the checkpoint payload); reading is
reader.py, recording recorder.py.

The format is documented in docs/session-format.md: a magic string, then
chunks (kind, length, payload, CRC-32) — a JSON header, the image, inputs,
checkpoints with their RAM blocks, and an end record.  Nothing in it is
code: JSON, zlib data and raw bytes, each chunk's size bounded before it is
read.  ``load_session`` (reader.py) checks the whole file (checksums, order, sizes, the
image's SHA-256) before anything is run, and raises ``SessionError`` with one
line saying what is wrong.

``Recorder`` (recorder.py) records a live board
into this format; replaying is ``replay.py``.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import BinaryIO

import vizor.machine.session.checkpoint as C
from vizor.machine.board.board import Board

MAGIC = b"VIZORSES"
FORMAT = 3                   # 2: compressed checkpoint JSON, SD card chunks, the RNG seed; 3: boot files
                             # (written only when there are some; 1 and 2 are read too)
VIZOR_VERSION = "0.1.0"
# The board model a session was recorded on.  A replay re-runs the machine, so a
# session recorded on another model may depart from its recording (and its
# checkpoints may not restore); ``vizor replay`` says so.  Bump it whenever the
# machine's behaviour or its checkpointed state changes.  Sessions without it: 1.
#   2: ISR_EL1, MMU switch without ISB, the clock manager and DMA, the A53's
#      PMU (six counters), SPSRs unwritten since reset kept apart
#   3: an interrupt taken between slices is logged at the core's present time
#      (it was the end of the core's previous slice: after a restore, stale)
#   4: the AXI bridges (ASB, 0x3F00A000): the "brdg" ID and stop acknowledges
#   5: a slice is planned whole: a run cut inside it (a checkpoint, an input, a
#      step, a breakpoint) goes on with it, taking no interrupt at the cut
BOARD_MODEL = 5
DEFAULT_INTERVAL = 25_000_000
_DUE = "checkpoint due"      # the stop a Recorder's checkpoint_due makes; never seen outside run()
KINDS = (b"HEAD", b"IMAG", b"BOOT", b"SDCD", b"INPT", b"CKPT", b"BLCK", b"END ")
MAX_JSON = 64 << 20          # a JSON chunk (a checkpoint's state is ~100 KiB)
MAX_IMAGE = C.RAM_MAPPED     # the image cannot be larger than RAM
SD_PIECE = 1 << 20           # bytes of an SD card image in one SDCD chunk (sd.py)
MAX_CHUNK = {b"IMAG": MAX_IMAGE + (1 << 20), b"BOOT": MAX_IMAGE + (1 << 20), b"BLCK": C.BLOCK + 1024,
             b"CKPT": MAX_JSON + (1 << 20),
             b"SDCD": SD_PIECE + (1 << 16)}   # a piece's number and zlib's worst-case growth fit
MAX_CONTEXT = 1 << 16        # one core's CPU context (12,640 bytes on Unicorn 2.1.4)
_HDR = struct.Struct("<4sI")


class SessionError(Exception):
    """A session file that cannot be read or replayed (one line)."""


def uart_tag(uart: str) -> bytes:
    return b"p" if uart == "pl011" else b"m"


class UartLog:
    """Bytes the board printed, as a count and a SHA-256 over (UART tag, byte)."""

    def __init__(self, board: Board) -> None:
        self.count = 0
        self.hash = hashlib.sha256()
        board.uart_listeners.append(self._on_uart)

    def _on_uart(self, uart: str, byte: int) -> None:
        self.count += 1
        self.hash.update(uart_tag(uart) + bytes((byte,)))

    def summary(self) -> dict:
        return {"bytes": self.count, "sha256": self.hash.hexdigest()}


# --- chunks ---------------------------------------------------------------------------

def write_chunk(f: BinaryIO, kind: bytes, payload: bytes) -> None:
    head = _HDR.pack(kind, len(payload))
    f.write(head + payload + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))))


def _json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


class CheckpointTooLarge(ValueError):
    """A checkpoint's state would exceed what a reader accepts (MAX_JSON)."""


def checkpoint_payload(cp: C.Checkpoint, uart: dict, inputs_before: int) -> bytes:
    text = _json({"meta": cp.meta, "digest": cp.digest, "uart": uart, "inputs_before": inputs_before,
                  "contexts": [len(c) for c in cp.contexts]})
    if len(text) > MAX_JSON:
        raise CheckpointTooLarge(f"a checkpoint's state is {len(text) >> 20} MiB, more than the "
                                 f"{MAX_JSON >> 20} MiB a reader accepts (mostly the SD card's written blocks)")
    meta = zlib.compress(text, 6)
    return struct.pack("<I", len(meta)) + meta + zlib.compress(b"".join(cp.contexts), 6)


def block_payload(blk: int, data: bytes) -> bytes:
    return struct.pack("<I", blk) + data


def read_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """(kind, payload, offset) of every chunk; SessionError on any damage."""
    if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
        raise SessionError("not a vizor session file (bad magic)")
    out, pos = [], len(MAGIC)
    while pos < len(data):
        if pos + _HDR.size > len(data):
            raise SessionError(f"truncated: chunk header at byte {pos} is cut short")
        kind, length = _HDR.unpack_from(data, pos)
        if kind not in KINDS:
            raise SessionError(f"corrupt: unknown chunk kind {kind!r} at byte {pos}")
        if length > MAX_CHUNK.get(kind, MAX_JSON):
            raise SessionError(f"oversized: {kind.decode().strip()} chunk of {length} bytes at byte {pos}")
        end = pos + _HDR.size + length
        if end + 4 > len(data):
            raise SessionError(f"truncated: {kind.decode().strip()} chunk at byte {pos} is cut short")
        payload = data[pos + _HDR.size:end]
        (crc,) = struct.unpack_from("<I", data, end)
        if zlib.crc32(payload, zlib.crc32(data[pos:pos + _HDR.size])) != crc:
            raise SessionError(f"corrupt: checksum of the {kind.decode().strip()} chunk at byte {pos} fails")
        out.append((kind, payload, pos))
        pos = end + 4
    return out


def inflate(data: bytes, limit: int, what: str) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as e:
        raise SessionError(f"corrupt: {what}: {e}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise SessionError(f"oversized: {what} inflates beyond {limit} bytes")
    if not d.eof or d.unused_data:
        raise SessionError(f"corrupt: {what}: the compressed data is incomplete or has trailing bytes")
    return out
