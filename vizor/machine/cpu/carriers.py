"""What carries a breakpoint or watchpoint on one core: Unicorn exits and page protection.

The second (and last) module besides ``core.py`` that calls Unicorn.  Both
mechanisms cost nothing until hit (DESIGN.md, fact 9):

* exits: ``emu_start`` stops when PC reaches a listed address, before the
  instruction runs.  Exits are compiled into translated blocks, so blocks
  translated without an exit must be dropped when one is added.
* page protection: a watched RAM page loses read and/or write permission on
  every core's instance; an access to it stops at the instruction with the
  physical address, which then executes with the page unprotected (the
  "step over") before the watch is reported — so a stop reports the access
  done, with the old and the new value, as a debugger user expects.

Filters (VMID, EL, core, exact byte range) are the debugger's business; this
module only says "core N stopped at exit X" or "core N accessed PA Y".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from unicorn import (
    UC_HOOK_MEM_READ_PROT,
    UC_HOOK_MEM_WRITE_PROT,
    UC_PROT_ALL,
    UC_PROT_READ,
    UC_PROT_WRITE,
    UcError,
)

from vizor.machine.arch.insn import WFE, WFI, decode_load_store, is_fp_simd

if TYPE_CHECKING:
    from vizor.machine.cpu.host import CoreView

PAGE = 0x1000
UC_MEM_WRITE_PROT, UC_MEM_READ_PROT = 22, 23


def _may_be_undefined(word: int) -> bool:
    """Whether executing ``word`` could raise an undefined-instruction exception."""
    if word in (WFI, WFE) or is_fp_simd(word) or (word & 0xFFC00000) == 0xD5000000:  # system space
        return True
    if word & 0x1E000000 == 0:  # op0 = 0b0000x: reserved / unallocated
        return True
    return False


@dataclass(frozen=True)
class WatchAccess:
    """An access to a watched page: done when reported."""

    kind: str  # "read" or "write"
    pa: int
    size: int
    old: int  # memory before the access (little-endian, ``size`` bytes)
    new: int  # memory after it
    pc: int
    el: int


class Carriers:
    def __init__(self, core: "CoreView") -> None:
        self.core = core
        self.uc = core.uc
        self.exits: frozenset[int] = frozenset()
        self.arrival: tuple[int, int] | None = None  # (PC, instructions) of the last exit stop
        self.at_exit = False
        self.resuming: int | None = None  # the exit whose instruction this slice executes
        self.pages: dict[int, tuple[bool, bool]] = {}  # page PA -> (watch reads, watch writes)
        self.fault: tuple[str, int, int] | None = None  # (kind, pa, size) seen by the hook
        self.hit: WatchAccess | None = None
        self._hooked = False

    # --- exits ------------------------------------------------------------------

    def set_exits(self, addresses) -> None:
        exits = frozenset(a & 0xFFFFFFFFFFFFFFFF for a in addresses)
        if exits == self.exits:
            return
        added = exits - self.exits
        self.exits = exits
        self._load(exits)
        if added:
            # Retranslate everything: removing single blocks goes through the
            # current regime's translation, which need not map a guest VA set
            # while the core is at EL2.
            self.uc.ctl_flush_tb()

    def _load(self, exits: frozenset[int]) -> None:
        # Unicorn refuses an empty exit list: no exits means exits disabled.
        self.uc.ctl_exits_enabled(bool(exits))
        if exits:
            self.uc.ctl_set_exits(list(exits))

    def resume_from(self, pc: int, instructions: int) -> bool:
        """At the start of a slice: if the stop at this exit was already
        reported, lift the exit so that its instruction runs (one instruction)."""
        self.at_exit = False
        if self.exits and pc in self.exits and self.arrival == (pc, instructions):
            self._load(self.exits - {pc})
            self.resuming = pc
            return True
        self.resuming = None
        return False

    def trapped_exit(self, pc: int) -> int | None:
        """The exit an undefined-instruction stop at ``pc`` really is, or None.

        Unicorn stops at an exit by ending the block with an imitation of WFI.
        Where WFI traps (HCR_EL2.TWI from EL1/EL0, SCTLR_EL1.nTWI=0 from EL0)
        that imitation raises an undefined-instruction exception reported at
        the exit address minus 4.  It is told from a real undefined
        instruction at that address by the word there: one that can raise
        UNDEFINED (unallocated, a system instruction, WFI/WFE, FP/SIMD) is
        taken for real; anything else cannot have trapped.
        """
        exit_pc = (pc + 4) & 0xFFFFFFFFFFFFFFFF
        if not self.exits or exit_pc not in self.exits or self.resuming == exit_pc:
            return None
        word = self.core.read_insn(pc)
        if word is None or _may_be_undefined(word):
            return None
        return exit_pc

    def spurious_fetch_fault(self, pc: int) -> bool:
        """Whether a prefetch abort at ``pc`` is an exit there, not a real fault.

        Unicorn ends a block at an exit before its first instruction, so the
        block is empty, and QEMU 5 takes an empty block at ``pc`` to end on
        the page before it (``pc + size - 1``): where ``pc`` starts a 1 KB
        page and the page below does not translate (``pc`` = 0, or the first
        page of a mapping) QEMU raises a prefetch abort for it.  The exit is
        reported instead; if ``pc`` itself does not translate, the real abort
        comes when the instruction runs.
        """
        return bool(self.exits) and pc in self.exits and self.resuming != pc and pc & 0x3FF == 0

    def resumed(self, pc: int) -> None:
        self._load(self.exits)
        # the block just translated without the exit must not be reused
        self.uc.ctl_remove_cache(pc, pc + 4)

    def stopped_at_exit(self, pc: int, instructions: int) -> bool:
        if self.exits and pc in self.exits:
            self.at_exit = True
            self.arrival = (pc, instructions)
            return True
        return False

    # --- watched pages ------------------------------------------------------------

    def set_pages(self, pages: dict[int, tuple[bool, bool]]) -> None:
        """Protect these RAM pages against reads and/or writes; unprotect the rest."""
        if not self._hooked and pages:
            top = 0xFFFFFFFFFFFFFFFF
            self.uc.hook_add(UC_HOOK_MEM_WRITE_PROT, self._on_prot, begin=0, end=top)
            self.uc.hook_add(UC_HOOK_MEM_READ_PROT, self._on_prot, begin=0, end=top)
            self._hooked = True
        if pages == self.pages:
            return
        for page in self.pages.keys() - pages.keys():
            self.uc.mem_protect(page, PAGE, UC_PROT_ALL)
        self.pages = dict(pages)
        self._protect()

    def _protect(self) -> None:
        for page, (reads, writes) in self.pages.items():
            # Unicorn lets a writable page be read whatever its READ bit says,
            # so a read watch takes write permission too (the debugger then
            # ignores the writes it sees there).
            perms = UC_PROT_ALL & ~(UC_PROT_READ | UC_PROT_WRITE if reads else UC_PROT_WRITE)
            self.uc.mem_protect(page, PAGE, perms)
        self.core.flush_tlb()  # mem_protect leaves the TLB's cached permissions alone

    def _unprotect(self) -> None:
        for page in self.pages:
            self.uc.mem_protect(page, PAGE, UC_PROT_ALL)
        self.core.flush_tlb()

    def _on_prot(self, uc, access, address, size, value, _ud) -> bool:
        if (address & ~(PAGE - 1)) in self.pages or ((address + size - 1) & ~(PAGE - 1)) in self.pages:
            self.fault = ("write" if access == UC_MEM_WRITE_PROT else "read", address, size)
        return False  # stop at the instruction; Core.run steps over it

    def step_over(self) -> int:
        """Execute the instruction that touched a watched page, unprotected;
        record the access as ``hit``.  Returns the instructions executed (1)."""
        kind, pa, size = self.fault
        self.fault = None
        core = self.core
        pc, el = core.pc, core.el
        if kind == "read" and self._is_store(pc):
            # QEMU performs a store-exclusive as compare-and-swap: its read
            # reaches a read-watched page first, but the access is a store.
            kind = "write"
        pa, size = self._whole_access(pc, pa, size)
        old = self._peek(pa, size)
        self._unprotect()
        try:
            self.uc.emu_start(pc, 0xFFFFFFFFFFFFFFFF, 0, 1)
        except UcError as e:
            core._halt(core._bad_access or f"unicorn error stepping over a watched access: {e}")
        finally:
            self._protect()
        self.hit = WatchAccess(kind, pa, size, old, self._peek(pa, size), pc, el)
        return min(core._counter.value, 1)

    def _is_store(self, pc: int) -> bool:
        word = self.core.read_insn(pc)
        ls = decode_load_store(word) if word is not None else None
        return ls is not None and not ls.is_load

    def _whole_access(self, pc: int, pa: int, size: int) -> tuple[int, int]:
        """The hook reports one element of a pair (LDP/STP): widen to both."""
        word = self.core.read_insn(pc)
        ls = decode_load_store(word) if word is not None else None
        if ls is None or ls.regs == 1:
            return pa, size
        xs = self.core.regs.xregs.read()
        va = ls.address(lambda n: xs[n], pc)
        total = ls.size * ls.regs
        delta = (pa & (PAGE - 1)) - (va & (PAGE - 1))
        if 0 <= delta < total:
            return pa - delta, total
        return pa, size  # the pair crosses a page: report the element seen

    def _peek(self, pa: int, size: int) -> int:
        try:
            return self.core.board.read_phys(pa, size)
        except Exception:
            return 0
