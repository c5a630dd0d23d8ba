"""Reading files from a card's first FAT partition (FAT12/16/32, long names), as the firmware does.

Only what booting needs: the MBR's first FAT partition (or a card formatted
without a partition table), the directory tree, and a file's cluster chain.
A damaged card gives a ``FatError`` with one line, never a traceback; chains
and directories are bounded, so a loop in the FAT cannot hang the reader.
"""

from __future__ import annotations

FAT_TYPES = (0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E)


class FatError(Exception):
    """The card cannot be read; the message is meant for the user."""


class FatVolume:
    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.f = open(path, "rb")
        except OSError as e:
            raise FatError(f"{path}: cannot read: {e.strerror}") from None
        self.base = self._partition()
        bpb = self._read(self.base, 512)
        bps, spc = int.from_bytes(bpb[11:13], "little"), bpb[13]
        reserved, nfats = int.from_bytes(bpb[14:16], "little"), bpb[16]
        root_entries = int.from_bytes(bpb[17:19], "little")
        total = int.from_bytes(bpb[19:21], "little") or int.from_bytes(bpb[32:36], "little")
        fatsz = int.from_bytes(bpb[22:24], "little") or int.from_bytes(bpb[36:40], "little")
        if bps not in (512, 1024, 2048, 4096) or spc == 0 or spc & (spc - 1) or nfats == 0 or not fatsz:
            raise FatError(f"{path}: the first partition is not a FAT file system")
        self.bps, self.cluster = bps, bps * spc
        self.fat = self.base + reserved * bps
        root_sectors = (root_entries * 32 + bps - 1) // bps
        self.root_dir = self.fat + nfats * fatsz * bps
        self.data = self.root_dir + root_sectors * bps
        clusters = (total - (self.data - self.base) // bps) // spc
        self.bits = 12 if clusters < 4085 else 16 if clusters < 65525 else 32
        self.root_cluster = int.from_bytes(bpb[44:48], "little") if self.bits == 32 else None
        self.root_size = root_entries * 32
        self.max_cluster = clusters + 1

    def close(self) -> None:
        self.f.close()

    def _read(self, at: int, n: int) -> bytes:
        self.f.seek(at)
        data = self.f.read(n)
        if len(data) < n:
            raise FatError(f"{self.path}: truncated (a read at byte {at:#x} runs past its end)")
        return data

    def _partition(self) -> int:
        mbr = self._read(0, 512)
        if mbr[510:512] != b"\x55\xaa":
            raise FatError(f"{self.path}: not a card image (no boot signature in its first sector)")
        if mbr[54:57] == b"FAT" or mbr[82:87] == b"FAT32":
            return 0       # a file system without a partition table
        for i in range(4):
            entry = mbr[446 + 16 * i:462 + 16 * i]
            if entry[4] in FAT_TYPES:
                return int.from_bytes(entry[8:12], "little") * 512
        raise FatError(f"{self.path}: no FAT partition in its partition table")

    def _next(self, cluster: int) -> int:
        if self.bits == 32:
            return int.from_bytes(self._read(self.fat + 4 * cluster, 4), "little") & 0x0FFFFFFF
        if self.bits == 16:
            return int.from_bytes(self._read(self.fat + 2 * cluster, 2), "little")
        pair = int.from_bytes(self._read(self.fat + cluster * 3 // 2, 2), "little")
        return pair >> 4 if cluster & 1 else pair & 0xFFF

    def _chain(self, first: int, limit: int) -> bytes:
        out, cluster = bytearray(), first
        end = {12: 0xFF8, 16: 0xFFF8, 32: 0x0FFFFFF8}[self.bits]
        while len(out) < limit:
            if not 2 <= cluster <= self.max_cluster:
                raise FatError(f"{self.path}: a cluster chain leaves the volume (cluster {cluster:#x})")
            out += self._read(self.data + (cluster - 2) * self.cluster, self.cluster)
            cluster = self._next(cluster)
            if cluster >= end:
                break
        return bytes(out[:limit])

    def _entries(self, cluster: int | None):
        raw = (self._read(self.root_dir, self.root_size) if cluster is None
               else self._chain(cluster, 1 << 22))
        lfn: list[tuple[int, str]] = []
        for i in range(0, len(raw), 32):
            e = raw[i:i + 32]
            if e[0] == 0:
                return
            if e[0] == 0xE5:
                lfn = []
                continue
            if e[11] == 0x0F:
                part = (e[1:11] + e[14:26] + e[28:32]).decode("utf-16-le", "replace")
                lfn.append((e[0] & 0x1F, part.split("\0")[0]))
                continue
            if e[11] & 0x08:
                lfn = []
                continue
            base, ext = e[0:8].decode("latin-1").rstrip(), e[8:11].decode("latin-1").rstrip()
            short = base + ("." + ext if ext else "")
            long = "".join(p for _, p in sorted(lfn)) if lfn else short
            lfn = []
            first = int.from_bytes(e[20:22], "little") << 16 | int.from_bytes(e[26:28], "little")
            yield long, short, bool(e[11] & 0x10), first, int.from_bytes(e[28:32], "little")

    def read_file(self, name: str, limit: int) -> bytes | None:
        """The file at ``name`` ('/'-separated, any case), None if absent;
        FatError if larger than ``limit`` bytes or damaged."""
        cluster = self.root_cluster
        parts = [p for p in name.replace("\\", "/").split("/") if p]
        for depth, part in enumerate(parts):
            for long, short, is_dir, first, size in self._entries(cluster):
                if part.lower() in (long.lower(), short.lower()):
                    break
            else:
                return None
            last = depth == len(parts) - 1
            if last and not is_dir:
                if size > limit:
                    raise FatError(f"{self.path}: {name} is {size:,} bytes, more than {limit:,}")
                return self._chain(first, size) if size else b""
            if not is_dir:
                return None
            cluster = first or self.root_cluster
        return None
