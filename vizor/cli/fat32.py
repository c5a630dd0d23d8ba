"""A FAT32 file system written in one pass, for ``vizor mksd``.

Why vizor writes it itself: the library used before (pyfatfs 1.1) made cards
the standard tools refuse (issue 18): sectors per track, heads and hidden
sectors left 0 in the boot sector (mtools: "zero number of heads or
sectors"), an FSInfo free-cluster count never updated (``fsck.fat``: "Free
cluster summary wrong"), and long names cut to 8.3 without the numeric tail
(``LICENCE.broadcom`` became ``LICENCE BRO``, not ``LICENC~1.BRO``), so a
kernel opening files by short name found nothing.  A card is written once,
with every file known beforehand, so the whole file system is a small
computation: each directory and file gets one contiguous run of clusters.

The on-disk facts are those of Microsoft's FAT32 File System Specification
(fatgen103): the BPB and FSInfo fields, cluster sizes by volume size, the
directory entries; names are ``fatnames.py``'s.  Where the spec leaves room,
vizor does what mtools and Linux do: the geometry is the LBA convention, 255
heads of 63 sectors; FSInfo's next-free field holds the last cluster
allocated, as mtools and Linux read it; file dates are the host files'
modification times (local time).
"""

from __future__ import annotations

import struct
import sys
import time
from array import array
from dataclasses import dataclass, field

from vizor.cli.fatnames import FatError, lfn_count, lfn_entries, short_names

__all__ = ["FatError", "Node", "allocate", "geometry", "name_tree", "write_volume"]

SECTOR = 512
RESERVED_SECTORS = 32
FATS = 2
FSINFO_SECTOR = 1
BACKUP_BOOT_SECTOR = 6
HEADS = 255
SECTORS_PER_TRACK = 63
MEDIA = 0xF8
ROOT_CLUSTER = 2
MIN_CLUSTERS = 65525              # fewer is FAT16 by definition
MAX_CLUSTERS = 0x0FFFFFF5 - 2
END_OF_CHAIN = 0x0FFFFFFF
MAX_FILE = 0xFFFFFFFF
MAX_DIR_ENTRIES = 65536
ENTRY = 32

ATTR_VOLUME_ID = 0x08
ATTR_DIRECTORY = 0x10
ATTR_ARCHIVE = 0x20

# sectors per cluster by volume size in sectors (fatgen103, the FAT32 table)
CLUSTER_SIZES = ((532_480, 1), (16_777_216, 8), (33_554_432, 16), (67_108_864, 32), (0xFFFFFFFF, 64))


@dataclass
class Node:
    """A file (``children`` None) or a directory to put on the card."""
    name: str
    host: str
    mtime: float
    size: int = 0
    children: list[Node] | None = None
    short: bytes = b""            # 11 bytes, space padded
    case: int = 0                 # NT lower-case flags
    long: bool = False            # needs LFN entries
    first: int = 0                # first cluster (0: an empty file)
    clusters: int = 0
    parent_first: int = field(default=0, repr=False)

    def entries(self) -> int:
        """Directory entries this node takes in its parent."""
        return 1 + (lfn_count(self.name) if self.long else 0)


def name_tree(nodes: list[Node], where: str = "") -> None:
    """Short names for every directory's entries; FatError for a name FAT
    cannot hold, naming the host directory ``where`` it is in."""
    try:
        names = short_names([n.name for n in nodes])
    except FatError as e:
        raise FatError(f"{where}: {e}" if where else str(e)) from None
    for n, (short, case, long) in zip(nodes, names):
        n.short, n.case, n.long = short, case, long
        if n.children is not None:
            name_tree(n.children, n.host)


# --- entries and layout --------------------------------------------------------------

