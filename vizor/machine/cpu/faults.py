"""Building the syndrome of an instruction or data abort.

Unicorn stops at a hook saying only "prefetch abort" or "data abort" with PC
at the faulting instruction.  vizor redoes the translation with the pure
walkers of ``mmu.py`` to learn which stage and level faulted and why, decodes
the instruction for the accessed address and the instruction syndrome, and
routes the exception: stage-2 faults to EL2, stage-1 faults to EL1 (EL2 with
HCR_EL2.TGE, or the current EL at EL2/EL3).

ISV is set only for data aborts taken to EL2 that are not S1PTW faults, for
single-register loads and stores without writeback (Arm ARM D13.2.39; QEMU
makes the same choice for ESR_EL1 where ARMv8.0 leaves it to the
implementation).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.insn import decode_load_store
from vizor.machine.arch.mmu import (
    BusError,
    TranslationRegs,
    translate_el10,
    walk_stage1,
)
from vizor.machine.cpu.regs import ENC

if TYPE_CHECKING:
    from vizor.machine.cpu.host import CoreView

_TR_NAMES = ("SCTLR_EL1", "TCR_EL1", "TTBR0_EL1", "TTBR1_EL1", "MAIR_EL1", "HCR_EL2", "VTCR_EL2",
             "VTTBR_EL2", "SCTLR_EL2", "TCR_EL2", "TTBR0_EL2", "MAIR_EL2")
_TR_ENCS = [ENC[n] for n in _TR_NAMES]
_HCR = _TR_NAMES.index("HCR_EL2")


def translation_values(core: "CoreView") -> list[int]:
    """The registers of ``_TR_NAMES``, in that order (the key of a cached walk)."""
    batch = core.__dict__.get("_tr_batch")
    if batch is None:
        batch = core._tr_batch = core.regs.cp_batch(_TR_ENCS)
    v = batch.read()
    v[_HCR] = core.hcr  # the architectural value (QEMU's copy lacks TWI)
    return v


def translation_regs(core: "CoreView") -> TranslationRegs:
    return TranslationRegs(*translation_values(core))


@dataclass(frozen=True)
class Abort:
    target_el: int
    esr: int
    far: int
    hpfar: int | None
    stage: int
    description: str


WALK_CACHE_SIZE = 4096
_LITTLE = sys.byteorder == "little"    # Board.ram64 holds words in host order


def walk_for(core: "CoreView", va: int, el: int, access: str):
    """The walk the CPU did for an access at ``el`` (None at EL3: no EL3 MMU model).

    A hypervisor's guests fault on the same MMIO addresses over and over, and
    a two-stage walk in Python costs hundreds of microseconds, so walks are
    cached per core.  A walk is a pure function of the translation registers
    (part of the key) and of the memory words it read (logged with the walk):
    a cached walk is reused only if every one of those words still holds the
    value it had, so the cache can never be stale — whatever the guest or the
    hypervisor did to its tables, with or without TLB maintenance.
    """
    if el == 3:
        return None
    regs = translation_regs(core)
    key = (regs, va, el, access)
    board = core.board
    read = board.read_phys
    cache = core.walk_cache
    hit = cache.get(key)
    if hit is not None:
        walk, words, values = hit
        if words is not None:       # aligned 8-byte descriptors: one C-level pass over RAM
            if tuple(map(board.ram64.__getitem__, words)) == values:
                return walk
        elif all(read(pa, size) == value for pa, size, value in values):
            return walk
    log: list[tuple[int, int, int]] = []

    def logged(pa: int, size: int) -> int:
        value = read(pa, size)
        log.append((pa, size, value))
        return value

    if el == 2:
        walk = walk_stage1(va, regs, logged, "el2", access, 2)
    else:
        walk = translate_el10(va, regs, logged, access, el)
    if len(cache) >= WALK_CACHE_SIZE:
        cache.clear()
    if _LITTLE and all(size == 8 and not pa & 7 for pa, size, _ in log):
        cache[key] = (walk, tuple(pa >> 3 for pa, _, _ in log), tuple(v for _, _, v in log))
    else:
        cache[key] = (walk, None, tuple(log))
    return walk


_DECODED: dict = {}


def _decoded(word: int):
    """decode_load_store, remembered: guests fault on the same few MMIO accesses."""
    try:
        return _DECODED[word]
    except KeyError:
        if len(_DECODED) >= WALK_CACHE_SIZE:
            _DECODED.clear()
        ls = _DECODED[word] = decode_load_store(word)
        return ls


def classify_abort(core: "CoreView", pc: int, cur: int, *, instruction: bool) -> Abort:
    ls = None
    if instruction:
        va, access = pc, "x"
    else:
        word = core.read_insn(pc)
        ls = _decoded(word) if word is not None else None
        if ls is None:
            # Not a load/store we decode (e.g. DC ZVA): report an external abort at PC.
            return _route(core, cur, X.FSC_SYNC_EXTERNAL, 1, pc, None, None, instruction, False, None,
                          "data abort from an instruction vizor does not decode")
        xs = core.regs.xregs.read()

        def x(n: int) -> int:
            return xs[31] if n == 31 else xs[n]

        va = ls.address(x, pc)
        access = "r" if ls.is_load else "w"
    fault = None
    walk = None
    first = va
    try:
        last = va + (ls.size * ls.regs - 1 if ls else 3)
        for addr in ((va,) if (last >> 12) == (va >> 12) else (va, last & ~0xFFF)):
            walk = walk_for(core, addr, cur, access)
            if walk is not None and walk.fault is not None:
                fault = walk.fault
                va = addr
                break
    except BusError:
        fault = None
    if fault is None:
        # The walk succeeds, so the CPU faulted for another reason: alignment
        # (exclusives, acquire/release, Device memory, SCTLR.A) or a PA that
        # is no memory.
        if ls is not None and va % ls.size:
            return _route(core, cur, X.FSC_ALIGNMENT, 1, va, None, ls, instruction, False, None,
                          "alignment fault")
        return _route(core, cur, X.FSC_SYNC_EXTERNAL, 1, va, None, ls, instruction, False, None,
                      "synchronous external abort")
    hpfar = ((fault.ipa >> 12) << 4) if fault.stage == 2 and fault.ipa is not None else None
    ab = _route(core, cur, fault.status_code, fault.stage, va, hpfar, ls, instruction, fault.s1ptw,
                fault, str(fault))
    if ls is not None and fault.stage == 2 and va == first and cur < 2:
        _remember(core, pc, word, cur, ls, va, access, ab)
    return ab


def _remember(core, pc, word, cur, ls, va, access, ab) -> None:
    """Hand a stage-2 abort to the native fast path (fasttrap.py), when its walk
    is one of RAM words it can check again."""
    tr = translation_values(core)
    hit = core.walk_cache.get((TranslationRegs(*tr), va, cur, access))
    if hit is not None and hit[1] is not None:
        core._remember_abort(pc, word, cur, ls, va, tr, hit[1], hit[2], ab.esr, ab.hpfar)


def _route(core, cur, fsc, stage, far, hpfar, ls, instruction, s1ptw, fault, text) -> Abort:
    if stage == 2:
        target = 2
    else:
        target = X.sync_target_el(cur, core.hcr, core.scr)
    lower = target > cur
    if instruction:
        e = X.esr_abort(True, lower, fsc, s1ptw=s1ptw)
    else:
        isv = ls is not None and ls.isv and target == 2 and not s1ptw
        e = X.esr_abort(False, lower, fsc, wnr=bool(ls and not ls.is_load), s1ptw=s1ptw, isv=isv,
                        sas=ls.sas if ls else 0, sse=bool(ls and ls.sign_extend), srt=ls.rt if ls else 0,
                        sf=bool(ls and ls.sixty_four), ar=bool(ls and ls.acquire_release))
    return Abort(target, e, far, hpfar if target == 2 else None, stage, text)
