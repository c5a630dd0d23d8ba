"""``vizor mksd OUT.img FILE...``: a raw SD card image with an MBR and one FAT32
partition holding the given files (long file names kept, as a Linux vfat
mount writes them), so making a card for vizor needs neither root nor mtools.

The FAT32 file system is made and filled by pyfatfs (PyPI ``pyfatfs``, on
PyFilesystem2); this module adds the MBR around it.  Layout: MBR in sector 0
(one primary partition, type 0x0C "FAT32 LBA", bootable flag clear, disk
signature fixed), the partition from sector 2048 (1 MiB, the alignment SD
card formatters use) to the end.  The whole image is a power of two in size,
at least 64 MiB — a size real cards come in, and one QEMU's SD card accepts.
A FILE that is a directory is copied with its tree; everything lands at the
root of the partition under its own name.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings

SECTOR = 512
PART_START = 2048                 # sectors
MIN_IMAGE = 64 << 20
PART_TYPE_FAT32_LBA = 0x0C
DISK_SIGNATURE = 0x5649_5A52      # "RZIV"
VOLUME_ID = 0x2026_0009
LABEL = "VIZOR"


class MksdError(Exception):
    pass


def _inputs(paths: list[str]) -> list[tuple[str, str]]:
    """(host path, path in the image) for every file, directories expanded."""
    out = []
    names = set()
    for p in paths:
        if not os.path.exists(p):
            raise MksdError(f"{p}: no such file or directory")
        name = os.path.basename(os.path.normpath(p))
        if name.lower() in names:
            raise MksdError(f"{p}: a file named {name!r} is already on the card")
        names.add(name.lower())
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                rel = os.path.relpath(root, p)
                base = name if rel == "." else f"{name}/{rel}"
                out.append((root, "/" + base))
                out += [(os.path.join(root, f), f"/{base}/{f}") for f in sorted(files)]
        elif os.path.isfile(p):
            out.append((p, "/" + name))
        else:
            raise MksdError(f"{p}: not a regular file or directory")
    return out


def image_size(content: int) -> int:
    need = (PART_START * SECTOR + content * 11 // 10 + (16 << 20))
    size = MIN_IMAGE
    while size < need:
        size *= 2
    return size


def mbr(part_sectors: int) -> bytes:
    entry = struct.pack("<B3sB3sII", 0x00, b"\xfe\xff\xff", PART_TYPE_FAT32_LBA, b"\xfe\xff\xff",
                        PART_START, part_sectors)
    sector = bytearray(SECTOR)
    struct.pack_into("<I", sector, 440, DISK_SIGNATURE)
    sector[446:462] = entry
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def make_sd_image(out: str, paths: list[str], force: bool = False) -> int:
    """Write the image; returns its size in bytes.  MksdError on bad input: an
    output that is one of the inputs (or inside one), or that exists, unless
    ``force``."""
    files = _inputs(paths)
    if os.path.exists(out):
        for host, _dest in files:
            if os.path.isfile(host) and os.path.samefile(host, out):
                raise MksdError(f"{out}: is one of the files to put on the card; name another output")
        if not force:
            raise MksdError(f"{out}: already exists; vizor mksd --force {out} ... replaces it")
        if not os.path.isfile(out):
            raise MksdError(f"{out}: not a regular file")
    content = sum(os.path.getsize(h) + 4096 for h, _ in files if os.path.isfile(h))
    size = image_size(content)
    part_bytes = size - PART_START * SECTOR
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyFilesystem2 imports pkg_resources
            from pyfatfs.PyFat import PyFat
            from pyfatfs.PyFatFS import PyFatFS
    except ImportError as e:
        raise MksdError(f"the FAT library pyfatfs cannot be imported ({e}): pip install pyfatfs") from None
    fd, tmp = tempfile.mkstemp(prefix="vizor-mksd-", suffix=".fat")
    try:
        os.ftruncate(fd, part_bytes)
        os.close(fd)
        fat = PyFat()
        fat.mkfs(tmp, PyFat.FAT_TYPE_FAT32, size=part_bytes, label=LABEL, volume_id=VOLUME_ID)
        fat.close()
        fs = PyFatFS(tmp)
        try:
            for host, dest in files:
                if os.path.isdir(host):
                    fs.makedir(dest)
                else:
                    with open(host, "rb") as f:
                        fs.writebytes(dest, f.read())
        finally:
            fs.close()
        try:
            with open(out, "wb") as o, open(tmp, "rb") as part:
                o.write(mbr(part_bytes // SECTOR))
                o.seek(PART_START * SECTOR)
                while chunk := part.read(1 << 20):
                    o.write(chunk)
                o.truncate(size)
        except OSError as e:
            raise MksdError(f"{out}: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return size
