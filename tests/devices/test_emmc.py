"""Emmc + SdCard against BCM2835 ARM Peripherals ch. 5 (EMMC registers), the
SD Host Controller Simplified Spec (status and interrupt flags) and the SD
Physical Layer Simplified Spec (card states, responses)."""

from __future__ import annotations

import pytest

from vizor.machine.devices.base import IrqLine
from vizor.machine.devices.emmc import (
    ARG1,
    BLKSIZECNT,
    CMD_DONE,
    CMDTM,
    CONTROL1,
    CTO_ERR,
    DATA,
    DATA_DONE,
    ERR,
    INTERRUPT,
    IRPT_EN,
    IRPT_MASK,
    READ_RDY,
    RESP0,
    RESP3,
    SLOTISR_VER,
    STATUS,
    WRITE_RDY,
    Emmc,
    EmmcState,
)
from vizor.machine.devices.sd_card import DiskImage, SdCard, SdImageError

R48, R136, R48B = 0x020000, 0x010000, 0x030000
DATA_RD, DATA_WR = (1 << 21) | (1 << 4), 1 << 21
MULTI = (1 << 5) | (1 << 1)


def cmd(i, flags=0):
    return (i << 24) | flags


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "card.img"
    p.write_bytes(b"".join(bytes([n]) * 512 for n in range(16)) + bytes(64 << 20))
    return str(p)


@pytest.fixture
def emmc(image):
    irq = IrqLine("emmc")
    e = Emmc(SdCard(DiskImage(image)), irq)
    e.irq = irq
    e.write(IRPT_MASK, 4, 0xFFFFFFFF)
    return e


def send(e, cmdtm, arg=0):
    e.write(INTERRUPT, 4, 0xFFFFFFFF)
    e.write(ARG1, 4, arg)
    e.write(CMDTM, 4, cmdtm)
    return e.read(INTERRUPT, 4), e.read(RESP0, 4)


def to_tran(e):
    send(e, cmd(0))
    send(e, cmd(8, R48), 0x1AA)
    send(e, cmd(55, R48))
    send(e, cmd(41, R48), 0x40FF8000)
    send(e, cmd(2, R136))
    _, r = send(e, cmd(3, R48))
    rca = r >> 16
    send(e, cmd(7, R48B), rca << 16)
    return rca


def test_cmd8_echoes_the_check_pattern_and_sets_cmd_done(emmc):
    flags, resp = send(emmc, cmd(8, R48), 0x1AA)
    assert flags == CMD_DONE and resp == 0x1AA


def test_acmd41_reports_power_up_and_a_standard_capacity_card(emmc):
    send(emmc, cmd(55, R48))
    _, ocr = send(emmc, cmd(41, R48), 0x40FF8000)
    assert ocr >> 31 == 1 and ocr >> 30 & 1 == 0 and ocr & 0x00FF8000 == 0x00FF8000


def test_cmd41_without_cmd55_times_out_with_err(emmc):
    flags, _ = send(emmc, cmd(41, R48), 0x40FF8000)
    assert flags & CTO_ERR and flags & ERR and not flags & CMD_DONE


def test_cmd2_gives_the_cid_in_resp0_to_resp3_without_crc(emmc):
    send(emmc, cmd(55, R48))
    send(emmc, cmd(41, R48), 0x40FF8000)
    send(emmc, cmd(2, R136))
    assert emmc.read(RESP3, 4) >> 24 == 0
    assert emmc.read(RESP3, 4) >> 16 & 0xFF == 0x56   # manufacturer ID (CID 127:120)


def test_select_puts_the_card_in_tran_with_busy_done(emmc):
    rca = to_tran(emmc)
    flags, status = send(emmc, cmd(13, R48), rca << 16)
    assert status >> 9 & 0xF == 4 and status & (1 << 8)
    flags, _ = send(emmc, cmd(7, R48B), rca << 16)   # CMD7 again: already selected -> illegal
    assert flags & CTO_ERR


def test_single_block_read_through_the_data_port(emmc):
    to_tran(emmc)
    emmc.write(BLKSIZECNT, 4, (1 << 16) | 512)
    flags, _ = send(emmc, cmd(17, R48 | DATA_RD), 3 * 512)
    assert flags & READ_RDY and emmc.read(STATUS, 4) & (1 << 9) and emmc.read(STATUS, 4) & 2
    words = [emmc.read(DATA, 4) for _ in range(128)]
    assert words == [0x03030303] * 128
    assert emmc.read(INTERRUPT, 4) & DATA_DONE
    assert not emmc.read(STATUS, 4) & 2   # DAT_INHIBIT cleared


