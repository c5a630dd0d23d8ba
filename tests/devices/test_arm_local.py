"""ArmLocal against the BCM2836 ARM-local peripherals document (QA7 rev 3.4):
core timer/mailbox interrupt control, IRQ/FIQ source registers, GPU and PMU
routing, the local timer and the sixteen core mailboxes."""

from __future__ import annotations

import pytest

from vizor.machine.clock import cycles_for_counter
from vizor.machine.devices.arm_local import (
    CORE_FIQ_SOURCE,
    CORE_IRQ_SOURCE,
    CORE_MAILBOX_INT_CONTROL,
    CORE_TIMER_INT_CONTROL,
    CORE_TIMER_LS,
    CORE_TIMER_MS,
    GPU_INT_ROUTING,
    LOCAL_INT_ROUTING,
    LOCAL_TIMER_CONTROL,
    LOCAL_TIMER_WRITE_FLAGS,
    LT_ENABLE,
    LT_INT_ENABLE,
    LT_INT_FLAG,
    MAILBOX_RDCLR,
    MAILBOX_SET,
    PMU_ROUTING_CLR,
    PMU_ROUTING_SET,
    SRC_CNTV,
    SRC_GPU,
    SRC_LOCAL_TIMER,
    SRC_PMU,
    ArmLocal,
)
from vizor.machine.devices.base import IrqLine, UnmodelledAccess


@pytest.fixture
def irqs():
    return [IrqLine(f"irq{c}") for c in range(4)]


@pytest.fixture
def fiqs():
    return [IrqLine(f"fiq{c}") for c in range(4)]


@pytest.fixture
def local(clock, irqs, fiqs):
    return ArmLocal(clock, irqs, fiqs)


def levels(lines):
    return [line.level for line in lines]


def mbox_set(core, box):
    return MAILBOX_SET + 0x10 * core + 4 * box


def mbox_rdclr(core, box):
    return MAILBOX_RDCLR + 0x10 * core + 4 * box


# --- core timers (QA7 4.6, 4.10) ---------------------------------------------

def test_cntv_routed_to_irq_when_enabled(local, irqs, fiqs):
    local.timer_input(2, 3).set(True)
    assert irqs[2].level is False  # not enabled yet
    local.write(CORE_TIMER_INT_CONTROL + 8, 4, 1 << 3)  # nCNTVIRQ IRQ enable
    assert levels(irqs) == [False, False, True, False]
    assert local.read(CORE_IRQ_SOURCE + 8, 4) == SRC_CNTV
    local.timer_input(2, 3).set(False)
    assert not irqs[2].level
    assert local.read(CORE_IRQ_SOURCE + 8, 4) == 0
    assert not any(levels(fiqs))


def test_timer_fiq_takes_precedence_over_irq(local, irqs, fiqs):
    local.write(CORE_TIMER_INT_CONTROL, 4, 0x11)  # CNTPS to IRQ and FIQ
    local.timer_input(0, 0).set(True)
    assert fiqs[0].level and not irqs[0].level
    assert local.read(CORE_FIQ_SOURCE, 4) == 1
    assert local.read(CORE_IRQ_SOURCE, 4) == 0
    local.timer_input(0, 0).set(False)
    assert not fiqs[0].level


# --- mailboxes (QA7 4.7, 4.8) ------------------------------------------------

def test_mailbox_write_set_and_read_clear(local):
    local.write(mbox_set(1, 2), 4, 0b0101)
    local.write(mbox_set(1, 2), 4, 0b1000)
    assert local.read(mbox_rdclr(1, 2), 4) == 0b1101
    local.write(mbox_rdclr(1, 2), 4, 0b0100)
    assert local.read(mbox_rdclr(1, 2), 4) == 0b1001
    assert local.read(mbox_rdclr(1, 1), 4) == 0


def test_mailbox_write_set_raises_irq_when_enabled(local, irqs):
    local.write(mbox_set(3, 1), 4, 1)
    assert not irqs[3].level
    local.write(CORE_MAILBOX_INT_CONTROL + 12, 4, 1 << 1)
    assert irqs[3].level
    assert local.read(CORE_IRQ_SOURCE + 12, 4) == 1 << 5
    local.write(mbox_rdclr(3, 1), 4, 0xFFFFFFFF)
    assert not irqs[3].level
    assert local.read(CORE_IRQ_SOURCE + 12, 4) == 0


def test_mailbox_fiq_enable_routes_to_fiq(local, irqs, fiqs):
    local.write(CORE_MAILBOX_INT_CONTROL, 4, 0x11)
    local.write(mbox_set(0, 0), 4, 0x80000000)
    assert fiqs[0].level and not irqs[0].level
    assert local.read(CORE_FIQ_SOURCE, 4) == 1 << 4
    local.write(mbox_rdclr(0, 0), 4, 0x80000000)
    assert not fiqs[0].level


# --- GPU and PMU routing (QA7 4.4, 4.5) --------------------------------------

