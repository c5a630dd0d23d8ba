"""The reset-value stubs for unmodelled blocks (USB, thermal sensor): reads answer with the documented reset value, writes are
ignored, and every access still lands in the bus's unmodelled-access log."""

from __future__ import annotations

import pytest

from vizor.machine.board.board import Board
from vizor.machine.board.bus import Bus
from vizor.machine.devices.reset_values import (
    RESET_VALUE_BLOCKS,
    USB_GHWCFG2,
    USB_GRSTCTL,
    USB_GSNPSID,
    ResetValueStub,
)

DMA, CM, THERMAL, USB = 0x3F007000, 0x3F101000, 0x3F212000, 0x3F980000


@pytest.fixture
def bus() -> Bus:
    b = Bus()
    for name, base, size, values in RESET_VALUE_BLOCKS:
        b.attach(base, size, ResetValueStub(name, values), name)
    return b


def test_usb_core_id_reads_as_the_synopsys_release_and_is_logged(bus):
    assert bus.read(USB + USB_GSNPSID, 4) == 0x4F54280A
    assert bus.read(USB + USB_GHWCFG2, 4) == 0x228DDD50
    assert [(r.address, r.size, r.write) for r in bus.unmodelled] == [
        (USB + USB_GSNPSID, 4, False), (USB + USB_GHWCFG2, 4, False)]


def test_usb_soft_reset_completes_at_once_with_the_ahb_idle(bus):
    bus.write(USB + USB_GRSTCTL, 4, 1)         # CSftRst
    assert bus.read(USB + USB_GRSTCTL, 4) == 0x80000000
    assert [(r.address, r.write, r.value) for r in bus.unmodelled] == [
        (USB + USB_GRSTCTL, True, 1), (USB + USB_GRSTCTL, False, None)]


def test_narrow_reads_take_their_bytes_of_the_reset_value(bus):
    assert bus.read(USB + USB_GSNPSID, 1) == 0x0A
    assert bus.read(USB + USB_GSNPSID + 2, 2) == 0x4F54
    assert bus.read(USB + USB_GSNPSID + 3, 1) == 0x4F


def test_thermal_sensor_without_a_documented_reset_value_reads_zero_and_is_logged(bus):
    assert bus.read(THERMAL + 0x04, 4) == 0
    assert [r.address for r in bus.unmodelled] == [THERMAL + 0x04]


def test_the_board_wires_the_stubs_on_its_bus_outside_its_devices():
    board = Board()
    names = {m.name: m.base for m in board.bus.mappings}
    assert names["usb"] == USB and names["thermal"] == THERMAL
    assert names["dma"] == DMA and names["cprman"] == CM     # models now, with state
    assert not {"usb", "thermal"} & set(board.devices)
    assert board.bus.read(USB + USB_GSNPSID, 4) == 0x4F54280A
    assert board.bus.unmodelled[-1].address == USB + USB_GSNPSID
    assert board.bus.read(0x3F00C000, 4) == 0   # not a stub: still plain unmodelled
    assert board.bus.unmodelled[-1].address == 0x3F00C000
