"""Just enough A64 instruction decoding for the exception model.

Unicorn reports a data abort with nothing but "a data abort happened at this
PC".  To build ESR_ELx and FAR_ELx the way the architecture defines them, vizor
decodes the faulting instruction: which address it accessed, how wide, load or
store, and whether the instruction syndrome (ISV, SAS, SSE, SRT, SF, AR) is
valid for it.  The encodings are those of the Arm ARM section C4.1
("A64 instruction set encoding"), load/store group.
"""

from __future__ import annotations

from dataclasses import dataclass

WFI = 0xD503207F
WFE = 0xD503205F
MASK64 = (1 << 64) - 1


def _sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


@dataclass(frozen=True)
class LoadStore:
    """A decoded load or store.

    ``address(x, pc)`` computes the first byte accessed, where ``x(n)`` returns
    Xn for n < 31 and the current SP for n == 31 (the base register
    convention of loads and stores).
    """

    is_load: bool
    size: int  # bytes accessed per register
    rt: int
    rn: int
    regs: int = 1  # 2 for pairs
    sign_extend: bool = False
    sixty_four: bool = False  # destination/source is an X register (SF)
    acquire_release: bool = False
    exclusive: bool = False
    writeback: bool = False
    simd: bool = False
    prefetch: bool = False
    # address formation
    mode: str = "imm"  # imm | post | reg | literal
    imm: int = 0
    rm: int = 0
    extend: int = 3  # option field for register offsets
    shift: int = 0

    @property
    def isv(self) -> bool:
        """Whether ISS[23:14] may be valid for this instruction (Arm ARM D13.2.37)."""
        return not (self.regs > 1 or self.exclusive or self.writeback or self.simd or self.prefetch)

    @property
    def sas(self) -> int:
        return {1: 0, 2: 1, 4: 2, 8: 3}.get(self.size, 3)

    def address(self, x, pc: int) -> int:
        if self.mode == "literal":
            return (pc + self.imm) & MASK64
        base = x(self.rn)
        if self.mode == "post":
            return base
        if self.mode == "reg":
            off = x(self.rm) if self.rm != 31 else 0
            opt = self.extend
            if opt == 2:  # UXTW
                off &= 0xFFFFFFFF
            elif opt == 6:  # SXTW
                off = _sext(off & 0xFFFFFFFF, 32)
            return (base + (off << self.shift)) & MASK64
        return (base + self.imm) & MASK64


