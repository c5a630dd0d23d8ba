"""InterruptController against BCM2835 ARM Peripherals chapter 7 (section 7.5
register table: basic pending, pending 1/2, FIQ control, enable/disable)."""

from __future__ import annotations

import pytest

from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.interrupt_controller import (
    DISABLE_BASIC_IRQS,
    DISABLE_IRQS_1,
    DISABLE_IRQS_2,
    ENABLE_BASIC_IRQS,
    ENABLE_IRQS_1,
    ENABLE_IRQS_2,
    FIQ_CONTROL,
    IRQ_BASIC_PENDING,
    IRQ_PENDING_1,
    IRQ_PENDING_2,
    InterruptController,
)


@pytest.fixture
def out():
    return IrqLine("irq"), IrqLine("fiq")


@pytest.fixture
def ic(out):
    return InterruptController(*out)


def test_enable_and_disable_registers_are_a_set_clear_pair(ic):
    ic.write(ENABLE_IRQS_1, 4, 0b0011)
    ic.write(ENABLE_IRQS_1, 4, 0b1000)
    assert ic.read(ENABLE_IRQS_1, 4) == 0b1011
    assert ic.read(DISABLE_IRQS_1, 4) == 0b1011
    ic.write(DISABLE_IRQS_1, 4, 0b0010)
    assert ic.read(ENABLE_IRQS_1, 4) == 0b1001
    ic.write(ENABLE_IRQS_2, 4, 1 << 25)
    ic.write(DISABLE_IRQS_2, 4, 0)
    assert ic.read(ENABLE_IRQS_2, 4) == 1 << 25
    ic.write(ENABLE_BASIC_IRQS, 4, 0xFF)
    ic.write(DISABLE_BASIC_IRQS, 4, 0x0F)
    assert ic.read(ENABLE_BASIC_IRQS, 4) == 0xF0


def test_gpu_irq_raises_output_only_when_enabled(ic, out):
    irq, _ = out
    ic.irq_input(1).set(True)  # system timer match 1
    assert not irq.level
    assert ic.read(IRQ_PENDING_1, 4) == 0
    ic.write(ENABLE_IRQS_1, 4, 1 << 1)
    assert irq.level
    assert ic.read(IRQ_PENDING_1, 4) == 1 << 1
    assert ic.read(IRQ_BASIC_PENDING, 4) == 1 << 8
    ic.irq_input(1).set(False)
    assert not irq.level
    assert ic.read(IRQ_BASIC_PENDING, 4) == 0


def test_disable_lowers_a_pending_irq(ic, out):
    irq, _ = out
    ic.irq_input(29).set(True)
    ic.write(ENABLE_IRQS_1, 4, 1 << 29)
    assert irq.level
    ic.write(DISABLE_IRQS_1, 4, 1 << 29)
    assert not irq.level


def test_pending_2_and_basic_bit_9(ic, out):
    irq, _ = out
    ic.write(ENABLE_IRQS_2, 4, 1 << (49 - 32))
    ic.irq_input(49).set(True)  # gpio_int[0]
    assert irq.level
    assert ic.read(IRQ_PENDING_2, 4) == 1 << 17
    assert ic.read(IRQ_BASIC_PENDING, 4) == 1 << 9
    ic.irq_input(49).set(False)
    assert not irq.level and ic.read(IRQ_PENDING_2, 4) == 0


def test_basic_pending_shortcut_bits_for_uart0_and_aux(ic):
    ic.write(ENABLE_IRQS_2, 4, 1 << (57 - 32))
    ic.irq_input(57).set(True)  # UART0 -> basic bit 19
    assert ic.read(IRQ_BASIC_PENDING, 4) == 1 << 9 | 1 << 19
    ic.write(ENABLE_IRQS_1, 4, 1 << 7)
    ic.irq_input(7).set(True)  # GPU IRQ 7 -> basic bit 10
    assert ic.read(IRQ_BASIC_PENDING, 4) == 1 << 8 | 1 << 9 | 1 << 10 | 1 << 19
    ic.irq_input(29).set(True)  # AUX has no shortcut bit (and is not enabled)
    assert ic.read(IRQ_BASIC_PENDING, 4) & ~(1 << 8 | 1 << 9 | 1 << 10 | 1 << 19) == 0


def test_arm_basic_interrupts_use_the_basic_enable(ic, out):
    irq, _ = out
    ic.basic_input(1).set(True)  # ARM mailbox
    assert not irq.level
    ic.write(ENABLE_BASIC_IRQS, 4, 1 << 1)
    assert irq.level
    assert ic.read(IRQ_BASIC_PENDING, 4) == 1 << 1
    ic.write(DISABLE_BASIC_IRQS, 4, 1 << 1)
    assert not irq.level


def test_fiq_control_selects_one_source(ic, out):
    irq, fiq = out
    ic.write(FIQ_CONTROL, 4, 0x80 | 57)
    assert ic.read(FIQ_CONTROL, 4) == 0xB9
    ic.irq_input(56).set(True)
    assert not fiq.level
    ic.irq_input(57).set(True)
    assert fiq.level
    assert not irq.level  # the FIQ source need not be IRQ-enabled
    ic.irq_input(57).set(False)
    assert not fiq.level
    ic.irq_input(57).set(True)
    ic.write(FIQ_CONTROL, 4, 57)  # enable bit clear
    assert not fiq.level


def test_fiq_source_64_and_up_are_arm_basic(ic, out):
    _, fiq = out
    ic.write(FIQ_CONTROL, 4, 0x80 | 64)
    ic.basic_input(0).set(True)  # ARM timer
    assert fiq.level
    ic.basic_input(0).set(False)
    assert not fiq.level


def test_pending_registers_are_read_only_and_other_offsets_unmodelled(ic):
    ic.write(IRQ_PENDING_1, 4, 0xFFFFFFFF)
    assert ic.read(IRQ_PENDING_1, 4) == 0
    with pytest.raises(UnmodelledAccess):
        ic.read(0x100, 4)
    with pytest.raises(UnmodelledAccess):
        ic.write(0x228, 4, 0)


def test_state_round_trip(ic, out):
    ic.write(ENABLE_IRQS_1, 4, 1 << 3)
    ic.irq_input(3).set(True)
    saved = ic.state()
    line = IrqLine()
    other = InterruptController(line, IrqLine())
    other.restore(saved)
    assert other.state() == saved
    assert line.level
    assert other.irq_input(3).level
