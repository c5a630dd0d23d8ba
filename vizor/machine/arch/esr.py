"""ESR_ELx decoded: the exception class by name and the ISS fields that go with it
(Arm ARM D17.2.37).  Layouts are data, as in ``decode.py``."""

from __future__ import annotations

from vizor.machine.arch.decode import Decoded, Layout, decode_fields
from vizor.machine.arch.mmu_fields import fsc_name
from vizor.machine.arch.sysregs import display_name

# --- ESR_ELx -------------------------------------------------------------------------

EC_NAMES = {
    0x00: "Unknown reason", 0x01: "Trapped WFI/WFE", 0x03: "Trapped MCR/MRC (CP15)",
    0x04: "Trapped MCRR/MRRC (CP15)", 0x05: "Trapped MCR/MRC (CP14)",
    0x06: "Trapped LDC/STC (CP14)", 0x07: "Trapped SIMD/FP access",
    0x08: "Trapped VMRS (ID group)", 0x09: "Pointer authentication", 0x0C: "Trapped MRRC (CP14)",
    0x0D: "Branch target exception", 0x0E: "Illegal execution state",
    0x11: "SVC (AArch32)", 0x12: "HVC (AArch32)", 0x13: "SMC (AArch32)",
    0x15: "SVC (AArch64)", 0x16: "HVC (AArch64)", 0x17: "SMC (AArch64)",
    0x18: "Trapped MSR/MRS/system instruction", 0x19: "Trapped SVE access",
    0x1A: "Trapped ERET", 0x1F: "IMPLEMENTATION DEFINED (EL3)",
    0x20: "Instruction abort from a lower EL", 0x21: "Instruction abort (same EL)",
    0x22: "PC alignment fault", 0x24: "Data abort from a lower EL",
    0x25: "Data abort (same EL)", 0x26: "SP alignment fault",
    0x28: "Floating-point exception (AArch32)", 0x2C: "Floating-point exception (AArch64)",
    0x2F: "SError interrupt", 0x30: "Breakpoint from a lower EL", 0x31: "Breakpoint (same EL)",
    0x32: "Software step from a lower EL", 0x33: "Software step (same EL)",
    0x34: "Watchpoint from a lower EL", 0x35: "Watchpoint (same EL)",
    0x38: "BKPT (AArch32)", 0x3A: "Vector catch (AArch32)", 0x3C: "BRK (AArch64)",
}
ESR: Layout = (("ISS", 24, 0, "Instruction specific syndrome"),
               ("IL", 25, 25, "32-bit instruction"), ("EC", 31, 26, "Exception class"))
ISS_WFX: Layout = (("TI", 0, 0, "0 WFI, 1 WFE"), ("COND", 23, 20, "Condition"),
                   ("CV", 24, 24, "Condition valid"))
ISS_IMM16: Layout = (("imm16", 15, 0, "Immediate"),)
ISS_SYSREG: Layout = (
    ("Direction", 0, 0, "1 read (MRS), 0 write (MSR)"), ("CRm", 4, 1, "CRm"),
    ("Rt", 9, 5, "Transfer register"), ("CRn", 13, 10, "CRn"), ("Op1", 16, 14, "Op1"),
    ("Op2", 19, 17, "Op2"), ("Op0", 21, 20, "Op0"),
)
ISS_ABORT: Layout = (
    ("DFSC", 5, 0, "Fault status code"), ("WnR", 6, 6, "Write not read"),
    ("S1PTW", 7, 7, "Stage 2 fault on a stage 1 table walk"), ("CM", 8, 8, "Cache maintenance"),
    ("EA", 9, 9, "External abort type"), ("FnV", 10, 10, "FAR not valid"),
    ("AR", 14, 14, "Acquire/release"), ("SF", 15, 15, "64-bit register"),
    ("SRT", 20, 16, "Syndrome register transfer"), ("SSE", 21, 21, "Sign extend"),
    ("SAS", 23, 22, "Access size"), ("ISV", 24, 24, "ISS[23:14] valid"),
)
ISS_IABORT: Layout = (
    ("IFSC", 5, 0, "Fault status code"), ("S1PTW", 7, 7, "Stage 2 fault on a stage 1 table walk"),
    ("EA", 9, 9, "External abort type"), ("FnV", 10, 10, "FAR not valid"),
)
ISS_SERROR: Layout = (("ISS", 23, 0, "IMPLEMENTATION DEFINED syndrome"),
                      ("IDS", 24, 24, "IMPLEMENTATION DEFINED syndrome"))
