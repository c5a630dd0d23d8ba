"""The peripheral bus: physical address ranges dispatched to device objects.

A small bus in the manner of rust-vmm's vm-device: ranges may not overlap,
accesses are checked against the range, and an access no device implements is
*recorded* (address, size, core, EL, PC, direction) and then reads as zero
(or as the reset value a stub in devices/reset_values.py gives) / is ignored,
so a kernel poking an unmodelled register is visible in the inspector instead
of silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from vizor.machine.devices.base import UnmodelledAccess


@dataclass(frozen=True)
class UnmodelledRecord:
    address: int
    size: int
    core: int
    el: int
    pc: int
    write: bool
    value: int | None
    cycles: int

    def __str__(self) -> str:
        what = f"write {self.value:#x} to" if self.write else "read of"
        return (f"unmodelled {what} {self.size}-byte register at PA {self.address:#010x} "
                f"(core {self.core}, EL{self.el}, PC {self.pc:#x})")


@dataclass(frozen=True)
class Mapping:
    base: int
    size: int
    device: Any
    name: str


class Bus:
    def __init__(self, time: Callable[[], int] = lambda: 0) -> None:
        self._maps: list[Mapping] = []
        self.unmodelled: list[UnmodelledRecord] = []
        self._seen: set[tuple[int, bool]] = set()
        self.listeners: list[Callable[[UnmodelledRecord], None]] = []
        self._time = time
        self._quiet: dict[int, bool] = {}

    def attach(self, base: int, size: int, device: Any, name: str) -> None:
        for m in self._maps:
            if base < m.base + m.size and m.base < base + size:
                raise ValueError(f"{name} at {base:#x} overlaps {m.name} at {m.base:#x}")
        self._maps.append(Mapping(base, size, device, name))
        self._quiet.clear()
        self._maps.sort(key=lambda m: m.base)

    def find(self, pa: int) -> Mapping | None:
        for m in self._maps:
            if m.base <= pa < m.base + m.size:
                return m
        return None

    @property
    def mappings(self) -> tuple[Mapping, ...]:
        return tuple(self._maps)

    def quiet(self, pa: int) -> bool:
        """Whether reading ``pa`` has no side effect and gives a value that only a
        device event or an access changes, never time alone (the device's
        ``QUIET_READS``; cpu/quiet.py skips polls of such a register)."""
        known = self._quiet.get(pa)
        if known is None:
            m = self.find(pa)
            known = self._quiet[pa] = m is not None and pa - m.base in getattr(m.device, "QUIET_READS", ())
        return known

    def read(self, pa: int, size: int, core=None) -> int:
        m = self.find(pa)
        value = 0
        if m is not None and pa + size <= m.base + m.size:
            try:
                return m.device.read(pa - m.base, size) & ((1 << (8 * size)) - 1)
            except UnmodelledAccess as e:
                value = e.reads_as & ((1 << (8 * size)) - 1)  # a stub's reset value
        self._record(pa, size, core, False, None)
        return value

    def write(self, pa: int, size: int, value: int, core=None) -> None:
        m = self.find(pa)
        if m is not None and pa + size <= m.base + m.size:
            try:
                m.device.write(pa - m.base, size, value)
                return
            except UnmodelledAccess:
                pass
        self._record(pa, size, core, True, value)

    def _record(self, pa: int, size: int, core, write: bool, value: int | None) -> None:
        key = (pa, write)
        if key in self._seen:
            return  # each address and direction is logged once
        self._seen.add(key)
        if core is not None:
            rec = UnmodelledRecord(pa, size, core.index, core.el, core.pc, write, value, self._time())
        else:
            rec = UnmodelledRecord(pa, size, -1, -1, 0, write, value, self._time())
        self.unmodelled.append(rec)
        for listener in self.listeners:
            listener(rec)
