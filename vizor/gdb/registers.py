"""The registers gdb sees, as a table, and the target description built from it.

gdb numbers registers as the target description says (``regnum``) and reads
them by that number (``p``) or all at once (``g``, in this order).  Three
features: ``org.gnu.gdb.aarch64.core`` and ``org.gnu.gdb.aarch64.fpu``, which
gdb's AArch64 support requires by these names and register names, and
``org.gnu.gdb.vizor.sysregs`` with the system registers a hypervisor
developer reads (named as in the Arm ARM, so ``info registers VTTBR_EL2``,
``p/x $SCTLR_EL1`` and ``p $CurrentEL`` work).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reg:
    name: str          # as gdb names it (``$name``)
    bits: int
    feature: str       # "core" | "fpu" | "sys"
    type: str          # the tdesc type
    source: str        # how target.py reads it: "x" | "sp" | "pc" | "cpsr" | "v" | "fp" | "sys" | "timer" | "pstate"


SYSREGS = (
    "SCTLR_EL1", "SCTLR_EL2", "SCTLR_EL3", "HCR_EL2", "SCR_EL3", "VTTBR_EL2", "VTCR_EL2",
    "TTBR0_EL1", "TTBR1_EL1", "TCR_EL1", "TTBR0_EL2", "TCR_EL2", "MAIR_EL1", "MAIR_EL2",
    "VBAR_EL1", "VBAR_EL2", "VBAR_EL3",
    "ESR_EL1", "ESR_EL2", "ESR_EL3", "FAR_EL1", "FAR_EL2", "FAR_EL3",
    "ELR_EL1", "ELR_EL2", "ELR_EL3", "SPSR_EL1", "SPSR_EL2", "SPSR_EL3", "HPFAR_EL2",
    "SP_EL0", "SP_EL1", "SP_EL2", "MPIDR_EL1", "VMPIDR_EL2", "VPIDR_EL2", "MIDR_EL1",
    "CPACR_EL1", "CPTR_EL2", "PAR_EL1", "CNTKCTL_EL1",
)
TIMERS = (
    "CNTFRQ_EL0", "CNTHCTL_EL2", "CNTVOFF_EL2",
    "CNTP_CTL_EL0", "CNTP_CVAL_EL0", "CNTV_CTL_EL0", "CNTV_CVAL_EL0",
    "CNTHP_CTL_EL2", "CNTHP_CVAL_EL2", "CNTPS_CTL_EL1", "CNTPS_CVAL_EL1",
)
PSTATE_VIEWS = ("CurrentEL", "DAIF")      # views of PSTATE, read-only


def _table() -> tuple[Reg, ...]:
    regs = [Reg(f"x{i}", 64, "core", "uint64", "x") for i in range(31)]
    regs += [Reg("sp", 64, "core", "data_ptr", "sp"), Reg("pc", 64, "core", "code_ptr", "pc"),
             Reg("cpsr", 32, "core", "uint32", "cpsr")]
    regs += [Reg(f"v{i}", 128, "fpu", "vizor_v", "v") for i in range(32)]
    regs += [Reg("fpsr", 32, "fpu", "uint32", "fp"), Reg("fpcr", 32, "fpu", "uint32", "fp")]
    regs += [Reg(n, 64, "sys", "uint64", "sys") for n in SYSREGS]
    regs += [Reg(n, 64, "sys", "uint64", "timer") for n in TIMERS]
    regs += [Reg(n, 64, "sys", "uint64", "pstate") for n in PSTATE_VIEWS]
    return tuple(regs)


REGS = _table()
BY_NAME = {r.name: i for i, r in enumerate(REGS)}

_FEATURES = (("core", "org.gnu.gdb.aarch64.core"), ("fpu", "org.gnu.gdb.aarch64.fpu"),
             ("sys", "org.gnu.gdb.vizor.sysregs"))

# The vector registers as gdb shows them: a union of the usual lane views.
_VECTOR_TYPES = """    <vector id="vizor_v2d" type="ieee_double" count="2"/>
    <vector id="vizor_v2u" type="uint64" count="2"/>
    <vector id="vizor_v4f" type="ieee_single" count="4"/>
    <vector id="vizor_v4u" type="uint32" count="4"/>
    <vector id="vizor_v8u" type="uint16" count="8"/>
    <vector id="vizor_v16u" type="uint8" count="16"/>
    <union id="vizor_v">
      <field name="d" type="vizor_v2d"/>
      <field name="s" type="vizor_v4f"/>
      <field name="ud" type="vizor_v2u"/>
      <field name="us" type="vizor_v4u"/>
      <field name="uh" type="vizor_v8u"/>
      <field name="ub" type="vizor_v16u"/>
      <field name="q" type="uint128"/>
    </union>
"""


def target_xml() -> bytes:
    """The whole target description, features inline (qXfer:features:read:target.xml)."""
    out = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
           "<target>", "  <architecture>aarch64</architecture>"]
    for key, name in _FEATURES:
        out.append(f'  <feature name="{name}">')
        if key == "fpu":
            out.append(_VECTOR_TYPES.rstrip("\n"))
        for num, r in enumerate(REGS):
            if r.feature == key:
                group = ' group="system"' if key == "sys" else ""
                out.append(f'    <reg name="{r.name}" bitsize="{r.bits}" type="{r.type}" regnum="{num}"{group}/>')
        out.append("  </feature>")
    out.append("</target>")
    return ("\n".join(out) + "\n").encode()


TARGET_XML = target_xml()
