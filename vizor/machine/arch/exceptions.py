"""The AArch64 exception model, as pure functions of register values.

Unicorn runs instructions but takes no exception architecturally (see
DESIGN.md): it stops at a hook with QEMU's exception number.  These functions
decide, from the architecture (Arm ARM D1.10-D1.13), where an exception goes
(target EL), which vector it uses, and what its syndrome (ESR_ELx) is.
``core.py`` applies the result to the CPU.

Not modelled: AArch32 at any EL, SError/asynchronous external aborts,
debug exceptions other than BRK, the SP alignment check (neither Unicorn nor
QEMU checks SP alignment; see DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

# Exception classes (ESR_ELx.EC), Arm ARM D13.2.37
EC_UNKNOWN = 0x00
EC_WFX = 0x01
EC_FP_ACCESS = 0x07
EC_ILLEGAL_STATE = 0x0E
EC_SVC = 0x15
EC_HVC = 0x16
EC_SMC = 0x17
EC_SYSREG = 0x18
EC_IABT_LOWER = 0x20
EC_IABT_SAME = 0x21
EC_PC_ALIGN = 0x22
EC_DABT_LOWER = 0x24
EC_DABT_SAME = 0x25
EC_SP_ALIGN = 0x26
EC_SERROR = 0x2F
EC_BRK = 0x3C

EC_NAMES = {
    EC_UNKNOWN: "unknown/undefined", EC_WFX: "WFI/WFE trap", EC_FP_ACCESS: "FP/SIMD access",
    EC_ILLEGAL_STATE: "illegal execution state", EC_SVC: "SVC", EC_HVC: "HVC", EC_SMC: "SMC",
    EC_SYSREG: "MSR/MRS/SYS trap", EC_IABT_LOWER: "instruction abort (lower EL)",
    EC_IABT_SAME: "instruction abort (same EL)", EC_PC_ALIGN: "PC alignment",
    EC_DABT_LOWER: "data abort (lower EL)", EC_DABT_SAME: "data abort (same EL)",
    EC_SP_ALIGN: "SP alignment", EC_SERROR: "SError", EC_BRK: "BRK",
}

IL = 1 << 25

# PSTATE bits (as Unicorn's UC_ARM64_REG_PSTATE presents them)
PSTATE_SP = 1 << 0
PSTATE_EL_SHIFT = 2
PSTATE_F = 1 << 6
PSTATE_I = 1 << 7
PSTATE_A = 1 << 8
PSTATE_D = 1 << 9
PSTATE_IL = 1 << 20
PSTATE_SS = 1 << 21
PSTATE_DAIF = PSTATE_D | PSTATE_A | PSTATE_I | PSTATE_F

# HCR_EL2 bits
HCR_VM = 1 << 0
HCR_FMO = 1 << 3
HCR_IMO = 1 << 4
HCR_AMO = 1 << 5
HCR_VF = 1 << 6
HCR_VI = 1 << 7
HCR_TWI = 1 << 13
HCR_TWE = 1 << 14
HCR_TID0 = 1 << 15
HCR_TID1 = 1 << 16
HCR_TID2 = 1 << 17
HCR_TID3 = 1 << 18
HCR_TSC = 1 << 19
HCR_TIDCP = 1 << 20
HCR_TACR = 1 << 21
HCR_TSW = 1 << 22
HCR_TPC = 1 << 23
HCR_TPU = 1 << 24
HCR_TTLB = 1 << 25
HCR_TVM = 1 << 26
HCR_TGE = 1 << 27
HCR_TDZ = 1 << 28
HCR_TRVM = 1 << 30
HCR_RW = 1 << 31

# SCR_EL3 bits
SCR_NS = 1 << 0
SCR_IRQ = 1 << 1
SCR_FIQ = 1 << 2
SCR_EA = 1 << 3
SCR_SMD = 1 << 7
SCR_HCE = 1 << 8
SCR_RW = 1 << 10
SCR_FIRMWARE = 0x5B1  # NS | RES1(5:4) | SMD | HCE | RW, as the Pi 3 armstub leaves it

VEC_SYNC, VEC_IRQ, VEC_FIQ, VEC_SERROR = 0x000, 0x080, 0x100, 0x180


def current_el(pstate: int) -> int:
    return (pstate >> PSTATE_EL_SHIFT) & 3


def el2_enabled(scr_el3: int) -> bool:
    """EL2 is in use for the non-secure EL1&0 regime (the A53 has no Secure EL2)."""
    return bool(scr_el3 & SCR_NS)


def vector_offset(cur_el: int, pstate: int, target_el: int, kind: int) -> int:
    """Offset from VBAR_ELx of the vector for an exception (Arm ARM D1.10.2)."""
    if target_el > cur_el:
        base = 0x400  # lower EL, AArch64
    elif pstate & PSTATE_SP:
        base = 0x200  # current EL with SP_ELx
    else:
        base = 0x000  # current EL with SP_EL0
    return base + kind


def sync_target_el(cur_el: int, hcr: int, scr: int) -> int:
    """Target EL of a synchronous exception that is not routed anywhere special
    (UNDEF, SVC, BRK, stage-1 aborts): EL1 from EL0/EL1 unless HCR_EL2.TGE, else
    the current EL."""
    if cur_el == 0:
        return 2 if (hcr & HCR_TGE and el2_enabled(scr)) else 1
    return cur_el


def irq_target_el(fiq: bool, hcr: int, scr: int) -> int:
    """Which EL a physical IRQ (or FIQ) is taken to (Arm ARM D1.13.2)."""
    if scr & (SCR_FIQ if fiq else SCR_IRQ):
        return 3
    if el2_enabled(scr) and hcr & ((HCR_FMO if fiq else HCR_IMO) | HCR_TGE):
        return 2
    return 1


def interrupt_taken(cur_el: int, pstate: int, target_el: int, fiq: bool) -> bool:
    """Whether a pending physical interrupt routed to ``target_el`` is taken now.

    An interrupt is never taken to an EL below the current one; routed to a
    higher EL it is taken whatever PSTATE.I/F say; routed to the current EL it
    is masked by PSTATE.I (or F).
    """
    if target_el < cur_el:
        return False
    if target_el > cur_el:
        return True
    return not (pstate & (PSTATE_F if fiq else PSTATE_I))


def eret_may_be_illegal(spsr: int, at_el: int, hcr: int, scr: int) -> bool:
    """Whether an ERET at ``at_el`` with this SPSR could be an illegal exception
    return (Arm ARM D1.11.2).  Errs on the side of True: AArch32 targets are
    always suspect, and the CPU itself (PSTATE.IL afterwards) has the last word.
    """
    m = spsr & 0x1F
    if m & 0x10:  # AArch32 target
        return True
    target = (m >> 2) & 3
    if m & 0b10 or m == 0b0001:  # reserved M encodings, EL0 with SP_ELx
        return True
    if target > at_el:
        return True
    if target == 3 or target == at_el:
        return False
    if target == 2:
        return not (scr & SCR_NS)  # the A53 has no Secure EL2
    # target EL1 or EL0 from EL2/EL3 (or EL0 from EL1)
    ns = bool(scr & SCR_NS)
    if at_el >= 2 and ns:
        if target == 1 and hcr & HCR_TGE:
            return True
        if not hcr & HCR_RW:  # EL1 is AArch32
            return True
    if at_el == 3 and not ns and not scr & SCR_RW:
        return True
    return False


def spsr_from_pstate(pstate: int) -> int:
    """SPSR_ELx for an exception taken from AArch64: NZCV, SS, IL, DAIF, M[4:0]."""
    return pstate & 0xF03003DF


def entry_pstate(pstate: int, target_el: int) -> int:
    """PSTATE after taking an exception to ``target_el``: ELxh, DAIF all set,
    IL and SS cleared, NZCV kept."""
    keep = pstate & 0xF0000000
    return keep | PSTATE_DAIF | (target_el << PSTATE_EL_SHIFT) | PSTATE_SP


# --- syndromes -----------------------------------------------------------------

def esr(ec: int, iss: int = 0, il: bool = True) -> int:
    return (ec << 26) | (IL if il else 0) | (iss & 0x1FFFFFF)


def esr_sysreg(op0: int, op1: int, crn: int, crm: int, op2: int, rt: int, is_read: bool) -> int:
    iss = (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | int(is_read)
    return esr(EC_SYSREG, iss)


def esr_wfx(is_wfe: bool) -> int:
    # CV=1, COND=0b1110 (always) for A64
    return esr(EC_WFX, (1 << 24) | (0xE << 20) | int(is_wfe))


def esr_abort(instruction: bool, lower: bool, fsc: int, *, wnr: bool = False, s1ptw: bool = False,
              isv: bool = False, sas: int = 0, sse: bool = False, srt: int = 0, sf: bool = False,
              ar: bool = False, cm: bool = False, ea: bool = False) -> int:
    if instruction:
        ec = EC_IABT_LOWER if lower else EC_IABT_SAME
        iss = fsc | (int(s1ptw) << 7) | (int(ea) << 9)
        return esr(ec, iss)
    ec = EC_DABT_LOWER if lower else EC_DABT_SAME
    iss = fsc | (int(wnr) << 6) | (int(s1ptw) << 7) | (int(cm) << 8) | (int(ea) << 9)
    if isv:
        iss |= (1 << 24) | (sas << 22) | (int(sse) << 21) | (srt << 16) | (int(sf) << 15) | (int(ar) << 14)
    return esr(ec, iss)


FSC_ALIGNMENT = 0x21
FSC_SYNC_EXTERNAL = 0x10


@dataclass(frozen=True)
class ExceptionRecord:
    """One exception taken by a core, for the event log and the summary."""

    core: int
    kind: str  # "sync", "irq", "fiq"
    from_el: int
    to_el: int
    ec: int
    esr: int
    elr: int
    far: int | None
    vmid: int | None
    cycles: int
    hpfar: int | None = None   # HPFAR_EL2 of a stage-2 abort taken to EL2

    @property
    def ec_name(self) -> str:
        if self.kind != "sync":
            return self.kind.upper()
        return EC_NAMES.get(self.ec, f"EC {self.ec:#04x}")