ISS_BRK: Layout = (("Comment", 15, 0, "BRK immediate"),)
_ISS_LAYOUTS = {0x01: ISS_WFX, 0x07: ISS_WFX[1:], 0x15: ISS_IMM16, 0x16: ISS_IMM16,
                0x17: ISS_IMM16, 0x18: ISS_SYSREG, 0x20: ISS_IABORT, 0x21: ISS_IABORT,
                0x24: ISS_ABORT, 0x25: ISS_ABORT, 0x2F: ISS_SERROR, 0x3C: ISS_BRK}


def ec_name(ec: int) -> str:
    return EC_NAMES.get(ec, f"reserved EC 0x{ec:02x}")


def sysreg_access_text(iss: int) -> str:
    """An EC 0x18 ISS as an instruction, e.g. "MRS x3, ID_AA64MMFR0_EL1"."""
    op0, op2, op1 = iss >> 20 & 3, iss >> 17 & 7, iss >> 14 & 7
    crn, rt, crm, read = iss >> 10 & 0xF, iss >> 5 & 0x1F, iss >> 1 & 0xF, iss & 1
    reg = "xzr" if rt == 31 else f"x{rt}"
    name = display_name(op0, op1, crn, crm, op2)
    if op0 == 1:
        return f"{name}, {reg}" if not read else f"SYSL {reg}, {name}"
    return f"MRS {reg}, {name}" if read else f"MSR {name}, {reg}"


def decode_esr(value: int) -> Decoded:
    """ESR_ELx: EC name, IL, and the ISS fields of the common classes.

    e.g. 0x5a000042 -> "HVC #0x42 (IL)"; 0x92000007 -> data abort, translation fault level 3."""
    ec, il, iss = value >> 26 & 0x3F, value >> 25 & 1, value & 0x1FFFFFF
    layout = _ISS_LAYOUTS.get(ec, ())
    fsc = {"DFSC": fsc_name, "IFSC": fsc_name}
    fields = decode_fields(value, ESR, {"EC": ec_name}) + decode_fields(iss, layout, fsc)
    ilt = " (IL)" if il else " (16-bit)"
    if ec in (0x15, 0x16, 0x17):
        text = f"{('SVC', 'HVC', 'SMC')[ec - 0x15]} #0x{iss & 0xFFFF:x}"
    elif ec == 0x3C:
        text = f"BRK #0x{iss & 0xFFFF:x}"
    elif ec == 0x01:
        text = "WFE" if iss & 1 else "WFI"
    elif ec == 0x18:
        text = sysreg_access_text(iss)
    elif ec in (0x20, 0x21, 0x24, 0x25):
        kind = "Instruction" if ec < 0x24 else "Data"
        where = "lower EL" if ec in (0x20, 0x24) else "same EL"
        text = f"{kind} abort ({where}): {fsc_name(iss & 0x3F)}"
        if ec >= 0x24 and iss >> 6 & 1:
            text += ", write"
        if iss >> 7 & 1:
            text += ", S1PTW"
        if ec >= 0x24 and iss >> 24 & 1:
            size = 8 << (iss >> 22 & 3)
            text += f", {size}-bit {'x' if iss >> 15 & 1 else 'w'}{iss >> 16 & 0x1F}"
    else:
        text = ec_name(ec)
        if layout == () and iss:
            text += f" ISS 0x{iss:x}"
    return Decoded(value, fields, text + ilt)
