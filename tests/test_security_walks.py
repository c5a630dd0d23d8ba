"""Secure translation regimes (EL3, Secure EL1&0) against a real (Unicorn) Cortex-A53.

The tables are the random ones of test_mmu_vs_cpu (table descriptors carry
random APTable/XNTable bits and here NSTable, leaves a random NS bit).  For the EL3
regime the page holding the AT code is mapped first (flat, read-only, Secure),
since the core that answers runs at EL3 with SCTLR_EL3.M = 1.  The walkers'
output, fault, level, and the security of the output (``walk_security``) are
compared with PAR_EL1 after AT S1E3R/W, and AT S1E1R/W, S1E0R/W with
SCR_EL3.NS = 0.  PAR_EL1.NS is compared where the architecture defines it:
a successful translation of a Secure regime.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from cpu_at import CODE, CpuAt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mmu_vs_cpu import MAIR, Tables, _compare, _va

from vizor.machine.arch.mmu import TranslationRegs, walk_stage1
from vizor.machine.arch.mmu_fields import WalkStep
from vizor.machine.arch.security import is_secure, walk_security, world_label


@pytest.fixture(scope="module")
def cpu():
    c = CpuAt()
    yield c
    c.secure(False)
    c.load(TranslationRegs())


def _map_code(tables: Tables, root: int, inputsize: int) -> None:
    """A table path for the page of the AT code: VA CODE -> PA CODE, EL3 read-only, Secure."""
    table, level, hi = root, 4 - (1 + (inputsize - 13) // 9), inputsize - 1
    while True:
        lo = 12 + (3 - level) * 9
        pa = table + 8 * ((CODE >> lo) & ((1 << (hi - lo + 1)) - 1))
        if level == 3:
            tables._put(pa, CODE | 3 | 0b10 << 6 | 1 << 10)   # AttrIndx 0, AP ro, AF
            return
        table, level, hi = tables.new_table(1), level + 1, lo - 1
        tables._put(pa, table | 3)


def _ns_tables(tables: Tables, rng: random.Random, keep=()) -> None:
    """NSTable = 1 in about a third of the descriptors (IGNORED in a block or page)."""
    for pa, d in list(tables.entries.items()):
        if d & 3 == 3 and pa not in keep and rng.random() < 0.35:
            tables._put(pa, d | 1 << 63)


def _compare_ns(w, par, what: str) -> None:
    _compare(w, par, what)
    if w.fault is None and not par.fault:
        sec = walk_security(w, True)
        assert par.ns == (not sec.output), f"{what}: PAR.NS {int(par.ns)}, walker says {sec.text()}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), t0sz=st.integers(25, 39), ps=st.sampled_from([0, 1, 2]),
       tbi=st.booleans())
def test_el3_walks_match_at(cpu, seed, t0sz, ps, tbi):
    rng = random.Random(seed)
    cpu.clear()
    tables = Tables(cpu, rng)
    outsize = {0: 32, 1: 36, 2: 40}[ps]
    inputsize = 64 - t0sz
    ttbr = tables.new_table(1)
    _map_code(tables, ttbr, inputsize)
    code_path = set(tables.entries)
    tcr = (1 << 31) | (1 << 23) | t0sz | ps << 16 | tbi << 20
    regs = TranslationRegs(sctlr_el3=1, tcr_el3=tcr, ttbr0_el3=ttbr, mair_el3=MAIR)
    vas = []
    for _ in range(8):
        va = _va(rng, inputsize, False, tbi)
        tables.ensure(1, ttbr, 4 - (1 + (inputsize - 13) // 9), inputsize, va, outsize)
        vas.append(va)
    _ns_tables(tables, rng, code_path)
    cpu.load(regs)
    try:
        for va in vas:
            for op, access in (("R", "r"), ("W", "w")):
                w = walk_stage1(va, regs, cpu.read, "el3", access, 3)
                _compare_ns(w, cpu.at(f"S1E3{op}", va), f"AT S1E3{op} 0x{va:x}")
    finally:
        cpu.load(TranslationRegs())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), t0sz=st.integers(25, 39), ips=st.sampled_from([0, 1, 2]),
       hcr=st.sampled_from([0, 1, 1 << 12]))
def test_secure_el10_walks_match_at(cpu, seed, t0sz, ips, hcr):
    """HCR_EL2 (VM, DC) has no effect on the Secure EL1&0 regime: the walker is given 0."""
    rng = random.Random(seed)
    cpu.clear()
    tables = Tables(cpu, rng)
    outsize = {0: 32, 1: 36, 2: 40}[ips]
    inputsize = 64 - t0sz
    ttbr = tables.new_table(1)
    tcr = t0sz | 1 << 23 | 0b10 << 30 | ips << 32
    regs = TranslationRegs(sctlr_el1=1, tcr_el1=tcr, ttbr0_el1=ttbr, mair_el1=MAIR, hcr_el2=hcr)
    vas = []
    for _ in range(8):
        va = _va(rng, inputsize, False, False)
        tables.ensure(1, ttbr, 4 - (1 + (inputsize - 13) // 9), inputsize, va, outsize)
        vas.append(va)
    _ns_tables(tables, rng)
    cpu.load(regs)
    cpu.secure(True)
    try:
        for va in vas:
            for op, access, el in (("R", "r", 1), ("W", "w", 1), ("R", "r", 0)):
                e = "E0" if el == 0 else "E1"
                w = walk_stage1(va, replace(regs, hcr_el2=0), cpu.read, "el10", access, el)
                _compare_ns(w, cpu.at(f"S1{e}{op}", va), f"AT S1{e}{op} (Secure) 0x{va:x}")
    finally:
        cpu.secure(False)


def _step(kind: str, level: int, **kw) -> WalkStep:
    return WalkStep(stage=1, level=level, table_base=0, index=0, ia_bits=(0, 0), desc_addr=0,
                    desc_pa=0, desc=0, kind=kind, **kw)


def test_nstable_makes_the_rest_of_a_secure_walk_non_secure():
    from vizor.machine.arch.mmu_fields import Walk
    steps = (_step("table", 1, ns_table=False), _step("table", 2, ns_table=True),
             _step("page", 3, ns=False, output=0x1000))
    sec = walk_security(Walk(0, "el3", 1, steps, output=0x1000), True)
    assert sec.lookups == (True, True, False) and sec.output is False and sec.ns_table_level == 2
    assert "NSTable = 1 at level 2" in sec.text()
    leaf_ns = walk_security(Walk(0, "el3", 1, steps[:1] + (_step("block", 2, ns=True),), output=0), True)
    assert leaf_ns.lookups == (True, True) and leaf_ns.output is False
    assert walk_security(Walk(0, "el10", 1, steps, output=0x1000), False).lookups == (False,) * 3


def test_world_labels():
    assert [world_label(el, 0x5B1) for el in range(4)] == ["NS-EL0", "NS-EL1", "EL2 (NS)", "EL3"]
    assert [world_label(el, 0x5B0) for el in (0, 1, 3)] == ["S-EL0", "S-EL1", "EL3"]
    assert is_secure(3, 0x5B1) and not is_secure(1, 1) and is_secure(1, 0)
