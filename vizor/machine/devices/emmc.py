"""The Arasan SD host controller ("EMMC"), base 0x3F300000.

BCM2835 ARM Peripherals chapter 5 (register names and bits) and the SD Host
Controller Simplified Specification (what the bits do).  The card behind it
is an ``SdCard`` (``sd_card.py``), or None for an empty slot.

Commands complete at once: writing CMDTM runs the command on the card,
fills RESP0-3 and sets INTERRUPT.CMD_DONE, or, when the card does not answer
(no card, unknown command, wrong state), CTO_ERR and ERR — except for a
command with no response type, which completes either way.  R2 (136-bit)
responses land as the SDHCI does it: RESP0-3 = response bits 127:8 (CRC
dropped), RESP3 bits 31:24 zero.  A busy response (R1b) also sets DATA_DONE.
A data command loads one block into the buffer and sets READ_RDY (card to
host) or WRITE_RDY; the kernel moves it through DATA 32 bits at a time; each
finished block makes the next one ready; after the last (BLKCNT blocks when
TM_BLKCNT_EN is set for a multi-block command, else one; open-ended without
TM_BLKCNT_EN until CMD12) DATA_DONE is set, and with TM_AUTO_CMD_EN = 01 the
host sends CMD12 itself (its response in RESP3).

Flags appear in INTERRUPT only where IRPT_MASK enables them; ERR (bit 15) is
the OR of bits 16-31; INTERRUPT bits are write-one-to-clear.  The interrupt
output (GPU IRQ 62) is high while INTERRUPT & IRPT_EN is not zero.  CONTROL1:
CLK_STABLE reads 1 once CLK_INTLEN is set; the resets SRST_HC/CMD/DATA take
effect at once and read back 0.  STATUS has the manual's bits plus the SDHCI
present-state bits kernels test: BUFFER_WRITE_ENABLE (10), BUFFER_READ_ENABLE
(11), CARD_INSERTED (16), CARD_STABLE (17), CARD_DETECT (18), WRITE_PROTECT
(19, 1 = writable).  SLOTISR_VER reads vendor 0x99, SD host spec 3.0 (2).

Not implemented: DMA, SDIO card interrupts, boot mode, tuning, timing (no
clock divider effect), CRC and index errors (never raised), block gaps.
The GPIO functions of pins 47-53 are not checked: the card is always wired.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.sd_card import BLOCK, SdCard, SdCardState

ARG2, BLKSIZECNT, ARG1, CMDTM = 0x00, 0x04, 0x08, 0x0C
RESP0, RESP1, RESP2, RESP3 = 0x10, 0x14, 0x18, 0x1C
DATA, STATUS, CONTROL0, CONTROL1 = 0x20, 0x24, 0x28, 0x2C
INTERRUPT, IRPT_MASK, IRPT_EN, CONTROL2 = 0x30, 0x34, 0x38, 0x3C
FORCE_IRPT = 0x50
SLOTISR_VER = 0xFC
# registers kept and read back with no further effect
PLAIN = {0x70: "BOOT_TIMEOUT", 0x74: "DBG_SEL", 0x80: "EXRDFIFO_CFG", 0x84: "EXRDFIFO_EN",
         0x88: "TUNE_STEP", 0x8C: "TUNE_STEPS_STD", 0x90: "TUNE_STEPS_DDR", 0xF0: "SPI_INT_SPT"}

# CMDTM
TM_BLKCNT_EN = 1 << 1
TM_AUTO_CMD_EN_SHIFT = 2
TM_DAT_DIR = 1 << 4        # 1: card to host
TM_MULTI_BLOCK = 1 << 5
CMD_RSPNS_SHIFT = 16       # 0 none, 1 136 bits, 2 48 bits, 3 48 bits busy
CMD_ISDATA = 1 << 21
CMD_INDEX_SHIFT = 24
# STATUS
CMD_INHIBIT, DAT_INHIBIT, DAT_ACTIVE = 1 << 0, 1 << 1, 1 << 2
WRITE_TRANSFER, READ_TRANSFER = 1 << 8, 1 << 9
BUFFER_WRITE_ENABLE, BUFFER_READ_ENABLE = 1 << 10, 1 << 11
CARD_INSERTED, CARD_STABLE, CARD_DETECT, WRITE_PROTECT = 1 << 16, 1 << 17, 1 << 18, 1 << 19
DAT_LEVEL0, CMD_LEVEL = 0xF << 20, 1 << 24
# CONTROL1
CLK_INTLEN, CLK_STABLE = 1 << 0, 1 << 1
SRST_HC, SRST_CMD, SRST_DATA = 1 << 24, 1 << 25, 1 << 26
# INTERRUPT
CMD_DONE, DATA_DONE, WRITE_RDY, READ_RDY = 1 << 0, 1 << 1, 1 << 4, 1 << 5
ERR, CTO_ERR = 1 << 15, 1 << 16
ERROR_BITS = 0xFFFF0000
VERSION = 0x99020000


@dataclass(frozen=True)
class EmmcState:
    regs: tuple[tuple[int, int], ...]   # (offset, value) of the stored registers
    resp: tuple[int, int, int, int]
    interrupt: int
    direction: str                      # "" | "read" | "write"
    buffer: bytes                       # the block in flight
    pos: int
    lba: int
    blocks_left: int                    # -1: open-ended
    command: int                        # index of the data command in flight
    card: SdCardState | None


class Emmc:
    def __init__(self, card: SdCard | None = None, irq: IrqLine | None = None) -> None:
        self.card = card
        self._irq = irq
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._reset_host()
        if self.card is not None:
            self.card.reset()
        self._update_irqs()

    def _reset_host(self) -> None:
        self._regs = {o: 0 for o in (ARG2, BLKSIZECNT, ARG1, CMDTM, CONTROL0, CONTROL1,
                                     IRPT_MASK, IRPT_EN, CONTROL2, *PLAIN)}
        self._resp = [0, 0, 0, 0]
        self._interrupt = 0
        self._end_transfer()

    def _end_transfer(self) -> None:
        self._dir = ""
        self._buf = bytearray()
        self._pos = 0
        self._lba = 0
        self._left = 0
        self._cmd = 0

    def state(self) -> EmmcState:
        return EmmcState(tuple(sorted(self._regs.items())), tuple(self._resp), self._interrupt,
                         self._dir, bytes(self._buf), self._pos, self._lba, self._left, self._cmd,
                         self.card.state_() if self.card is not None else None)

    def restore(self, st: EmmcState) -> None:
        self._regs = dict(st.regs)
        self._resp = list(st.resp)
        self._interrupt = st.interrupt
        self._dir, self._buf, self._pos = st.direction, bytearray(st.buffer), st.pos
        self._lba, self._left, self._cmd = st.lba, st.blocks_left, st.command
        if self.card is not None and st.card is not None:
            self.card.restore(st.card)
        self._update_irqs()

    @classmethod
    def from_state(cls, st: EmmcState, card: SdCard | None = None,
                   irq: IrqLine | None = None) -> "Emmc":
        dev = cls(card, irq)
        dev.restore(st)
        return dev

    # ------------------------------------------------------------- access
    def read(self, offset: int, size: int) -> int:
        if size != 4:
            raise UnmodelledAccess(f"emmc: {size}-byte access at {offset:#x}")
        if offset in (RESP0, RESP1, RESP2, RESP3):
            return self._resp[(offset - RESP0) // 4]
        if offset == DATA:
            return self._read_data()
        if offset == STATUS:
            return self._status()
        if offset == INTERRUPT:
            return self._interrupt | (ERR if self._interrupt & ERROR_BITS else 0)
        if offset == CONTROL1:
            v = self._regs[CONTROL1]
            return v | CLK_STABLE if v & CLK_INTLEN else v & ~CLK_STABLE
        if offset == SLOTISR_VER:
            return VERSION
        if offset == FORCE_IRPT:
            return 0
        if offset in self._regs:
            return self._regs[offset]
        raise UnmodelledAccess(f"emmc: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4:
            raise UnmodelledAccess(f"emmc: {size}-byte access at {offset:#x}")
        value &= 0xFFFFFFFF
        if offset == CMDTM:
            self._regs[CMDTM] = value
            self._command(value)
        elif offset == DATA:
            self._write_data(value)
        elif offset == INTERRUPT:
            self._interrupt &= ~value
        elif offset == FORCE_IRPT:
            self._flag(value & ~ERR)
        elif offset == CONTROL1:
            if value & SRST_HC:
                self._reset_host()
                value &= ~(SRST_HC | SRST_CMD | SRST_DATA)
            if value & SRST_DATA:
                self._end_transfer()
            self._regs[CONTROL1] = value & ~(SRST_HC | SRST_CMD | SRST_DATA | CLK_STABLE)
        elif offset in self._regs:
            self._regs[offset] = value
        elif offset in (RESP0, RESP1, RESP2, RESP3, STATUS, SLOTISR_VER):
            pass  # read-only
        else:
            raise UnmodelledAccess(f"emmc: write of {value:#x} to {offset:#x}")
        self._update_irqs()

    # ------------------------------------------------------------ internals
    def _flag(self, bits: int) -> None:
        self._interrupt |= bits & self._regs[IRPT_MASK]

    def _status(self) -> int:
        s = DAT_LEVEL0 | CMD_LEVEL
        if self._dir:
            s |= DAT_INHIBIT | DAT_ACTIVE
            s |= READ_TRANSFER | BUFFER_READ_ENABLE if self._dir == "read" else \
                WRITE_TRANSFER | BUFFER_WRITE_ENABLE
        if self.card is not None:
            s |= CARD_INSERTED | CARD_STABLE | CARD_DETECT | WRITE_PROTECT
        else:
            s |= CARD_STABLE
        return s

    def _command(self, cmdtm: int) -> None:
        index = (cmdtm >> CMD_INDEX_SHIFT) & 0x3F
        rtype = (cmdtm >> CMD_RSPNS_SHIFT) & 3
        self._end_transfer()
        answer = None if self.card is None else self.card.command(index, self._regs[ARG1])
        if answer is None:
            # no response: a timeout, unless the command expects none (the
            # host cannot tell then: CMD0 "completes" with an empty slot)
            self._flag(CTO_ERR if rtype else CMD_DONE)
            return
        response, data = answer
        if isinstance(response, bytes):
            v = int.from_bytes(response, "big") >> 8
            self._resp = [(v >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
        else:
            self._resp = [response & 0xFFFFFFFF, 0, 0, 0] if rtype else [0, 0, 0, 0]
        self._flag(CMD_DONE | (DATA_DONE if rtype == 3 else 0))
        if data is None or not cmdtm & CMD_ISDATA:
            return
        self._cmd = index
        if isinstance(data, bytes):   # SCR, SD status: one short block
            self._dir, self._buf, self._left = "read", bytearray(data), 1
            self._flag(READ_RDY)
            return
        self._dir, self._lba = data
        count = self._regs[BLKSIZECNT] >> 16
        if not cmdtm & TM_MULTI_BLOCK:
            self._left = 1
        else:
            self._left = count if cmdtm & TM_BLKCNT_EN else -1
        if self._left == 0:
            self._end_transfer()
            return
        self._start_block()

    def _start_block(self) -> None:
        self._pos = 0
        if self._dir == "read":
            block = self.card.read_block(self._lba)
            if block is None:   # ran off the end of the card
                self._finish()
                return
            self._buf = bytearray(block)
            self._flag(READ_RDY)
        else:
            self._buf = bytearray(BLOCK)
            self._flag(WRITE_RDY)

    def _block_done(self) -> None:
        if self._dir == "write":
            self.card.write_block(self._lba, bytes(self._buf))
        self._lba += 1
        if self._left > 0:
            self._left -= 1
        if self._left == 0:
            self._finish()
        else:
            self._start_block()

    def _finish(self) -> None:
        cmdtm = self._regs[CMDTM]
        card = self.card
        if self._cmd in (17, 24) or card.block_count:
            card.block_count = 0
            card.transfer_done()
        elif (cmdtm >> TM_AUTO_CMD_EN_SHIFT) & 3 == 1:
            answer = card.command(12, 0)
            if answer is not None:
                self._resp[3] = answer[0]
        self._end_transfer()
        self._flag(DATA_DONE)

    def _read_data(self) -> int:
        if self._dir != "read":
            return 0
        word = int.from_bytes(self._buf[self._pos:self._pos + 4].ljust(4, b"\0"), "little")
        self._pos += 4
        if self._pos >= len(self._buf):
            self._block_done()
        self._update_irqs()
        return word

    def _write_data(self, value: int) -> None:
        if self._dir != "write":
            return
        self._buf[self._pos:self._pos + 4] = value.to_bytes(4, "little")
        self._pos += 4
        if self._pos >= BLOCK:
            self._block_done()

    def _update_irqs(self) -> None:
        if self._irq is not None:
            self._irq.set(bool(self._interrupt & self._regs[IRPT_EN]))
