"""AArch64 system register encodings (op0, op1, CRn, CRm, op2) <-> names.

The table covers what a hypervisor or kernel on the Cortex-A53 touches: EL1/EL2/
EL3 control, translation, exception and ID registers, generic timers, cache ID,
debug basics, A53 IMPLEMENTATION DEFINED registers, and the SYS-space
operations (AT, DC, IC, TLBI) by name. `name_of` is what the emulator prints
for a trapped MRS/MSR/SYS; `encoding_of` finds a register by name.

Not covered: AArch32 (CP15/CP14) names, the PMU event counters beyond the
basics, ETM/trace, GIC CPU interface (the Pi 3 has no GIC), ARMv8.1+ registers.
"""

from __future__ import annotations

from typing import Optional

Encoding = tuple[int, int, int, int, int]   # (op0, op1, CRn, CRm, op2)

# name op0 op1 CRn CRm op2 -- one per line; "{n}" expands over the last column range.
_TABLE = """
MIDR_EL1 3 0 0 0 0
MPIDR_EL1 3 0 0 0 5
REVIDR_EL1 3 0 0 0 6
ID_PFR0_EL1 3 0 0 1 0
ID_PFR1_EL1 3 0 0 1 1
ID_DFR0_EL1 3 0 0 1 2
ID_AFR0_EL1 3 0 0 1 3
ID_MMFR0_EL1 3 0 0 1 4
ID_MMFR1_EL1 3 0 0 1 5
ID_MMFR2_EL1 3 0 0 1 6
ID_MMFR3_EL1 3 0 0 1 7
ID_ISAR0_EL1 3 0 0 2 0
ID_ISAR1_EL1 3 0 0 2 1
ID_ISAR2_EL1 3 0 0 2 2
ID_ISAR3_EL1 3 0 0 2 3
ID_ISAR4_EL1 3 0 0 2 4
ID_ISAR5_EL1 3 0 0 2 5
MVFR0_EL1 3 0 0 3 0
MVFR1_EL1 3 0 0 3 1
MVFR2_EL1 3 0 0 3 2
ID_AA64PFR0_EL1 3 0 0 4 0
ID_AA64PFR1_EL1 3 0 0 4 1
ID_AA64DFR0_EL1 3 0 0 5 0
ID_AA64DFR1_EL1 3 0 0 5 1
ID_AA64AFR0_EL1 3 0 0 5 4
ID_AA64AFR1_EL1 3 0 0 5 5
ID_AA64ISAR0_EL1 3 0 0 6 0
ID_AA64ISAR1_EL1 3 0 0 6 1
ID_AA64MMFR0_EL1 3 0 0 7 0
ID_AA64MMFR1_EL1 3 0 0 7 1
CCSIDR_EL1 3 1 0 0 0
CLIDR_EL1 3 1 0 0 1
AIDR_EL1 3 1 0 0 7
CSSELR_EL1 3 2 0 0 0
CTR_EL0 3 3 0 0 1
DCZID_EL0 3 3 0 0 7
VPIDR_EL2 3 4 0 0 0
VMPIDR_EL2 3 4 0 0 5
SCTLR_EL1 3 0 1 0 0
ACTLR_EL1 3 0 1 0 1
CPACR_EL1 3 0 1 0 2
SCTLR_EL2 3 4 1 0 0
ACTLR_EL2 3 4 1 0 1
HCR_EL2 3 4 1 1 0
MDCR_EL2 3 4 1 1 1
CPTR_EL2 3 4 1 1 2
HSTR_EL2 3 4 1 1 3
HACR_EL2 3 4 1 1 7
SCTLR_EL3 3 6 1 0 0
ACTLR_EL3 3 6 1 0 1
SCR_EL3 3 6 1 1 0
SDER32_EL3 3 6 1 1 1
CPTR_EL3 3 6 1 1 2
MDCR_EL3 3 6 1 3 1
TTBR0_EL1 3 0 2 0 0
TTBR1_EL1 3 0 2 0 1
TCR_EL1 3 0 2 0 2
TTBR0_EL2 3 4 2 0 0
TCR_EL2 3 4 2 0 2
VTTBR_EL2 3 4 2 1 0
VTCR_EL2 3 4 2 1 2
TTBR0_EL3 3 6 2 0 0
TCR_EL3 3 6 2 0 2
DACR32_EL2 3 4 3 0 0
SPSR_EL1 3 0 4 0 0
ELR_EL1 3 0 4 0 1
SP_EL0 3 0 4 1 0
SPSel 3 0 4 2 0
CurrentEL 3 0 4 2 2
DAIF 3 3 4 2 1
NZCV 3 3 4 2 0
FPCR 3 3 4 4 0
FPSR 3 3 4 4 1
DSPSR_EL0 3 3 4 5 0
DLR_EL0 3 3 4 5 1
SPSR_EL2 3 4 4 0 0
ELR_EL2 3 4 4 0 1
SP_EL1 3 4 4 1 0
SPSR_irq 3 4 4 3 0
SPSR_abt 3 4 4 3 1
SPSR_und 3 4 4 3 2
SPSR_fiq 3 4 4 3 3
SPSR_EL3 3 6 4 0 0
ELR_EL3 3 6 4 0 1
SP_EL2 3 6 4 1 0
IFSR32_EL2 3 4 5 0 1
AFSR0_EL1 3 0 5 1 0
AFSR1_EL1 3 0 5 1 1
ESR_EL1 3 0 5 2 0
AFSR0_EL2 3 4 5 1 0
AFSR1_EL2 3 4 5 1 1
ESR_EL2 3 4 5 2 0
FPEXC32_EL2 3 4 5 3 0
AFSR0_EL3 3 6 5 1 0
AFSR1_EL3 3 6 5 1 1
ESR_EL3 3 6 5 2 0
FAR_EL1 3 0 6 0 0
FAR_EL2 3 4 6 0 0
HPFAR_EL2 3 4 6 0 4
FAR_EL3 3 6 6 0 0
PAR_EL1 3 0 7 4 0
PMCR_EL0 3 3 9 12 0
PMCNTENSET_EL0 3 3 9 12 1
PMCNTENCLR_EL0 3 3 9 12 2
PMOVSCLR_EL0 3 3 9 12 3
PMSWINC_EL0 3 3 9 12 4
PMSELR_EL0 3 3 9 12 5
PMCEID0_EL0 3 3 9 12 6
PMCEID1_EL0 3 3 9 12 7
PMCCNTR_EL0 3 3 9 13 0
PMXEVTYPER_EL0 3 3 9 13 1
PMXEVCNTR_EL0 3 3 9 13 2
PMUSERENR_EL0 3 3 9 14 0
PMINTENSET_EL1 3 0 9 14 1
PMINTENCLR_EL1 3 0 9 14 2
PMOVSSET_EL0 3 3 9 14 3
PMCCFILTR_EL0 3 3 14 15 7
MAIR_EL1 3 0 10 2 0
AMAIR_EL1 3 0 10 3 0
MAIR_EL2 3 4 10 2 0
AMAIR_EL2 3 4 10 3 0
MAIR_EL3 3 6 10 2 0
AMAIR_EL3 3 6 10 3 0
L2CTLR_EL1 3 1 11 0 2
L2ECTLR_EL1 3 1 11 0 3
VBAR_EL1 3 0 12 0 0
RVBAR_EL1 3 0 12 0 1
RMR_EL1 3 0 12 0 2
ISR_EL1 3 0 12 1 0
VBAR_EL2 3 4 12 0 0
RVBAR_EL2 3 4 12 0 1
RMR_EL2 3 4 12 0 2
VBAR_EL3 3 6 12 0 0
RVBAR_EL3 3 6 12 0 1
RMR_EL3 3 6 12 0 2
CONTEXTIDR_EL1 3 0 13 0 1
TPIDR_EL1 3 0 13 0 4
TPIDR_EL0 3 3 13 0 2
TPIDRRO_EL0 3 3 13 0 3
TPIDR_EL2 3 4 13 0 2
TPIDR_EL3 3 6 13 0 2
CNTFRQ_EL0 3 3 14 0 0
CNTPCT_EL0 3 3 14 0 1
CNTVCT_EL0 3 3 14 0 2
CNTP_TVAL_EL0 3 3 14 2 0
CNTP_CTL_EL0 3 3 14 2 1
CNTP_CVAL_EL0 3 3 14 2 2
CNTV_TVAL_EL0 3 3 14 3 0
CNTV_CTL_EL0 3 3 14 3 1
CNTV_CVAL_EL0 3 3 14 3 2
CNTKCTL_EL1 3 0 14 1 0
CNTHCTL_EL2 3 4 14 1 0
CNTVOFF_EL2 3 4 14 0 3
CNTHP_TVAL_EL2 3 4 14 2 0
CNTHP_CTL_EL2 3 4 14 2 1
CNTHP_CVAL_EL2 3 4 14 2 2
CNTPS_TVAL_EL1 3 7 14 2 0
CNTPS_CTL_EL1 3 7 14 2 1
CNTPS_CVAL_EL1 3 7 14 2 2
CPUACTLR_EL1 3 1 15 2 0
CPUECTLR_EL1 3 1 15 2 1
CPUMERRSR_EL1 3 1 15 2 2
L2MERRSR_EL1 3 1 15 2 3
CBAR_EL1 3 1 15 3 0
OSDTRRX_EL1 2 0 0 0 2
MDCCINT_EL1 2 0 0 2 0
MDSCR_EL1 2 0 0 2 2
OSDTRTX_EL1 2 0 0 3 2
OSECCR_EL1 2 0 0 6 2
DBGBVR{n}_EL1 2 0 0 {n} 4
DBGBCR{n}_EL1 2 0 0 {n} 5
DBGWVR{n}_EL1 2 0 0 {n} 6
DBGWCR{n}_EL1 2 0 0 {n} 7
MDRAR_EL1 2 0 1 0 0
OSLAR_EL1 2 0 1 0 4
OSLSR_EL1 2 0 1 1 4
OSDLR_EL1 2 0 1 3 4
DBGPRCR_EL1 2 0 1 4 4
DBGCLAIMSET_EL1 2 0 7 8 6
DBGCLAIMCLR_EL1 2 0 7 9 6
DBGAUTHSTATUS_EL1 2 0 7 14 6
MDCCSR_EL0 2 3 0 1 0
DBGDTR_EL0 2 3 0 4 0
DBGDTRRX_EL0 2 3 0 5 0
DBGVCR32_EL2 2 4 0 7 0
IC_IALLUIS 1 0 7 1 0
IC_IALLU 1 0 7 5 0
IC_IVAU 1 3 7 5 1
DC_IVAC 1 0 7 6 1
DC_ISW 1 0 7 6 2
DC_CSW 1 0 7 10 2
DC_CISW 1 0 7 14 2
DC_ZVA 1 3 7 4 1
DC_CVAC 1 3 7 10 1
DC_CVAU 1 3 7 11 1
DC_CIVAC 1 3 7 14 1
AT_S1E1R 1 0 7 8 0
AT_S1E1W 1 0 7 8 1
AT_S1E0R 1 0 7 8 2
AT_S1E0W 1 0 7 8 3
AT_S1E2R 1 4 7 8 0
AT_S1E2W 1 4 7 8 1
AT_S12E1R 1 4 7 8 4
AT_S12E1W 1 4 7 8 5
AT_S12E0R 1 4 7 8 6
AT_S12E0W 1 4 7 8 7
AT_S1E3R 1 6 7 8 0
AT_S1E3W 1 6 7 8 1
TLBI_VMALLE1IS 1 0 8 3 0
TLBI_VAE1IS 1 0 8 3 1
TLBI_ASIDE1IS 1 0 8 3 2
TLBI_VAAE1IS 1 0 8 3 3
TLBI_VALE1IS 1 0 8 3 5
TLBI_VAALE1IS 1 0 8 3 7
TLBI_VMALLE1 1 0 8 7 0
TLBI_VAE1 1 0 8 7 1
TLBI_ASIDE1 1 0 8 7 2
TLBI_VAAE1 1 0 8 7 3
TLBI_VALE1 1 0 8 7 5
TLBI_VAALE1 1 0 8 7 7
TLBI_IPAS2E1IS 1 4 8 0 1
TLBI_IPAS2LE1IS 1 4 8 0 5
TLBI_IPAS2E1 1 4 8 4 1
TLBI_IPAS2LE1 1 4 8 4 5
TLBI_ALLE2IS 1 4 8 3 0
TLBI_VAE2IS 1 4 8 3 1
TLBI_ALLE1IS 1 4 8 3 4
TLBI_VALE2IS 1 4 8 3 5
TLBI_VMALLS12E1IS 1 4 8 3 6
TLBI_ALLE2 1 4 8 7 0
TLBI_VAE2 1 4 8 7 1
TLBI_ALLE1 1 4 8 7 4
TLBI_VALE2 1 4 8 7 5
TLBI_VMALLS12E1 1 4 8 7 6
TLBI_ALLE3IS 1 6 8 3 0
TLBI_VAE3IS 1 6 8 3 1
TLBI_VALE3IS 1 6 8 3 5
TLBI_ALLE3 1 6 8 7 0
TLBI_VAE3 1 6 8 7 1
TLBI_VALE3 1 6 8 7 5
"""


