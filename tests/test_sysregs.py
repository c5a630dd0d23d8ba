"""Decoders and the system register table, with values of known meaning (Arm ARM)."""

import pytest

from vizor.machine.arch.decode import (
    BASIC_PENDING,
    CORE_IRQ_SOURCE,
    HCR_EL2,
    SCTLR_EL1,
    decode_basic_pending,
    decode_cnt_ctl,
    decode_core_irq_source,
    decode_cpsr,
    decode_gpu_pending,
    decode_hcr,
    decode_mpidr,
    decode_sctlr_el1,
    decode_tcr_el1,
    decode_vtcr_el2,
    decode_vttbr,
    el_of,
)
from vizor.machine.arch.esr import EC_NAMES, decode_esr
from vizor.machine.arch.mmu_fields import Fault, fsc_kind_level, fsc_name
from vizor.machine.arch.sysregs import BY_NAME, encoding_of, name_of


def test_esr_hvc_immediate_with_il():
    d = decode_esr(0x5A000042)
    assert d["EC"] == 0x16 and d["IL"] == 1 and d["imm16"] == 0x42
    assert d.summary == "HVC #0x42 (IL)"


def test_esr_svc_smc_brk():
    assert decode_esr(0x56000000 | 7).summary.startswith("SVC #0x7")
    assert decode_esr(0x5E000000).summary.startswith("SMC #0x0")
    assert decode_esr(0xF20003E8).summary == "BRK #0x3e8 (IL)"


def test_esr_data_abort_translation_level3_write_with_syndrome():
    d = decode_esr(0x93C08047)       # ISV, SAS=64-bit, SRT=0, SF, WnR, DFSC 0x07
    assert (d["ISV"], d["SAS"], d["SRT"], d["SF"], d["WnR"], d["DFSC"]) == (1, 3, 0, 1, 1, 7)
    assert "translation fault, level 3" in d.summary and "write" in d.summary
    assert "64-bit x0" in d.summary


def test_esr_instruction_abort_s1ptw():
    d = decode_esr(0x82000086)
    assert d["S1PTW"] == 1 and d["IFSC"] == 0x06
    assert "S1PTW" in d.summary and "level 2" in d.summary


def test_esr_msr_mrs_trap_names_the_register():
    iss = 3 << 20 | 0 << 17 | 0 << 14 | 0 << 10 | 3 << 5 | 7 << 1 | 1
    d = decode_esr(0x18 << 26 | 1 << 25 | iss)
    assert d.summary == "MRS x3, ID_AA64MMFR0_EL1 (IL)"
    iss = 3 << 20 | 0 << 17 | 4 << 14 | 2 << 10 | 5 << 5 | 1 << 1 | 0
    assert decode_esr(0x18 << 26 | 1 << 25 | iss).summary == "MSR VTTBR_EL2, x5 (IL)"


def test_esr_unknown_sysreg_uses_generic_name():
    iss = 3 << 20 | 1 << 17 | 7 << 14 | 15 << 10 | 2 << 5 | 15 << 1 | 1
    assert "S3_7_C15_C15_1" in decode_esr(0x18 << 26 | 1 << 25 | iss).summary


def test_esr_wfi_wfe_and_others():
    assert decode_esr(0x06000000).summary == "WFI (IL)"
    assert decode_esr(0x06000001).summary == "WFE (IL)"
    assert decode_esr(0x1 << 26 | 1 << 25 | 1 << 24 | 0xE << 20)["CV"] == 1
    assert "Illegal execution state" in decode_esr(0x0E << 26 | 1 << 25).summary
    assert "PC alignment" in decode_esr(0x22 << 26 | 1 << 25).summary
    assert "SP alignment" in decode_esr(0x26 << 26 | 1 << 25).summary
    assert "SError" in decode_esr(0xBE000000).summary
    assert "SIMD/FP" in decode_esr(0x1E000000).summary
    assert decode_esr(0x02000000).summary == "Unknown reason (IL)"


def test_every_ec_has_a_name():
    for ec in (0x00, 0x01, 0x07, 0x0E, 0x15, 0x16, 0x17, 0x18, 0x20, 0x21, 0x22, 0x24, 0x25,
               0x26, 0x2F, 0x3C):
        assert ec in EC_NAMES
    assert "reserved" in decode_esr(0x3F << 26).summary


@pytest.mark.parametrize("fsc,name", [
    (0x07, "translation fault, level 3"), (0x04, "translation fault, level 0"),
    (0x0B, "access flag fault, level 3"), (0x0D, "permission fault, level 1"),
    (0x00, "address size fault, level 0"), (0x15, "synchronous external abort on translation table walk, level 1"),
    (0x21, "alignment fault"), (0x10, "synchronous external abort, not on translation table walk"),
])
def test_fault_status_names(fsc, name):
    assert fsc_name(fsc) == name


def test_fault_status_codes_roundtrip():
    for kind in ("address_size", "translation", "access_flag", "permission", "external"):
        for level in range(4):
            code = Fault(stage=1, level=level, kind=kind).status_code
            assert fsc_kind_level(code) == (kind, level)
    assert Fault(1, 3, "translation").status_code == 0b000111
    assert Fault(2, 2, "permission").status_code == 0b001110
    assert Fault(1, 1, "external").status_code == 0b010101


