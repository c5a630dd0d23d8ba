"""BCM2835 ARM interrupt controller (BCM2835 ARM Peripherals, chapter 7).

Base 0x3F00B000; the registers sit at 0x200..0x224 of that page.  Inputs are
the 64 GPU interrupts (``irq_input(n)``, n in 0..63, the manual's table 7.5)
and the 8 ARM basic interrupts (``basic_input(n)``: 0 ARM timer, 1 ARM
mailbox, 2/3 doorbells, 4/5 GPU halted, 6/7 illegal access).  Outputs are one
IRQ and one FIQ line, which the board feeds into ``ArmLocal.gpu_irq_input`` /
``gpu_fiq_input``.

Pending registers show sources that are both raised and enabled (what the
Linux bcm2835 driver relies on).  Basic pending bit 8 / 9 is "pending
register 1 / 2 has bits"; following the manual's wording they count every
pending GPU IRQ, including those also shown in the shortcut bits 10–20.  The
FIQ (FIQ control bit 7 plus a source number 0–71) follows the raw level of
its source, independent of the IRQ enables.

Not implemented: the ARM timer, mailbox-doorbell and illegal-access sources
themselves (their inputs exist but nothing here drives them).  Offsets below
0x200 and above 0x224 raise UnmodelledAccess.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizor.machine.devices.base import IrqLine, UnmodelledAccess

IRQ_BASIC_PENDING = 0x200
IRQ_PENDING_1 = 0x204
IRQ_PENDING_2 = 0x208
FIQ_CONTROL = 0x20C
ENABLE_IRQS_1 = 0x210
ENABLE_IRQS_2 = 0x214
ENABLE_BASIC_IRQS = 0x218
DISABLE_IRQS_1 = 0x21C
DISABLE_IRQS_2 = 0x220
DISABLE_BASIC_IRQS = 0x224

BASIC_PENDING_1 = 1 << 8
BASIC_PENDING_2 = 1 << 9
# Basic pending bits 10..20 repeat these GPU IRQs (manual, section 7.5)
SHORTCUT_IRQS = (7, 9, 10, 18, 19, 53, 54, 55, 56, 57, 62)

FIQ_ENABLE = 1 << 7
FIQ_SOURCE_MASK = 0x7F
FIQ_FIRST_BASIC = 64  # FIQ sources 64..71 are the ARM basic interrupts

MASK32 = 0xFFFFFFFF


@dataclass(frozen=True)
class InterruptControllerState:
    gpu_enable: int      # 64 bits
    basic_enable: int    # 8 bits
    fiq_control: int
    gpu_raw: int         # input levels, 64 bits
    basic_raw: int       # input levels, 8 bits


class InterruptController:
    """The BCM2835 "ARM interrupt controller" feeding the ARM-local block."""

    def __init__(self, irq_out: IrqLine, fiq_out: IrqLine) -> None:
        self._irq_out = irq_out
        self._fiq_out = fiq_out
        self._gpu_in = tuple(
            IrqLine(f"gpu{n}", lambda level, n=n: self._on_input(n, level))
            for n in range(64))
        self._basic_in = tuple(
            IrqLine(f"basic{n}", lambda level, n=n: self._on_input(64 + n, level))
            for n in range(8))
        self._gpu_raw = 0
        self._basic_raw = 0
        self.reset()

    def irq_input(self, n: int) -> IrqLine:
        """GPU interrupt ``n`` (0..63): 0–3 system timer, 29 AUX, 57 UART0…"""
        return self._gpu_in[n]

    def basic_input(self, n: int) -> IrqLine:
        """ARM basic interrupt ``n`` (0..7)."""
        return self._basic_in[n]

    def _on_input(self, source: int, level: bool) -> None:
        if source < 64:
            bit = 1 << source
            self._gpu_raw = self._gpu_raw | bit if level else self._gpu_raw & ~bit
        else:
            bit = 1 << (source - 64)
            self._basic_raw = self._basic_raw | bit if level else self._basic_raw & ~bit
        self._update_irqs()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._gpu_enable = 0
        self._basic_enable = 0
        self._fiq_control = 0
        self._update_irqs()

    def state(self) -> InterruptControllerState:
        return InterruptControllerState(self._gpu_enable, self._basic_enable,
                                        self._fiq_control, self._gpu_raw, self._basic_raw)

    def restore(self, state: InterruptControllerState) -> None:
        self._gpu_enable = state.gpu_enable
        self._basic_enable = state.basic_enable
        self._fiq_control = state.fiq_control
        self._gpu_raw = state.gpu_raw
        self._basic_raw = state.basic_raw
        for n, line in enumerate(self._gpu_in):
            line.level = bool(state.gpu_raw >> n & 1)
        for n, line in enumerate(self._basic_in):
            line.level = bool(state.basic_raw >> n & 1)
        self._update_irqs()

    # ---------------------------------------------------------- registers
    def _gpu_pending(self) -> int:
        return self._gpu_raw & self._gpu_enable

    def basic_pending(self) -> int:
        gpu = self._gpu_pending()
        value = self._basic_raw & self._basic_enable
        if gpu & MASK32:
            value |= BASIC_PENDING_1
        if gpu >> 32:
            value |= BASIC_PENDING_2
        for bit, irq in enumerate(SHORTCUT_IRQS, start=10):
            if gpu >> irq & 1:
                value |= 1 << bit
        return value

    def read(self, offset: int, size: int) -> int:
        if size != 4:
            raise UnmodelledAccess(f"InterruptController: {size}-byte access at {offset:#x}")
        if offset == IRQ_BASIC_PENDING:
            return self.basic_pending()
        if offset == IRQ_PENDING_1:
            return self._gpu_pending() & MASK32
        if offset == IRQ_PENDING_2:
            return self._gpu_pending() >> 32
        if offset == FIQ_CONTROL:
            return self._fiq_control
        if offset in (ENABLE_IRQS_1, DISABLE_IRQS_1):
            return self._gpu_enable & MASK32
        if offset in (ENABLE_IRQS_2, DISABLE_IRQS_2):
            return self._gpu_enable >> 32
        if offset in (ENABLE_BASIC_IRQS, DISABLE_BASIC_IRQS):
            return self._basic_enable
        raise UnmodelledAccess(f"InterruptController: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4:
            raise UnmodelledAccess(f"InterruptController: {size}-byte access at {offset:#x}")
        value &= MASK32
        if offset in (IRQ_BASIC_PENDING, IRQ_PENDING_1, IRQ_PENDING_2):
            pass  # read-only
        elif offset == FIQ_CONTROL:
            self._fiq_control = value & (FIQ_ENABLE | FIQ_SOURCE_MASK)
        elif offset == ENABLE_IRQS_1:
            self._gpu_enable |= value
        elif offset == ENABLE_IRQS_2:
            self._gpu_enable |= value << 32
        elif offset == ENABLE_BASIC_IRQS:
            self._basic_enable |= value & 0xFF
        elif offset == DISABLE_IRQS_1:
            self._gpu_enable &= ~value
        elif offset == DISABLE_IRQS_2:
            self._gpu_enable &= ~(value << 32)
        elif offset == DISABLE_BASIC_IRQS:
            self._basic_enable &= ~value
        else:
            raise UnmodelledAccess(f"InterruptController: write of {value:#x} to {offset:#x}")
        self._update_irqs()

    def can_raise(self) -> tuple[bool, bool]:
        """(IRQ, FIQ): whether an enabled source could raise either output now or later."""
        irq = bool(self._gpu_enable or self._basic_enable)
        return irq, bool(self._fiq_control & FIQ_ENABLE)

    def _fiq_level(self) -> bool:
        if not self._fiq_control & FIQ_ENABLE:
            return False
        source = self._fiq_control & FIQ_SOURCE_MASK
        if source < 64:
            return bool(self._gpu_raw >> source & 1)
        if source < 72:
            return bool(self._basic_raw >> (source - 64) & 1)
        return False

    def _update_irqs(self) -> None:
        self._irq_out.set(bool(self._gpu_pending() or self._basic_raw & self._basic_enable))
        self._fiq_out.set(self._fiq_level())
