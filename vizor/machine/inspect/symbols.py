"""A symbol table: address -> name and name -> address (filled from ELF files by
``board/loader.py``; per context in ``board/contexts.py``)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass
class Symbols:
    """ELF symbols: address -> name and name -> address."""

    by_name: dict[str, int] = field(default_factory=dict)
    _addrs: list[int] = field(default_factory=list)
    _entries: list[tuple[int, int, str]] = field(default_factory=list)

    @classmethod
    def from_list(cls, items: list[tuple[int, int, str]]) -> "Symbols":
        items = sorted(items)
        s = cls()
        s._entries = items
        s._addrs = [a for a, _, _ in items]
        s.by_name = {n: a for a, _, n in items}
        return s

    def lookup(self, addr: int) -> tuple[str, int] | None:
        """The symbol containing ``addr`` (or the nearest one below), with the offset."""
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        a, size, name = self._entries[i]
        if addr - a > 0x10000 and (size == 0 or addr >= a + size):
            return None  # far past a label or a sized symbol: not "inside" anything
        return name, addr - a

    def format(self, addr: int) -> str:
        hit = self.lookup(addr)
        if hit is None:
            return f"{addr:#x}"
        name, off = hit
        return f"{addr:#x} <{name}+{off:#x}>" if off else f"{addr:#x} <{name}>"

    def __len__(self) -> int:
        return len(self._entries)