def test_cpsr_el1h_all_masked():
    d = decode_cpsr(0x3C5)
    assert d.summary == "EL1h DAIF nzcv" and el_of(0x3C5) == 1
    assert (d["D"], d["A"], d["I"], d["F"], d["M"]) == (1, 1, 1, 1, 5)


def test_cpsr_modes_flags_and_aarch32():
    assert decode_cpsr(0x600003C9).summary == "EL2h DAIF nZCv"
    assert decode_cpsr(0x0).summary == "EL0t ---- nzcv"
    assert decode_cpsr(0x3CD | 1 << 20 | 1 << 21).summary.endswith("IL SS")
    assert decode_cpsr(0x1D3).summary.startswith("AArch32 svc")


def test_sctlr_and_hcr_name_every_bit():
    assert decode_sctlr_el1(0x30D00801 | 0b101 | 1 << 12).summary == "SCTLR_EL1 M C I"
    names = {n for n, *_ in SCTLR_EL1}
    assert {"M", "A", "C", "SA", "SA0", "I", "WXN", "EE", "E0E", "UCI", "nTWE", "nTWI", "UCT", "DZE"} <= names
    hcr = {n for n, *_ in HCR_EL2}
    for n in ("VM SWIO PTW FMO IMO AMO VF VI VSE FB BSU DC TWI TWE TID0 TID1 TID2 TID3 TSC TIDCP "
              "TACR TSW TPC TPU TTLB TVM TGE TDZ HCD TRVM RW CD ID").split():
        assert n in hcr
    assert decode_hcr(0x80000019).summary == "HCR_EL2 VM FMO IMO RW"
    assert decode_hcr(1 << 31 | 3 << 10)["BSU"] == 3


def test_translation_control_registers():
    assert decode_vtcr_el2(0x80023558).summary == "40-bit IPA, 4KB, start level 1, PA 40 bits"
    assert decode_vtcr_el2(0x80023598 & ~0xC0 | 0xC0).get("SL0") == 3
    assert "reserved" in decode_vtcr_el2(0x800235D8).summary
    d = decode_tcr_el1(25 | 25 << 16 | 2 << 30 | 2 << 32 | 1 << 23)
    assert d.summary == "TTBR0 39-bit 4KB, TTBR1 off, IPA 40 bits"
    v = decode_vttbr(0x0003_0000_0008_0000)
    assert v["VMID"] == 3 and v.summary == "VMID 3 tables @ 0x80000"


def test_mpidr_and_timers():
    d = decode_mpidr(0x8000_0003)
    assert d["Aff0"] == 3 and d.summary == "core 3 (affinity 0.0.0.3)"
    assert decode_mpidr(0x4100_0102).summary.endswith("U")
    assert decode_cnt_ctl(0b101).summary == "timer ENABLE ISTATUS"


def test_interrupt_sources_and_pending():
    assert [n for n, *_ in CORE_IRQ_SOURCE][:4] == ["CNTPSIRQ", "CNTPNSIRQ", "CNTHPIRQ", "CNTVIRQ"]
    assert decode_core_irq_source(1 << 8 | 1 << 3 | 1 << 5).summary == "CNTVIRQ MAILBOX1 GPU"
    assert decode_basic_pending(1 << 9 | 1 << 19).summary == "PENDING2 GPU_IRQ57"
    desc = {n: d for n, hi, lo, d in BASIC_PENDING}
    assert "uart" in desc["GPU_IRQ57"] and "i2c" in desc["GPU_IRQ53"]
    assert decode_gpu_pending(1 << 29 | 1 << 1, 0).summary == "system timer 1, aux"
    assert decode_gpu_pending(1 << 25 | 1 << 17, 1).summary == "gpio0, uart"


def test_sysreg_encodings_both_ways():
    assert encoding_of("VTTBR_EL2") == (3, 4, 2, 1, 0)
    assert name_of(3, 4, 2, 1, 0) == "VTTBR_EL2"
    assert encoding_of("hcr_el2") == (3, 4, 1, 1, 0)
    assert encoding_of("CNTHP_CTL_EL2") == (3, 4, 14, 2, 1)
    assert encoding_of("DBGBVR5_EL1") == (2, 0, 0, 5, 4)
    assert name_of(1, 4, 8, 7, 6) == "TLBI VMALLS12E1"
    assert encoding_of("TLBI VMALLE1IS") == (1, 0, 8, 3, 0)
    assert name_of(1, 0, 7, 8, 0) == "AT S1E1R"
    assert name_of(3, 7, 15, 15, 7) is None
    with pytest.raises(KeyError):
        encoding_of("NOT_A_REGISTER")


def test_sysreg_table_has_no_duplicate_encodings():
    assert len(set(BY_NAME.values())) == len(BY_NAME)
    for must in ("SCTLR_EL1", "SCTLR_EL2", "SCTLR_EL3", "SCR_EL3", "VBAR_EL2", "ESR_EL2", "FAR_EL2",
                 "HPFAR_EL2", "ELR_EL2", "SPSR_EL2", "VPIDR_EL2", "VMPIDR_EL2", "MPIDR_EL1",
                 "CNTVOFF_EL2", "CNTFRQ_EL0", "CNTV_CTL_EL0", "CLIDR_EL1", "CCSIDR_EL1", "CTR_EL0",
                 "ID_AA64PFR0_EL1", "MDSCR_EL1", "TPIDR_EL2", "CPTR_EL2", "MDCR_EL2"):
        assert must in BY_NAME
