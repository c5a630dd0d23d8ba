"""Table walks on hand-built tables (VMSAv8-64, Arm ARM chapter D5 / D8)."""

import pytest

from vizor.machine.arch.mmu import (
    BusError,
    TranslationRegs,
    UnsupportedGranule,
    translate_el10,
    vmid_of,
    walk_stage1,
    walk_stage2,
)
from vizor.machine.arch.mmu_fields import mair_attr_name, s2_memattr_name

AF, TABLE, BLOCK, PAGE = 1 << 10, 0b11, 0b01, 0b11
MAIR = 0x04 << 8 | 0xFF            # Attr0 Normal WB RA WA, Attr1 Device-nGnRE
RAM_TOP = 0x1000_0000


class Ram:
    """A sparse little-endian RAM of 64-bit words; reads above RAM_TOP are bus errors."""

    def __init__(self):
        self.words = {}

    def __setitem__(self, pa, value):
        self.words[pa] = value

    def read(self, pa, size):
        if pa >= RAM_TOP:
            raise BusError(hex(pa))
        return self.words.get(pa, 0)


def s1_regs(**kw):
    base = dict(sctlr_el1=1, tcr_el1=25 | 25 << 16 | 0b10 << 30 | 2 << 32, ttbr0_el1=0x10000,
                ttbr1_el1=0x20000, mair_el1=MAIR)
    base.update(kw)
    return TranslationRegs(**base)


@pytest.fixture
def ram():
    r = Ram()
    # TTBR0 (39-bit, starts at L1): L1[0] block 0 -> 0x4000_0000, L1[1] -> L2 @0x11000
    r[0x10000] = 0x4000_0000 | AF | BLOCK
    r[0x10008] = 0x11000 | TABLE
    r[0x11000] = 0x0060_0000 | AF | 1 << 2 | BLOCK            # L2 block, Device
    r[0x11008] = 0x12000 | TABLE
    r[0x12000 + 8 * 5] = 0x0ABC_D000 | AF | 1 << 6 | PAGE     # EL0 RW page
    r[0x12000 + 8 * 6] = 0x0ABC_E000 | PAGE                   # AF = 0
    r[0x12000 + 8 * 7] = 0x0ABC_F000 | AF | 0b11 << 6 | PAGE  # read-only everywhere
    r[0x12000 + 8 * 8] = 0x0ABC_F000 | AF | 0b01           # reserved at level 3
    # TTBR1: L1[511] block -> 0x8000_0000
    r[0x20000 + 8 * 511] = 0x8000_0000 | AF | 1 << 54 | BLOCK
    return r


def test_l1_block(ram):
    w = walk_stage1(0x1234_5678, s1_regs(), ram.read)
    assert w.ok and w.output == 0x4000_0000 + 0x1234_5678
    (step,) = w.steps
    assert (step.level, step.kind, step.index, step.ia_bits) == (1, "block", 0, (38, 30))
    assert step.mem_type == "Normal WB RA WA" and step.af
    # AArch64: EL0 may execute what it cannot read (UXN=0), unlike AArch32.
    assert w.permissions.text() == "EL1 rwx EL0 --x"


def test_l2_block_and_l3_page(ram):
    w = walk_stage1(0x4012_3456, s1_regs(), ram.read)
    assert w.output == 0x0072_3456 and [s.kind for s in w.steps] == ["table", "block"]
    assert w.mem_type == "Device-nGnRE" and w.steps[1].ia_bits == (29, 21)
    w = walk_stage1(0x4020_5ABC, s1_regs(), ram.read, access="w", el=0)
    assert w.output == 0x0ABC_DABC and [s.kind for s in w.steps] == ["table", "table", "page"]
    assert w.steps[2].index == 5 and w.steps[2].desc_pa == 0x12000 + 40
    assert w.permissions.el0_w and not w.permissions.priv_x   # EL0-writable implies PXN


def test_invalid_reserved_and_access_flag(ram):
    w = walk_stage1(0x4020_9000, s1_regs(), ram.read)
    assert (w.fault.kind, w.fault.level, w.fault.status_code) == ("translation", 3, 0x07)
    w = walk_stage1(0x4020_8000, s1_regs(), ram.read)
    assert w.steps[-1].kind == "reserved" and w.fault.kind == "translation"
    w = walk_stage1(0x4020_6000, s1_regs(), ram.read)
    assert (w.fault.kind, w.fault.level, w.fault.status_code) == ("access_flag", 3, 0x0B)
    w = walk_stage1(0x8000_0000, s1_regs(), ram.read)
    assert (w.fault.kind, w.fault.level) == ("translation", 1)


