"""Stop conditions: what can stop a run, as frozen data (the debugger's vocabulary).

Each condition has an ``id`` (one numbering for all kinds, as in gdb), filters
— VMID, EL, core — and a hit count.  The VMID of a core is the VMID in
VTTBR_EL2 while it runs at EL1/EL0 with HCR_EL2.VM set (``Core.vmid``); a
filter naming a VMID never matches EL2 or EL3.  A world filter (``secure`` or
``ns``) matches the security state of the core where the condition fires:
EL3 is Secure, below it SCR_EL3.NS decides (``arch/security.py``).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.security import is_secure

if TYPE_CHECKING:
    from vizor.machine.cpu.core import Core

_OPS = {"==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
        "<": operator.lt, ">": operator.gt, "&": lambda a, b: bool(a & b)}
_COND = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(==|!=|<=|>=|<|>|&)\s*(\S+)\s*$", re.I)
_NAMED = {"sp": "SP", "pc": "PC", "lr": None, "pstate": "PSTATE", "cpsr": "PSTATE"}


@dataclass(frozen=True)
class Condition:
    """``register op value``, e.g. ``x0 == 0x10``, ``sp < 0x80000``, ``x2 & 4``."""

    register: str
    op: str
    value: int

    @classmethod
    def parse(cls, text: str) -> "Condition":
        m = _COND.match(text)
        if not m:
            raise ValueError(f"bad condition {text!r} (want e.g. 'x0 == 0x10')")
        reg, op, val = m.group(1).lower(), m.group(2), m.group(3)
        if not (reg in _NAMED or re.fullmatch(r"x([0-9]|[12][0-9]|30)", reg)
                or re.fullmatch(r"(elr|spsr|esr|far)_el[123]|vttbr_el2|hcr_el2|ttbr[01]_el1", reg)):
            raise ValueError(f"unknown register {reg!r} in condition")
        try:
            value = int(val.replace("_", ""), 0)
        except ValueError:
            raise ValueError(f"bad value {val!r} in condition") from None
        return cls(reg, op, value)

    def holds(self, core: "Core") -> bool:
        return _OPS[self.op](read_register(core, self.register), self.value)

    def __str__(self) -> str:
        return f"{self.register} {self.op} {self.value:#x}"


def read_register(core: "Core", name: str) -> int:
    if name == "lr":
        return core.regs.x(30)
    if name[0] == "x" and name[1:].isdigit():
        return core.regs.x(int(name[1:]))
    return core.regs.read(_NAMED.get(name) or name.upper())


WORLDS = {"secure": "Secure", "ns": "Non-secure"}


def world_matches(world: str | None, el: int, scr_el3: int) -> bool:
    """Whether a core at ``el`` under ``scr_el3`` is in ``world`` (None: any)."""
    return world is None or is_secure(el, scr_el3) == (world == "secure")


@dataclass(frozen=True)
class Filters:
    vmid: int | None = None
    el: int | None = None
    core: int | None = None
    world: str | None = None    # "secure" | "ns" | None

    def check(self, ncores: int) -> None:
        if self.vmid is not None and not 0 <= self.vmid <= 0xFF:
            raise ValueError(f"VMID {self.vmid} is out of range (0-255 with 8-bit VMIDs)")
        if self.el is not None and self.el not in (0, 1, 2, 3):
            raise ValueError(f"EL{self.el} does not exist")
        if self.core is not None and self.core not in range(ncores):
            raise ValueError(f"there is no core {self.core} (cores 0-{ncores - 1})")
        if self.vmid is not None and self.el is not None and self.el >= 2:
            raise ValueError(f"a VMID filter needs EL0 or EL1, not EL{self.el}")
        check_world(self.world, self.el, self.vmid)

    def match(self, core: "Core", el: int | None = None) -> bool:
        if self.core is not None and self.core != core.index:
            return False
        if self.el is None and self.vmid is None and self.world is None:
            return True
        if el is None:
            el = core.el
        if self.el is not None and self.el != el:
            return False
        if not world_matches(self.world, el, core.scr):
            return False
        return self.vmid is None or core.vmid(el) == self.vmid

    def describe(self) -> str:
        out = []
        if self.vmid is not None:
            out.append(f"vmid={self.vmid}")
        if self.el is not None:
            out.append(f"EL{self.el}")
        if self.core is not None:
            out.append(f"core {self.core}")
        if self.world is not None:
            out.append(WORLDS[self.world])
        return " ".join(out)


def check_world(world: str | None, el: int | None, vmid: int | None) -> None:
    """Refuse a world filter no core can be in (ValueError, one line)."""
    if world is None:
        return
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r} (secure or ns)")
    if world == "secure" and vmid is not None:
        raise ValueError("a VMID names a Non-secure guest (stage 2 is Non-secure only): not with @secure")
    if world == "secure" and el == 2:
        raise ValueError("the Cortex-A53 has no Secure EL2 (EL2 is Non-secure only): not with @secure")
    if world == "ns" and el == 3:
        raise ValueError("EL3 is always Secure: not with @ns")


@dataclass(frozen=True)
class Breakpoint:
    """Stop before the instruction at ``address`` (a VA of the regime the filters name)."""

    id: int
    address: int
    filters: Filters = Filters()
    condition: Condition | None = None
    ignore: int = 0  # hits to let pass before stopping
    enabled: bool = True
    hits: int = 0
    temporary: bool = False  # a stepping helper, not listed to the user

    @property
    def vmid(self) -> int | None:
        return self.filters.vmid

    @property
    def el(self) -> int | None:
        return self.filters.el

    @property
    def core(self) -> int | None:
        return self.filters.core

    def describe(self) -> str:
        parts = [f"break {self.address:#x}", self.filters.describe()]
        if self.condition:
            parts.append(f"if {self.condition}")
        if self.ignore:
            parts.append(f"ignore {self.ignore}")
        return " ".join(p for p in parts if p) + ("" if self.enabled else " (disabled)")


@dataclass(frozen=True)
class Watchpoint:
    """Stop after a read and/or write of ``[pa, pa+length)`` by any core
    (or by the cores the filters name).  ``va`` is what the user gave, if a VA."""

    id: int
    pa: int
    length: int
    reads: bool
    writes: bool
    filters: Filters = Filters()
    va: int | None = None
    enabled: bool = True
    hits: int = 0

    def covers(self, pa: int, size: int) -> bool:
        return pa < self.pa + self.length and self.pa < pa + size

    def describe(self) -> str:
        kind = "access" if self.reads and self.writes else ("read" if self.reads else "write")
        where = f"VA {self.va:#x} (PA {self.pa:#x})" if self.va is not None else f"PA {self.pa:#x}"
        parts = [f"watch {kind} {where}+{self.length}", self.filters.describe()]
        return " ".join(p for p in parts if p) + ("" if self.enabled else " (disabled)")


EVENT_KINDS = ("exception", "vm-exit", "vm-entry", "sysreg", "mmio", "world")


@dataclass(frozen=True)
class EventStop:
    """Stop on an event:

    * ``exception``: an exception taken (``ec``: class, None = any synchronous;
      ``kind`` "irq"/"fiq" for interrupts), filtered by ``from_vmid``, ``to_el``;
    * ``vm-exit``: an exception from VMID ``vmid`` (any, if None) into EL2;
    * ``vm-entry``: the first instruction a core executes in VMID ``vmid``
      after EL2 (an ERET into the VM, the VM being scheduled);
    * ``sysreg``: a write to system register ``register`` (e.g. VTTBR_EL2);
    * ``mmio``: the first access to each address no device model implements;
    * ``world``: a world switch: a core returns from EL3 into the other
      security state than the one it entered EL3 from (``debug/worlds.py``).

    ``world`` ("secure"/"ns") filters an exception by the world it was taken
    from (``smc@ns``), a world switch by the world entered.
    """

    id: int
    kind: str
    ec: int | None = None
    exc_kind: str = "sync"
    vmid: int | None = None
    to_el: int | None = None
    register: str | None = None
    core: int | None = None
    enabled: bool = True
    hits: int = 0
    world: str | None = None

    def describe(self) -> str:
        if self.kind == "world":
            parts = ["catch world switch"] + ([f"into the {WORLDS[self.world]} world"] if self.world else [])
        elif self.kind == "exception":
            what = X.EC_NAMES.get(self.ec, f"EC {self.ec:#x}") if self.ec is not None else self.exc_kind
            parts = [f"catch exception {what}"]
            if self.vmid is not None:
                parts.append(f"from vmid={self.vmid}")
            if self.world is not None:
                parts.append(f"from the {WORLDS[self.world]} world")
            if self.to_el is not None:
                parts.append(f"to EL{self.to_el}")
        elif self.kind in ("vm-exit", "vm-entry"):
            parts = [f"catch {self.kind}", "any VM" if self.vmid is None else f"vmid={self.vmid}"]
        elif self.kind == "sysreg":
            parts = [f"catch write {self.register}"]
        else:
            parts = ["catch unmodelled MMIO"]
        if self.core is not None:
            parts.append(f"core {self.core}")
        return " ".join(parts) + ("" if self.enabled else " (disabled)")


@dataclass(frozen=True)
class Goal:
    """Wait for a core to enter VMID ``vmid``: ``entry`` (any return into it),
    ``scheduled`` (after a VTTBR_EL2 write selecting it)."""

    kind: str
    vmid: int | None  # None: any VM
    core: int | None
    stop_id: int | None = None  # the EventStop it serves, or None for a stepping goal
