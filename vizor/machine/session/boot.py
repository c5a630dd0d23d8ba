"""The boot files of a session: what a replay needs to load the board exactly
as the recording's board was loaded (docs/session-format.md, "Boot files").

A board booted as the Pi firmware boots (``--dtb/--initrd/--append``, or a
card's config.txt with no IMAGE: board/firmware.py) holds more than its
image: the kernel may sit elsewhere than a plain load puts it (a Linux Image
at 0x200000 + text_offset, ``kernel_address``), blobs lie beside it (the
patched device tree, the initramfs, a kernel behind an armstub, the stub's
words) and x0 holds the tree's address.  ``Board.load`` keeps those
arguments (``Board.boot``) for a watchdog reset; the recorder writes them as
``boot.firmware`` in the header plus one ``BOOT`` chunk per blob, and the
replay loads the same image at the same place with the same blobs and x0,
so a run from reset, a watchdog's power cycle and every checkpoint are those
of the recording.  A plain image load has no ``boot.firmware``.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import BinaryIO, Callable

from vizor.machine.board.loader import (
    RAM_TOP,
    RAW_BASE_EL2,
    RAW_BASE_EL3,
    Image,
    _load_elf,
    _load_raw,
)
from vizor.machine.session.format import MAX_IMAGE, SessionError, inflate

DEFAULT_X0 = 0x100           # Board.load's x0 when no tree is passed
MAX_FILES = 64


def image_from_bytes(name: str, data: bytes, boot_el: int) -> Image:
    if data[:4] == b"\x7fELF":
        return _load_elf(name, data)
    return _load_raw(name, data, boot_el)


def image_file(board, path: str) -> bytes:
    """The bytes of the file the board's image came from: read from ``path``,
    or, for an image read from a card (``card.img:kernel8.img``), the bytes
    the loader kept (a raw image's only segment, or ``Image.source``)."""
    boot = getattr(board, "boot", None)
    image = boot[0] if boot else None
    if image is not None and image.path == path:
        if image.source is not None:
            return image.source
        if image.kind == "raw":
            return image.segments[0][1]
    with open(path, "rb") as f:
        return f.read()


def firmware_record(board) -> tuple[dict | None, list[bytes]]:
    """(``boot.firmware`` for the header, the blobs' bytes), or (None, []) when
    the board was loaded as a plain image is."""
    boot = getattr(board, "boot", None)
    if boot is None:
        return None, []
    image, boot_el, blobs, x0 = boot
    plain_at = RAW_BASE_EL3 if boot_el == 3 else RAW_BASE_EL2
    moved = image.kind == "raw" and image.low != plain_at
    if not blobs and x0 == DEFAULT_X0 and not moved:
        return None, []
    files = [{"pa": pa, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for pa, data in blobs]
    return {"kernel_at": image.low if moved else None, "x0": x0, "files": files}, [bytes(d) for _, d in blobs]


def write_files(f: BinaryIO, blobs: list[bytes], write_chunk: Callable[[BinaryIO, bytes, bytes], None]) -> None:
    for data in blobs:
        write_chunk(f, b"BOOT", zlib.compress(data, 6))


def read_files(header: dict, chunks: list, start: int) -> tuple[list[tuple[int, bytes]], int]:
    """The blobs of the ``BOOT`` chunks from ``chunks[start]`` on, checked against
    ``boot.firmware`` ([] without it), and the index of the first chunk after them."""
    end = start
    while end < len(chunks) and chunks[end][0] == b"BOOT":
        end += 1
    found = chunks[start:end]
    fw = header["boot"].get("firmware")
    if fw is None:
        if found:
            raise SessionError(f"corrupt: a boot file chunk at byte {found[0][2]} in a session without boot files")
        return [], start
    files = fw.get("files") if isinstance(fw, dict) else None
    x0, at = (fw.get("x0"), fw.get("kernel_at")) if isinstance(fw, dict) else (None, None)
    if not isinstance(files, list) or len(files) > MAX_FILES or not _address(x0) \
            or not (at is None or _address(at)):
        raise SessionError("corrupt: the boot files record is not valid")
    if len(found) != len(files):
        raise SessionError(f"corrupt: {len(found)} boot file chunks for {len(files)} boot files")
    out, total = [], 0
    for n, (rec, (_kind, payload, pos)) in enumerate(zip(files, found)):
        pa, size = (rec.get("pa"), rec.get("size")) if isinstance(rec, dict) else (None, None)
        if not _address(pa) or not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_IMAGE \
                or pa + size > RAM_TOP:
            raise SessionError(f"corrupt: boot file {n} has no valid place in RAM")
        total += size
        if total > RAM_TOP:
            raise SessionError("oversized: the boot files exceed RAM")
        data = inflate(payload, size, f"boot file {n} at byte {pos}")
        if len(data) != size or hashlib.sha256(data).hexdigest() != rec.get("sha256"):
            raise SessionError(f"boot file {n} does not match its SHA-256 (corrupt or altered)")
        out.append((pa, data))
    return out, end


def _address(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < RAM_TOP


def load_recorded(board, name: str, session) -> Image:
    """Load the session's image into ``board`` as the recording's board was loaded."""
    boot_el = session.boot_el
    image = image_from_bytes(name, session.image, boot_el)
    fw = session.header["boot"].get("firmware")
    if fw is None:
        board.load(image, boot_el)
        return image
    at = fw.get("kernel_at")
    if at is not None and image.kind == "raw":
        data = image.segments[0][1]
        image = Image(name, "raw", [(at, data, len(data))], at, image.symbols)
    board.load(image, boot_el, blobs=tuple(session.files), x0=fw["x0"])
    return image