def test_gpu_irq_goes_to_the_routed_core(local, irqs):
    local.gpu_irq_input.set(True)
    assert levels(irqs) == [True, False, False, False]  # core 0 by default
    assert local.read(CORE_IRQ_SOURCE, 4) == SRC_GPU
    local.write(GPU_INT_ROUTING, 4, 2)
    assert levels(irqs) == [False, False, True, False]
    assert local.read(CORE_IRQ_SOURCE + 8, 4) == SRC_GPU
    local.gpu_irq_input.set(False)
    assert not any(levels(irqs))


def test_gpu_fiq_goes_to_its_own_routed_core(local, irqs, fiqs):
    local.write(GPU_INT_ROUTING, 4, 1 << 2 | 0)  # FIQ to core 1, IRQ to core 0
    local.gpu_fiq_input.set(True)
    assert levels(fiqs) == [False, True, False, False]
    assert local.read(CORE_FIQ_SOURCE + 4, 4) == SRC_GPU
    assert not any(levels(irqs))
    local.gpu_fiq_input.set(False)
    assert not any(levels(fiqs))


def test_pmu_routing_is_a_set_clear_pair(local, irqs, fiqs):
    local.pmu_input(1).set(True)
    local.write(PMU_ROUTING_SET, 4, 1 << 1)
    assert irqs[1].level
    assert local.read(CORE_IRQ_SOURCE + 4, 4) == SRC_PMU
    local.write(PMU_ROUTING_SET, 4, 1 << 5)
    assert fiqs[1].level and not irqs[1].level
    assert local.read(PMU_ROUTING_SET, 4) == 0x22
    local.write(PMU_ROUTING_CLR, 4, 0x22)
    assert not fiqs[1].level and not irqs[1].level


# --- local timer (QA7 4.11) --------------------------------------------------

def test_local_timer_counts_the_38_4_mhz_crystal(clock, local, irqs):
    local.write(LOCAL_TIMER_CONTROL, 4, LT_ENABLE | LT_INT_ENABLE | 384)  # 10 µs
    clock.advance_to(12_000 - 1)
    assert not irqs[0].level
    clock.advance_to(12_000)
    assert irqs[0].level
    assert local.read(LOCAL_TIMER_CONTROL, 4) & LT_INT_FLAG
    assert local.read(CORE_IRQ_SOURCE, 4) == SRC_LOCAL_TIMER
    local.write(LOCAL_TIMER_WRITE_FLAGS, 4, 1 << 31)
    assert not irqs[0].level
    assert not local.read(LOCAL_TIMER_CONTROL, 4) & LT_INT_FLAG
    clock.advance_to(24_000)  # periodic: reloads and fires again
    assert irqs[0].level


def test_local_timer_routing_to_fiq_of_core_3(clock, local, irqs, fiqs):
    local.write(LOCAL_INT_ROUTING, 4, 7)
    local.write(LOCAL_TIMER_CONTROL, 4, LT_ENABLE | LT_INT_ENABLE | 1)
    clock.advance_to(1000)
    assert levels(fiqs) == [False, False, False, True]
    assert local.read(CORE_FIQ_SOURCE + 12, 4) == SRC_LOCAL_TIMER
    assert not any(levels(irqs))
    local.write(LOCAL_TIMER_CONTROL, 4, LT_ENABLE | 1)  # interrupt disabled
    assert not fiqs[3].level


def test_local_timer_reload_restarts_the_count(clock, local, irqs):
    local.write(LOCAL_TIMER_CONTROL, 4, LT_ENABLE | LT_INT_ENABLE | 384)
    clock.advance_to(6_000)
    local.write(LOCAL_TIMER_WRITE_FLAGS, 4, 1 << 30)
    clock.advance_to(12_000)
    assert not irqs[0].level
    clock.advance_to(18_000)
    assert irqs[0].level


# --- core timer and unmodelled registers --------------------------------------

def test_core_timer_reads_the_64_bit_counter_ls_first(clock, local):
    clock.advance_to(cycles_for_counter((1 << 32) + 5))
    assert local.read(CORE_TIMER_LS, 4) == 5
    assert local.read(CORE_TIMER_MS, 4) == 1


def test_unmodelled_registers_raise(local):
    with pytest.raises(UnmodelledAccess):
        local.read(0x2C, 4)  # AXI outstanding counters
    with pytest.raises(UnmodelledAccess):
        local.write(CORE_TIMER_LS, 4, 0)


def test_state_round_trip(local, clock, irqs, fiqs):
    local.write(CORE_MAILBOX_INT_CONTROL + 4, 4, 1)
    local.write(mbox_set(1, 0), 4, 0x42)
    saved = local.state()
    fresh_irqs = [IrqLine() for _ in range(4)]
    other = ArmLocal(clock, fresh_irqs, [IrqLine() for _ in range(4)])
    other.restore(saved)
    assert other.state() == saved
    assert fresh_irqs[1].level