def decode_load_store(w: int) -> LoadStore | None:
    """Decode a load/store instruction word, or return None."""
    # Load/store exclusive and load-acquire/store-release: xx00 1000 ...
    if (w >> 24) & 0x3F == 0b001000:
        size = 1 << (w >> 30)
        o2, load, o1, o0 = (w >> 23) & 1, (w >> 22) & 1, (w >> 21) & 1, (w >> 15) & 1
        rt, rn = w & 31, (w >> 5) & 31
        if o2 == 0:  # LDXR/STXR/LDAXR/STLXR and pairs
            return LoadStore(bool(load), size, rt, rn, regs=2 if o1 else 1, exclusive=True,
                             acquire_release=bool(o0), sixty_four=size == 8)
        # LDAR / STLR (o1 == 0, o0 == 1)
        return LoadStore(bool(load), size, rt, rn, acquire_release=True, sixty_four=size == 8)
    # Load register (literal): xx01 1x00
    if (w >> 27) & 7 == 0b011 and (w >> 24) & 3 == 0:
        opc, v = w >> 30, (w >> 26) & 1
        imm = _sext((w >> 5) & 0x7FFFF, 19) << 2
        rt = w & 31
        if v:
            return LoadStore(True, 4 << opc, rt, 31, simd=True, mode="literal", imm=imm)
        if opc == 3:
            return LoadStore(True, 8, rt, 31, prefetch=True, mode="literal", imm=imm)
        size = 8 if opc == 1 else 4
        return LoadStore(True, size, rt, 31, sign_extend=opc == 2, sixty_four=opc != 0,
                         mode="literal", imm=imm)
    # Load/store pair: xx10 1xxx
    if (w >> 27) & 7 == 0b101:
        opc, v, kind, load = w >> 30, (w >> 26) & 1, (w >> 23) & 3, (w >> 22) & 1
        if v:
            size = 4 << opc
        else:
            size = 8 if opc == 2 else 4
        imm = _sext((w >> 15) & 0x7F, 7) * size
        rt, rn = w & 31, (w >> 5) & 31
        mode = "post" if kind == 1 else "imm"
        return LoadStore(bool(load), size, rt, rn, regs=2, simd=bool(v), writeback=kind in (1, 3),
                         sign_extend=(opc == 1 and not v), sixty_four=opc == 2, mode=mode,
                         imm=imm if kind != 1 else 0)
    # Load/store register: xx11 1xxx
    if (w >> 27) & 7 == 0b111:
        size_f, v, opc = w >> 30, (w >> 26) & 1, (w >> 22) & 3
        rt, rn = w & 31, (w >> 5) & 31
        if v:
            size = 1 << (size_f | ((opc & 2) << 1))
            load = bool(opc & 1)
            signed = False
            sf = False
            prefetch = False
        else:
            size = 1 << size_f
            prefetch = size_f == 3 and opc == 2
            load = opc != 0
            signed = opc >= 2 and not prefetch
            sf = size_f == 3 or opc == 2
        common = dict(simd=bool(v), sign_extend=signed, sixty_four=sf, prefetch=prefetch)
        if (w >> 24) & 3 == 1:  # unsigned immediate
            imm = ((w >> 10) & 0xFFF) * size
            return LoadStore(load, size, rt, rn, mode="imm", imm=imm, **common)
        if (w >> 24) & 3 == 0:
            if (w >> 21) & 1 == 0:
                imm = _sext((w >> 12) & 0x1FF, 9)
                idx = (w >> 10) & 3
                if idx == 1:  # post-index
                    return LoadStore(load, size, rt, rn, mode="post", writeback=True, **common)
                return LoadStore(load, size, rt, rn, mode="imm", imm=imm, writeback=idx == 3, **common)
            if (w >> 10) & 3 == 2:  # register offset
                shift = (size.bit_length() - 1) if (w >> 12) & 1 else 0
                return LoadStore(load, size, rt, rn, mode="reg", rm=(w >> 16) & 31,
                                 extend=(w >> 13) & 7, shift=shift, **common)
    return None


@dataclass(frozen=True)
class SysInsn:
    """An MRS, MSR (register) or SYS/SYSL instruction."""

    op0: int
    op1: int
    crn: int
    crm: int
    op2: int
    rt: int
    is_read: bool  # MRS / SYSL

    @property
    def encoding(self) -> tuple[int, int, int, int, int]:
        return (self.op0, self.op1, self.crn, self.crm, self.op2)


def decode_sys(w: int) -> SysInsn | None:
    if w & 0xFFC00000 != 0xD5000000:
        return None
    op0 = (w >> 19) & 3
    if op0 == 0:
        return None  # hints, barriers, MSR (immediate)
    return SysInsn(op0, (w >> 16) & 7, (w >> 12) & 15, (w >> 8) & 15, (w >> 5) & 7, w & 31,
                   bool((w >> 21) & 1))


def exception_imm16(w: int) -> int:
    """imm16 of SVC, HVC, SMC and BRK."""
    return (w >> 5) & 0xFFFF


def is_fp_simd(w: int) -> bool:
    """Whether the word is in the FP/SIMD data-processing or load/store groups."""
    op0 = (w >> 25) & 0xF
    if op0 & 0b0111 == 0b0111:  # data processing - scalar FP and SIMD
        return True
    if op0 & 0b0101 == 0b0100 and (w >> 26) & 1:  # loads and stores with V=1
        return True
    return False
