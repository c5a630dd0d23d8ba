"""Gpio against BCM2835 ARM Peripherals chapter 6 (register table 6.1, pull
defaults in table 6-31, the GPPUD/GPPUDCLK sequence, event detection)."""

from __future__ import annotations

import pytest

from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.gpio import (
    GPAFEN0,
    GPCLR0,
    GPCLR1,
    GPEDS0,
    GPEDS1,
    GPFEN0,
    GPHEN0,
    GPLEN1,
    GPLEV0,
    GPLEV1,
    GPPUD,
    GPPUDCLK0,
    GPREN0,
    GPSET0,
    GPSET1,
    Gpio,
)


@pytest.fixture
def lines():
    return [IrqLine(f"gpio_int{n}") for n in range(4)]


@pytest.fixture
def gpio(lines):
    return Gpio(lines)


def make_output(gpio, pin):
    reg = 4 * (pin // 10)
    value = gpio.read(reg, 4) & ~(7 << 3 * (pin % 10)) | 1 << 3 * (pin % 10)
    gpio.write(reg, 4, value)


def test_fsel_registers_read_back(gpio):
    gpio.write(0x04, 4, 0b100 << 12 | 0b100 << 15)  # GPIO 14/15 ALT0 (UART0)
    assert gpio.read(0x04, 4) == 0b100100 << 12
    assert gpio.function(14) == 4


def test_reset_levels_follow_the_default_pulls(gpio):
    level = gpio.read(GPLEV0, 4)
    assert level & 0x1FF == 0x1FF          # GPIO 0-8 pulled up
    assert level >> 9 & 0x7FFFF == 0        # GPIO 9-27 pulled down


def test_set_and_clear_drive_output_pins(gpio):
    make_output(gpio, 17)
    gpio.write(GPSET0, 4, 1 << 17)
    assert gpio.read(GPLEV0, 4) >> 17 & 1
    gpio.write(GPCLR0, 4, 1 << 17)
    assert not gpio.read(GPLEV0, 4) >> 17 & 1


def test_set_on_an_input_pin_changes_only_the_latch(gpio):
    gpio.write(GPSET0, 4, 1 << 20)  # GPIO 20 is an input pulled down
    assert not gpio.read(GPLEV0, 4) >> 20 & 1
    make_output(gpio, 20)
    assert gpio.read(GPLEV0, 4) >> 20 & 1


def test_set_and_clear_read_as_zero(gpio):
    gpio.write(GPSET1, 4, 0xFFFF)
    assert gpio.read(GPSET1, 4) == 0
    assert gpio.read(GPCLR1, 4) == 0


def test_bank_1_covers_pins_32_to_53(gpio):
    make_output(gpio, 47)  # the Pi 3 activity LED is behind the expander; any pin will do
    gpio.write(GPSET1, 4, 1 << 15)
    assert gpio.read(GPLEV1, 4) >> 15 & 1


def test_pull_up_down_sequence_changes_an_input_level(gpio):
    gpio.write(GPPUD, 4, 2)           # pull up
    gpio.write(GPPUDCLK0, 4, 1 << 15)
    gpio.write(GPPUD, 4, 0)           # remove control before the clock
    gpio.write(GPPUDCLK0, 4, 0)
    assert gpio.read(GPLEV0, 4) >> 15 & 1
    gpio.write(GPPUD, 4, 1)           # pull down
    gpio.write(GPPUDCLK0, 4, 1 << 15)
    gpio.write(GPPUDCLK0, 4, 0)
    assert not gpio.read(GPLEV0, 4) >> 15 & 1


def test_pull_is_latched_on_the_clock_edge_only(gpio):
    gpio.write(GPPUD, 4, 2)
    gpio.write(GPPUDCLK0, 4, 1 << 20)
    gpio.write(GPPUD, 4, 0)
    gpio.write(GPPUDCLK0, 4, 1 << 20)  # clock still high: no new edge
    assert gpio.read(GPLEV0, 4) >> 20 & 1


def test_external_drive_overrides_the_pull(gpio):
    gpio.drive(4, False)
    assert not gpio.read(GPLEV0, 4) >> 4 & 1
    gpio.release(4)
    assert gpio.read(GPLEV0, 4) >> 4 & 1


def test_rising_edge_sets_event_status_and_irq_until_cleared(gpio, lines):
    gpio.write(GPREN0, 4, 1 << 17)
    gpio.drive(17, True)
    assert gpio.read(GPEDS0, 4) == 1 << 17
    assert lines[0].level and lines[3].level and not lines[1].level
    gpio.drive(17, False)  # falling edge not enabled
    assert gpio.read(GPEDS0, 4) == 1 << 17
    gpio.write(GPEDS0, 4, 1 << 17)  # write one to clear
    assert gpio.read(GPEDS0, 4) == 0
    assert not lines[0].level and not lines[3].level


def test_falling_edge_detect_including_async(gpio):
    gpio.write(GPFEN0, 4, 1 << 2)
    gpio.write(GPAFEN0, 4, 1 << 3)
    gpio.drive(2, False)
    gpio.drive(3, False)
    assert gpio.read(GPEDS0, 4) == 0b1100


def test_level_detect_sets_again_while_level_persists(gpio, lines):
    gpio.write(GPHEN0, 4, 1 << 0)  # GPIO 0 pulled high
    assert gpio.read(GPEDS0, 4) & 1
    gpio.write(GPEDS0, 4, 1)
    assert gpio.read(GPEDS0, 4) & 1
    gpio.drive(0, False)
    gpio.write(GPEDS0, 4, 1)
    assert gpio.read(GPEDS0, 4) == 0
    assert not lines[0].level


def test_bank_1_low_level_detect_uses_gpio_int_1(gpio, lines):
    gpio.drive(40, False)
    gpio.write(GPLEN1, 4, 1 << 8)
    assert gpio.read(GPEDS1, 4) == 1 << 8
    assert lines[1].level and not lines[0].level
    gpio.drive(40, True)
    gpio.write(GPEDS1, 4, 1 << 8)
    assert not lines[1].level


def test_reserved_offsets_raise(gpio):
    with pytest.raises(UnmodelledAccess):
        gpio.read(0x18, 4)
    with pytest.raises(UnmodelledAccess):
        gpio.write(0xB0, 4, 0)


def test_state_round_trip(gpio):
    make_output(gpio, 5)
    gpio.write(GPCLR0, 4, 1 << 5)
    gpio.drive(30, True)
    saved = gpio.state()
    other = Gpio()
    other.restore(saved)
    assert other.state() == saved
    assert other.read(GPLEV0, 4) == gpio.read(GPLEV0, 4)


def test_gpfsel5_holds_the_functions_of_pins_50_to_53():
    g = Gpio()
    g.write(0x14, 4, 0xFFFFFFFF)  # GPFSEL5: FSEL50..FSEL53, bits 31:12 reserved
    assert g.read(0x14, 4) == 0xFFF
