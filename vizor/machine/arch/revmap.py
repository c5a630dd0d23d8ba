"""Where is this physical address mapped?  Translation tables read backwards.

A breakpoint names a virtual address, but a hypervisor developer often knows
the guest-physical (IPA) or physical address of the code: it is where the
hypervisor loaded the guest.  These functions enumerate the valid entries of
a VM's stage-2 tables (IPA -> PA) and of its stage-1 tables (VA -> IPA, each
table read through stage 2) and return every address that maps onto the one
given.  4 KB granule only (the granule every Pi kernel uses); other granules
are refused with a message naming them.
"""

from __future__ import annotations

from typing import Callable, Iterator

from vizor.machine.arch.mmu import TranslationRegs, walk_stage2

ReadFn = Callable[[int, int], int]
OA_MASK = 0x0000FFFFFFFFF000
MAX_ENTRIES = 1 << 18  # a guard against pathological or garbage tables


class RevmapError(ValueError):
    pass


def _shift(level: int) -> int:
    return 12 + 9 * (3 - level)


def _enumerate(base: int, level: int, entries: int, ia_base: int, read_table: ReadFn,
               budget: list[int]) -> Iterator[tuple[int, int, int]]:
    """(input address, size, output address) of every block/page under a table."""
    for i in range(entries):
        budget[0] -= 1
        if budget[0] < 0:
            raise RevmapError("the tables have too many entries to search")
        desc = read_table(base + 8 * i, 8)
        if not desc & 1:
            continue
        ia = ia_base + (i << _shift(level))
        if level == 3:
            if desc & 2:
                yield ia, 1 << 12, desc & OA_MASK
        elif desc & 2:  # table
            yield from _enumerate(desc & OA_MASK, level + 1, 512, ia, read_table, budget)
        elif level in (1, 2):  # block
            size = 1 << _shift(level)
            yield ia, size, desc & OA_MASK & ~(size - 1)


def _check_4k(tg: int, name: str, tg1: bool = False) -> None:
    four_k = 2 if tg1 else 0
    if tg != four_k:
        raise RevmapError(f"{name} uses a {('16', '4', '64')[tg] if tg1 else ('4', '64', '16')[tg] } KB "
                          f"granule; finding mappings backwards supports the 4 KB granule")


def stage2_mappings(regs: TranslationRegs, read: ReadFn) -> Iterator[tuple[int, int, int]]:
    vtcr = regs.vtcr_el2
    _check_4k((vtcr >> 14) & 3, "VTCR_EL2")
    t0sz = vtcr & 0x3F
    inputsize = 64 - t0sz
    level = {0: 2, 1: 1, 2: 0}.get((vtcr >> 6) & 3)
    if level is None:
        raise RevmapError("VTCR_EL2.SL0 is reserved for the 4 KB granule")
    entries = 1 << max(inputsize - _shift(level), 0)  # concatenated start tables
    yield from _enumerate(regs.vttbr_el2 & OA_MASK, level, entries, 0, read, [MAX_ENTRIES])


def ipas_for_pa(regs: TranslationRegs, read: ReadFn, pa: int) -> list[int]:
    return sorted(ipa + (pa - oa) for ipa, size, oa in stage2_mappings(regs, read) if oa <= pa < oa + size)


def stage1_mappings(regs: TranslationRegs, read: ReadFn, ipa_read: ReadFn) -> Iterator[tuple[int, int, int]]:
    """EL1&0 stage 1: TTBR0 and TTBR1 halves (tables read through ``ipa_read``)."""
    tcr = regs.tcr_el1
    for half, ttbr, tsz, tg, epd, name in (
            (0, regs.ttbr0_el1, tcr & 0x3F, (tcr >> 14) & 3, (tcr >> 7) & 1, "TCR_EL1.TG0"),
            (1, regs.ttbr1_el1, (tcr >> 16) & 0x3F, (tcr >> 30) & 3, (tcr >> 23) & 1, "TCR_EL1.TG1")):
        if epd:
            continue
        _check_4k(tg, name, tg1=bool(half))
        inputsize = 64 - max(tsz, 16)
        level = 4 - -(-(inputsize - 12) // 9)
        entries = 1 << (inputsize - _shift(level))
        top = ((1 << 64) - (1 << inputsize)) if half else 0
        for va, size, oa in _enumerate(ttbr & OA_MASK, level, entries, 0, ipa_read, [MAX_ENTRIES]):
            yield top | va, size, oa


def vas_for_ipa(regs: TranslationRegs, read: ReadFn, ipa: int) -> list[int]:
    """Every EL1&0 VA that maps to ``ipa`` in this context; [ipa] with the MMU off."""
    if not regs.sctlr_el1 & 1:
        return [ipa]
    stage2 = bool(regs.hcr_el2 & 1)

    def ipa_read(addr: int, size: int) -> int:
        if not stage2:
            return read(addr, size)
        walk = walk_stage2(addr, regs, read, "r")
        if walk.fault is not None or walk.output is None:
            raise RevmapError(f"a stage-1 table at IPA {addr:#x} is not mapped by stage 2")
        return read(walk.output, size)

    return sorted(va + (ipa - oa) for va, size, oa in stage1_mappings(regs, read, ipa_read)
                  if oa <= ipa < oa + size)


def el2_vas_for_pa(regs: TranslationRegs, read: ReadFn, pa: int) -> list[int]:
    """Every EL2 VA that maps to ``pa`` (TTBR0_EL2); [pa] with the EL2 MMU off."""
    if not regs.sctlr_el2 & 1:
        return [pa]
    tcr = regs.tcr_el2
    _check_4k((tcr >> 14) & 3, "TCR_EL2.TG0")
    inputsize = 64 - max(tcr & 0x3F, 16)
    level = 4 - -(-(inputsize - 12) // 9)
    entries = 1 << (inputsize - _shift(level))
    return sorted(va + (pa - oa) for va, size, oa in
                  _enumerate(regs.ttbr0_el2 & OA_MASK, level, entries, 0, read, [MAX_ENTRIES])
                  if oa <= pa < oa + size)
