"""``vizor mksd OUT.img FILE...``: a raw SD card image with an MBR and one FAT32
partition holding the given files (long file names kept, short 8.3 names as
mtools and Linux vfat make them), so making a card for vizor needs neither
root nor mtools — and the standard tools accept it: ``fsck.fat -n`` passes the
partition, mtools reads it without ``MTOOLS_SKIP_CHECK``.

The FAT32 file system is written by ``vizor/cli/fat32.py`` (its docstring says
why not by a library); this module gathers the files and adds the MBR around
it.  Layout: MBR in sector 0 (one primary partition, type 0x0C "FAT32 LBA",
bootable flag clear, CHS addresses for 255 heads x 63 sectors, disk signature
fixed), the partition from sector 2048 (1 MiB, the alignment SD card
formatters use) to the end, its boot sector's hidden sectors = 2048.  The
whole image is a power of two in size, at least 64 MiB — a size real cards
come in, and one QEMU's SD card accepts — and sparse where nothing is written.
A FILE that is a directory is copied with its tree; everything lands at the
root of the partition under its own name.  Dates are the files' modification
times, so the same files give the same image.
"""

from __future__ import annotations

import os
import stat
import struct

from vizor.cli import fat32
from vizor.cli.fat32 import FatError, Node

SECTOR = 512
PART_START = 2048                 # sectors
MIN_IMAGE = 64 << 20
MAX_IMAGE = (PART_START + 0xFFFFFFFF) * SECTOR     # an MBR counts sectors in 32 bits
PART_TYPE_FAT32_LBA = 0x0C
DISK_SIGNATURE = 0x5649_5A52      # "RZIV"
VOLUME_ID = 0x2026_0009
LABEL = "VIZOR"


class MksdError(Exception):
    pass


def _node(host: str, name: str, ancestors: frozenset) -> Node:
    try:
        st = os.stat(host)
    except OSError as e:
        raise MksdError(f"{host}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        key = (st.st_dev, st.st_ino)
        if key in ancestors:
            raise MksdError(f"{host}: a link to a directory it is in")
        try:
            names = sorted(os.listdir(host))
        except OSError as e:
            raise MksdError(f"{host}: {e.strerror or e}") from None
        return Node(name, host, st.st_mtime,
                    children=[_node(os.path.join(host, n), n, ancestors | {key}) for n in names])
    if not stat.S_ISREG(st.st_mode):
        raise MksdError(f"{host}: not a regular file or directory")
    if not os.access(host, os.R_OK):
        raise MksdError(f"{host}: Permission denied")
    return Node(name, host, st.st_mtime, size=st.st_size)


def _tree(paths: list[str]) -> list[Node]:
    """The card's root: one node per FILE, directories with their trees."""
    out: list[Node] = []
    names: dict[str, str] = {}
    for p in paths:
        if not os.path.lexists(p):
            raise MksdError(f"{p}: no such file or directory")
        name = os.path.basename(os.path.abspath(p))
        if name.upper() in names:
            raise MksdError(f"{p}: a file named {names[name.upper()]!r} is already on the card")
        names[name.upper()] = name
        out.append(_node(p, name, frozenset()))
    try:
        fat32.name_tree(out)
    except FatError as e:
        raise MksdError(str(e)) from None
    return out


def _files(nodes: list[Node]):
    for n in nodes:
        if n.children is None:
            yield n
        else:
            yield from _files(n.children)


def image_size(content: int) -> int:
    need = (PART_START * SECTOR + content * 11 // 10 + (16 << 20))
    size = MIN_IMAGE
    while size < need:
        size *= 2
    return size


def chs(lba: int) -> bytes:
    """An MBR's (head, sector | cylinder high bits, cylinder) for 255 heads x
    63 sectors; past cylinder 1023 the usual 1023/254/63 ("use the LBA")."""
    cylinder, rest = divmod(lba, fat32.HEADS * fat32.SECTORS_PER_TRACK)
    head, sector = divmod(rest, fat32.SECTORS_PER_TRACK)
    if cylinder > 1023:
        cylinder, head, sector = 1023, 254, 62
    return bytes([head, (sector + 1) | (cylinder >> 8) << 6, cylinder & 0xFF])


def mbr(part_sectors: int) -> bytes:
    entry = struct.pack("<B3sB3sII", 0x00, chs(PART_START), PART_TYPE_FAT32_LBA,
                        chs(PART_START + part_sectors - 1), PART_START, part_sectors)
    sector = bytearray(SECTOR)
    struct.pack_into("<I", sector, 440, DISK_SIGNATURE)
    sector[446:462] = entry
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def make_sd_image(out: str, paths: list[str], force: bool = False) -> int:
    """Write the image; returns its size in bytes.  MksdError on bad input: an
    output that is one of the inputs (or inside one), or that exists, unless
    ``force``; a name FAT cannot hold; more than a card can."""
    tree = _tree(paths)
    files = list(_files(tree))
    if os.path.exists(out):
        for n in files:
            if os.path.samefile(n.host, out):
                raise MksdError(f"{out}: is one of the files to put on the card; name another output")
        if not force:
            raise MksdError(f"{out}: already exists; vizor mksd --force {out} ... replaces it")
        if not os.path.isfile(out):
            raise MksdError(f"{out}: not a regular file")
    size = image_size(sum(n.size + 4096 for n in files))
    try:
        while True:
            if size > MAX_IMAGE:
                raise MksdError("the files need a card over 2 TiB, more than an MBR can describe")
            geo = fat32.geometry(size // SECTOR - PART_START, PART_START)
            used_end = fat32.allocate(tree, geo)
            if used_end is not None:
                break
            size *= 2
    except FatError as e:
        raise MksdError(str(e)) from None
    newest = max(n.mtime for n in tree)
    try:
        with open(out, "wb") as f:
            f.write(mbr(geo.sectors))
            fat32.write_volume(f, PART_START * SECTOR, geo, tree, used_end, LABEL, VOLUME_ID, newest)
            f.truncate(size)
    except OSError as e:
        raise MksdError(f"{e.filename or out}: {e.strerror or e}") from None
    return size
