"""Reading a session file back: its header, image, card, inputs and checkpoints,
every chunk checked before anything is believed (docs/session-format.md)."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from dataclasses import dataclass, field

import vizor.machine.session.checkpoint as C
from vizor.machine.board.loader import MAX_FILE, check_file, plausible_image, read_file
from vizor.machine.session.boot import read_files
from vizor.machine.session.format import (
    BOARD_MODEL,
    FORMAT,
    MAGIC,
    MAX_CONTEXT,
    MAX_IMAGE,
    MAX_JSON,
    SessionError,
    inflate,
    read_chunks,
)
from vizor.machine.session.sd import MAX_SD, check_boot, read_card

# a session holds the image, at most MAX_SD of card and its checkpoints
MAX_SESSION = MAX_FILE + MAX_SD + (1 << 30)

# --- a loaded session -----------------------------------------------------------------------

class SavedCheckpoint:
    """A checkpoint of a session.  Its state (``meta``, ~160 KiB of JSON on the
    demo hypervisor, mostly the cores' exception histories) is kept as read,
    zlib-compressed, and decoded each time it is asked for (a restore, a
    verify): a long session holds hundreds of checkpoints.  ``position`` and
    ``core_counts`` (each core's instruction count) are kept decoded."""

    __slots__ = ("instructions", "digest", "uart", "inputs_before", "contexts", "blocks",
                 "position", "core_counts", "_meta", "_packed")

    def __init__(self, instructions: int, meta: dict | None, digest: dict, uart: dict, inputs_before: int,
                 contexts: list[bytes], blocks: dict[int, bytes] | None = None, *,
                 packed: bytes | None = None) -> None:
        self.instructions = instructions
        self.digest = digest
        self.uart = uart
        self.inputs_before = inputs_before
        self.contexts = contexts
        self.blocks: dict[int, bytes] = {} if blocks is None else blocks   # compressed RAM blocks
        if meta is None and packed is None:
            raise ValueError("a checkpoint needs its state")
        self._meta = meta                 # decoded (a checkpoint kept in memory) or None
        self._packed = packed             # zlib of the checkpoint's JSON object (as read from a file)
        m = self.meta if meta is None else meta
        self.position = m["position"]
        self.core_counts = [c["instructions"] for c in m["cores"]]

    @property
    def meta(self) -> dict:
        if self._meta is not None:
            return self._meta
        return json.loads(zlib.decompress(self._packed))["meta"]


@dataclass
class Session:
    header: dict
    image: bytes
    inputs: list[dict]
    checkpoints: list[SavedCheckpoint]
    end: dict
    card: object = None   # sd.SessionCard: the embedded SD card, if any
    files: list = field(default_factory=list)   # the boot files (pa, bytes): boot.py

    @property
    def boot_el(self) -> int:
        return self.header["boot"]["boot_el"]

    @property
    def board_model(self) -> int:
        """The board model it was recorded on (format.BOARD_MODEL; 1 before it was written down)."""
        m = self.header.get("board_model", 1)
        return m if isinstance(m, int) else 1

    def model_notice(self) -> str | None:
        """One line when the recording's board model is not this vizor's, else None."""
        if self.board_model == BOARD_MODEL:
            return None
        return (f"recorded by vizor {self.header.get('vizor', '?')} on board model {self.board_model}; "
                f"this vizor emulates model {BOARD_MODEL}, so the replay may depart from the recording")


def _loads(payload: bytes, what: str) -> dict:
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise SessionError(f"corrupt: the {what} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise SessionError(f"corrupt: the {what} is not a JSON object")
    return obj


def _need(obj: dict, key: str, kind, what: str):
    v = obj.get(key)
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise SessionError(f"corrupt: {what} has no valid {key!r}")
    return v


def _position(p, what: str) -> list:
    ok = (isinstance(p, list) and len(p) == 5 and all(isinstance(x, int) for x in p[:3])
          and isinstance(p[3], list) and len(p[3]) == 4 and all(isinstance(x, int) for x in p[3])
          and (p[4] is None or isinstance(p[4], int)))
    if not ok:
        raise SessionError(f"corrupt: {what} has no valid position")
    return p


def load_session(path: str) -> Session:
    check_file(path, MAX_SESSION, "a session file", SessionError)
    try:
        with open(path, "rb") as f:
            magic = f.read(len(MAGIC))
    except OSError as e:
        raise SessionError(f"{path}: cannot read: {e.strerror}") from None
    if magic != MAGIC:                 # before reading what may be gigabytes of something else
        raise SessionError("not a vizor session file (bad magic)")
    data = read_file(path, MAX_SESSION, "a session file", SessionError)
    chunks = read_chunks(data)
    if not chunks or chunks[0][0] != b"HEAD":
        raise SessionError("corrupt: the file does not start with a header")
    header = _loads(chunks[0][1], "header")
    fmt = _need(header, "format", int, "the header")
    if fmt > FORMAT:
        raise SessionError(f"session format {fmt} is newer than this vizor reads ({FORMAT}); "
                           f"it was written by vizor {header.get('vizor', '?')}")
    if fmt < 1:
        raise SessionError(f"corrupt: session format {fmt}")
    img = _need(header, "image", dict, "the header")
    boot = _need(header, "boot", dict, "the header")
    if _need(boot, "boot_el", int, "the boot options") not in (2, 3):
        raise SessionError("corrupt: boot_el must be 2 or 3")
    size = _need(img, "size", int, "the image record")
    if not 0 < size <= MAX_IMAGE:
        raise SessionError(f"oversized: image of {size} bytes")
    if len(chunks) < 3 or chunks[1][0] != b"IMAG":
        raise SessionError("truncated: the image chunk is missing")
    image = _image(chunks[1][1], size, img.get("sha256"))
    if chunks[-1][0] != b"END ":
        raise SessionError("truncated: the end record is missing (recording interrupted?)")
    check_boot(boot)
    files, after = read_files(header, chunks[:-1], 2)   # the BOOT chunks, checked
    card, first = read_card(header, chunks[:-1], after)   # the SDCD chunks, checked
    inputs, cps = [], []
    for kind, payload, pos in chunks[first:-1]:
        if kind == b"INPT":
            inp = _loads(payload, f"input at byte {pos}")
            _position(inp.get("at"), f"the input at byte {pos}")
            if inp.get("kind") not in ("uart", "register", "memory", "breakpoint"):
                raise SessionError(f"corrupt: unknown input kind at byte {pos}")
            inputs.append(inp)
        elif kind == b"CKPT":
            cps.append(_checkpoint(payload, pos, len(inputs), packed=fmt >= 2))
        elif kind == b"BLCK":
            if not cps or len(payload) < 4:
                raise SessionError(f"corrupt: RAM block at byte {pos} outside a checkpoint")
            (blk,) = struct.unpack_from("<I", payload)
            if blk >= C.NBLOCKS or blk in cps[-1].blocks:
                raise SessionError(f"corrupt: RAM block number {blk} at byte {pos}")
            if len(inflate(payload[4:], C.BLOCK, f"RAM block {blk} at byte {pos}")) != C.BLOCK:
                raise SessionError(f"corrupt: RAM block {blk} at byte {pos} is not {C.BLOCK} bytes")
            cps[-1].blocks[blk] = payload[4:]     # checked whole here; kept compressed
        else:
            raise SessionError(f"corrupt: a {kind.decode().strip()} chunk at byte {pos} out of place")
    end = _loads(chunks[-1][1], "end record")
    _need(end, "instructions", int, "the end record")
    _need(end, "uart", dict, "the end record")
    _position(end.get("position"), "the end record")
    q = boot.get("quantum")
    if not isinstance(q, int) or not 1 <= q <= 1 << 30:
        raise SessionError("corrupt: the boot options have no valid quantum")
    if not cps or cps[0].instructions != 0 and header.get("from_boot"):
        raise SessionError("corrupt: the session has no starting checkpoint")
    counts = [c.instructions for c in cps]
    if counts != sorted(counts) or counts[-1] > end["instructions"]:
        raise SessionError("corrupt: checkpoints are out of order")
    ats = [i["at"][0] for i in inputs]
    if ats != sorted(ats) or (ats and (ats[0] < counts[0] or ats[-1] > end["instructions"])):
        raise SessionError("corrupt: inputs are out of order")
    return Session(header, image, inputs, cps, end, card, files)


def _checkpoint(payload: bytes, pos: int, inputs_before: int, packed: bool) -> SavedCheckpoint:
    if len(payload) < 4:
        raise SessionError(f"corrupt: checkpoint at byte {pos}")
    (n,) = struct.unpack_from("<I", payload)
    if 4 + n > len(payload):
        raise SessionError(f"corrupt: checkpoint at byte {pos}")
    text = payload[4:4 + n]
    if packed:                            # format 2: the JSON is zlib-compressed
        kept = text
        text = inflate(text, MAX_JSON, f"the state of the checkpoint at byte {pos}")
    else:
        kept = zlib.compress(text, 1)
    obj = _loads(text, f"checkpoint at byte {pos}")
    meta = _need(obj, "meta", dict, "a checkpoint")
    _need(obj, "digest", dict, "a checkpoint")
    _need(obj, "uart", dict, "a checkpoint")
    lens = _need(obj, "contexts", list, "a checkpoint")
    if not lens or not all(isinstance(x, int) and 0 < x <= MAX_CONTEXT for x in lens) or len(lens) > 16:
        raise SessionError(f"corrupt: CPU contexts of the checkpoint at byte {pos}")
    raw = inflate(payload[4 + n:], sum(lens), f"CPU contexts of the checkpoint at byte {pos}")
    if len(raw) != sum(lens) or obj.get("inputs_before") != inputs_before:
        raise SessionError(f"corrupt: checkpoint at byte {pos}")
    ctxs, off = [], 0
    for ln in lens:
        ctxs.append(raw[off:off + ln])
        off += ln
    count = _need(meta, "instructions", int, "a checkpoint")
    _position(meta.get("position"), f"the checkpoint at byte {pos}")
    cores = _need(meta, "cores", list, "a checkpoint")
    if not cores or not all(isinstance(c, dict) and isinstance(c.get("instructions"), int) for c in cores):
        raise SessionError(f"corrupt: the cores of the checkpoint at byte {pos}")
    return SavedCheckpoint(count, None, obj["digest"], obj["uart"], inputs_before, ctxs, packed=kept)


def read_image_bytes(path: str) -> bytes:
    return read_file(path, MAX_FILE, "a kernel image")


IMAGE_PIECE = 1 << 20


def _image(payload: bytes, size: int, sha256) -> bytes:
    """The embedded image, inflated a piece at a time: its start must be an ELF file
    or plausible A64 code before the rest is inflated (a small file declaring a
    huge image of zeros is refused at once), and the hash is taken as it comes."""
    d = zlib.decompressobj()
    h = hashlib.sha256()
    out = bytearray()
    data = payload
    try:
        while True:
            piece = d.decompress(data, IMAGE_PIECE)
            data = d.unconsumed_tail
            if not out and piece and not plausible_image(piece):
                raise SessionError("the embedded image is neither an ELF file nor plausible AArch64 code")
            out += piece
            h.update(piece)
            if len(out) > size:
                raise SessionError(f"oversized: the image inflates beyond {size} bytes")
            if not piece and not data:
                break
    except zlib.error as e:
        raise SessionError(f"corrupt: the image: {e}") from None
    if not d.eof or d.unused_data or len(out) != size or h.hexdigest() != sha256:
        raise SessionError("the embedded image does not match its SHA-256 (corrupt or altered)")
    return bytes(out)
