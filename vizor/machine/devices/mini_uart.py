"""BCM2835 AUX block: the mini UART (UART1), base 0x3F215000.

BCM2835 ARM Peripherals, chapter 2, with the well-known errata applied
(elinux.org "BCM2835 datasheet errata"): AUX_MU_IER bit 0 enables the
*receive* interrupt and bit 1 the *transmit* interrupt (16550 layout), and
AUX_MU_IIR bits 2:1 read 01 for "transmit holding register empty" and 10 for
"receiver holds a byte".  Bits 3:2 of IER are not required to get interrupts
here (the errata says the board needs them; kernels set them anyway).

Host side: ``receive(data)`` queues input; bytes enter the 8-deep RX FIFO as
space frees and while the receiver is enabled (CNTL bit 0) — nothing is lost,
so LSR/STAT "receiver overrun" never sets.  Bytes written to AUX_MU_IO go
to the 8-deep TX FIFO and, while the transmitter is enabled (CNTL bit 1),
leave it at once through the injected ``tx`` callable.

The interrupt line (AUX IRQ, GPU IRQ 29) is high while the mini UART is
enabled and (IER.RX and the RX FIFO holds data) or (IER.TX and the TX FIFO
is empty).  AUX_IRQ bit 0 shows the same.

As on the board, while AUX_ENABLES bit 0 is clear the mini UART registers
(0x40–0x68) read 0 and ignore writes.  Not implemented: the SPI1/SPI2 parts
(0x80–0xFF raise UnmodelledAccess), flow control, break, baud-rate timing
(BAUD and LCR are stored; transfers take no time).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

from vizor.machine.devices.base import IrqLine, UnmodelledAccess

AUX_IRQ = 0x00
AUX_ENABLES = 0x04
AUX_MU_IO = 0x40
AUX_MU_IER = 0x44
AUX_MU_IIR = 0x48
AUX_MU_LCR = 0x4C
AUX_MU_MCR = 0x50
AUX_MU_LSR = 0x54
AUX_MU_MSR = 0x58
AUX_MU_SCRATCH = 0x5C
AUX_MU_CNTL = 0x60
AUX_MU_STAT = 0x64
AUX_MU_BAUD = 0x68
MU_REGISTERS = range(AUX_MU_IO, AUX_MU_BAUD + 4, 4)

FIFO_DEPTH = 8

ENABLE_MINI_UART = 1 << 0
IER_RX = 1 << 0
IER_TX = 1 << 1
IIR_NO_IRQ = 1 << 0           # bit 0 is 0 while an interrupt is pending
IIR_TX_EMPTY = 0b01 << 1
IIR_RX_READY = 0b10 << 1
IIR_FIFOS_ON = 0xC0           # bits 7:6 always read as 1
IIR_CLEAR_RX = 1 << 1         # on write
IIR_CLEAR_TX = 1 << 2
LCR_DLAB = 1 << 7
LSR_DATA_READY = 1 << 0
LSR_RX_OVERRUN = 1 << 1
LSR_TX_EMPTY = 1 << 5
LSR_TX_IDLE = 1 << 6
MSR_CTS = 1 << 5
CNTL_RX_ENABLE = 1 << 0
CNTL_TX_ENABLE = 1 << 1
STAT_SYMBOL_AVAILABLE = 1 << 0
STAT_SPACE_AVAILABLE = 1 << 1
STAT_RX_IDLE = 1 << 2
STAT_TX_IDLE = 1 << 3
STAT_RX_OVERRUN = 1 << 4
STAT_TX_FULL = 1 << 5
STAT_RTS = 1 << 6
STAT_CTS = 1 << 7
STAT_TX_EMPTY = 1 << 8
STAT_TX_DONE = 1 << 9


@dataclass(frozen=True)
class MiniUartState:
    enables: int
    ier: int
    lcr: int
    mcr: int
    scratch: int
    cntl: int
    baud: int
    rx_fifo: bytes
    tx_fifo: bytes
    pending_input: bytes


class MiniUart:
    """The AUX block's mini UART; ``irq`` is GPU IRQ 29, ``tx`` the host sink."""

    # read without side effects, from device state alone (cpu/quiet.py skips polls of them)
    QUIET_READS = frozenset({AUX_IRQ, AUX_MU_LSR, AUX_MU_STAT})

    def __init__(self, irq: IrqLine, tx: Callable[[int], None]) -> None:
        self._irq = irq
        self._tx = tx
        self._input: deque[int] = deque()
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._enables = 0
        self._ier = 0
        self._lcr = 0
        self._mcr = 0
        self._scratch = 0
        self._cntl = CNTL_RX_ENABLE | CNTL_TX_ENABLE
        self._baud = 0
        self._rx: deque[int] = deque()
        self._txq: deque[int] = deque()
        self._input.clear()
        self._update_irqs()

    def state(self) -> MiniUartState:
        return MiniUartState(self._enables, self._ier, self._lcr, self._mcr,
                             self._scratch, self._cntl, self._baud,
                             bytes(self._rx), bytes(self._txq), bytes(self._input))

    def restore(self, state: MiniUartState) -> None:
        self._enables = state.enables
        self._ier = state.ier
        self._lcr = state.lcr
        self._mcr = state.mcr
        self._scratch = state.scratch
        self._cntl = state.cntl
        self._baud = state.baud
        self._rx = deque(state.rx_fifo)
        self._txq = deque(state.tx_fifo)
        self._input = deque(state.pending_input)
        self._update_irqs()

    # ---------------------------------------------------------- host side
    def receive(self, data: bytes) -> None:
        """Bytes arriving on RXD; they wait in a queue when the FIFO is full."""
        self._input.extend(data)
        self._update_irqs()

    @property
    def pending_input(self) -> int:
        """Bytes received from the host not yet in the RX FIFO."""
        return len(self._input)

    def _move_data(self) -> None:
        if self._cntl & CNTL_RX_ENABLE:
            while self._input and len(self._rx) < FIFO_DEPTH:
                self._rx.append(self._input.popleft())
        if self._cntl & CNTL_TX_ENABLE:
            while self._txq:
                self._tx(self._txq.popleft())

    # ------------------------------------------------------------- access
    @property
    def _enabled(self) -> bool:
        return bool(self._enables & ENABLE_MINI_UART)

    def _pending(self) -> int:
        """IIR bits 2:1 of the highest-priority pending interrupt, or 0."""
        if not self._enabled:
            return 0
        if self._ier & IER_RX and self._rx:
            return IIR_RX_READY
        if self._ier & IER_TX and not self._txq:
            return IIR_TX_EMPTY
        return 0

    def read(self, offset: int, size: int) -> int:
        if offset == AUX_IRQ:
            return 1 if self._pending() else 0
        if offset == AUX_ENABLES:
            return self._enables
        if offset not in MU_REGISTERS:
            raise UnmodelledAccess(f"AUX: read of {offset:#x} (SPI1/SPI2 not modelled)")
        if not self._enabled:
            return 0
        value = self._read_mu(offset)
        self._update_irqs()
        return value

    def _read_mu(self, offset: int) -> int:
        if offset == AUX_MU_IO:
            if self._lcr & LCR_DLAB:
                return self._baud & 0xFF
            return self._rx.popleft() if self._rx else 0
        if offset == AUX_MU_IER:
            return (self._baud >> 8) & 0xFF if self._lcr & LCR_DLAB else self._ier
        if offset == AUX_MU_IIR:
            pending = self._pending()
            return IIR_FIFOS_ON | (pending if pending else IIR_NO_IRQ)
        if offset == AUX_MU_LCR:
            return self._lcr
        if offset == AUX_MU_MCR:
            return self._mcr
        if offset == AUX_MU_LSR:
            value = LSR_DATA_READY if self._rx else 0
            if len(self._txq) < FIFO_DEPTH:
                value |= LSR_TX_EMPTY
            if not self._txq:
                value |= LSR_TX_IDLE
            return value
        if offset == AUX_MU_MSR:
            return MSR_CTS  # nothing holds CTS off
        if offset == AUX_MU_SCRATCH:
            return self._scratch
        if offset == AUX_MU_CNTL:
            return self._cntl
        if offset == AUX_MU_STAT:
            return self._stat()
        return self._baud  # AUX_MU_BAUD

    def _stat(self) -> int:
        value = STAT_RX_IDLE | STAT_CTS
        if self._rx:
            value |= STAT_SYMBOL_AVAILABLE
        if len(self._txq) < FIFO_DEPTH:
            value |= STAT_SPACE_AVAILABLE
        else:
            value |= STAT_TX_FULL
        if not self._txq:
            value |= STAT_TX_IDLE | STAT_TX_EMPTY | STAT_TX_DONE
        if self._mcr & 2:
            value |= STAT_RTS
        return value | len(self._rx) << 16 | len(self._txq) << 24

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == AUX_IRQ:
            pass  # read-only
        elif offset == AUX_ENABLES:
            self._enables = value & 0x7
        elif offset not in MU_REGISTERS:
            raise UnmodelledAccess(f"AUX: write to {offset:#x} (SPI1/SPI2 not modelled)")
        elif self._enabled:
            self._write_mu(offset, value)
        self._update_irqs()

    def _write_mu(self, offset: int, value: int) -> None:
        if offset == AUX_MU_IO:
            if self._lcr & LCR_DLAB:
                self._baud = (self._baud & 0xFF00) | (value & 0xFF)
            elif len(self._txq) < FIFO_DEPTH:
                self._txq.append(value & 0xFF)
        elif offset == AUX_MU_IER:
            if self._lcr & LCR_DLAB:
                self._baud = (self._baud & 0xFF) | (value & 0xFF) << 8
            else:
                self._ier = value & 0xFF
        elif offset == AUX_MU_IIR:
            if value & IIR_CLEAR_RX:
                self._rx.clear()
            if value & IIR_CLEAR_TX:
                self._txq.clear()
        elif offset == AUX_MU_LCR:
            self._lcr = value & 0xFF
        elif offset == AUX_MU_MCR:
            self._mcr = value & 0xFF
        elif offset == AUX_MU_SCRATCH:
            self._scratch = value & 0xFF
        elif offset == AUX_MU_CNTL:
            self._cntl = value & 0xFF
        elif offset == AUX_MU_BAUD:
            self._baud = value & 0xFFFF
        # LSR, MSR and STAT are read-only

    def _update_irqs(self) -> None:
        if self._enabled:
            self._move_data()
        self._irq.set(bool(self._pending()))
