"""MiniUart against BCM2835 ARM Peripherals chapter 2 (AUX registers, mini
UART section 2.2) and the elinux.org BCM2835 datasheet errata (IER bits 0/1
are receive/transmit, IIR bits 2:1)."""

from __future__ import annotations

import pytest

from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.mini_uart import (
    AUX_ENABLES,
    AUX_IRQ,
    AUX_MU_BAUD,
    AUX_MU_CNTL,
    AUX_MU_IER,
    AUX_MU_IIR,
    AUX_MU_IO,
    AUX_MU_LCR,
    AUX_MU_LSR,
    AUX_MU_SCRATCH,
    AUX_MU_STAT,
    MiniUart,
)


@pytest.fixture
def irq():
    return IrqLine("aux")


@pytest.fixture
def sent():
    return []


@pytest.fixture
def uart(irq, sent):
    u = MiniUart(irq, sent.append)
    u.write(AUX_ENABLES, 4, 1)
    return u


def test_registers_are_dead_while_aux_enable_bit_0_is_clear(irq, sent):
    u = MiniUart(irq, sent.append)
    u.write(AUX_MU_SCRATCH, 4, 0x5A)
    u.write(AUX_MU_IO, 4, ord("x"))
    assert sent == []
    assert u.read(AUX_MU_SCRATCH, 4) == 0
    assert u.read(AUX_MU_LSR, 4) == 0
    u.write(AUX_ENABLES, 4, 1)
    assert u.read(AUX_MU_SCRATCH, 4) == 0
    u.write(AUX_MU_SCRATCH, 4, 0x5A)
    assert u.read(AUX_MU_SCRATCH, 4) == 0x5A


def test_tx_bytes_go_to_the_sink_at_once(uart, sent):
    for ch in b"hi\n":
        uart.write(AUX_MU_IO, 4, ch)
    assert bytes(sent) == b"hi\n"
    assert uart.read(AUX_MU_LSR, 4) & 0x60 == 0x60  # TX empty and idle


def test_tx_disabled_holds_bytes_in_the_8_deep_fifo(uart, sent):
    uart.write(AUX_MU_CNTL, 4, 0b01)  # receiver only
    for ch in range(10):
        uart.write(AUX_MU_IO, 4, ch)
    assert sent == []
    stat = uart.read(AUX_MU_STAT, 4)
    assert stat >> 24 & 0xF == 8
    assert stat & (1 << 5)  # TX FIFO full
    assert uart.read(AUX_MU_LSR, 4) & 0x60 == 0
    uart.write(AUX_MU_CNTL, 4, 0b11)
    assert sent == list(range(8))


def test_rx_fifo_is_8_deep_and_excess_waits_without_loss(uart):
    uart.receive(b"0123456789AB")
    stat = uart.read(AUX_MU_STAT, 4)
    assert stat >> 16 & 0xF == 8
    assert uart.pending_input == 4
    got = bytes(uart.read(AUX_MU_IO, 4) for _ in range(12))
    assert got == b"0123456789AB"
    assert not uart.read(AUX_MU_LSR, 4) & 1
    assert not uart.read(AUX_MU_LSR, 4) & 2  # no overrun: nothing was lost


def test_lsr_data_ready_follows_rx_fifo(uart):
    assert uart.read(AUX_MU_LSR, 4) & 1 == 0
    uart.receive(b"a")
    assert uart.read(AUX_MU_LSR, 4) & 1 == 1
    assert uart.read(AUX_MU_STAT, 4) & 1 == 1
    uart.read(AUX_MU_IO, 4)
    assert uart.read(AUX_MU_LSR, 4) & 1 == 0


def test_rx_disabled_leaves_bytes_queued(uart):
    uart.write(AUX_MU_CNTL, 4, 0b10)
    uart.receive(b"q")
    assert uart.read(AUX_MU_LSR, 4) & 1 == 0
    uart.write(AUX_MU_CNTL, 4, 0b11)
    assert uart.read(AUX_MU_IO, 4) == ord("q")


def test_receive_interrupt_raises_and_lowers(uart, irq):
    uart.write(AUX_MU_IER, 4, 0b01)
    assert not irq.level
    assert uart.read(AUX_MU_IIR, 4) == 0xC1  # bit 0 set: nothing pending
    uart.receive(b"z")
    assert irq.level
    assert uart.read(AUX_MU_IIR, 4) == 0xC4  # receiver holds a byte
    assert uart.read(AUX_IRQ, 4) == 1
    uart.read(AUX_MU_IO, 4)
    assert not irq.level
    assert uart.read(AUX_IRQ, 4) == 0


def test_transmit_interrupt_while_tx_fifo_empty(uart, irq):
    uart.write(AUX_MU_IER, 4, 0b10)
    assert irq.level
    assert uart.read(AUX_MU_IIR, 4) == 0xC2  # transmit holding register empty
    uart.write(AUX_MU_CNTL, 4, 0b01)
    uart.write(AUX_MU_IO, 4, 0x41)  # held: FIFO not empty
    assert not irq.level
    uart.write(AUX_MU_CNTL, 4, 0b11)
    assert irq.level
    uart.write(AUX_MU_IER, 4, 0)
    assert not irq.level


def test_disabling_the_mini_uart_lowers_its_interrupt(uart, irq):
    uart.write(AUX_MU_IER, 4, 0b10)
    assert irq.level
    uart.write(AUX_ENABLES, 4, 0)
    assert not irq.level


def test_iir_write_clears_fifos(uart):
    uart.receive(b"abc")
    uart.write(AUX_MU_IIR, 4, 0b110)
    assert uart.read(AUX_MU_LSR, 4) & 1 == 0


def test_dlab_maps_io_and_ier_onto_the_baud_register(uart, sent):
    uart.write(AUX_MU_LCR, 4, 0x83)
    uart.write(AUX_MU_IO, 4, 0x0E)
    uart.write(AUX_MU_IER, 4, 0x01)
    assert uart.read(AUX_MU_BAUD, 4) == 0x010E
    assert sent == []
    uart.write(AUX_MU_LCR, 4, 0x03)
    uart.write(AUX_MU_BAUD, 4, 270)
    assert uart.read(AUX_MU_BAUD, 4) == 270
    assert uart.read(AUX_MU_IER, 4) == 0  # IER itself untouched by DLAB writes


def test_spi_parts_are_unmodelled(uart):
    with pytest.raises(UnmodelledAccess):
        uart.read(0x80, 4)
    with pytest.raises(UnmodelledAccess):
        uart.write(0xC0, 4, 0)


def test_state_round_trip_keeps_queued_input(uart, irq, sent):
    uart.write(AUX_MU_IER, 4, 1)
    uart.receive(b"0123456789")
    saved = uart.state()
    line = IrqLine()
    other = MiniUart(line, sent.append)
    other.restore(saved)
    assert other.state() == saved
    assert line.level
    assert bytes(other.read(AUX_MU_IO, 4) for _ in range(10)) == b"0123456789"
