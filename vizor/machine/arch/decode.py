"""Register layouts as data, and pure decoders returning named fields and a summary.

Each layout is a tuple of (name, hi, lo, description); the TUI panes, the
decoders and the tests share them. Bit positions are from the Arm ARM
(ARMv8.0, what the Cortex-A53 implements), the BCM2835 ARM Peripherals manual
(interrupt controller) and the BCM2836 ARM-local peripherals note (QA7).
ESR_ELx is decoded by `decode_esr`; AArch64 encodings <-> names live in `sysregs.py`.

Not decoded: AArch32 exception ISS encodings (EC 0x03-0x0C, 0x11-0x13, 0x28,
0x38, 0x3A print their EC name and raw ISS), RAS SError syndromes (v8.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

Layout = tuple[tuple[str, int, int, str], ...]


@dataclass(frozen=True)
class Field:
    name: str
    hi: int
    lo: int
    value: int
    description: str
    meaning: str = ""          # decoded value, when more than the number says


@dataclass(frozen=True)
class Decoded:
    value: int
    fields: tuple[Field, ...]
    summary: str

    def __getitem__(self, name: str) -> int:
        for f in self.fields:
            if f.name == name:
                return f.value
        raise KeyError(name)

    def get(self, name: str, default: Optional[int] = None) -> Optional[int]:
        try:
            return self[name]
        except KeyError:
            return default


def _bits(value: int, hi: int, lo: int) -> int:
    return (value >> lo) & ((1 << (hi - lo + 1)) - 1)


def decode_fields(value: int, layout: Layout, meanings: Optional[dict] = None) -> tuple[Field, ...]:
    meanings = meanings or {}
    out = []
    for name, hi, lo, desc in layout:
        v = _bits(value, hi, lo)
        m = meanings.get(name)
        out.append(Field(name, hi, lo, v, desc, m(v) if callable(m) else ""))
    return tuple(out)


def set_flags(value: int, layout: Layout) -> list[str]:
    """Names of the single-bit fields that are 1."""
    return [n for n, hi, lo, _ in layout if hi == lo and value >> lo & 1]


def _flags_decoder(layout: Layout, label: str):
    def decode(value: int) -> Decoded:
        fl = set_flags(value, layout)
        return Decoded(value, decode_fields(value, layout), f"{label} " + (" ".join(fl) or "(none)"))
    return decode


# --- PSTATE / SPSR -------------------------------------------------------------

CPSR: Layout = (
    ("M", 3, 0, "Exception level and SP selection"), ("nRW", 4, 4, "1 = AArch32 state"),
    ("F", 6, 6, "FIQ mask"), ("I", 7, 7, "IRQ mask"), ("A", 8, 8, "SError mask"),
    ("D", 9, 9, "Debug mask"), ("IL", 20, 20, "Illegal execution state"),
    ("SS", 21, 21, "Software step"), ("V", 28, 28, "Overflow"), ("C", 29, 29, "Carry"),
    ("Z", 30, 30, "Zero"), ("N", 31, 31, "Negative"),
)
AARCH64_MODES = {0b0000: "EL0t", 0b0100: "EL1t", 0b0101: "EL1h", 0b1000: "EL2t",
                 0b1001: "EL2h", 0b1100: "EL3t", 0b1101: "EL3h"}
AARCH32_MODES = {0x10: "usr", 0x11: "fiq", 0x12: "irq", 0x13: "svc", 0x16: "mon",
                 0x17: "abt", 0x1A: "hyp", 0x1B: "und", 0x1F: "sys"}


def decode_cpsr(value: int) -> Decoded:
    """PSTATE as saved in SPSR_ELx (AArch64 layout), e.g. 0x3c5 -> "EL1h DAIF nzcv"."""
    if value >> 4 & 1:
        mode = "AArch32 " + AARCH32_MODES.get(value & 0x1F, f"mode 0x{value & 0x1F:x}")
    else:
        mode = AARCH64_MODES.get(value & 0xF, f"reserved M=0b{value & 0xF:04b}")
    daif = "".join(c if value >> b & 1 else "-" for c, b in (("D", 9), ("A", 8), ("I", 7), ("F", 6)))
    nzcv = "".join(c.upper() if value >> b & 1 else c for c, b in
                   (("n", 31), ("z", 30), ("c", 29), ("v", 28)))
    extra = "".join(f" {n}" for n, b in (("IL", 20), ("SS", 21)) if value >> b & 1)
    fields = decode_fields(value, CPSR, {"M": lambda v: AARCH64_MODES.get(v, "")})
    return Decoded(value, fields, f"{mode} {daif} {nzcv}{extra}")


def el_of(cpsr: int) -> int:
    return (cpsr >> 2) & 3


# --- control registers -----------------------------------------------------------

SCTLR_EL1: Layout = (
    ("M", 0, 0, "MMU enable (stage 1, EL1&0)"), ("A", 1, 1, "Alignment check"),
    ("C", 2, 2, "Data cacheability"), ("SA", 3, 3, "SP alignment check at EL1"),
    ("SA0", 4, 4, "SP alignment check at EL0"), ("CP15BEN", 5, 5, "AArch32 CP15 barriers enable"),
    ("THEE", 6, 6, "T32EE enable (RES0 on the A53)"), ("ITD", 7, 7, "AArch32 IT disable"),
    ("SED", 8, 8, "AArch32 SETEND disable"), ("UMA", 9, 9, "EL0 access to DAIF"),
    ("I", 12, 12, "Instruction cacheability"), ("DZE", 14, 14, "EL0 DC ZVA enable"),
    ("UCT", 15, 15, "EL0 access to CTR_EL0"), ("nTWI", 16, 16, "EL0 WFI not trapped"),
    ("nTWE", 18, 18, "EL0 WFE not trapped"), ("WXN", 19, 19, "Write implies XN"),
    ("E0E", 24, 24, "EL0 data big-endian"), ("EE", 25, 25, "EL1 data and walks big-endian"),
    ("UCI", 26, 26, "EL0 cache maintenance enable"),
)
SCTLR_EL2: Layout = (
    ("M", 0, 0, "MMU enable (stage 1, EL2)"), ("A", 1, 1, "Alignment check"),
    ("C", 2, 2, "Data cacheability"), ("SA", 3, 3, "SP alignment check"),
    ("I", 12, 12, "Instruction cacheability"), ("WXN", 19, 19, "Write implies XN"),
    ("EE", 25, 25, "EL2 data and walks big-endian"),
)
SCTLR_EL3 = SCTLR_EL2

HCR_EL2: Layout = (
    ("VM", 0, 0, "Stage 2 enable"), ("SWIO", 1, 1, "Set/way invalidate override"),
    ("PTW", 2, 2, "Protected table walk (Device stage-2 tables fault)"),
    ("FMO", 3, 3, "FIQ to EL2, virtual FIQ enable"), ("IMO", 4, 4, "IRQ to EL2, virtual IRQ enable"),
    ("AMO", 5, 5, "SError to EL2, virtual SError enable"), ("VF", 6, 6, "Virtual FIQ pending"),
    ("VI", 7, 7, "Virtual IRQ pending"), ("VSE", 8, 8, "Virtual SError pending"),
    ("FB", 9, 9, "Force broadcast of TLB/cache maintenance"),
    ("BSU", 11, 10, "Barrier shareability upgrade"), ("DC", 12, 12, "Default cacheability"),
    ("TWI", 13, 13, "Trap WFI"), ("TWE", 14, 14, "Trap WFE"), ("TID0", 15, 15, "Trap ID group 0"),
    ("TID1", 16, 16, "Trap ID group 1"), ("TID2", 17, 17, "Trap ID group 2 (cache ID)"),
    ("TID3", 18, 18, "Trap ID group 3"), ("TSC", 19, 19, "Trap SMC"),
    ("TIDCP", 20, 20, "Trap IMPLEMENTATION DEFINED registers"), ("TACR", 21, 21, "Trap ACTLR"),
    ("TSW", 22, 22, "Trap set/way cache maintenance"),
    ("TPC", 23, 23, "Trap cache maintenance to point of coherency"),
    ("TPU", 24, 24, "Trap cache maintenance to point of unification"),
    ("TTLB", 25, 25, "Trap TLB maintenance"), ("TVM", 26, 26, "Trap virtual memory control writes"),
    ("TGE", 27, 27, "Trap general exceptions"), ("TDZ", 28, 28, "Trap DC ZVA"),
    ("HCD", 29, 29, "HVC disable"), ("TRVM", 30, 30, "Trap virtual memory control reads"),
    ("RW", 31, 31, "EL1 is AArch64"), ("CD", 32, 32, "Stage 2 data cacheability disable"),
    ("ID", 33, 33, "Stage 2 instruction cacheability disable"),
)

SCR_EL3: Layout = (
    ("NS", 0, 0, "Non-secure"), ("IRQ", 1, 1, "IRQ to EL3"), ("FIQ", 2, 2, "FIQ to EL3"),
    ("EA", 3, 3, "External abort/SError to EL3"), ("SMD", 7, 7, "SMC disable"),
    ("HCE", 8, 8, "HVC enable"), ("SIF", 9, 9, "Secure instruction fetch"),
    ("RW", 10, 10, "Lower ELs AArch64"), ("ST", 11, 11, "Secure EL1 timer access"),
    ("TWI", 12, 12, "Trap WFI"), ("TWE", 13, 13, "Trap WFE"),
)

_GRAN0 = {0: "4KB", 1: "64KB", 2: "16KB", 3: "reserved"}
_GRAN1 = {1: "16KB", 2: "4KB", 3: "64KB", 0: "reserved"}
_PS = {0: "32 bits", 1: "36 bits", 2: "40 bits", 3: "42 bits", 4: "44 bits", 5: "48 bits", 6: "52 bits"}
_RGN = {0: "NC", 1: "WB WA", 2: "WT", 3: "WB"}
_SH = {0: "non-shareable", 1: "reserved", 2: "outer shareable", 3: "inner shareable"}

TCR_EL1: Layout = (
    ("T0SZ", 5, 0, "TTBR0 region size 2^(64-T0SZ)"), ("EPD0", 7, 7, "TTBR0 walks disabled"),
    ("IRGN0", 9, 8, "TTBR0 walk inner cacheability"), ("ORGN0", 11, 10, "TTBR0 walk outer cacheability"),
    ("SH0", 13, 12, "TTBR0 walk shareability"), ("TG0", 15, 14, "TTBR0 granule"),
    ("T1SZ", 21, 16, "TTBR1 region size 2^(64-T1SZ)"), ("A1", 22, 22, "ASID from TTBR1"),
    ("EPD1", 23, 23, "TTBR1 walks disabled"), ("IRGN1", 25, 24, "TTBR1 walk inner cacheability"),
    ("ORGN1", 27, 26, "TTBR1 walk outer cacheability"), ("SH1", 29, 28, "TTBR1 walk shareability"),
    ("TG1", 31, 30, "TTBR1 granule"), ("IPS", 34, 32, "Intermediate physical address size"),
    ("AS", 36, 36, "16-bit ASID"), ("TBI0", 37, 37, "Top byte ignored, TTBR0"),
    ("TBI1", 38, 38, "Top byte ignored, TTBR1"),
)
TCR_EL2: Layout = (
    ("T0SZ", 5, 0, "Region size 2^(64-T0SZ)"), ("IRGN0", 9, 8, "Walk inner cacheability"),
    ("ORGN0", 11, 10, "Walk outer cacheability"), ("SH0", 13, 12, "Walk shareability"),
    ("TG0", 15, 14, "Granule"), ("PS", 18, 16, "Physical address size"),
    ("TBI", 20, 20, "Top byte ignored"),
)
VTCR_EL2: Layout = (
    ("T0SZ", 5, 0, "IPA space size 2^(64-T0SZ)"), ("SL0", 7, 6, "Stage 2 starting level"),
    ("IRGN0", 9, 8, "Walk inner cacheability"), ("ORGN0", 11, 10, "Walk outer cacheability"),
    ("SH0", 13, 12, "Walk shareability"), ("TG0", 15, 14, "Granule"),
    ("PS", 18, 16, "Physical address size"),
)
_TCR_MEANINGS = {
    "T0SZ": lambda v: f"{64 - v}-bit", "T1SZ": lambda v: f"{64 - v}-bit",
    "TG0": _GRAN0.get, "TG1": _GRAN1.get, "IPS": _PS.get, "PS": _PS.get,
    "IRGN0": _RGN.get, "ORGN0": _RGN.get, "IRGN1": _RGN.get, "ORGN1": _RGN.get,
    "SH0": _SH.get, "SH1": _SH.get,
}


def _sl0_meaning(vtcr: int) -> str:
    sl0, tg = vtcr >> 6 & 3, vtcr >> 14 & 3
    start = (2 if tg == 0 else 3) - sl0
    return f"start level {start}" if start >= 0 and not (tg == 0 and sl0 == 3) else "reserved"


def decode_tcr_el1(value: int) -> Decoded:
    f = decode_fields(value, TCR_EL1, _TCR_MEANINGS)
    d = {x.name: x for x in f}
    parts = []
    for n in "01":
        if d[f"EPD{n}"].value:
            parts.append(f"TTBR{n} off")
        else:
            parts.append(f"TTBR{n} {d[f'T{n}SZ'].meaning} {d[f'TG{n}'].meaning}")
    return Decoded(value, f, ", ".join(parts) + f", IPA {d['IPS'].meaning}")


def decode_tcr_el2(value: int) -> Decoded:
    f = decode_fields(value, TCR_EL2, _TCR_MEANINGS)
    d = {x.name: x for x in f}
    return Decoded(value, f, f"{d['T0SZ'].meaning} VA, {d['TG0'].meaning}, PA {d['PS'].meaning}")


def decode_vtcr_el2(value: int) -> Decoded:
    m = dict(_TCR_MEANINGS, SL0=lambda v: _sl0_meaning(value))
    f = decode_fields(value, VTCR_EL2, m)
    d = {x.name: x for x in f}
    return Decoded(value, f, f"{d['T0SZ'].meaning} IPA, {d['TG0'].meaning}, "
                             f"{d['SL0'].meaning}, PA {d['PS'].meaning}")


VTTBR_EL2: Layout = (("BADDR", 47, 1, "Stage 2 table base address"), ("VMID", 55, 48, "VMID"))
TTBR: Layout = (("BADDR", 47, 1, "Table base address"), ("ASID", 63, 48, "ASID"))


def decode_vttbr(value: int) -> Decoded:
    f = decode_fields(value, VTTBR_EL2)
    return Decoded(value, f, f"VMID {value >> 48 & 0xFF} tables @ 0x{value & 0xFFFF_FFFF_FFFE:x}")


def decode_ttbr(value: int) -> Decoded:
    return Decoded(value, decode_fields(value, TTBR),
                   f"ASID {value >> 48} tables @ 0x{value & 0xFFFF_FFFF_FFFE:x}")


decode_sctlr_el1 = _flags_decoder(SCTLR_EL1, "SCTLR_EL1")
decode_sctlr_el2 = _flags_decoder(SCTLR_EL2, "SCTLR_EL2")
decode_hcr = _flags_decoder(HCR_EL2, "HCR_EL2")
decode_scr = _flags_decoder(SCR_EL3, "SCR_EL3")


def decode_sctlr(value: int, el: int = 1) -> Decoded:
    return decode_sctlr_el1(value) if el == 1 else _flags_decoder(SCTLR_EL2, f"SCTLR_EL{el}")(value)


# --- identification and timers ----------------------------------------------------

MPIDR: Layout = (
    ("Aff0", 7, 0, "Affinity level 0 (core)"), ("Aff1", 15, 8, "Affinity level 1 (cluster)"),
    ("Aff2", 23, 16, "Affinity level 2"), ("MT", 24, 24, "Multithreaded affinity"),
    ("U", 30, 30, "Uniprocessor"), ("Aff3", 39, 32, "Affinity level 3"),
)


def decode_mpidr(value: int) -> Decoded:
    f = decode_fields(value, MPIDR)
    aff = ".".join(str(value >> s & 0xFF) for s in (32, 16, 8, 0))
    flags = "".join(f" {n}" for n, b in (("MT", 24), ("U", 30)) if value >> b & 1)
    return Decoded(value, f, f"core {value & 0xFF} (affinity {aff}){flags}")


decode_vmpidr = decode_mpidr

CNT_CTL: Layout = (("ENABLE", 0, 0, "Timer enabled"), ("IMASK", 1, 1, "Interrupt masked"),
                   ("ISTATUS", 2, 2, "Condition met"))
CNTHCTL_EL2: Layout = (
    ("EL1PCTEN", 0, 0, "EL1/EL0 access to CNTPCT_EL0"),
    ("EL1PCEN", 1, 1, "EL1/EL0 access to the EL1 physical timer"),
    ("EVNTEN", 2, 2, "Event stream enable"), ("EVNTDIR", 3, 3, "Event on 0->1 (0) or 1->0 (1)"),
    ("EVNTI", 7, 4, "Event stream counter bit"),
)
CNTKCTL_EL1: Layout = (
    ("EL0PCTEN", 0, 0, "EL0 access to CNTPCT_EL0"), ("EL0VCTEN", 1, 1, "EL0 access to CNTVCT_EL0"),
    ("EVNTEN", 2, 2, "Event stream enable"), ("EVNTDIR", 3, 3, "Event on 0->1 (0) or 1->0 (1)"),
    ("EVNTI", 7, 4, "Event stream counter bit"), ("EL0VTEN", 8, 8, "EL0 access to the virtual timer"),
    ("EL0PTEN", 9, 9, "EL0 access to the physical timer"),
)
decode_cnt_ctl = _flags_decoder(CNT_CTL, "timer")
decode_cnthctl = _flags_decoder(CNTHCTL_EL2, "CNTHCTL_EL2")
decode_cntkctl = _flags_decoder(CNTKCTL_EL1, "CNTKCTL_EL1")

# --- interrupt controllers ---------------------------------------------------------

CORE_IRQ_SOURCE: Layout = (
    ("CNTPSIRQ", 0, 0, "Secure physical timer"), ("CNTPNSIRQ", 1, 1, "Non-secure physical timer"),
    ("CNTHPIRQ", 2, 2, "Hypervisor timer"), ("CNTVIRQ", 3, 3, "Virtual timer"),
    ("MAILBOX0", 4, 4, "Mailbox 0"), ("MAILBOX1", 5, 5, "Mailbox 1"),
    ("MAILBOX2", 6, 6, "Mailbox 2"), ("MAILBOX3", 7, 7, "Mailbox 3"),
    ("GPU", 8, 8, "GPU (BCM2835 controller)"), ("PMU", 9, 9, "Performance monitors"),
    ("AXI", 10, 10, "AXI outstanding (core 0 only)"), ("LOCAL_TIMER", 11, 11, "Local timer"),
)
GPU_IRQ_NAMES = {
    0: "system timer 0", 1: "system timer 1", 2: "system timer 2", 3: "system timer 3",
    9: "usb", 29: "aux", 43: "i2c_spi_slv", 45: "pwa0", 46: "pwa1", 48: "smi",
    49: "gpio0", 50: "gpio1", 51: "gpio2", 52: "gpio3", 53: "i2c", 54: "spi",
    55: "pcm", 56: "sdhost", 57: "uart", 62: "emmc",
}
_SHORTCUTS = (7, 9, 10, 18, 19, 53, 54, 55, 56, 57, 62)
BASIC_PENDING: Layout = (
    ("ARM_TIMER", 0, 0, "ARM timer"), ("ARM_MAILBOX", 1, 1, "ARM mailbox"),
    ("DOORBELL0", 2, 2, "ARM doorbell 0"), ("DOORBELL1", 3, 3, "ARM doorbell 1"),
    ("GPU0_HALTED", 4, 4, "GPU0 halted"), ("GPU1_HALTED", 5, 5, "GPU1 halted"),
    ("ILLEGAL1", 6, 6, "Illegal access type 1"), ("ILLEGAL0", 7, 7, "Illegal access type 0"),
    ("PENDING1", 8, 8, "Bits set in pending register 1"),
    ("PENDING2", 9, 9, "Bits set in pending register 2"),
) + tuple((f"GPU_IRQ{n}", 10 + i, 10 + i, f"GPU IRQ {n}" + (f" ({GPU_IRQ_NAMES[n]})"
          if n in GPU_IRQ_NAMES else "")) for i, n in enumerate(_SHORTCUTS))


def gpu_irq_name(n: int) -> str:
    return GPU_IRQ_NAMES.get(n, f"GPU IRQ {n}")


def decode_core_irq_source(value: int) -> Decoded:
    fl = set_flags(value, CORE_IRQ_SOURCE)
    return Decoded(value, decode_fields(value, CORE_IRQ_SOURCE), " ".join(fl) or "none")


def decode_basic_pending(value: int) -> Decoded:
    fl = set_flags(value, BASIC_PENDING)
    return Decoded(value, decode_fields(value, BASIC_PENDING), " ".join(fl) or "none")


def decode_gpu_pending(value: int, bank: int) -> Decoded:
    """IRQ pending 1 (bank 0: GPU IRQs 0-31) or pending 2 (bank 1: GPU IRQs 32-63)."""
    fields = tuple(Field(gpu_irq_name(32 * bank + b), b, b, 1, f"GPU IRQ {32 * bank + b}")
                   for b in range(32) if value >> b & 1)
    return Decoded(value, fields, ", ".join(f.name for f in fields) or "none")
