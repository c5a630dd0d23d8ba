"""The DMA controller's registers (BCM2835 ARM Peripherals ch. 4): reset values,
DEBUG.LITE on channels 7-14, write-one-to-clear bits, RESET; transfers are not
modelled and say so."""

from __future__ import annotations

import pytest

from vizor.machine.devices.base import UnmodelledAccess
from vizor.machine.devices.dma import (
    CONBLK_AD,
    CS,
    CS_ACTIVE,
    CS_RESET,
    DEBUG,
    DEBUG_LITE,
    ENABLE,
    INT_STATUS,
    DmaController,
)


def test_reset_values_channels_7_to_14_are_lite_and_every_channel_enabled():
    dma = DmaController()
    assert dma.read(3 * 0x100 + CS, 4) == 0
    assert dma.read(6 * 0x100 + DEBUG, 4) == 0
    assert dma.read(7 * 0x100 + DEBUG, 4) == DEBUG_LITE
    assert dma.read(14 * 0x100 + DEBUG, 4) == DEBUG_LITE
    assert dma.read(ENABLE, 4) == 0x7FFF and dma.read(INT_STATUS, 4) == 0


def test_cs_fields_read_back_and_reset_clears_the_channel():
    dma = DmaController()
    dma.write(2 * 0x100 + CS, 4, (3 << 16) | (5 << 20))       # PRIORITY, PANIC_PRIORITY
    dma.write(2 * 0x100 + CONBLK_AD, 4, 0x1000)
    assert dma.read(2 * 0x100 + CS, 4) == (3 << 16) | (5 << 20)
    assert dma.read(2 * 0x100 + CONBLK_AD, 4) == 0x1000
    dma.write(2 * 0x100 + CS, 4, CS_RESET)
    assert dma.read(2 * 0x100 + CS, 4) == 0 and dma.read(2 * 0x100 + CONBLK_AD, 4) == 0


def test_debug_error_flags_clear_on_one_and_lite_stays():
    dma = DmaController()
    dma.debug[8] |= 0b101
    dma.write(8 * 0x100 + DEBUG, 4, 0b001)
    assert dma.read(8 * 0x100 + DEBUG, 4) == DEBUG_LITE | 0b100


def test_enable_is_read_write_and_a_transfer_is_reported_unmodelled():
    dma = DmaController()
    dma.write(ENABLE, 4, 0x5)
    assert dma.read(ENABLE, 4) == 0x5
    dma.write(CONBLK_AD, 4, 0x2000)
    with pytest.raises(UnmodelledAccess, match="transfers are not modelled"):
        dma.write(CS, 4, CS_ACTIVE)
    dma.write(CONBLK_AD + 0x100, 4, 0)
    dma.write(0x100 + CS, 4, CS_ACTIVE)      # no control block: nothing to start, nothing reported


def test_state_round_trips():
    dma = DmaController()
    dma.write(ENABLE, 4, 0x3)
    dma.write(CONBLK_AD, 4, 0x40)
    other = DmaController()
    other.restore(dma.state())
    assert other.state() == dma.state()
