"""Result types and field decoders for the VMSAv8-64 table walkers in `mmu.py`.

Everything here is pure data: frozen dataclasses the walkers return, the
architectural fault status codes (Arm ARM, ESR_ELx.ISS DFSC/IFSC encodings),
and the MAIR / stage-2 MemAttr memory-type decoders.

Not implemented: ARMv8.1+ features the Cortex-A53 lacks (hardware AF/dirty
management, PAN, 16-bit VMIDs, 52-bit addresses, stage-2 XN[1]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional


class BusError(Exception):
    """Raised by a `read(pa, size)` callable for a PA that is not RAM.

    A walker turns it into a synchronous external abort on the walk."""


class UnsupportedGranule(ValueError):
    """The translation granule selected by a TCR/VTCR field is not supported."""


ReadFn = Callable[[int, int], int]


@dataclass(frozen=True)
class TranslationRegs:
    """The system registers a walk depends on, as the emulator reads them from a core."""

    sctlr_el1: int = 0
    tcr_el1: int = 0
    ttbr0_el1: int = 0
    ttbr1_el1: int = 0
    mair_el1: int = 0
    hcr_el2: int = 0
    vtcr_el2: int = 0
    vttbr_el2: int = 0
    sctlr_el2: int = 0
    tcr_el2: int = 0
    ttbr0_el2: int = 0
    mair_el2: int = 0
    sctlr_el3: int = 0
    tcr_el3: int = 0
    ttbr0_el3: int = 0
    mair_el3: int = 0


# --- fault classification ---------------------------------------------------

FAULT_KINDS = ("address_size", "translation", "access_flag", "permission", "external")
_FAULT_BASE = {"address_size": 0x00, "translation": 0x04, "access_flag": 0x08,
               "permission": 0x0C, "external": 0x14}
_FAULT_TEXT = {"address_size": "address size fault", "translation": "translation fault",
               "access_flag": "access flag fault", "permission": "permission fault",
               "external": "synchronous external abort on translation table walk"}

# DFSC/IFSC values that are not "kind + level" (Arm ARM, ESR_ELx ISS encoding for aborts).
FIXED_FSC_NAMES = {
    0x10: "synchronous external abort, not on translation table walk",
    0x11: "tag check fault",
    0x18: "synchronous parity or ECC error, not on translation table walk",
    0x21: "alignment fault",
    0x30: "TLB conflict abort",
    0x31: "unsupported atomic hardware update fault",
    0x34: "IMPLEMENTATION DEFINED fault (lockdown)",
    0x35: "IMPLEMENTATION DEFINED fault (unsupported exclusive or atomic access)",
    0x3D: "section domain fault",
    0x3E: "page domain fault",
}


def fsc_name(fsc: int) -> str:
    """Readable name of a 6-bit DFSC/IFSC value, e.g. 0x07 -> 'translation fault, level 3'."""
    fsc &= 0x3F
    for kind, base in _FAULT_BASE.items():
        if base <= fsc <= base + 3:
            return f"{_FAULT_TEXT[kind]}, level {fsc - base}"
    if 0x1C <= fsc <= 0x1F:
        return f"synchronous parity or ECC error on translation table walk, level {fsc - 0x1C}"
    return FIXED_FSC_NAMES.get(fsc, f"reserved fault status 0x{fsc:02x}")


def fsc_kind_level(fsc: int) -> tuple[Optional[str], Optional[int]]:
    """Inverse of `Fault.status_code` for the walk faults: (kind, level) or (None, None)."""
    fsc &= 0x3F
    for kind, base in _FAULT_BASE.items():
        if base <= fsc <= base + 3:
            return kind, fsc - base
    return None, None


@dataclass(frozen=True)
class Fault:
    """A translation fault, classified as ESR/FAR/HPFAR need it."""

    stage: int                  # 1 or 2
    level: int                  # 0..3
    kind: str                   # one of FAULT_KINDS
    s1ptw: bool = False         # stage-2 fault while reading a stage-1 table
    ipa: Optional[int] = None   # faulting IPA for stage-2 faults (HPFAR_EL2)
    address: int = 0            # the input address of the walk that faulted
    write: bool = False

    @property
    def status_code(self) -> int:
        """The 6-bit DFSC/IFSC (ESR_ELx.ISS[5:0]) of this fault."""
        return _FAULT_BASE[self.kind] + self.level

    @property
    def name(self) -> str:
        return fsc_name(self.status_code)

    def __str__(self) -> str:
        extra = " (S1PTW)" if self.s1ptw else ""
        ipa = f" IPA 0x{self.ipa:x}" if self.ipa is not None else ""
        return f"stage {self.stage} {self.name}{extra}{ipa}"


# --- memory types -------------------------------------------------------------

_DEVICE = ("nGnRnE", "nGnRE", "nGRE", "GRE")


def _cache_policy(nibble: int) -> str:
    """One MAIR nibble of a Normal memory attribute (outer or inner)."""
    alloc = "".join(s for s, b in ((" RA", 2), (" WA", 1)) if nibble & b)
    top = nibble >> 2
    if nibble == 0b0100:
        return "NC"
    if top == 0b00:
        return f"WT transient{alloc}" if nibble else "UNPREDICTABLE"
    if top == 0b01:
        return f"WB transient{alloc}"
    return ("WT" if top == 0b10 else "WB") + alloc


def mair_attr_name(attr: int) -> str:
    """Readable memory type of one MAIR_ELx attribute byte (Arm ARM, MAIR_ELx.Attr<n>)."""
    attr &= 0xFF
    if attr >> 4 == 0:
        if attr & 0b11:
            return f"UNPREDICTABLE (0x{attr:02x})"
        return "Device-" + _DEVICE[(attr >> 2) & 3]
    outer, inner = _cache_policy(attr >> 4), _cache_policy(attr & 0xF)
    if outer == inner:
        return f"Normal {outer}"
    return f"Normal inner {inner}, outer {outer}"


def mair_lookup(mair: int, index: int) -> int:
    return (mair >> (8 * (index & 7))) & 0xFF


def s2_memattr_name(memattr: int) -> str:
    """Stage-2 descriptor MemAttr[3:0] (no MAIR indirection at stage 2)."""
    memattr &= 0xF
    if memattr >> 2 == 0:
        return "Device-" + _DEVICE[memattr & 3]
    names = {1: "NC", 2: "WT", 3: "WB"}
    outer = names[memattr >> 2]
    inner = names.get(memattr & 3, "UNPREDICTABLE")
    return f"Normal {outer}" if outer == inner else f"Normal inner {inner}, outer {outer}"


def combine_memtypes(s1: str, s2: str) -> str:
    """Combine stage-1 and stage-2 memory types: the more restrictive wins.

    Simplified for display: Device beats Normal (the stronger Device type
    wins), and for Normal memory the weaker cacheability of the two is kept
    (NC < WT < WB); allocation hints are taken from stage 1."""
    if s1.startswith("Device") or s2.startswith("Device"):
        dev = [t for t in (s1, s2) if t.startswith("Device")]
        return min(dev, key=lambda t: _DEVICE.index(t.split("-", 1)[1]))
    rank = {"NC": 0, "WT": 1, "WB": 2}

    def level(t: str) -> int:
        return min((r for k, r in rank.items() if k in t), default=0)
    return s1 if level(s1) <= level(s2) else s2


# --- walk results -------------------------------------------------------------

@dataclass(frozen=True)
class Permissions:
    """Effective access rights. `priv` is EL1 (EL1&0 regime) or EL2 (EL2 regime)."""

    priv_r: bool = False
    priv_w: bool = False
    priv_x: bool = False
    el0_r: bool = False
    el0_w: bool = False
    el0_x: bool = False

    def allows(self, access: str, el: int) -> bool:
        pre = "el0" if el == 0 else "priv"
        return getattr(self, f"{pre}_{access}")

    def __and__(self, other: "Permissions") -> "Permissions":
        return Permissions(*(a and b for a, b in zip(self._t(), other._t())))

    def _t(self) -> tuple[bool, ...]:
        return (self.priv_r, self.priv_w, self.priv_x, self.el0_r, self.el0_w, self.el0_x)

    def text(self, priv_name: str = "EL1") -> str:
        def rwx(r, w, x):
            return ("r" if r else "-") + ("w" if w else "-") + ("x" if x else "-")
        s = f"{priv_name} {rwx(self.priv_r, self.priv_w, self.priv_x)}"
        if priv_name == "EL1":
            s += f" EL0 {rwx(self.el0_r, self.el0_w, self.el0_x)}"
        return s


FULL_ACCESS = Permissions(True, True, True, True, True, True)


@dataclass(frozen=True)
class WalkStep:
    """One descriptor read of a walk.

    `table_base`, `desc_addr` are in the input space of the table (an IPA for
    a stage-1 walk under stage 2, else a PA); `desc_pa` is where the
    descriptor was read (None when the stage-2 translation of it faulted).
    `ia_bits` is the (hi, lo) bit range of the input address the index came from.
    `desc` is None, and `kind` "abort", when the read failed (external abort)
    or its stage-2 translation faulted."""

    stage: int
    level: int
    table_base: int
    index: int
    ia_bits: tuple[int, int]
    desc_addr: int
    desc_pa: Optional[int]
    desc: Optional[int]
    kind: str                       # table | block | page | invalid | reserved | abort
    output: Optional[int] = None    # next-level table address, or block/page output address
    # stage 1 leaf fields
    ap: Optional[int] = None        # AP[2:1]
    uxn: Optional[bool] = None      # UXN, or XN in the EL2 regime
    pxn: Optional[bool] = None
    attr_index: Optional[int] = None
    mem_type: Optional[str] = None  # AttrIndx via MAIR, or stage-2 MemAttr decoded
    ns: Optional[bool] = None
    ng: Optional[bool] = None
    # stage 1 table fields
    ap_table: Optional[int] = None
    uxn_table: Optional[bool] = None
    pxn_table: Optional[bool] = None
    ns_table: Optional[bool] = None
    # stage 2 leaf fields
    s2ap: Optional[int] = None
    xn: Optional[bool] = None
    memattr: Optional[int] = None
    # both
    sh: Optional[int] = None
    af: Optional[bool] = None
    contiguous: Optional[bool] = None
    s2_walk: Optional["Walk"] = None  # stage-2 walk of this table's IPA (S1PTW)

    def fields(self) -> tuple[tuple[str, str], ...]:
        """The decoded descriptor fields that apply, as (name, text) pairs for display."""
        names = ("ap", "uxn", "pxn", "attr_index", "mem_type", "ns", "ng", "ap_table",
                 "uxn_table", "pxn_table", "ns_table", "s2ap", "xn", "memattr", "sh",
                 "af", "contiguous")
        out = []
        for n in names:
            v = getattr(self, n)
            if v is None:
                continue
            if isinstance(v, bool):
                text = str(int(v))
            elif isinstance(v, int):
                text = f"0b{v:02b}" if n in ("ap", "s2ap", "sh", "ap_table") else str(v)
            else:
                text = v
            out.append((n.upper(), text))
        return tuple(out)


@dataclass(frozen=True)
class Walk:
    """The whole story of one translation: steps, result or fault."""

    input_address: int
    regime: str                     # "el10", "el2", "el3" or "stage2"
    stage: int                      # 1, 2, or 12 for a combined two-stage result
    steps: tuple[WalkStep, ...] = ()
    output: Optional[int] = None
    permissions: Permissions = field(default_factory=Permissions)
    mem_type: Optional[str] = None
    fault: Optional[Fault] = None
    stage2: Optional["Walk"] = None  # two-stage: the stage-2 walk of the final IPA
    mmu_enabled: bool = True
    vmid: Optional[int] = None
    asid: Optional[int] = None

    @property
    def ok(self) -> bool:
        return self.fault is None

    @property
    def ipa(self) -> Optional[int]:
        """The intermediate address of a two-stage walk (stage-1 output)."""
        return self.stage2.input_address if self.stage2 is not None else None