def test_permission_faults(ram):
    w = walk_stage1(0x4020_7000, s1_regs(), ram.read, access="w", el=1)
    assert (w.fault.kind, w.fault.level, w.fault.write) == ("permission", 3, True)
    assert walk_stage1(0x4020_7000, s1_regs(), ram.read, access="r", el=0).ok
    assert walk_stage1(0x1000, s1_regs(), ram.read, access="r", el=0).fault.kind == "permission"
    assert walk_stage1(0x1000, s1_regs(), ram.read, access="x", el=1).ok
    wxn = s1_regs(sctlr_el1=1 | 1 << 19)
    assert walk_stage1(0x1000, wxn, ram.read, access="x", el=1).fault.kind == "permission"


def test_aptable_restricts_lower_levels(ram):
    ram[0x10008] = 0x11000 | TABLE | 0b10 << 61 | 1 << 59    # no writes, PXN below
    w = walk_stage1(0x4020_5000, s1_regs(), ram.read, access="w", el=0)
    assert w.fault.kind == "permission" and w.steps[0].ap_table == 0b10
    assert w.permissions.text() == "EL1 r-- EL0 r-x"


def test_ttbr1_and_out_of_range_and_epd(ram):
    w = walk_stage1(0xFFFF_FFFF_C000_1000, s1_regs(), ram.read)
    assert w.output == 0x8000_1000 and w.steps[0].table_base == 0x20000
    assert not w.permissions.el0_x
    bad = walk_stage1(0x0000_8000_0000_0000, s1_regs(), ram.read)
    assert (bad.fault.kind, bad.fault.level, bad.steps) == ("translation", 0, ())
    epd = s1_regs(tcr_el1=s1_regs().tcr_el1 | 1 << 23)
    assert walk_stage1(0xFFFF_FFFF_C000_1000, epd, ram.read).fault.level == 0
    tbi = s1_regs(tcr_el1=s1_regs().tcr_el1 | 1 << 37)
    assert walk_stage1(0xAB00_0000_1234_0000, tbi, ram.read).output == 0x4000_0000 + 0x1234_0000


def test_start_level_from_t0sz(ram):
    ram[0x30000 + 8 * 1] = 0x31000 | TABLE                  # 48-bit: L0 index from bits 47:39
    ram[0x31000] = 0x0 | AF | BLOCK
    regs = s1_regs(tcr_el1=16 | 0b10 << 30 | 5 << 32 | 1 << 23, ttbr0_el1=0x30000)
    w = walk_stage1(0x80_0000_1000, regs, ram.read)
    assert [s.level for s in w.steps] == [0, 1] and w.steps[0].ia_bits == (47, 39)
    assert w.output == 0x1000


def test_address_size_fault_above_ips(ram):
    ram[0x10010] = 0x100_0000_0000 | AF | BLOCK             # 2^40, above a 40-bit IPS
    w = walk_stage1(0x8000_0000, s1_regs(), ram.read)
    assert (w.fault.kind, w.fault.level, w.fault.status_code) == ("address_size", 1, 0x01)


def test_external_abort_on_walk(ram):
    ram[0x10018] = 0x2000_0000 | TABLE                      # table beyond RAM
    w = walk_stage1(0xC000_0000, s1_regs(), ram.read)
    assert (w.fault.kind, w.fault.level, w.fault.status_code) == ("external", 2, 0x16)
    assert w.steps[-1].kind == "abort" and w.steps[-1].desc is None


def test_mmu_off_is_flat(ram):
    regs = s1_regs(sctlr_el1=0)
    w = walk_stage1(0x3F20_1000, regs, ram.read, access="w", el=0)
    assert w.output == 0x3F20_1000 and not w.steps and not w.mmu_enabled
    assert w.mem_type == "Device-nGnRnE"
    assert walk_stage1(1 << 45, regs, ram.read).fault.kind == "address_size"


def test_unsupported_granules(ram):
    with pytest.raises(UnsupportedGranule, match="16KB granule"):
        walk_stage1(0x1000, s1_regs(tcr_el1=25 | 0b10 << 14 | 0b10 << 30), ram.read)
    with pytest.raises(UnsupportedGranule, match="reserved"):
        walk_stage1(0xFFFF_FFFF_C000_0000, s1_regs(tcr_el1=25 | 25 << 16), ram.read)


def test_64k_granule_page(ram):
    ram[0x40000 + 8 * 2] = 0x50000 | TABLE                   # 42-bit VA: L2 bits 41:29
    ram[0x50000 + 8 * 3] = 0x0123_0000 | AF | PAGE           # L3 bits 28:16
    regs = s1_regs(tcr_el1=22 | 0b01 << 14 | 1 << 23 | 2 << 32, ttbr0_el1=0x40000)
    w = walk_stage1(2 << 29 | 3 << 16 | 0x1234, regs, ram.read)
    assert w.output == 0x0123_1234 and [s.ia_bits for s in w.steps] == [(41, 29), (28, 16)]


def test_el2_regime(ram):
    ram[0x60000] = 0x0 | AF | 0b10 << 6 | BLOCK              # AP[2]=1: read-only at EL2
    regs = TranslationRegs(sctlr_el2=1, tcr_el2=25 | 2 << 16, ttbr0_el2=0x60000, mair_el2=MAIR)
    w = walk_stage1(0x1000, regs, ram.read, regime="el2", access="r", el=2)
    assert w.output == 0x1000 and w.permissions.text("EL2") == "EL2 r-x"
    assert walk_stage1(0x1000, regs, ram.read, "el2", "w", 2).fault.kind == "permission"


