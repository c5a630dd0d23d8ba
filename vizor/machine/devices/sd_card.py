"""An SD memory card: the command protocol and the blocks behind it.

SD Physical Layer Simplified Specification (card states, commands, R1/R2/R3/
R6/R7 responses, CID/CSD/SCR/OCR registers).  The card is what the EMMC host
controller (``emmc.py``) talks to; it knows nothing of registers.

States: idle -> (ACMD41 done) ready -> (CMD2) ident -> (CMD3) stby ->
(CMD7 with its RCA) tran -> data (reading) / rcv (writing) -> tran.
Commands: CMD0 GO_IDLE_STATE, CMD2 ALL_SEND_CID, CMD3 SEND_RELATIVE_ADDR,
CMD7 SELECT/DESELECT_CARD, CMD8 SEND_IF_COND, CMD9 SEND_CSD, CMD12
STOP_TRANSMISSION, CMD13 SEND_STATUS, CMD16 SET_BLOCKLEN, CMD17/18 READ_SINGLE/
MULTIPLE_BLOCK, CMD23 SET_BLOCK_COUNT, CMD24/25 WRITE_BLOCK/MULTIPLE_BLOCK,
CMD55 APP_CMD; ACMD6 SET_BUS_WIDTH, ACMD13 SD_STATUS (zeros), ACMD41
SD_SEND_OP_COND, ACMD51 SEND_SCR.  A command the card does not know, or one
not allowed in its state, gets no response (the host sees a command timeout)
and sets ILLEGAL_COMMAND in the next status.

Capacity: a card of at most 2 GiB is standard capacity (CSD version 1.0, byte
addresses in CMD17/18/24/25); a larger one is SDHC (CSD 2.0, OCR.CCS=1,
block addresses).  The card is ready at the first ACMD41 (no busy loop).

Storage (``DiskImage``): the image file is opened read-only, and block writes
go to a copy-on-write overlay held in memory (the overlay is part of
``SdCardState``, so saved sessions keep it) unless the image was opened
writable, when they go to the file as well: the overlay holds every block
written since the card went in either way, so the card's content is always
the file as inserted plus the overlay (a recording of a writable card is
exact).  ``DiskImage.from_file`` serves an image that is not a file of its
own (a saved session's embedded card), read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

BLOCK = 512
SDSC_MAX = 2 << 30
# card states (card status bits 12:9)
IDLE, READY, IDENT, STBY, TRAN, DATA, RCV, PRG, DIS = range(9)
# card status bits (R1)
OUT_OF_RANGE = 1 << 31
ADDRESS_ERROR = 1 << 30
ILLEGAL_COMMAND = 1 << 22
READY_FOR_DATA = 1 << 8
APP_CMD = 1 << 5
OCR_VOLTAGES = 0x00FF8000   # 2.7-3.6 V
OCR_CCS = 1 << 30
OCR_BUSY = 1 << 31          # set: power-up done
RCA = 0x4567
# CID bits 127:8: manufacturer 0x56, OEM "VZ", name "VIZOR", revision 1.0, serial 1, date 2025-11
CID = bytes((0x56, 0x56, 0x5A)) + b"VIZOR" + bytes((0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0x9B))
# SCR: SCR_STRUCTURE 0, SD_SPEC 2 (3.0), SD_SPEC3, bus widths 1 and 4, CMD23 supported
SCR = bytes((0x02, 0x05, 0x80, 0x02, 0x00, 0x00, 0x00, 0x00))


class SdImageError(Exception):
    pass


class DiskImage:
    """Blocks of a raw image file; writes go to an in-memory overlay (and, if
    ``writable``, to the file too)."""

    def __init__(self, path: str, writable: bool = False) -> None:
        try:
            self._file = open(path, "r+b" if writable else "rb")
        except OSError as e:
            raise SdImageError(f"{path}: {e.strerror or e}") from None
        self.path = path
        self.writable = writable
        self.size = os.fstat(self._file.fileno()).st_size
        if self.size < BLOCK:
            raise SdImageError(f"{path}: an SD image needs at least one 512-byte block")
        self.overlay: dict[int, bytes] = {}

    @classmethod
    def from_file(cls, f, size: int, name: str) -> "DiskImage":
        """A read-only image of ``size`` bytes over ``f`` (``seek``/``read``)."""
        if size < BLOCK:
            raise SdImageError(f"{name}: an SD image needs at least one 512-byte block")
        image = cls.__new__(cls)
        image._file, image.path, image.writable, image.size = f, name, False, size
        image.overlay = {}
        return image

    def raw(self, offset: int, n: int) -> bytes:
        """``n`` bytes of the file from ``offset``, without the overlay."""
        self._file.seek(offset)
        return self._file.read(n)

    @property
    def blocks(self) -> int:
        return self.size // BLOCK

    def read_block(self, lba: int) -> bytes:
        if lba in self.overlay:
            return self.overlay[lba]
        self._file.seek(lba * BLOCK)
        return self._file.read(BLOCK).ljust(BLOCK, b"\0")

    def write_block(self, lba: int, data: bytes) -> None:
        if self.writable:
            self._file.seek(lba * BLOCK)
            self._file.write(data)
            self._file.flush()
        self.overlay[lba] = bytes(data)

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class SdCardState:
    state: int
    rca: int
    app_cmd: bool
    illegal: bool
    block_len: int
    bus_width: int
    ocr_ccs: bool
    block_count: int                      # from CMD23, 0 = open-ended
    overlay: tuple[tuple[int, bytes], ...]  # copy-on-write blocks, by LBA


def _csd(size: int) -> bytes:
    """The 16-byte CSD (bits 127..0, CRC byte last) for a card of ``size`` bytes."""
    if size > SDSC_MAX:
        c_size = size // (512 * 1024) - 1
        bits = (1 << 126) | (0x0E << 112) | (0x32 << 96) | (0x5B5 << 84) | (9 << 80) \
            | (c_size << 48) | (1 << 46) | (0x7F << 39) | (2 << 26) | (9 << 22)
    else:
        # C_SIZE_MULT = 7 (x512): capacity = (C_SIZE+1) * 512 * 2^READ_BL_LEN
        bl_len = 9 if size <= 1 << 30 else 10
        c_size = max(size // (512 << bl_len) - 1, 0)
        bits = (0x0E << 112) | (0x32 << 96) | (0x5B5 << 84) | (bl_len << 80) | (c_size << 62) \
            | (7 << 47) | (1 << 46) | (0x7F << 39) | (2 << 26) | (9 << 22)
    return (bits | 1).to_bytes(16, "big")


class SdCard:
    def __init__(self, image: DiskImage) -> None:
        self.image = image
        self.csd = _csd(image.size)
        self.reset()

    def reset(self) -> None:
        """Power-on: back to idle; the blocks (and the overlay) stay."""
        self.state = IDLE
        self.rca = 0
        self.app_cmd = False
        self.illegal = False
        self.block_len = BLOCK
        self.bus_width = 1
        self.ocr_ccs = False
        self.block_count = 0

    @property
    def high_capacity(self) -> bool:
        return self.image.size > SDSC_MAX

    def state_(self) -> SdCardState:
        return SdCardState(self.state, self.rca, self.app_cmd, self.illegal, self.block_len,
                           self.bus_width, self.ocr_ccs, self.block_count,
                           tuple(sorted(self.image.overlay.items())))

    def restore(self, st: SdCardState) -> None:
        self.state, self.rca, self.app_cmd, self.illegal = st.state, st.rca, st.app_cmd, st.illegal
        self.block_len, self.bus_width, self.ocr_ccs = st.block_len, st.bus_width, st.ocr_ccs
        self.block_count = st.block_count
        self.image.overlay = dict(st.overlay)

    # --------------------------------------------------------------- status
    def status(self) -> int:
        s = (self.state << 9) | (APP_CMD if self.app_cmd else 0)
        if self.state in (TRAN, RCV):
            s |= READY_FOR_DATA
        if self.illegal:
            s |= ILLEGAL_COMMAND
        return s

    def lba(self, arg: int) -> int:
        return arg if self.ocr_ccs else arg // BLOCK

    # -------------------------------------------------------------- commands
    def command(self, index: int, arg: int):
        """Execute a command.  Returns None (no response: a timeout on the host)
        or (response, data): response an int (48-bit types: the 32-bit card
        part) or 16 bytes (R2: CID/CSD with the CRC byte), data None, a bytes
        block to read, or ("read"/"write", first LBA) for a block transfer."""
        app = self.app_cmd
        self.app_cmd = False
        if app and index in (6, 13, 41, 51):
            return self._app_command(index, arg)
        if index == 0:
            self.reset()
            return 0, None
        if index == 8:
            if self.state != IDLE:
                return self._illegal()
            return arg & 0xFFF, None
        if index == 55:
            if self.state in (READY, IDENT):
                return self._illegal()
            self.app_cmd = True
            return self._r1(), None
        if index == 2:
            if self.state != READY:
                return self._illegal()
            self.state = IDENT
            return CID + b"\x01", None
        if index == 3:
            if self.state not in (IDENT, STBY):
                return self._illegal()
            self.rca = RCA
            r = (self.rca << 16) | (self.status() & 0x1FFF)
            self.state = STBY
            self.illegal = False
            return r, None
        if index == 7:
            if arg >> 16 == self.rca and self.state == STBY:
                r = self._r1()
                self.state = TRAN
                return r, None
            if arg >> 16 != self.rca and self.state in (TRAN, DATA, RCV):
                r = self._r1()
                self.state = STBY
                return r, None
            return None if arg >> 16 != self.rca else self._illegal()
        if index == 9:
            if self.state != STBY or arg >> 16 != self.rca:
                return self._illegal()
            return self.csd, None
        if index == 13:
            if arg >> 16 != self.rca or self.state in (IDLE, READY, IDENT):
                return self._illegal()
            return self._r1(), None
        if index == 12:
            if self.state not in (DATA, RCV):
                return self._illegal()
            r = self._r1()
            self.state = TRAN
            return r, None
        if index == 16:
            if self.state != TRAN:
                return self._illegal()
            self.block_len = arg
            return self._r1(), None
        if index == 23:
            if self.state != TRAN:
                return self._illegal()
            self.block_count = arg & 0xFFFF
            return self._r1(), None
        if index in (17, 18, 24, 25):
            if self.state != TRAN:
                return self._illegal()
            lba = self.lba(arg)
            r = self._r1()
            if lba >= self.image.blocks:
                return r | OUT_OF_RANGE, None
            self.state = DATA if index in (17, 18) else RCV
            return r, ("read" if index in (17, 18) else "write", lba)
        return self._illegal()

    def _app_command(self, index: int, arg: int):
        if index == 41:
            if self.state != IDLE:
                return self._illegal()
            if arg & OCR_VOLTAGES == 0:
                return OCR_VOLTAGES, None  # inquiry: report the voltages, stay idle
            self.ocr_ccs = bool(arg & OCR_CCS) and self.high_capacity
            self.state = READY
            return OCR_BUSY | OCR_VOLTAGES | (OCR_CCS if self.ocr_ccs else 0), None
        if self.state != TRAN:
            return self._illegal()
        r = self._r1() | APP_CMD
        if index == 6:
            self.bus_width = 4 if arg & 3 == 2 else 1
            return r, None
        if index == 51:
            return r, SCR
        return r, bytes(64)  # ACMD13: SD status, all zeros

    def _r1(self) -> int:
        r = self.status()
        self.illegal = False
        return r

    def _illegal(self):
        self.illegal = True
        return None

    # ---------------------------------------------------------------- blocks
    def read_block(self, lba: int) -> bytes | None:
        return self.image.read_block(lba) if lba < self.image.blocks else None

    def write_block(self, lba: int, data: bytes) -> bool:
        if lba >= self.image.blocks:
            return False
        self.image.write_block(lba, data)
        return True

    def transfer_done(self) -> None:
        """The host finished a single-block or counted transfer (no CMD12)."""
        if self.state in (DATA, RCV):
            self.state = TRAN
