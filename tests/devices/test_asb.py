"""The AXI asynchronous bridges (ASB, 0x3F00A000): the "brdg" ID Linux's
bcm2835-power probe checks, and each bridge's REQ_STOP acknowledged at once
(facts from Linux's bcm2835-power.c and the bcm2835-pm device-tree node;
the ARM Peripherals manual does not describe the block)."""

from __future__ import annotations

import pytest

from vizor.machine.board.board import Board
from vizor.machine.devices.asb import (
    ACK,
    AXI_BRDG_ID,
    BRDG_VERSION,
    CONTROLS,
    EMPTY,
    FULL,
    H264_M_CTRL,
    PASSWORD,
    REQ_STOP,
    V3D_S_CTRL,
    Asb,
)
from vizor.machine.devices.base import UnmodelledAccess

ASB = 0x3F00A000


def test_the_bridge_id_reads_brdg_in_ascii():
    asb = Asb()
    assert asb.read(AXI_BRDG_ID, 4) == 0x62726467
    assert asb.read(AXI_BRDG_ID, 4).to_bytes(4, "big") == b"brdg"
    assert asb.read(AXI_BRDG_ID + 3, 1) == ord("b")


def test_bridges_start_running_empty_and_not_full():
    asb = Asb()
    for reg in CONTROLS:
        word = asb.read(reg, 4)
        assert not word & (REQ_STOP | ACK | FULL) and word & EMPTY, hex(reg)


def test_a_stop_request_is_acknowledged_at_once_and_a_restart_clears_ack():
    # Linux's bcm2835_asb_control: read, set or clear REQ_STOP, write with the
    # password, poll until ACK follows (it gives up after 1 us).
    asb = Asb()
    asb.write(H264_M_CTRL, 4, PASSWORD | asb.read(H264_M_CTRL, 4) | REQ_STOP)
    assert asb.read(H264_M_CTRL, 4) & (REQ_STOP | ACK) == REQ_STOP | ACK
    assert not asb.read(V3D_S_CTRL, 4) & ACK               # the other bridges run on
    asb.write(H264_M_CTRL, 4, PASSWORD | (asb.read(H264_M_CTRL, 4) & ~REQ_STOP))
    assert not asb.read(H264_M_CTRL, 4) & (REQ_STOP | ACK)


def test_a_write_without_the_password_or_to_the_id_is_ignored_and_counted():
    asb = Asb()
    asb.write(V3D_S_CTRL, 4, REQ_STOP)
    asb.write(AXI_BRDG_ID, 4, PASSWORD)
    assert not asb.read(V3D_S_CTRL, 4) & ACK and asb.read(AXI_BRDG_ID, 4) == 0x62726467
    assert asb.ignored_writes == 2


def test_the_undocumented_registers_are_reported_as_unmodelled():
    asb = Asb()
    with pytest.raises(UnmodelledAccess):
        asb.read(BRDG_VERSION, 4)
    with pytest.raises(UnmodelledAccess):
        asb.write(BRDG_VERSION, 4, PASSWORD)


def test_state_and_reset():
    asb = Asb()
    asb.write(V3D_S_CTRL, 4, PASSWORD | REQ_STOP)
    asb.write(V3D_S_CTRL, 4, 0)
    other = Asb()
    other.restore(asb.state())
    assert other.read(V3D_S_CTRL, 4) & ACK and other.state() == asb.state()
    other.reset()
    assert other.state() == Asb().state()


def test_the_board_maps_it_where_linux_reads_the_id():
    board = Board()
    assert board.bus.read(ASB + AXI_BRDG_ID, 4) == 0x62726467
    assert not board.bus.unmodelled