def _parse() -> tuple[dict[str, Encoding], dict[Encoding, str]]:
    by_name: dict[str, Encoding] = {}
    for line in _TABLE.strip().splitlines():
        name, *nums = line.split()
        variants = range(16) if "{n}" in line else [None]
        for n in variants:
            nm = name.replace("{n}", str(n))
            enc = tuple(int(x.replace("{n}", str(n))) for x in nums)
            by_name[nm] = enc  # type: ignore[assignment]
    return by_name, {enc: nm for nm, enc in by_name.items()}


BY_NAME, BY_ENCODING = _parse()
_BY_UPPER = {n.upper(): e for n, e in BY_NAME.items()}


def encoding_of(name: str) -> Encoding:
    """(op0, op1, CRn, CRm, op2) of a register or SYS operation, e.g. "VTTBR_EL2" -> (3, 4, 2, 1, 0).

    SYS operations are named with an underscore or a space: "TLBI VMALLE1IS"."""
    key = name.strip().upper().replace(" ", "_")
    try:
        return _BY_UPPER[key]
    except KeyError:
        raise KeyError(f"unknown system register {name!r}") from None


def name_of(op0: int, op1: int, crn: int, crm: int, op2: int) -> Optional[str]:
    """The name of an encoding, or None. SYS operations come back as "TLBI VMALLE1IS"."""
    name = BY_ENCODING.get((op0, op1, crn, crm, op2))
    if name is not None and op0 == 1:
        name = name.replace("_", " ", 1)
    return name


def generic_name(op0: int, op1: int, crn: int, crm: int, op2: int) -> str:
    """The architectural S<op0>_<op1>_C<n>_C<m>_<op2> spelling (SYS for op0 = 1)."""
    if op0 == 1:
        return f"SYS #{op1}, C{crn}, C{crm}, #{op2}"
    return f"S{op0}_{op1}_C{crn}_C{crm}_{op2}"


def display_name(op0: int, op1: int, crn: int, crm: int, op2: int) -> str:
    return name_of(op0, op1, crn, crm, op2) or generic_name(op0, op1, crn, crm, op2)
