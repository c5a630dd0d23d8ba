"""Loading kernel images: ELF (by physical address) or a raw kernel8.img.

Every problem with the file becomes an ``ImageError`` with a one-line message
naming the file and what is wrong; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from vizor.machine.inspect.symbols import Symbols

RAM_TOP = 0x3F000000  # peripherals start here on the BCM2837
MAX_FILE = 1 << 30     # an image file (an ELF may carry debug information beyond what RAM holds)
RAW_BASE_EL2 = 0x80000
RAW_BASE_EL3 = 0x0
EM_AARCH64 = "EM_AARCH64"


class ImageError(Exception):
    """The image cannot be loaded; the message is meant for the user."""


@dataclass
class Image:
    path: str
    kind: str  # "elf" or "raw"
    segments: list[tuple[int, bytes, int]]  # (pa, data, memsz)
    entry: int
    symbols: Symbols
    source: bytes | None = None   # the file's bytes, kept when it has no path of its own (read from a card)

    @property
    def low(self) -> int:
        return min(pa for pa, _, _ in self.segments)

    @property
    def high(self) -> int:
        return max(pa + max(len(d), m) for pa, d, m in self.segments)


def read_file(path: str, limit: int, what: str, error=None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked before it is
    read: a device (/dev/zero), a pipe or an oversized (sparse) file is refused at
    once, with one line naming the file (``error``: the exception class to raise)."""
    error = error or ImageError
    check_file(path, limit, what, error)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror}") from None
    if len(data) > limit:
        raise error(f"{path}: grew past {limit:,} bytes while it was read")
    return data


def check_file(path: str, limit: int, what: str, error=None) -> None:
    """Refuse at once what ``read_file`` would not read (see there)."""
    error = error or ImageError
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: is a directory, not {what}")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: not a regular file (a device, pipe or socket), not {what}")
    if st.st_size > limit:
        raise error(f"{path}: {st.st_size:,} bytes, larger than {what} can be ({limit:,} bytes at most)")


def load_image(path: str, boot_el: int = 2) -> Image:
    data = read_file(path, MAX_FILE, "a kernel image")
    if data[:4] == b"\x7fELF":
        return _load_elf(path, data)
    return _load_raw(path, data, boot_el)


def _load_elf(path: str, data: bytes) -> Image:
    import io
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        if machine != EM_AARCH64:
            raise ImageError(f"{path}: ELF for {machine.removeprefix('EM_')}, not AArch64")
        if elf.elfclass != 64:
            raise ImageError(f"{path}: 32-bit ELF; vizor runs AArch64 (64-bit) kernels")
        segments = []
        entry = elf["e_entry"]
        entry_pa = None
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            pa, va, memsz = seg["p_paddr"], seg["p_vaddr"], seg["p_memsz"]
            if pa + memsz > RAM_TOP:
                raise ImageError(f"{path}: segment at PA {pa:#x}..{pa + memsz:#x} lies outside RAM "
                                 f"(0..{RAM_TOP:#x})")
            segments.append((pa, seg.data(), memsz))
            if va <= entry < va + memsz:
                entry_pa = pa + (entry - va)
        if not segments:
            raise ImageError(f"{path}: ELF has no loadable segments")
        if entry_pa is None:
            raise ImageError(f"{path}: entry point {entry:#x} is not inside any loadable segment")
        syms = []
        tab = elf.get_section_by_name(".symtab")
        if tab is not None:
            for s in tab.iter_symbols():
                if s.name and s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE") \
                        and s["st_shndx"] not in ("SHN_UNDEF", "SHN_ABS") and not s.name.startswith("$"):
                    syms.append((s["st_value"], s["st_size"], s.name))
        return Image(path, "elf", segments, entry_pa, Symbols.from_list(syms))
    except ImageError:
        raise
    except (ELFError, ValueError, KeyError, IndexError) as e:
        raise ImageError(f"{path}: corrupt ELF file ({e})") from None


def load_symbols(path: str) -> Symbols:
    """The symbol table of an AArch64 ELF, or a System.map (for a guest or extra symbols)."""
    data = read_file(path, MAX_FILE, "an ELF file or a System.map")
    if data[:4] != b"\x7fELF":
        return _load_system_map(path, data)
    return _load_elf(path, data).symbols


# nm's types that name a place in the image: text, data, BSS, read-only data, weak
# (absolute 'A', undefined 'U' and debug 'N' symbols are left out).
_MAP_TYPES = set("TtDdBbRrWwVvGgSs")


def _load_system_map(path: str, data: bytes) -> Symbols:
    """``ADDR TYPE NAME`` lines (nm's format, as in Linux's System.map); a module
    name in brackets may follow.  Anything else is one line naming the first bad line."""
    not_map = f"{path}: neither an ELF file nor a System.map (nm format: 'ADDR TYPE NAME' lines)"
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ImageError(not_map) from None
    syms = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or (len(parts) == 2 and parts[0] in ("U", "w", "v")):
            continue                        # blank, or undefined: nm prints no address
        try:
            addr = int(parts[0], 16)
        except ValueError:
            addr = None
        if addr is None or len(parts) not in (3, 4) or len(parts[1]) != 1 \
                or (len(parts) == 4 and not parts[3].startswith("[")):
            raise ImageError(f"{not_map}; line {n} is {line[:60]!r}")
        if parts[1] in _MAP_TYPES:
            syms.append((addr, 0, parts[2]))
    if not syms:
        raise ImageError(f"{path}: a System.map with no text or data symbols")
    return Symbols.from_list(syms)


def _load_raw(path: str, data: bytes, boot_el: int) -> Image:
    base = RAW_BASE_EL3 if boot_el == 3 else RAW_BASE_EL2
    if len(data) < 4:
        raise ImageError(f"{path}: too small to be a kernel image ({len(data)} bytes)")
    if base + len(data) > RAM_TOP:
        raise ImageError(f"{path}: {len(data)} bytes at {base:#x} do not fit in RAM")
    if not _plausible_a64(data):
        raise ImageError(f"{path}: neither an ELF file nor a plausible raw AArch64 image "
                         f"(the first instructions do not decode as A64)")
    return Image(path, "raw", [(base, data, len(data))], base, Symbols())


def plausible_image(head: bytes) -> bool:
    """Whether the first bytes of a file can start a kernel image vizor loads."""
    return head[:4] == b"\x7fELF" or _plausible_a64(head)


def _plausible_a64(data: bytes) -> bool:
    head = data[:64]
    if head[:2] in (b"\x1f\x8b", b"PK") or head[:5] in (b"%PDF-", b"<?xml"):
        return False
    if all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        return False  # text
    from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs
    md = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
    words = [data[i:i + 4] for i in range(0, min(len(data), 32) & ~3, 4)]
    decoded = sum(1 for w in words if list(md.disasm(w, 0)))
    first_ok = words[0] != b"\0\0\0\0" and bool(list(md.disasm(words[0], 0)))
    return first_ok and decoded >= len(words) - 1
