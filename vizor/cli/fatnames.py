"""Names on FAT for ``vizor mksd``: which long names FAT holds, the short (8.3)
name each gets, and the long-name (LFN) entries.

The facts are those of Microsoft's FAT32 File System Specification
(fatgen103): the characters short names allow, the LFN entry format and its
checksum, and the basis-name generation with numeric tails.  Where the spec
leaves room, vizor does what mtools and Linux vfat do (tests/test_mksd.py
compares with mkfs.fat + mcopy):

- a name that is already 8.3 up to case (``kernel8.img``, ``config.txt``,
  ``UPPER.TXT``, ``BOOTCODE.bin``) gets only a short entry, its lower-case
  parts marked by the NT flags (byte 12: 0x08 base, 0x10 extension);
- any other name gets LFN entries and a short name from its basis name: upper
  case, spaces and leading periods dropped, periods other than the last one
  dropped, characters not allowed in short names (and any non-ASCII one) as
  ``_``, the part before the last period cut to 8 and the extension to 3.
  A basis name that lost nothing but case (``Hello.Txt``: ``HELLO.TXT``) is
  used as is; any other takes a tail ``~1``, ``~2``, ... at the end of its
  first part, the first number whose name is free in the directory
  (``Long File Name.txt``: ``LONGFI~1.TXT``, then ``LONGFI~2.TXT``, ...,
  ``LONGF~10.TXT``).  Names that need no tail are placed first, so a tail
  never takes a name a file already has.
"""

from __future__ import annotations

SHORT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'()-@^_`{}~")
NOT_IN_LONG_NAMES = frozenset('"*/:<>?\\|')
MAX_LFN = 255                     # UTF-16 code units
LFN_CHARS = 13                    # per LFN entry
ATTR_LONG_NAME = 0x0F
LAST_LONG_ENTRY = 0x40
CASE_LOWER_BASE = 0x08
CASE_LOWER_EXT = 0x10
MAX_TAIL = 999_999


class FatError(ValueError):
    pass


def check_long_name(name: str) -> None:
    """FatError unless FAT can hold ``name`` as a long name."""
    if name in ("", ".", ".."):
        raise FatError(f"{name!r} cannot be a file name on FAT")
    bad = sorted({c for c in name if c in NOT_IN_LONG_NAMES or ord(c) < 0x20})
    if bad:
        raise FatError(f"{name!r}: FAT names cannot hold {''.join(bad)!r}")
    if name[-1] in ". ":
        raise FatError(f"{name!r}: FAT names cannot end in a period or a space")
    if lfn_units(name) > MAX_LFN:
        raise FatError(f"{name[:40]!r}...: longer than FAT's {MAX_LFN} characters")


def lfn_units(name: str) -> int:
    try:
        return len(name.encode("utf-16-le")) // 2
    except UnicodeEncodeError:
        raise FatError(f"{name!r}: not a valid Unicode name") from None


def plain_short_name(name: str) -> tuple[bytes, int] | None:
    """(short name, NT case flags) for a name that is 8.3 already up to case
    (each part all upper or all lower case), else None."""
    base, dot, ext = name.partition(".")
    if not base or "." in ext or len(base) > 8 or len(ext) > 3 or (dot and not ext):
        return None
    if not name.isascii() or any(c.upper() not in SHORT_CHARS for c in base + ext):
        return None
    case = 0
    for part, flag in ((base, CASE_LOWER_BASE), (ext, CASE_LOWER_EXT)):
        if part != part.upper():
            if part != part.lower():
                return None
            case |= flag
    return (base.upper().ljust(8) + ext.upper().ljust(3)).encode("ascii"), case


def basis_name(name: str) -> tuple[str, str]:
    """The basis name: (primary part, extension), upper case, no tail yet."""
    chars = "".join(u if u in SHORT_CHARS or u in ". " else "_" for u in (c.upper() for c in name))
    chars = chars.replace(" ", "").lstrip(".")
    primary, dot, ext = chars.rpartition(".")
    if not dot:
        primary, ext = ext, ""
    return primary.replace(".", "")[:8] or "_", ext[:3]


def short_names(names: list[str]) -> list[tuple[bytes, int, bool]]:
    """For one directory's names: (11-byte short name, NT case flags, needs
    LFN entries) each.  FatError for a name FAT cannot hold, or two names
    that are one to FAT (case does not count)."""
    seen: dict[str, str] = {}
    for name in names:
        check_long_name(name)
        if name.upper() in seen:
            raise FatError(f"{seen[name.upper()]!r} and {name!r} are the same name on FAT "
                           "(case does not count)")
        seen[name.upper()] = name
    out: list[tuple[bytes, int, bool] | None] = [None] * len(names)
    taken: set[bytes] = set()
    pending = []
    for i, name in enumerate(names):
        plain = plain_short_name(name)
        primary, ext = basis_name(name)
        if plain is not None:
            out[i] = (plain[0], plain[1], False)
        elif primary + ("." + ext if ext else "") == name.upper():
            out[i] = ((primary.ljust(8) + ext.ljust(3)).encode("ascii"), 0, True)
        else:
            pending.append((i, primary, ext))
            continue
        taken.add(out[i][0])
    for i, primary, ext in pending:
        for number in range(1, MAX_TAIL + 1):
            tail = f"~{number}"
            short = ((primary[:8 - len(tail)] + tail).ljust(8) + ext.ljust(3)).encode("ascii")
            if short not in taken:
                break
        else:
            raise FatError(f"{names[i]!r}: no free short name left in its directory")
        taken.add(short)
        out[i] = (short, 0, True)
    return out


def checksum(short: bytes) -> int:
    """The short name's checksum every LFN entry of it carries."""
    s = 0
    for b in short:
        s = (((s & 1) << 7) + (s >> 1) + b) & 0xFF
    return s


def lfn_entries(name: str, short: bytes) -> bytes:
    """The long-name entries of ``name``, in their on-disk order (last part
    first): 13 UTF-16 units each, the name ended by 0x0000 and padded with
    0xFFFF."""
    units = name.encode("utf-16-le")
    size = 2 * LFN_CHARS
    count = -(-len(units) // size)
    padded = (units + (b"\0\0" if len(units) < count * size else b"")).ljust(count * size, b"\xff")
    chk = checksum(short)
    out = bytearray()
    for seq in range(count, 0, -1):
        part = padded[(seq - 1) * size:seq * size]
        order = seq | (LAST_LONG_ENTRY if seq == count else 0)
        out += bytes([order]) + part[:10] + bytes([ATTR_LONG_NAME, 0, chk]) + part[10:22] + b"\0\0" + part[22:]
    return bytes(out)


def lfn_count(name: str) -> int:
    return -(-lfn_units(name) // LFN_CHARS)
