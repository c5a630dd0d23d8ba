"""Pl011Uart against BCM2835 ARM Peripherals chapter 13 and the PL011 TRM
(FR flags, LCRH.FEN, CR enables, IFLS trigger levels, RIS/MIS/ICR)."""

from __future__ import annotations

import pytest

from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.pl011 import (
    CR,
    DR,
    FR,
    FR_BUSY,
    FR_RXFE,
    FR_RXFF,
    FR_TXFE,
    FR_TXFF,
    IBRD,
    ICR,
    IFLS,
    IMSC,
    INT_RT,
    INT_RX,
    INT_TX,
    LCRH,
    LCRH_FEN,
    MIS,
    RIS,
    Pl011Uart,
)

ENABLED = 0x301  # UARTEN | TXE | RXE


@pytest.fixture
def irq():
    return IrqLine("uart0")


@pytest.fixture
def sent():
    return []


@pytest.fixture
def uart(irq, sent):
    u = Pl011Uart(irq, sent.append)
    u.write(CR, 4, ENABLED)
    return u


def test_reset_values(irq, sent):
    u = Pl011Uart(irq, sent.append)
    assert u.read(CR, 4) == 0x300
    assert u.read(IFLS, 4) == 0x12
    assert u.read(FR, 4) & (FR_RXFE | FR_TXFE) == FR_RXFE | FR_TXFE


def test_primecell_id_registers(uart):
    ids = [uart.read(0xFE0 + 4 * n, 4) for n in range(8)]
    assert ids == [0x11, 0x10, 0x24, 0x00, 0x0D, 0xF0, 0x05, 0xB1]


def test_tx_goes_to_the_sink_when_enabled(uart, sent):
    for ch in b"ok":
        uart.write(DR, 4, ch)
    assert bytes(sent) == b"ok"
    assert uart.read(FR, 4) & (FR_TXFE | FR_BUSY | FR_TXFF) == FR_TXFE


def test_tx_waits_while_uart_disabled(uart, sent):
    uart.write(CR, 4, 0x300)
    uart.write(DR, 4, 0x41)
    assert sent == []
    assert uart.read(FR, 4) & (FR_TXFE | FR_BUSY | FR_TXFF) == FR_BUSY | FR_TXFF  # 1-char
    uart.write(CR, 4, ENABLED)
    assert sent == [0x41]


def test_rx_holding_register_without_fifo(uart):
    uart.receive(b"ab")
    assert uart.read(FR, 4) & (FR_RXFE | FR_RXFF) == FR_RXFF
    assert uart.pending_input == 1
    assert uart.read(DR, 4) == ord("a")
    assert uart.read(DR, 4) == ord("b")
    assert uart.read(FR, 4) & FR_RXFE


def test_rx_fifo_full_flag(uart):
    uart.write(LCRH, 4, LCRH_FEN | 0x60)
    uart.receive(bytes(range(20)))
    assert uart.read(FR, 4) & FR_RXFF
    assert uart.pending_input == 4
    uart.read(DR, 4)
    assert uart.read(FR, 4) & FR_RXFF  # refilled from the queue
    got = [uart.read(DR, 4) for _ in range(19)]
    assert got == list(range(1, 20))
    assert uart.read(FR, 4) & (FR_RXFE | FR_RXFF) == FR_RXFE


def test_clearing_fen_returns_excess_bytes_to_the_queue(uart):
    uart.write(LCRH, 4, LCRH_FEN)
    uart.receive(b"xyz")
    uart.write(LCRH, 4, 0)
    assert bytes(uart.read(DR, 4) for _ in range(3)) == b"xyz"


def test_rx_interrupt_at_ifls_trigger_level(uart, irq):
    uart.write(LCRH, 4, LCRH_FEN)
    uart.write(IFLS, 4, 0b001 << 3)  # RX at 1/4 full = 4 bytes
    uart.write(IMSC, 4, INT_RX)
    uart.receive(b"abc")
    assert not irq.level
    uart.receive(b"d")
    assert irq.level
    assert uart.read(MIS, 4) == INT_RX
    uart.read(DR, 4)  # below the trigger again
    assert not irq.level
    assert not uart.read(RIS, 4) & INT_RX


def test_rx_interrupt_cleared_by_icr(uart, irq):
    uart.write(IMSC, 4, INT_RX)
    uart.receive(b"a")
    assert irq.level
    uart.write(ICR, 4, INT_RX)
    assert not irq.level


def test_receive_timeout_while_fifo_holds_unread_data(uart, irq):
    uart.write(LCRH, 4, LCRH_FEN)
    uart.write(IMSC, 4, INT_RT)
    uart.receive(b"ab")  # below the 1/2 trigger: only the timeout tells
    assert irq.level
    assert uart.read(RIS, 4) & (INT_RT | INT_RX) == INT_RT
    uart.read(DR, 4)
    assert irq.level
    uart.read(DR, 4)  # FIFO empty: timeout cleared
    assert not irq.level
    uart.receive(b"c")
    assert irq.level
    uart.write(ICR, 4, INT_RT)
    assert not irq.level


def test_tx_interrupt_set_when_transmitter_drains(uart, irq):
    uart.write(IMSC, 4, INT_TX)
    assert not irq.level  # not set merely by enabling (PL011 TRM)
    uart.write(DR, 4, 0x30)
    assert irq.level
    uart.write(ICR, 4, INT_TX)
    assert not irq.level


def test_tx_interrupt_cleared_by_filling_above_trigger(uart, irq):
    uart.write(LCRH, 4, LCRH_FEN)
    uart.write(IMSC, 4, INT_TX)
    uart.write(DR, 4, 0x30)
    assert irq.level
    uart.write(CR, 4, 0x200 | 1)  # transmitter off: bytes accumulate
    for ch in range(9):  # above the 1/2 (8 byte) trigger
        uart.write(DR, 4, ch)
    assert not irq.level
    uart.write(CR, 4, ENABLED)
    assert irq.level


def test_mis_is_ris_masked_by_imsc(uart):
    uart.receive(b"a")
    assert uart.read(RIS, 4) & INT_RX
    assert uart.read(MIS, 4) == 0


def test_baud_registers_store(uart):
    uart.write(IBRD, 4, 26)
    assert uart.read(IBRD, 4) == 26


def test_test_registers_are_unmodelled(uart):
    with pytest.raises(UnmodelledAccess):
        uart.read(0x80, 4)


def test_state_round_trip(uart, sent):
    uart.write(IMSC, 4, INT_RX)
    uart.receive(b"hello")
    saved = uart.state()
    line = IrqLine()
    other = Pl011Uart(line, sent.append)
    other.restore(saved)
    assert other.state() == saved
    assert line.level
    assert bytes(other.read(DR, 4) for _ in range(5)) == b"hello"
