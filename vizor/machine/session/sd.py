"""The SD card and the RNG seed of a saved session (docs/session-format.md).

A recording of a board with a card in the EMMC slot embeds the card's base
image: the bytes of its file when the recording starts.  A read-only card's
file never changes, and the guest's writes — on a writable card too — are in
the card's overlay, part of the EMMC state that every checkpoint carries, so
base image + checkpoint = the card at that checkpoint.  The base image is cut
into pieces of ``SD_PIECE`` bytes, one ``SDCD`` chunk each (u32 piece number,
zlib of the piece), right after ``IMAG``; ``HEAD`` holds ``sd`` {``name``,
``size``, ``sha256``, ``writable``}.

The reader checks the card's size against ``MAX_SD`` and the number of pieces
against the size before it inflates anything, inflates each piece once (at
most ``SD_PIECE`` bytes) to check the SHA-256, and keeps only the compressed
pieces: a replay's card (``SessionCard.disk_image``) inflates the pieces the
guest reads, a few at a time, and keeps the guest's writes in memory.

The RNG seed is ``boot.rng_seed`` in ``HEAD``, written only when it is not
the default seed.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import BinaryIO, Callable

from vizor.machine.devices.rng import DEFAULT_SEED, MASK64
from vizor.machine.devices.sd_card import BLOCK, DiskImage
from vizor.machine.session.format import SD_PIECE, SessionError, inflate

MAX_SD = 2 << 30         # the largest card a session embeds (see docs/session-format.md)


# --- recording ---------------------------------------------------------------------------------

def rng_seed(board) -> dict:
    """``{"rng_seed": N}`` for the boot options when the board's seed is not the default."""
    rng = board.devices.get("rng")
    seed = getattr(rng, "seed", DEFAULT_SEED)
    return {} if seed == DEFAULT_SEED else {"rng_seed": seed}


@dataclass
class CardRecord:
    """The card in a board's slot, as a recording embeds it."""
    image: DiskImage
    name: str
    sha256: str

    def header(self) -> dict:
        return {"name": self.name, "size": self.image.size, "sha256": self.sha256,
                "writable": self.image.writable}

    def pieces(self):
        size = self.image.size
        for i, off in enumerate(range(0, size, SD_PIECE)):
            data = self.image.raw(off, min(SD_PIECE, size - off))
            if len(data) != min(SD_PIECE, size - off):
                raise ValueError(f"the SD card image {self.image.path} changed while it was recorded")
            yield i, data

    def write(self, f: BinaryIO, write_chunk: Callable[[BinaryIO, bytes, bytes], None]) -> None:
        for i, data in self.pieces():
            write_chunk(f, b"SDCD", struct.pack("<I", i) + zlib.compress(data, 6))


def card_of(board) -> CardRecord | None:
    """The card to embed (None: the slot is empty); ValueError if it cannot be."""
    card = getattr(board.devices.get("emmc"), "card", None)
    if card is None:
        return None
    image = card.image
    if image.size > MAX_SD:
        raise ValueError(f"the SD card image is {image.size >> 20} MiB; a session embeds at most "
                         f"{MAX_SD >> 30} GiB")
    rec = CardRecord(image, str(image.path).rsplit("/", 1)[-1], "")
    h = hashlib.sha256()
    try:
        for _i, data in rec.pieces():
            h.update(data)
    except OSError as e:
        raise ValueError(f"cannot read the SD card image {image.path}: {e.strerror or e}") from None
    rec.sha256 = h.hexdigest()
    return rec


# --- reading -------------------------------------------------------------------------------------

class SessionCard:
    """A session's embedded card: its name, size and compressed pieces (checked)."""

    CACHED = 8   # inflated pieces a replay's card keeps

    def __init__(self, name: str, size: int, pieces: list[bytes]) -> None:
        self.name, self.size, self.pieces = name, size, pieces

    def disk_image(self) -> DiskImage:
        """A read-only DiskImage over the card (the guest's writes stay in its overlay)."""
        return DiskImage.from_file(_PieceReader(self), self.size, self.name)


class _PieceReader:
    """``seek``/``read`` over the pieces, inflating the ones read."""

    def __init__(self, card: SessionCard) -> None:
        self.card = card
        self.pos = 0
        self.cache: OrderedDict[int, bytes] = OrderedDict()

    def seek(self, pos: int) -> None:
        self.pos = pos

    def read(self, n: int) -> bytes:
        out, pos, end = bytearray(), self.pos, min(self.pos + n, self.card.size)
        while pos < end:
            i, off = divmod(pos, SD_PIECE)
            take = self._piece(i)[off:off + end - pos]
            out += take
            pos += len(take)
        self.pos = pos
        return bytes(out)

    def _piece(self, i: int) -> bytes:
        if i in self.cache:
            self.cache.move_to_end(i)
        else:
            self.cache[i] = zlib.decompress(self.card.pieces[i])   # inflated once on load already
            if len(self.cache) > SessionCard.CACHED:
                self.cache.popitem(last=False)
        return self.cache[i]


def check_boot(boot: dict) -> None:
    seed = boot.get("rng_seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MASK64):
        raise SessionError("corrupt: the boot options have no valid rng_seed")


def read_card(header: dict, chunks: list, start: int) -> tuple[SessionCard | None, int]:
    """The card of the ``SDCD`` chunks from ``chunks[start]`` on (None without
    one), and the index of the first chunk after them."""
    end = start
    while end < len(chunks) and chunks[end][0] == b"SDCD":
        end += 1
    found = chunks[start:end]
    sd = header.get("sd")
    if sd is None:
        if found:
            raise SessionError(f"corrupt: an SD card chunk at byte {found[0][2]} in a session without a card")
        return None, start
    size = sd.get("size") if isinstance(sd, dict) else None
    if not isinstance(size, int) or isinstance(size, bool) or size < BLOCK:
        raise SessionError("corrupt: the header's SD card record has no valid size")
    if size > MAX_SD:
        raise SessionError(f"oversized: SD card image of {size} bytes (at most {MAX_SD})")
    sha = sd.get("sha256")
    want = -(-size // SD_PIECE)
    if len(found) != want:
        raise SessionError(f"truncated: the SD card image has {len(found)} of its {want} chunks")
    h, pieces = hashlib.sha256(), []
    for i, (_kind, payload, pos) in enumerate(found):
        if len(payload) < 4 or struct.unpack_from("<I", payload)[0] != i:
            raise SessionError(f"corrupt: the SD card chunk at byte {pos} is not piece {i}")
        length = min(SD_PIECE, size - i * SD_PIECE)
        data = inflate(payload[4:], length, f"SD card piece {i}")
        if len(data) != length:
            raise SessionError(f"corrupt: SD card piece {i} is {len(data)} bytes, not {length}")
        h.update(data)
        pieces.append(payload[4:])
    if not isinstance(sha, str) or h.hexdigest() != sha:
        raise SessionError("the embedded SD card image does not match its SHA-256 (corrupt or altered)")
    return SessionCard(str(sd.get("name", "sd.img")), size, pieces), end


def prepare_board(board, header: dict, card: SessionCard | None) -> None:
    """Seed the RNG and insert the card as ``vizor run`` did (after ``board.load``)."""
    from vizor.machine.board.wiring import insert_sd
    seed = header["boot"].get("rng_seed")
    if seed is not None:
        rng = board.devices["rng"]
        rng.seed = seed
        rng.reset()
    if card is not None:
        insert_sd(board, card.disk_image())
