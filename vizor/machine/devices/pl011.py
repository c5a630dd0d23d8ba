"""ARM PrimeCell PL011 UART (UART0), base 0x3F201000.

BCM2835 ARM Peripherals chapter 13 and the PL011 TRM.  FIFOs are 16 deep
with LCRH.FEN set, a 1-character holding register without.  The ID registers
read PL011 r1p3 as the BCM2835 device tree declares it
(``arm,primecell-periphid = <0x00241011>``), PrimeCell ID 0xB105F00D.

Host side: ``receive(data)`` queues input; bytes enter the RX FIFO while
UARTEN and RXE are set and the FIFO has room — nothing is lost, so the
overrun error never sets and DR's error bits read 0.  Written bytes enter the
TX FIFO and leave at once through the injected ``tx`` callable while UARTEN
and TXE are set, so BUSY only shows while the transmitter is held off.

Interrupts (one line, GPU IRQ 57, level = RIS & IMSC != 0):
* RX: set when a byte entering the FIFO brings it to the IFLS trigger level
  (one byte without FIFOs); cleared by ICR or when reads take it below.
* RX timeout, modelled simply: host input arrives in bursts, so the
  "32 bit periods of silence" are taken to have elapsed at once — set
  whenever a byte enters the RX FIFO, cleared by ICR or when the FIFO
  becomes empty.
* TX: set each time the transmitter drains the TX FIFO to (at or below)
  its IFLS trigger level (empty without FIFOs); cleared by ICR or by a write
  that leaves the FIFO above the trigger.  As on the PL011 it is not set
  merely by enabling an empty transmitter.

Not implemented: modem-status, framing/parity/break/overrun interrupts and
error bits, IrDA (ILPR stored only), DMA (DMACR stored only), baud timing
(IBRD/FBRD stored only), test registers 0x80–0x8C (UnmodelledAccess).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

from vizor.machine.devices.base import IrqLine, UnmodelledAccess

DR = 0x00
RSRECR = 0x04
FR = 0x18
ILPR = 0x20
IBRD = 0x24
FBRD = 0x28
LCRH = 0x2C
CR = 0x30
IFLS = 0x34
IMSC = 0x38
RIS = 0x3C
MIS = 0x40
ICR = 0x44
DMACR = 0x48
PERIPH_ID0 = 0xFE0
# UARTPeriphID0..3, UARTPCellID0..3 at 0xFE0..0xFFC
ID_REGISTERS = {0xFE0 + 4 * n: v for n, v in
                enumerate((0x11, 0x10, 0x24, 0x00, 0x0D, 0xF0, 0x05, 0xB1))}

FIFO_DEPTH = 16

FR_CTS = 1 << 0
FR_BUSY = 1 << 3
FR_RXFE = 1 << 4
FR_TXFF = 1 << 5
FR_RXFF = 1 << 6
FR_TXFE = 1 << 7
LCRH_FEN = 1 << 4
CR_UARTEN = 1 << 0
CR_TXE = 1 << 8
CR_RXE = 1 << 9
INT_RX = 1 << 4
INT_TX = 1 << 5
INT_RT = 1 << 6
INT_ALL = 0x7FF

# IFLS fields select 1/8, 1/4, 1/2, 3/4, 7/8 of the FIFO
_TRIGGER_EIGHTHS = (1, 2, 4, 6, 7)


@dataclass(frozen=True)
class Pl011State:
    ilpr: int
    ibrd: int
    fbrd: int
    lcrh: int
    cr: int
    ifls: int
    imsc: int
    ris: int
    dmacr: int
    rx_fifo: bytes
    tx_fifo: bytes
    pending_input: bytes


class Pl011Uart:
    """UART0; ``irq`` is GPU IRQ 57, ``tx`` the host sink for each byte."""

    # read without side effects, from device state alone (cpu/quiet.py skips polls of them)
    QUIET_READS = frozenset({FR})

    def __init__(self, irq: IrqLine, tx: Callable[[int], None]) -> None:
        self._irq = irq
        self._tx = tx
        self._input: deque[int] = deque()
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._ilpr = 0
        self._ibrd = 0
        self._fbrd = 0
        self._lcrh = 0
        self._cr = CR_TXE | CR_RXE  # reset value 0x300: UART itself disabled
        self._ifls = 0x12           # both triggers at 1/2
        self._imsc = 0
        self._ris = 0
        self._dmacr = 0
        self._rx: deque[int] = deque()
        self._txq: deque[int] = deque()
        self._input.clear()
        self._update_irqs()

    def state(self) -> Pl011State:
        return Pl011State(self._ilpr, self._ibrd, self._fbrd, self._lcrh, self._cr,
                          self._ifls, self._imsc, self._ris, self._dmacr,
                          bytes(self._rx), bytes(self._txq), bytes(self._input))

    def restore(self, state: Pl011State) -> None:
        self._ilpr, self._ibrd, self._fbrd = state.ilpr, state.ibrd, state.fbrd
        self._lcrh, self._cr, self._ifls = state.lcrh, state.cr, state.ifls
        self._imsc, self._ris, self._dmacr = state.imsc, state.ris, state.dmacr
        self._rx = deque(state.rx_fifo)
        self._txq = deque(state.tx_fifo)
        self._input = deque(state.pending_input)
        self._update_irqs()

    # ---------------------------------------------------------- host side
    def receive(self, data: bytes) -> None:
        """Bytes arriving on RXD; they wait in a queue while the FIFO is full."""
        self._input.extend(data)
        self._update_irqs()

    @property
    def pending_input(self) -> int:
        return len(self._input)

    # ------------------------------------------------------------ helpers
    def _depth(self) -> int:
        return FIFO_DEPTH if self._lcrh & LCRH_FEN else 1

    def _rx_trigger(self) -> int:
        if not self._lcrh & LCRH_FEN:
            return 1
        sel = min((self._ifls >> 3) & 7, 4)
        return FIFO_DEPTH * _TRIGGER_EIGHTHS[sel] // 8

    def _tx_trigger(self) -> int:
        if not self._lcrh & LCRH_FEN:
            return 0
        sel = min(self._ifls & 7, 4)
        return FIFO_DEPTH * _TRIGGER_EIGHTHS[sel] // 8

    def _on(self, bit: int) -> bool:
        return self._cr & (CR_UARTEN | bit) == CR_UARTEN | bit

    def _move_data(self) -> None:
        if self._on(CR_RXE):
            while self._input and len(self._rx) < self._depth():
                self._rx.append(self._input.popleft())
                self._ris |= INT_RT
                if len(self._rx) == self._rx_trigger():
                    self._ris |= INT_RX
        if self._on(CR_TXE) and self._txq:
            while self._txq:
                self._tx(self._txq.popleft())
            self._ris |= INT_TX  # drained to empty: at or below any trigger

    # ------------------------------------------------------------- access
    def read(self, offset: int, size: int) -> int:
        if offset == DR:
            value = self._rx.popleft() if self._rx else 0
            if len(self._rx) < self._rx_trigger():
                self._ris &= ~INT_RX
            if not self._rx:
                self._ris &= ~INT_RT
            self._update_irqs()
            return value
        if offset in ID_REGISTERS:
            return ID_REGISTERS[offset]
        value = self._read_register(offset)
        if value is None:
            raise UnmodelledAccess(f"PL011: read of {offset:#x}")
        return value

    def _read_register(self, offset: int) -> int | None:
        if offset == FR:
            value = FR_CTS
            value |= FR_RXFE if not self._rx else 0
            value |= FR_RXFF if len(self._rx) >= self._depth() else 0
            value |= FR_TXFE if not self._txq else FR_BUSY
            value |= FR_TXFF if len(self._txq) >= self._depth() else 0
            return value
        return {
            RSRECR: 0, ILPR: self._ilpr, IBRD: self._ibrd, FBRD: self._fbrd,
            LCRH: self._lcrh, CR: self._cr, IFLS: self._ifls, IMSC: self._imsc,
            RIS: self._ris, MIS: self._ris & self._imsc, ICR: 0,
            DMACR: self._dmacr,
        }.get(offset)

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if offset == DR:
            if len(self._txq) < self._depth():
                self._txq.append(value & 0xFF)
            if len(self._txq) > self._tx_trigger():
                self._ris &= ~INT_TX
        elif offset == RSRECR:
            pass  # clears error flags; none are ever set
        elif offset == ILPR:
            self._ilpr = value & 0xFF
        elif offset == IBRD:
            self._ibrd = value & 0xFFFF
        elif offset == FBRD:
            self._fbrd = value & 0x3F
        elif offset == LCRH:
            self._lcrh = value & 0xFF
            self._shrink_rx()
        elif offset == CR:
            self._cr = value & 0xFF87
        elif offset == IFLS:
            self._ifls = value & 0x3F
        elif offset == IMSC:
            self._imsc = value & INT_ALL
        elif offset == ICR:
            self._ris &= ~value
        elif offset == DMACR:
            self._dmacr = value & 0x7
        elif offset in (FR, RIS, MIS) or offset in ID_REGISTERS:
            pass  # read-only
        else:
            raise UnmodelledAccess(f"PL011: write of {value:#x} to {offset:#x}")
        self._update_irqs()

    def _shrink_rx(self) -> None:
        """FEN cleared: bytes beyond the holding register go back to the queue."""
        while len(self._rx) > self._depth():
            self._input.appendleft(self._rx.pop())

    def _update_irqs(self) -> None:
        self._move_data()
        self._irq.set(bool(self._ris & self._imsc))
