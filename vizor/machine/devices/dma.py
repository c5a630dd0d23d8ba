"""The DMA controller at 0x3F007000: the registers of channels 0-14 (BCM2835 ARM Peripherals, ch. 4).

Channel n's registers sit at 0x100 * n: CS 0x00, CONBLK_AD 0x04, TI 0x08,
SOURCE_AD 0x0C, DEST_AD 0x10, TXFR_LEN 0x14, STRIDE 0x18, NEXTCONBK 0x1C and
DEBUG 0x20 (4.2.1.2-4.2.1.10); INT_STATUS at 0xFE0 and ENABLE at 0xFF0
(4.2.1.11-12).  All reset to 0 except ENABLE (EN0-EN14 set) and DEBUG.LITE
(bit 28), set on the reduced "DMA Lite" engines, channels 7-14 (4.5).

What is modelled: the reset values; CONBLK_AD read/write; CS's PRIORITY,
PANIC_PRIORITY, WAIT_FOR_OUTSTANDING_WRITES and DISDEBUG fields read back,
END and INT write-one-to-clear, RESET (bit 31) returning the channel to its
reset state, ABORT (bit 30) clearing ACTIVE; DEBUG's three error flags
write-one-to-clear; ENABLE read/write.  The control-block registers (TI to
NEXTCONBK) are loaded by the engine from a control block and read 0 here.

Not modelled: transfers.  A write setting CS.ACTIVE with a control block
address is reported as an unmodelled access (the bus logs it) and the channel
stays idle.  Channel 15 (0x3FE05000) is not covered.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizor.machine.devices.base import UnmodelledAccess

CHANNELS = 15
STRIDE = 0x100
SIZE = 0x1000

CS, CONBLK_AD, DEBUG = 0x00, 0x04, 0x20
CB_REGS = (0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C)   # TI .. NEXTCONBK: loaded from a control block
INT_STATUS, ENABLE = 0xFE0, 0xFF0

CS_ACTIVE, CS_END, CS_INT = 1 << 0, 1 << 1, 1 << 2
CS_ABORT, CS_RESET = 1 << 30, 1 << 31
CS_RW = (0xF << 16) | (0xF << 20) | (1 << 28) | (1 << 29)   # PRIORITY, PANIC_PRIORITY, WAIT_FOR_OW, DISDEBUG
DEBUG_ERRORS = 0b111        # READ_LAST_NOT_SET, FIFO, READ errors: write one to clear
DEBUG_LITE = 1 << 28
ENABLE_ALL = (1 << CHANNELS) - 1


@dataclass(frozen=True)
class DmaState:
    cs: tuple[int, ...]
    conblk: tuple[int, ...]
    debug: tuple[int, ...]
    enable: int


def _debug_reset(channel: int) -> int:
    return DEBUG_LITE if channel >= 7 else 0


class DmaController:
    def __init__(self) -> None:
        self.cs = [0] * CHANNELS
        self.conblk = [0] * CHANNELS
        self.debug = [0] * CHANNELS
        self.enable = ENABLE_ALL
        self.reset()

    def reset(self) -> None:
        for n in range(CHANNELS):
            self._reset_channel(n)
        self.enable = ENABLE_ALL

    def _reset_channel(self, n: int) -> None:
        self.cs[n] = 0
        self.conblk[n] = 0
        self.debug[n] = _debug_reset(n)

    def read(self, offset: int, size: int) -> int:
        word = self._word(offset & ~3)
        return (word >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def _word(self, offset: int) -> int:
        if offset == INT_STATUS:
            return sum(1 << n for n in range(CHANNELS) if self.cs[n] & CS_INT)
        if offset == ENABLE:
            return self.enable
        n, reg = divmod(offset, STRIDE)
        if n >= CHANNELS:
            raise UnmodelledAccess(f"dma +{offset:#x}")
        if reg == CS:
            return self.cs[n]
        if reg == CONBLK_AD:
            return self.conblk[n]
        if reg == DEBUG:
            return self.debug[n]
        if reg in CB_REGS:
            return 0
        raise UnmodelledAccess(f"dma +{offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        offset &= ~3
        if offset == ENABLE:
            self.enable = value & ENABLE_ALL
            return
        if offset == INT_STATUS:
            return      # read only
        n, reg = divmod(offset, STRIDE)
        if n >= CHANNELS:
            raise UnmodelledAccess(f"dma +{offset:#x}")
        if reg == CS:
            self._write_cs(n, value)
        elif reg == CONBLK_AD:
            self.conblk[n] = value & 0xFFFFFFE0    # control blocks are 32-byte aligned
        elif reg == DEBUG:
            self.debug[n] &= ~(value & DEBUG_ERRORS)
        elif reg not in CB_REGS:
            raise UnmodelledAccess(f"dma +{offset:#x}")

    def _write_cs(self, n: int, value: int) -> None:
        if value & CS_RESET:
            self._reset_channel(n)
            return
        cs = (self.cs[n] & ~CS_RW) | (value & CS_RW)
        cs &= ~(value & (CS_END | CS_INT))
        if value & CS_ABORT:
            cs &= ~CS_ACTIVE
        self.cs[n] = cs
        if value & CS_ACTIVE and self.conblk[n]:
            raise UnmodelledAccess(f"dma channel {n}: transfer from control block {self.conblk[n]:#x} "
                                   f"(transfers are not modelled)")

    def state(self) -> DmaState:
        return DmaState(tuple(self.cs), tuple(self.conblk), tuple(self.debug), self.enable)

    def restore(self, state: DmaState) -> None:
        self.cs, self.conblk, self.debug = list(state.cs), list(state.conblk), list(state.debug)
        self.enable = state.enable
