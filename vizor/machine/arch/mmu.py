"""Pure VMSAv8-64 translation table walkers (stage 1, stage 2, both).

Tables are read through an injected `read(pa, size) -> int` (little-endian)
that raises `BusError` for a PA that is not RAM; that becomes a synchronous
external abort on the walk. The walkers return every step (`Walk`, `WalkStep`)
and classify faults the way ESR/FAR/HPFAR need them (`Fault`); see
`mmu_fields.py` for the result types.

What is modelled (Cortex-A53 = ARMv8.0, 40-bit PA):
- EL1&0 stage 1 (TTBR0/TTBR1 split by the VA's top bit, TBI0/TBI1, T0SZ/T1SZ,
  EPD0/EPD1, IPS, ASID), EL2 stage 1 (TTBR0_EL2, TCR_EL2), EL3 stage 1
  (TTBR0_EL3, TCR_EL3, the same layout as EL2's), stage 2 (VTTBR_EL2,
  VTCR_EL2 T0SZ/SL0/TG0/PS, up to 16 concatenated start tables), stage-1
  table walks translated through stage 2 (S1PTW), HCR_EL2.DC and .PTW.
- 4 KB and 64 KB granules. The A53 has no 16 KB granule (ID_AA64MMFR0_EL1.
  TGran16 = 0): TG encodings for 16 KB or reserved values raise `UnsupportedGranule`.
- Permission checks: AP[2:1], UXN/PXN (XN at EL2), APTable/UXNTable/PXNTable,
  SCTLR.WXN, "EL0-writable implies PXN"; S2AP/XN at stage 2.
- Fault priority of the Arm ARM pseudocode: translation / address size during
  the walk, then the access flag, then permissions; stage 1 before stage 2.

Choices where the architecture is CONSTRAINED UNPREDICTABLE: TnSZ outside
16..39 is clamped into that range; a stage-2 input size larger than the
implemented PA size, and SL0 values that are reserved or inconsistent with
T0SZ, give a stage-2 level-0 translation fault (as QEMU does).

The Secure EL1&0 regime is the EL1&0 walk with HCR_EL2 taken as 0 (EL2 does
not act on Secure state); NSTable and NS are recorded in every step, and
`security.walk_security` says which lookups and which output are Secure.

Not implemented: big-endian walks (SCTLR.EE), HCR_EL2.TGE/E2H (VHE), the
Contiguous hint (decoded, not used), instruction fetch from Device
memory, hardware AF/dirty updates (absent on the A53), AArch32 regimes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from vizor.machine.arch.mmu_fields import (
    FULL_ACCESS,
    BusError,
    Fault,
    Permissions,
    ReadFn,
    TranslationRegs,
    UnsupportedGranule,
    Walk,
    WalkStep,
    combine_memtypes,
    mair_attr_name,
    mair_lookup,
    s2_memattr_name,
)

__all__ = [
    "BusError", "Fault", "Permissions", "TranslationRegs", "UnsupportedGranule",
    "Walk", "WalkStep", "walk_stage1", "walk_stage2", "translate_el10", "vmid_of",
    "stage2_enabled", "PAMAX", "canonical", "unreachable",
]

PAMAX = 40                       # Cortex-A53 ID_AA64MMFR0_EL1.PARange = 0b0010
PA_SIZES = {0: 32, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48}
_ADDR_MASK = (1 << 48) - 1
_MIN_TSZ, _MAX_TSZ = 16, 39

# TCR.TG0 / VTCR.TG0 / TCR_EL2.TG0 and TCR.TG1 encodings -> granule size in bits.
_TG0 = {0b00: 12, 0b01: 16, 0b10: 14}
_TG1 = {0b10: 12, 0b11: 16, 0b01: 14}
# Levels at which a block descriptor is allowed (ARMv8.0, no 52-bit PA).
_BLOCK_LEVELS = {12: (1, 2), 16: (2,)}


def canonical(va: int, el: int | None = None) -> bool:
    """Whether a regime can reach ``va`` (at ``el``, None: any EL): without LVA a VA
    has at most 48 bits (T0SZ, T1SZ >= 16), so bits 63:48 must be all 0 (a TTBR0
    address) or all 1 (TTBR1, EL1&0 only: ARMv8.0 EL2 and EL3 have TTBR0 alone);
    any other address faults on every core before a table is read."""
    top = va >> 48
    return top == 0 or (top == 0xFFFF and el not in (2, 3))


def unreachable(va: int, el: int | None = None) -> str:
    """Why no core can run the instruction at ``va`` (at ``el``), or '' if one can."""
    if canonical(va, el):
        return ""
    if canonical(va):
        return f"no core reaches {va:#x}: EL{el} VAs have bits 63:48 all 0 (TTBR0 only)"
    return f"no core reaches {va:#x}: a VA has bits 63:48 all 0 or all 1 (48-bit VAs)"


def vmid_of(vttbr: int) -> int:
    """The VMID in VTTBR_EL2[55:48] (8 bits: the A53 has no 16-bit VMID)."""
    return (vttbr >> 48) & 0xFF


def stage2_enabled(regs: TranslationRegs) -> bool:
    """HCR_EL2.VM, or HCR_EL2.DC which behaves as VM=1 for everything but a read."""
    return bool(regs.hcr_el2 & 1 or (regs.hcr_el2 >> 12) & 1)


def _granule(tg: int, field: str, tg1: bool = False) -> int:
    table = _TG1 if tg1 else _TG0
    grain = table.get(tg)
    if grain is None:
        raise UnsupportedGranule(f"reserved granule encoding ({field}=0b{tg:02b})")
    if grain == 14:
        raise UnsupportedGranule(
            f"16KB granule ({field}=0b{tg:02b}) is not supported (the Cortex-A53 has none)")
    return grain


def _out_size(ps: int) -> int:
    return min(PA_SIZES.get(ps, PAMAX), PAMAX)


def _clamp_tsz(tsz: int) -> int:
    return min(max(tsz, _MIN_TSZ), _MAX_TSZ)


def _start_level(inputsize: int, grain: int) -> int:
    stride = grain - 3
    return 4 - (1 + (inputsize - grain - 1) // stride)


def _lo_bit(level: int, grain: int) -> int:
    return grain + (3 - level) * (grain - 3)


def _base(ttbr: int, inputsize: int, level: int, grain: int) -> int:
    lower = 3 + inputsize - _lo_bit(level, grain)
    return ttbr & _ADDR_MASK & ~((1 << lower) - 1)


class _Ctx:
    """Parameters of one table walk (one stage, one regime)."""

    def __init__(self, stage: int, regime: str, ia: int, inputsize: int, grain: int,
                 outsize: int, mair: int = 0, wxn: bool = False,
                 s2: Optional[tuple[TranslationRegs, ReadFn]] = None, va: int = 0):
        self.stage, self.regime, self.ia = stage, regime, ia
        self.inputsize, self.grain, self.outsize = inputsize, grain, outsize
        self.mair, self.wxn, self.s2, self.va = mair, wxn, s2, va


def _fault(ctx: _Ctx, level: int, kind: str, access: str) -> Fault:
    ipa = ctx.ia if ctx.stage == 2 else None
    return Fault(stage=ctx.stage, level=level, kind=kind, ipa=ipa,
                 address=ctx.va if ctx.stage == 1 else ctx.ia, write=access == "w")


def _read_desc(ctx: _Ctx, addr: int, read: ReadFn, level: int):
    """Read one descriptor: returns (desc_pa, desc, s2_walk, fault)."""
    s2walk = None
    pa = addr
    if ctx.s2 is not None:
        regs, _ = ctx.s2
        s2walk = walk_stage2(addr, regs, read, "r", s1ptw=True)
        if s2walk.fault is not None:
            return None, None, s2walk, replace(s2walk.fault, address=ctx.va)
        pa = s2walk.output
    try:
        return pa, read(pa, 8), s2walk, None
    except BusError:
        return pa, None, s2walk, _fault(ctx, level, "external", "r")


def _table_walk(ctx: _Ctx, base: int, level: int, read: ReadFn, access: str):
    """Walk from `base` at `level`. Returns (steps, leaf_step_or_None, fault_or_None)."""
    grain, _stride = ctx.grain, ctx.grain - 3
    hi = ctx.inputsize - 1
    steps: list[WalkStep] = []
    table = base
    while True:
        lo = _lo_bit(level, grain)
        index = (ctx.ia >> lo) & ((1 << (hi - lo + 1)) - 1)
        addr = table + 8 * index
        pa, desc, s2walk, fault = _read_desc(ctx, addr, read, level)
        common = dict(stage=ctx.stage, level=level, table_base=table, index=index,
                      ia_bits=(hi, lo), desc_addr=addr, desc_pa=pa, desc=desc, s2_walk=s2walk)
        if fault is not None:
            steps.append(WalkStep(kind="abort", **common))
            return steps, None, fault
        dtype = desc & 3
        if dtype in (0, 2) or (dtype == 1 and level not in _BLOCK_LEVELS[grain]):
            kind = "reserved" if dtype == 1 and level == 3 else "invalid"
            steps.append(WalkStep(kind=kind, **common))
            return steps, None, _fault(ctx, level, "translation", access)
        oa_field = desc & _ADDR_MASK & ~((1 << (grain if dtype == 3 else lo)) - 1)
        too_big = oa_field >> ctx.outsize != 0
        if dtype == 3 and level < 3:
            extra = {}
            if ctx.stage == 1:
                extra = dict(ns_table=bool(desc >> 63 & 1), ap_table=(desc >> 61) & 3,
                             uxn_table=bool(desc >> 60 & 1))
                if ctx.regime == "el10":
                    extra["pxn_table"] = bool(desc >> 59 & 1)
            steps.append(WalkStep(kind="table", output=oa_field, **common, **extra))
            if too_big:
                return steps, None, _fault(ctx, level, "address_size", access)
            table, level, hi = oa_field, level + 1, lo - 1
            continue
        step = _leaf_step(ctx, desc, level, lo, common)
        steps.append(step)
        if too_big:
            return steps, None, _fault(ctx, level, "address_size", access)
        if not step.af:
            return steps, None, _fault(ctx, level, "access_flag", access)
        return steps, step, None


def _leaf_step(ctx: _Ctx, desc: int, level: int, lo: int, common: dict) -> WalkStep:
    oa = (desc & _ADDR_MASK & ~((1 << lo) - 1)) | (ctx.ia & ((1 << lo) - 1))
    kind = "page" if level == 3 else "block"
    shared = dict(sh=(desc >> 8) & 3, af=bool(desc >> 10 & 1), contiguous=bool(desc >> 52 & 1))
    if ctx.stage == 2:
        memattr = (desc >> 2) & 0xF
        return WalkStep(kind=kind, output=oa, s2ap=(desc >> 6) & 3, xn=bool(desc >> 54 & 1),
                        memattr=memattr, mem_type=s2_memattr_name(memattr), **shared, **common)
    idx = (desc >> 2) & 7
    pxn = bool(desc >> 53 & 1) if ctx.regime == "el10" else None
    ng = bool(desc >> 11 & 1) if ctx.regime == "el10" else None
    return WalkStep(kind=kind, output=oa, ap=(desc >> 6) & 3, uxn=bool(desc >> 54 & 1),
                    pxn=pxn, attr_index=idx, mem_type=mair_attr_name(mair_lookup(ctx.mair, idx)),
                    ns=bool(desc >> 5 & 1), ng=ng, **shared, **common)


def _s1_permissions(ctx: _Ctx, steps: list[WalkStep], leaf: WalkStep) -> Permissions:
    aptable, uxnt, pxnt = 0, False, False
    for s in steps:
        if s.kind == "table":
            aptable |= s.ap_table or 0
            uxnt |= bool(s.uxn_table)
            pxnt |= bool(s.pxn_table)
    ap2 = bool(leaf.ap >> 1 & 1) or bool(aptable >> 1 & 1)
    if ctx.regime != "el10":                 # EL2 and EL3: AP[2] and XN only
        w = not ap2
        return Permissions(priv_r=True, priv_w=w,
                           priv_x=not (leaf.uxn or uxnt or (ctx.wxn and w)))
    ap1 = bool(leaf.ap & 1) and not aptable & 1
    priv_w, el0_r, el0_w = not ap2, ap1, ap1 and not ap2
    el0_x = not (leaf.uxn or uxnt or (ctx.wxn and el0_w))
    priv_x = not (leaf.pxn or pxnt or (ctx.wxn and priv_w) or el0_w)
    return Permissions(True, priv_w, priv_x, el0_r, el0_w, el0_x)


def _check(ctx: _Ctx, perms: Permissions, level: int, access: str, el: int) -> Optional[Fault]:
    if perms.allows(access, el):
        return None
    return _fault(ctx, level, "permission", access)


def walk_stage1(va: int, regs: TranslationRegs, read: ReadFn, regime: str = "el10",
                access: str = "r", el: int = 1) -> Walk:
    """Stage-1 translation of `va` in the EL1&0 ("el10"), EL2 ("el2") or EL3 ("el3") regime.

    Checks the permission of `access` ("r", "w", "x") at `el`. In the EL1&0
    regime with stage 2 enabled, every table address is an IPA translated by a
    stage-2 walk (kept in `WalkStep.s2_walk`); the output is then an IPA."""
    if regime not in ("el10", "el2", "el3"):
        raise ValueError(f"unknown regime {regime!r}")
    el2 = regime != "el10"                   # one VA range, TCR_EL2/EL3 layout
    tcr, sctlr, mair, ttbr0 = _regime_regs(regs, regime)
    s2 = (regs, read) if not el2 and stage2_enabled(regs) else None
    bit55 = va >> 55 & 1
    tbi = (tcr >> 20 & 1) if el2 else (tcr >> (38 if bit55 else 37) & 1)
    top = 55 if tbi else 63
    outsize = _out_size((tcr >> 16 if el2 else tcr >> 32) & 7)
    mmu_on = bool(sctlr & 1) and not (not el2 and (regs.hcr_el2 >> 12) & 1)
    ctx = _Ctx(1, regime, va, 0, 12, outsize, mair,
               bool(sctlr >> 19 & 1), s2, va)
    if not mmu_on:
        return _stage1_off(ctx, va, regs, top, access, el2)
    select = 0 if el2 else (va >> top) & 1
    if select:
        tsz, epd, tg, ttbr, field = tcr >> 16 & 0x3F, tcr >> 23 & 1, tcr >> 30 & 3, regs.ttbr1_el1, "TG1"
    else:
        tsz, epd, tg, field = tcr & 0x3F, (0 if el2 else tcr >> 7 & 1), tcr >> 14 & 3, "TG0"
        ttbr = ttbr0
    inputsize = 64 - _clamp_tsz(tsz)
    span = (va >> inputsize) & ((1 << (top + 1 - inputsize)) - 1)
    asid = None
    if not el2:
        asid_reg = regs.ttbr1_el1 if tcr >> 22 & 1 else regs.ttbr0_el1
        asid = (asid_reg >> 48) & (0xFFFF if tcr >> 36 & 1 else 0xFF)
    in_range = span == (((1 << (top + 1 - inputsize)) - 1) if select else 0)
    if epd or not in_range:
        return Walk(va, regime, 1, fault=_fault(ctx, 0, "translation", access), asid=asid)
    ctx.inputsize, ctx.grain = inputsize, _granule(tg, field, tg1=bool(select))
    level = _start_level(inputsize, ctx.grain)
    if (ttbr & _ADDR_MASK) >> outsize:
        return Walk(va, regime, 1, fault=_fault(ctx, 0, "address_size", access), asid=asid)
    steps, leaf, fault = _table_walk(ctx, _base(ttbr, inputsize, level, ctx.grain), level,
                                     read, access)
    if fault is not None:
        return Walk(va, regime, 1, tuple(steps), fault=fault, asid=asid)
    perms = _s1_permissions(ctx, steps, leaf)
    fault = _check(ctx, perms, leaf.level, access, 2 if el2 else el)   # "priv" rights
    return Walk(va, regime, 1, tuple(steps), None if fault else leaf.output, perms,
                leaf.mem_type, fault, asid=asid)


def _regime_regs(regs: TranslationRegs, regime: str) -> tuple[int, int, int, int]:
    """TCR, SCTLR, MAIR and TTBR0 of a stage-1 regime."""
    if regime == "el3":
        return regs.tcr_el3, regs.sctlr_el3, regs.mair_el3, regs.ttbr0_el3
    if regime == "el2":
        return regs.tcr_el2, regs.sctlr_el2, regs.mair_el2, regs.ttbr0_el2
    return regs.tcr_el1, regs.sctlr_el1, regs.mair_el1, regs.ttbr0_el1


def _stage1_off(ctx: _Ctx, va: int, regs: TranslationRegs, top: int, access: str,
                el2: bool) -> Walk:
    regime = ctx.regime
    if (va >> PAMAX) & ((1 << (top + 1 - PAMAX)) - 1):
        return Walk(va, regime, 1, fault=_fault(ctx, 0, "address_size", access),
                    mmu_enabled=False)
    sctlr = _regime_regs(regs, regime)[1]
    if access == "x":
        mem = "Normal WT" if sctlr >> 12 & 1 else "Normal NC"
    elif not el2 and (regs.hcr_el2 >> 12) & 1:
        mem = "Normal WB RA WA"
    else:
        mem = "Device-nGnRnE"
    perms = Permissions(True, True, True) if el2 else FULL_ACCESS
    return Walk(va, regime, 1, output=va & ((1 << PAMAX) - 1), permissions=perms,
                mem_type=mem, mmu_enabled=False)


def walk_stage2(ipa: int, regs: TranslationRegs, read: ReadFn, access: str = "r",
                s1ptw: bool = False) -> Walk:
    """Stage-2 translation of `ipa` through VTTBR_EL2/VTCR_EL2 (whether or not HCR_EL2.VM is set).

    With `s1ptw` the access is a stage-1 table read: faults carry s1ptw=True
    and HCR_EL2.PTW makes a Device-typed table a permission fault."""
    vtcr, vttbr = regs.vtcr_el2, regs.vttbr_el2
    vmid = vmid_of(vttbr)
    outsize = _out_size(vtcr >> 16 & 7)
    inputsize = 64 - _clamp_tsz(vtcr & 0x3F)
    ctx = _Ctx(2, "stage2", ipa, inputsize, 12, outsize)

    def done(steps=(), fault=None, **kw) -> Walk:
        if fault is not None:
            fault = replace(fault, s1ptw=s1ptw, ipa=ipa)
        return Walk(ipa, "stage2", 2, tuple(steps), fault=fault, vmid=vmid, **kw)

    grain = _granule(vtcr >> 14 & 3, "VTCR_EL2.TG0")
    ctx.grain, stride = grain, grain - 3
    sl0 = vtcr >> 6 & 3
    level = (2 if grain == 12 else 3) - sl0
    entries_log2 = inputsize - _lo_bit(level, grain) if level >= 0 else 0
    bad_sl = (level < 0 or not 1 <= entries_log2 <= stride + 4
              or (level == 0 and PAMAX < 44) or (grain == 16 and level == 1 and PAMAX < 44)
              or inputsize > PAMAX)
    if bad_sl or ipa >> inputsize:
        return done(fault=_fault(ctx, 0, "translation", access))
    if (vttbr & _ADDR_MASK) >> outsize:
        return done(fault=_fault(ctx, 0, "address_size", access))
    steps, leaf, fault = _table_walk(ctx, _base(vttbr, inputsize, level, grain), level,
                                     read, access)
    if fault is not None:
        return done(steps, fault)
    r, w, x = bool(leaf.s2ap & 1), bool(leaf.s2ap >> 1 & 1), not leaf.xn
    perms = Permissions(r, w, x, r, w, x)
    fault = _check(ctx, perms, leaf.level, access, 1)
    if s1ptw and fault is None and (regs.hcr_el2 >> 2) & 1 and leaf.mem_type.startswith("Device"):
        fault = _fault(ctx, leaf.level, "permission", access)
    return done(steps, fault, output=None if fault else leaf.output, permissions=perms,
                mem_type=leaf.mem_type)


def translate_el10(va: int, regs: TranslationRegs, read: ReadFn, access: str = "r",
                   el: int = 1) -> Walk:
    """Full EL1&0 translation of a guest VA: stage 1 (tables through stage 2), then stage 2.

    The first fault wins: a stage-1 fault, a stage-2 fault on a stage-1 table
    read (s1ptw=True, stage-2 level, ipa = the descriptor's IPA), or a stage-2
    fault on the final IPA (ipa = that IPA)."""
    s1 = walk_stage1(va, regs, read, "el10", access, el)
    if s1.fault is not None or not stage2_enabled(regs):
        return s1
    s2 = walk_stage2(s1.output, regs, read, access)
    fault = replace(s2.fault, address=va) if s2.fault is not None else None
    mem = combine_memtypes(s1.mem_type, s2.mem_type) if s2.mem_type else s1.mem_type
    return Walk(va, "el10", 12, s1.steps, s2.output, s1.permissions & s2.permissions, mem,
                fault, stage2=s2, mmu_enabled=s1.mmu_enabled, vmid=s2.vmid, asid=s1.asid)