# --- stage 2 -----------------------------------------------------------------------------

def s2_regs(**kw):
    base = dict(hcr_el2=1, vtcr_el2=1 << 31 | 24 | 1 << 6 | 2 << 16,   # 40-bit IPA, start L1
                vttbr_el2=0x7 << 48 | 0x80000)
    base.update(kw)
    return TranslationRegs(**base)


@pytest.fixture
def s2ram(ram):
    # 40-bit IPA starting at L1 = 1024 entries: two concatenated tables at 0x80000
    ram[0x80000 + 8 * 0] = 0x0 | AF | 0xF << 2 | 0b11 << 6 | BLOCK          # IPA 0-1G -> PA 0
    ram[0x80000 + 8 * 600] = 0x4000_0000 | AF | 0xF << 2 | 0b01 << 6 | BLOCK  # read-only
    ram[0x80000 + 8 * 601] = 0x4000_0000 | 0xF << 2 | 0b11 << 6 | BLOCK       # AF = 0
    return ram


def test_vmid():
    assert vmid_of(0x0003_0000_0008_0000) == 3 and vmid_of(0xFFFF << 48) == 0xFF


def test_stage2_concatenated_tables(s2ram):
    w = walk_stage2(600 << 30 | 0x1234, s2_regs(), s2ram.read)
    (step,) = w.steps
    assert (step.index, step.ia_bits, step.desc_pa) == (600, (39, 30), 0x80000 + 8 * 600)
    assert w.output == 0x4000_1234 and w.vmid == 7 and step.s2ap == 0b01
    assert s2_memattr_name(step.memattr) == "Normal WB"
    assert walk_stage2(600 << 30, s2_regs(), s2ram.read, "w").fault.kind == "permission"
    f = walk_stage2(601 << 30 | 0x5000, s2_regs(), s2ram.read).fault
    assert (f.stage, f.kind, f.level, f.ipa) == (2, "access_flag", 1, 601 << 30 | 0x5000)


def test_stage2_bad_configuration_faults_at_level0(s2ram):
    bad = s2_regs(vtcr_el2=1 << 31 | 24 | 0 << 6)       # 40-bit IPA cannot start at L2
    assert walk_stage2(0x1000, bad, s2ram.read).fault.level == 0
    assert walk_stage2(1 << 41, s2_regs(), s2ram.read).fault.kind == "translation"


def test_two_stage_walk_and_s1ptw_fault(s2ram):
    regs = s1_regs(**{k: getattr(s2_regs(), k) for k in ("hcr_el2", "vtcr_el2", "vttbr_el2")})
    w = translate_el10(0x4020_5ABC, regs, s2ram.read)
    assert w.ipa == 0x0ABC_DABC and w.output == 0x0ABC_DABC and w.vmid == 7
    assert all(s.s2_walk is not None and s.s2_walk.ok for s in w.steps)
    # Move the stage-1 L1 table to an IPA whose stage-2 entry has AF = 0.
    regs2 = s1_regs(ttbr0_el1=601 << 30, **{k: getattr(regs, k) for k in ("hcr_el2", "vtcr_el2", "vttbr_el2")})
    f = translate_el10(0x1000, regs2, s2ram.read).fault
    assert (f.stage, f.kind, f.level, f.s1ptw, f.ipa) == (2, "access_flag", 1, True, 601 << 30)


def test_final_ipa_stage2_fault(s2ram):
    s2ram[0x10000 + 8 * 2] = (600 << 30) | AF | BLOCK          # VA 2G -> IPA in the read-only block
    regs = s1_regs(**{k: getattr(s2_regs(), k) for k in ("hcr_el2", "vtcr_el2", "vttbr_el2")})
    w = translate_el10(0x8000_0010, regs, s2ram.read, access="w")
    assert (w.fault.stage, w.fault.kind, w.fault.s1ptw, w.fault.ipa) == (2, "permission", False, 600 << 30 | 0x10)
    assert w.fault.address == 0x8000_0010


def test_guest_mmu_off_still_goes_through_stage2(s2ram):
    regs = s2_regs(sctlr_el1=0)
    w = translate_el10(600 << 30 | 8, regs, s2ram.read)
    assert w.output == 0x4000_0008 and w.stage2 is not None


def test_mair_names():
    assert mair_attr_name(0xFF) == "Normal WB RA WA"
    assert mair_attr_name(0x44) == "Normal NC"
    assert mair_attr_name(0x04) == "Device-nGnRE" and mair_attr_name(0x00) == "Device-nGnRnE"
    assert mair_attr_name(0xBB) == "Normal WT RA WA"
    assert mair_attr_name(0x4F) == "Normal inner WB RA WA, outer NC"
