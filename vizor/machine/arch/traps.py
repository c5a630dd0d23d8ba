"""Which system-register accesses from EL0/EL1 trap to EL2 (HCR_EL2 trap bits).

Pure rules from the Arm ARM (D13.2.46, HCR_EL2): given the encoding of an
MRS/MSR/SYS instruction, the direction, the current EL and HCR_EL2, answer
whether the access traps to EL2 (EC 0x18).  The core's MRS/MSR/SYS hooks see
every access before QEMU's own checks, so vizor applies these rules itself
rather than relying on which of them QEMU 5 (inside Unicorn) happens to know.
"""

from __future__ import annotations

from vizor.machine.arch.exceptions import (
    HCR_TACR,
    HCR_TDZ,
    HCR_TID1,
    HCR_TID2,
    HCR_TID3,
    HCR_TIDCP,
    HCR_TPC,
    HCR_TPU,
    HCR_TRVM,
    HCR_TSW,
    HCR_TTLB,
    HCR_TVM,
)

Enc = tuple[int, int, int, int, int]  # op0, op1, CRn, CRm, op2

TID1_REGS = {(3, 0, 0, 0, 6), (3, 1, 0, 0, 7)}  # REVIDR_EL1, AIDR_EL1
TID2_REGS = {(3, 3, 0, 0, 1), (3, 1, 0, 0, 0), (3, 1, 0, 0, 1), (3, 2, 0, 0, 0)}  # CTR, CCSIDR, CLIDR, CSSELR
ACTLR_EL1 = (3, 0, 1, 0, 1)
# Registers of the EL1&0 translation regime controlled by TVM (writes) / TRVM (reads)
TVM_REGS = {
    (3, 0, 1, 0, 0),   # SCTLR_EL1
    (3, 0, 2, 0, 0),   # TTBR0_EL1
    (3, 0, 2, 0, 1),   # TTBR1_EL1
    (3, 0, 2, 0, 2),   # TCR_EL1
    (3, 0, 5, 1, 0),   # AFSR0_EL1
    (3, 0, 5, 1, 1),   # AFSR1_EL1
    (3, 0, 5, 2, 0),   # ESR_EL1
    (3, 0, 6, 0, 0),   # FAR_EL1
    (3, 0, 10, 2, 0),  # MAIR_EL1
    (3, 0, 10, 3, 0),  # AMAIR_EL1
    (3, 0, 13, 0, 1),  # CONTEXTIDR_EL1
}

# Keys the hooks must look at even when no handler of their own exists.
def is_trappable(enc: Enc) -> bool:
    op0, op1, crn, crm, op2 = enc
    if op0 == 3 and crn == 0:
        return True
    if op0 == 3 and crn in (11, 15):
        return True
    if op0 == 1:
        return True
    return enc == ACTLR_EL1 or enc in TVM_REGS


def traps_to_el2(enc: Enc, is_read: bool, el: int, hcr: int) -> bool:
    """Whether an access at EL0/EL1 (with EL2 enabled) traps to EL2."""
    op0, op1, crn, crm, op2 = enc
    if op0 == 3:
        if crn == 0:
            if enc in TID1_REGS:
                return bool(hcr & HCR_TID1) and is_read
            if enc in TID2_REGS:
                return bool(hcr & HCR_TID2)
            if op1 == 0 and 1 <= crm <= 7:
                return bool(hcr & HCR_TID3) and is_read
            return False
        if crn in (11, 15):
            return bool(hcr & HCR_TIDCP)
        if enc == ACTLR_EL1:
            return bool(hcr & HCR_TACR)
        if enc in TVM_REGS:
            return bool(hcr & (HCR_TRVM if is_read else HCR_TVM))
        return False
    if op0 == 1:
        if crn == 8:  # TLBI
            return bool(hcr & HCR_TTLB) and el == 1
        if crn == 7:  # cache maintenance
            if op1 == 0 and crm in (6, 10, 14) and op2 == 2:  # DC ISW, CSW, CISW
                return bool(hcr & HCR_TSW)
            if crm in (10, 14) or (crm == 6 and op2 == 1):  # DC IVAC, CVAC, CIVAC (to PoC)
                return bool(hcr & HCR_TPC)
            if crm in (1, 5, 11):  # IC ..., DC CVAU
                return bool(hcr & HCR_TPU)
            if crm == 4 and op1 == 3 and op2 == 1:  # DC ZVA
                return bool(hcr & HCR_TDZ)
    return False
