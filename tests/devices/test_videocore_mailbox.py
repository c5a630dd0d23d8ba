"""VideoCoreMailbox against the BCM2835 mailbox registers and the Raspberry Pi
firmware wiki page "Mailbox property interface" (buffer layout, response
codes, tags)."""

from __future__ import annotations

import struct

import pytest

from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.videocore_mailbox import (
    MBOX0_CONFIG,
    MBOX0_PEEK,
    MBOX0_READ,
    MBOX0_STATUS,
    MBOX1_STATUS,
    MBOX1_WRITE,
    STATUS_EMPTY,
    STATUS_FULL,
    VideoCoreMailbox,
)

BUF = 0x1000


class Ram:
    def __init__(self) -> None:
        self.data = bytearray(0x4000)

    def read(self, pa: int, n: int) -> bytes:
        return bytes(self.data[pa:pa + n])

    def write(self, pa: int, data: bytes) -> None:
        self.data[pa:pa + len(data)] = data


@pytest.fixture
def ram():
    return Ram()


@pytest.fixture
def irq():
    return IrqLine("arm mailbox")


@pytest.fixture
def mbox(ram, irq):
    return VideoCoreMailbox(ram.read, ram.write, irq)


def put_request(ram, *tags):
    """tags: (id, value buffer size, request words...)"""
    words = [0, 0]
    for tag_id, size, *values in tags:
        words += [tag_id, size, 0] + list(values) + [0] * (size // 4 - len(values))
    words.append(0)
    words[0] = 4 * len(words)
    ram.write(BUF, struct.pack(f"<{len(words)}I", *words))
    return len(words)


def word(ram, index):
    return struct.unpack_from("<I", ram.data, BUF + 4 * index)[0]


def call(mbox, address=BUF | 8):
    mbox.write(MBOX1_WRITE, 4, address)
    assert mbox.read(MBOX0_READ, 4) == address


def test_board_revision_of_a_pi_3_model_b(ram, mbox):
    put_request(ram, (0x00010002, 4))
    call(mbox)
    assert word(ram, 1) == 0x80000000
    assert word(ram, 4) == 0x80000004
    assert word(ram, 5) == 0xA02082


def test_arm_and_vc_memory_split(ram, mbox):
    put_request(ram, (0x00010005, 8), (0x00010006, 8))
    call(mbox)
    assert [word(ram, i) for i in (4, 5, 6)] == [0x80000008, 0, 0x3C000000]
    assert [word(ram, i) for i in (9, 10, 11)] == [0x80000008, 0x3C000000, 0x04000000]


def test_uart_clock_rate_is_48_mhz(ram, mbox):
    put_request(ram, (0x00030002, 8, 2))
    call(mbox)
    assert word(ram, 4) == 0x80000008
    assert (word(ram, 5), word(ram, 6)) == (2, 48_000_000)


def test_set_clock_rate_is_clamped_and_remembered(ram, mbox):
    put_request(ram, (0x00038002, 12, 3, 700_000_000, 0))
    call(mbox)
    assert (word(ram, 5), word(ram, 6)) == (3, 700_000_000)
    put_request(ram, (0x00030002, 8, 3), (0x00030004, 8, 3), (0x00030007, 8, 3))
    call(mbox)
    assert word(ram, 6) == 700_000_000
    assert word(ram, 11) == 1_200_000_000
    assert word(ram, 16) == 600_000_000


def test_power_state_set_and_get(ram, mbox):
    put_request(ram, (0x00028001, 8, 3, 0b11))  # USB HCD on, wait
    call(mbox)
    assert (word(ram, 5), word(ram, 6)) == (3, 1)
    put_request(ram, (0x00020001, 8, 3), (0x00020001, 8, 42))
    call(mbox)
    assert (word(ram, 5), word(ram, 6)) == (3, 1)
    assert (word(ram, 10), word(ram, 11)) == (42, 0b10)  # device does not exist


def test_mac_serial_and_firmware_revision(ram, mbox):
    put_request(ram, (0x00010003, 8), (0x00010004, 8), (0x00000001, 4))
    call(mbox)
    assert word(ram, 4) == 0x80000006
    assert bytes(ram.data[BUF + 20:BUF + 23]) == b"\xb8\x27\xeb"
    assert word(ram, 9) == 0x80000008
    assert word(ram, 14) == 0x80000004 and word(ram, 15) != 0


def test_unknown_tag_is_left_without_response_bit(ram, mbox):
    put_request(ram, (0x000F0001, 8), (0x00010002, 4))  # a tag no firmware has, then revision
    call(mbox)
    assert word(ram, 1) == 0x80000000
    assert word(ram, 4) == 0  # untouched request code
    assert word(ram, 9) == 0x80000004


def test_short_value_buffer_gets_truncated_value_and_full_length(ram, mbox):
    put_request(ram, (0x00010005, 4), (0x00010002, 4))
    call(mbox)
    assert word(ram, 4) == 0x80000008  # full length reported
    assert word(ram, 6) == 0x00010002  # the next tag was not overwritten
    assert word(ram, 9) == 0xA02082


def test_missing_end_tag_is_a_parse_error(ram, mbox):
    ram.write(BUF, struct.pack("<5I", 20, 0, 0x00010002, 4, 0))
    call(mbox)
    assert word(ram, 1) == 0x80000001


def test_alias_bits_are_stripped_from_the_buffer_address(ram, mbox):
    put_request(ram, (0x00010002, 4))
    call(mbox, 0xC0000000 | BUF | 8)
    assert word(ram, 5) == 0xA02082


def test_status_bits_and_peek(ram, mbox):
    assert mbox.read(MBOX0_STATUS, 4) == STATUS_EMPTY
    assert mbox.read(MBOX1_STATUS, 4) & STATUS_FULL == 0
    put_request(ram, (0x00010002, 4))
    mbox.write(MBOX1_WRITE, 4, BUF | 8)
    assert mbox.read(MBOX0_STATUS, 4) == 0
    assert mbox.read(MBOX0_PEEK, 4) == BUF | 8
    mbox.read(MBOX0_READ, 4)
    assert mbox.read(MBOX0_STATUS, 4) == STATUS_EMPTY
    for _ in range(8):
        mbox.write(MBOX1_WRITE, 4, BUF | 8)
    assert mbox.read(MBOX0_STATUS, 4) == STATUS_FULL


def test_data_available_interrupt(ram, mbox, irq):
    mbox.write(MBOX0_CONFIG, 4, 1)
    assert not irq.level
    put_request(ram, (0x00010002, 4))
    mbox.write(MBOX1_WRITE, 4, BUF | 8)
    assert irq.level
    mbox.read(MBOX0_READ, 4)
    assert not irq.level


def test_other_channels_are_unmodelled(mbox):
    with pytest.raises(UnmodelledAccess):
        mbox.write(MBOX1_WRITE, 4, BUF | 1)  # framebuffer channel


def test_state_round_trip(ram, mbox):
    put_request(ram, (0x00038002, 12, 4, 300_000_000, 0))
    mbox.write(MBOX1_WRITE, 4, BUF | 8)
    saved = mbox.state()
    other = VideoCoreMailbox(ram.read, ram.write)
    other.restore(saved)
    assert other.state() == saved
    assert other.read(MBOX0_READ, 4) == BUF | 8


def test_temperature_tags_answer_the_sensor_id_and_thousandths_of_a_degree(ram, mbox):
    put_request(ram, (0x00030006, 8, 0), (0x0003000A, 8, 0))
    call(mbox)
    assert (word(ram, 4), word(ram, 5), word(ram, 6)) == (0x80000008, 0, 45_000)
    assert word(ram, 11) == 85_000


def test_framebuffer_tags_reach_the_framebuffer(ram, mbox):
    put_request(ram, (0x00048003, 8, 32, 16), (0x00048004, 8, 32, 16), (0x00040001, 8, 16),
                (0x00040008, 4))
    call(mbox)
    assert (word(ram, 5), word(ram, 6), word(ram, 10), word(ram, 11)) == (32, 16, 32, 16)
    assert word(ram, 15) & 0x3FFFFFFF == 0x3C100000 and word(ram, 16) == 32 * 16 * 2  # 16 bpp
    assert word(ram, 20) == 64
    assert mbox.state().framebuffer.allocated
