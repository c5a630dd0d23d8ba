"""The two interfaces that keep the CPU below the board in the import graph.

A ``Core`` needs a few services of the board it sits on (the bus, the clock,
cache broadcasts, exception listeners); its helpers (breakpoint carriers, abort
classification) need a few parts of the core.  Both are written down here as
protocols, so ``cpu/`` never imports ``board/`` and the helpers never import
``core.py``: ``Board`` and ``Core`` satisfy them structurally.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    import ctypes

    from unicorn import Uc

    from vizor.machine.arch.exceptions import ExceptionRecord
    from vizor.machine.clock import Clock
    from vizor.machine.cpu.regs import Regs


class BoardServices(Protocol):
    """What a core asks of its board."""

    bus: Any                      # board/bus.py: MMIO dispatch
    clock: Clock
    running: Any                  # the core inside emu_start, or None
    emu_counter_offset: int       # cpu/calibrate.py
    signalled: bool               # a signal came: the next hook stops the run
    code_by_pa: bool              # IC IVAU reaches the other cores by PA (Core.drop_code)
    tlb_stale: Any                # a ctypes uint8 per core: drop the TLB before running (Core.invalidate_tlb)
    ram64: memoryview             # RAM as little-endian 64-bit words
    exception_listeners: list[Callable[[Any, ExceptionRecord], None]]

    def read_phys(self, pa: int, size: int) -> int: ...
    def flush_code_caches(self) -> None: ...
    def broadcast_tlb_flush(self, origin: Any) -> None: ...
    def on_exception(self, core: Any, rec: ExceptionRecord) -> None: ...
    def _wakes(self, core: Any) -> bool: ...
    def interruptible(self, core: Any) -> bool: ...


class CoreView(Protocol):
    """What the carriers (carriers.py) and abort classification (faults.py) use of a core."""

    uc: Uc
    regs: Regs
    board: BoardServices
    hcr: int
    scr: int
    walk_cache: dict
    _counter: ctypes.c_uint64
    _bad_access: str | None

    @property
    def pc(self) -> int: ...
    @property
    def el(self) -> int: ...
    def read_insn(self, pc: int) -> int: ...
    def flush_tlb(self) -> None: ...
    def _halt(self, why: str) -> None: ...