def test_multi_block_read_counts_blocks_and_stays_in_data_until_cmd12(emmc):
    rca = to_tran(emmc)
    emmc.write(BLKSIZECNT, 4, (2 << 16) | 512)
    send(emmc, cmd(18, R48 | DATA_RD | MULTI), 5 * 512)
    first = [emmc.read(DATA, 4) for _ in range(128)]
    second = [emmc.read(DATA, 4) for _ in range(128)]
    assert first[0] == 0x05050505 and second[0] == 0x06060606
    assert emmc.read(INTERRUPT, 4) & DATA_DONE
    _, status = send(emmc, cmd(12, R48B))
    assert status >> 9 & 0xF == 5   # it was in data
    _, status = send(emmc, cmd(13, R48), rca << 16)
    assert status >> 9 & 0xF == 4


def test_writes_go_to_the_overlay_and_read_back(emmc, image):
    to_tran(emmc)
    emmc.write(BLKSIZECNT, 4, (1 << 16) | 512)
    flags, _ = send(emmc, cmd(24, R48 | DATA_WR), 9 * 512)
    assert flags & WRITE_RDY
    for n in range(128):
        emmc.write(DATA, 4, n)
    assert emmc.read(INTERRUPT, 4) & DATA_DONE
    assert emmc.card.image.overlay[9][:8] == bytes((0, 0, 0, 0, 1, 0, 0, 0))
    with open(image, "rb") as f:
        f.seek(9 * 512)
        assert f.read(4) == b"\x09" * 4   # the file is untouched
    send(emmc, cmd(17, R48 | DATA_RD), 9 * 512)
    assert emmc.read(DATA, 4) == 0 and emmc.read(DATA, 4) == 1


def test_interrupt_flags_are_write_one_to_clear_and_masked_by_irpt_mask(emmc):
    emmc.write(INTERRUPT, 4, 0xFFFFFFFF)
    emmc.write(ARG1, 4, 0x1AA)
    emmc.write(CMDTM, 4, cmd(8, R48))
    emmc.write(INTERRUPT, 4, CMD_DONE)
    assert emmc.read(INTERRUPT, 4) == 0
    emmc.write(IRPT_MASK, 4, 0)
    emmc.write(CMDTM, 4, cmd(8, R48))
    assert emmc.read(INTERRUPT, 4) == 0


def test_the_irq_line_follows_interrupt_and_irpt_en(emmc):
    emmc.write(IRPT_EN, 4, CMD_DONE)
    send(emmc, cmd(8, R48), 0x1AA)
    assert emmc.irq.level
    emmc.write(INTERRUPT, 4, CMD_DONE)
    assert not emmc.irq.level


def test_clock_stable_follows_clk_intlen_and_srst_hc_reads_back_zero(emmc):
    emmc.write(CONTROL1, 4, 1)
    assert emmc.read(CONTROL1, 4) & 2
    emmc.write(CONTROL1, 4, 1 << 24)
    assert emmc.read(CONTROL1, 4) == 0
    assert emmc.read(IRPT_MASK, 4) == 0   # the host reset cleared it


def test_status_shows_an_inserted_card_and_the_version_register(emmc):
    assert emmc.read(STATUS, 4) & (1 << 16)
    assert Emmc().read(STATUS, 4) & (1 << 16) == 0
    assert emmc.read(SLOTISR_VER, 4) >> 16 & 0xFF == 2


def test_an_empty_slot_times_out_every_command_with_a_response():
    e = Emmc()
    e.write(IRPT_MASK, 4, 0xFFFFFFFF)
    flags, _ = send(e, cmd(8, R48), 0x1AA)
    assert flags & CTO_ERR


def test_state_carries_the_overlay_and_restores_it(emmc, image):
    to_tran(emmc)
    send(emmc, cmd(24, R48 | DATA_WR), 2 * 512)
    for n in range(128):
        emmc.write(DATA, 4, 0xAABBCCDD)
    st = emmc.state()
    assert isinstance(st, EmmcState) and dict(st.card.overlay)[2][:4] == bytes.fromhex("ddccbbaa")
    fresh = Emmc.from_state(st, SdCard(DiskImage(image)))
    assert fresh.card.image.overlay[2][:4] == bytes.fromhex("ddccbbaa")
    assert fresh.state() == st


def test_a_missing_image_is_an_sd_image_error(tmp_path):
    with pytest.raises(SdImageError):
        DiskImage(str(tmp_path / "none.img"))