def dos_time(mtime: float) -> tuple[int, int, int]:
    """(date, time, 10 ms units) of a host time, clamped to FAT's 1980-2107."""
    try:
        t = time.localtime(mtime)
    except (OverflowError, OSError, ValueError):
        t = time.localtime(0)
    if t.tm_year < 1980:
        return (0 << 9) | (1 << 5) | 1, 0, 0
    if t.tm_year > 2107:
        return (127 << 9) | (12 << 5) | 31, (23 << 11) | (59 << 5) | 29, 199
    date = ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    return date, (t.tm_hour << 11) | (t.tm_min << 5) | (min(t.tm_sec, 59) // 2), (t.tm_sec % 2) * 100


def short_entry(short: bytes, attr: int, case: int, first: int, size: int, mtime: float) -> bytes:
    date, tm, tenth = dos_time(mtime)
    return struct.pack("<11sBBBHHHHHHHI", short, attr, case, tenth, tm, date, date,
                       first >> 16, tm, date, first & 0xFFFF, size)


def directory_bytes(node: Node | None, children: list[Node], label: bytes, mtime: float) -> bytes:
    """A directory's entries: ``.`` and ``..`` (or, for the root, the volume label), then each child."""
    if node is None:
        out = bytearray(short_entry(label, ATTR_VOLUME_ID, 0, 0, 0, mtime))
    else:
        out = bytearray(short_entry(b".".ljust(11), ATTR_DIRECTORY, 0, node.first, 0, node.mtime))
        parent = 0 if node.parent_first == ROOT_CLUSTER else node.parent_first
        out += short_entry(b"..".ljust(11), ATTR_DIRECTORY, 0, parent, 0, node.mtime)
    for c in children:
        if c.long:
            out += lfn_entries(c.name, c.short)
        is_dir = c.children is not None
        out += short_entry(c.short, ATTR_DIRECTORY if is_dir else ATTR_ARCHIVE, c.case, c.first,
                           0 if is_dir else c.size, c.mtime)
    return bytes(out)


def directory_entries(children: list[Node], root: bool) -> int:
    n = 1 + sum(c.entries() for c in children) + (0 if root else 1)
    if n > MAX_DIR_ENTRIES:
        raise FatError(f"{len(children)} names in one directory: more than FAT's {MAX_DIR_ENTRIES} entries")
    return n


@dataclass(frozen=True)
class Geometry:
    """Where things are in a FAT32 volume of ``sectors`` sectors."""
    sectors: int
    hidden: int                   # sectors before the volume: the partition's start LBA
    cluster_sectors: int
    fat_sectors: int
    clusters: int                 # data clusters, numbered from 2

    @property
    def cluster_bytes(self) -> int:
        return self.cluster_sectors * SECTOR

    def cluster_offset(self, cluster: int) -> int:
        """Byte offset of a cluster from the start of the volume."""
        data = RESERVED_SECTORS + FATS * self.fat_sectors
        return (data + (cluster - ROOT_CLUSTER) * self.cluster_sectors) * SECTOR


def geometry(sectors: int, hidden: int) -> Geometry:
    spc = next(n for limit, n in CLUSTER_SIZES if sectors <= limit)
    spf = 1
    while True:
        clusters = (sectors - RESERVED_SECTORS - FATS * spf) // spc
        need = -(-(clusters + 2) * 4 // SECTOR)
        if need <= spf:
            break
        spf = need
    if not MIN_CLUSTERS <= clusters <= MAX_CLUSTERS:
        raise FatError(f"a volume of {sectors} sectors cannot be FAT32 ({clusters} clusters)")
    return Geometry(sectors, hidden, spc, spf, clusters)


def allocate(root: list[Node], geo: Geometry) -> int | None:
    """Give every directory and file its clusters (root directory first, then
    each tree in order); the next free cluster, or None if they do not fit."""
    per = geo.cluster_bytes
    nxt = ROOT_CLUSTER + -(-directory_entries(root, True) * ENTRY // per)

    def place(nodes: list[Node], parent: int) -> None:
        nonlocal nxt
        for n in nodes:
            n.parent_first = parent
            if n.children is not None:
                n.clusters = -(-directory_entries(n.children, False) * ENTRY // per)
            else:
                if n.size > MAX_FILE:
                    raise FatError(f"{n.host}: {n.size} bytes, more than a FAT file holds (4 GiB - 1)")
                n.clusters = -(-n.size // per)
            n.first = nxt if n.clusters else 0
            nxt += n.clusters
            if n.children is not None:
                place(n.children, n.first)
    place(root, ROOT_CLUSTER)
    return nxt if nxt - ROOT_CLUSTER <= geo.clusters else None


def fat_table(root: list[Node], root_clusters: int, used_end: int) -> bytes:
    """The FAT's entries up to ``used_end`` (the rest of it stays zero: free)."""
    fat = array("I", [0]) * used_end
    fat[0], fat[1] = 0x0FFFFF00 | MEDIA, END_OF_CHAIN

    def chain(first: int, count: int) -> None:     # a contiguous run: each cluster names the next
        fat[first:first + count - 1] = array("I", range(first + 1, first + count))
        fat[first + count - 1] = END_OF_CHAIN

    chain(ROOT_CLUSTER, root_clusters)
    stack = list(root)
    while stack:
        n = stack.pop()
        if n.clusters:
            chain(n.first, n.clusters)
        stack += n.children or []
    if sys.byteorder == "big":
        fat.byteswap()
    return fat.tobytes()


# --- the volume ----------------------------------------------------------------------

def boot_sector(geo: Geometry, label: bytes, volume_id: int) -> bytes:
    sector = bytearray(SECTOR)
    struct.pack_into("<3s8sHBHBHHBHHHIIIHHIHH12sBBBI11s8s", sector, 0,
                     b"\xeb\x58\x90", b"MSWIN4.1", SECTOR, geo.cluster_sectors, RESERVED_SECTORS, FATS,
                     0, 0, MEDIA, 0, SECTORS_PER_TRACK, HEADS, geo.hidden, geo.sectors, geo.fat_sectors,
                     0, 0, ROOT_CLUSTER, FSINFO_SECTOR, BACKUP_BOOT_SECTOR, bytes(12),
                     0x80, 0, 0x29, volume_id, label, b"FAT32   ")
    sector[90:94] = b"\xfa\xf4\xeb\xfd"      # x86 boot code: cli; hlt; jmp to the hlt
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def fsinfo_sector(free: int, last_allocated: int) -> bytes:
    sector = bytearray(SECTOR)
    struct.pack_into("<I", sector, 0, 0x41615252)
    struct.pack_into("<IIII", sector, 484, 0x61417272, free, last_allocated, 0)
    struct.pack_into("<I", sector, 508, 0xAA550000)
    return bytes(sector)


def write_volume(f, base: int, geo: Geometry, root: list[Node], used_end: int,
                 label: str, volume_id: int, mtime: float) -> None:
    """Write the volume at byte ``base`` of the open file ``f`` (fresh: zeros
    where nothing is written), after ``allocate`` gave ``used_end``."""
    name = label.upper().encode("ascii").ljust(11)[:11]
    root_clusters = -(-directory_entries(root, True) * ENTRY // geo.cluster_bytes)
    reserved = [boot_sector(geo, name, volume_id),
                fsinfo_sector(geo.clusters + ROOT_CLUSTER - used_end, used_end - 1)]
    for first in (0, BACKUP_BOOT_SECTOR):
        f.seek(base + first * SECTOR)
        f.write(b"".join(reserved))
    fat = fat_table(root, root_clusters, used_end)
    for i in range(FATS):
        f.seek(base + (RESERVED_SECTORS + i * geo.fat_sectors) * SECTOR)
        f.write(fat)
    f.seek(base + geo.cluster_offset(ROOT_CLUSTER))
    f.write(directory_bytes(None, root, name, mtime))
    stack = list(reversed(root))
    while stack:
        n = stack.pop()
        if not n.clusters:
            continue
        f.seek(base + geo.cluster_offset(n.first))
        if n.children is not None:
            f.write(directory_bytes(n, n.children, name, mtime))
            stack += reversed(n.children)
            continue
        with open(n.host, "rb") as src:
            left = n.size
            while left and (chunk := src.read(min(left, 1 << 20))):
                f.write(chunk)
                left -= len(chunk)
