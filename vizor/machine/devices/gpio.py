"""BCM2835 GPIO block (BCM2835 ARM Peripherals, chapter 6), base 0x3F200000.

54 pins.  GPFSELn select each pin's function (3 bits per pin, 000 input,
001 output, others alternate functions).  GPSET/GPCLR drive the output latch
(write-one; they read as 0).  GPLEV reads, per pin: the output latch for an
output pin; otherwise the level an external driver puts on it
(``drive(pin, level)`` / ``release(pin)``), or failing that its pull
(pull-up reads 1, pull-down or none reads 0).

Pulls reset as Table 6-31 lists them: GPIO 0–8 up, 9–27 down, 28–29 none,
30–33 down, 34–36 up, 37–43 down, 44–45 none, 46–53 up.  The GPPUD /
GPPUDCLK sequence is honoured: writing a 1 to a pin's GPPUDCLK bit applies
the control value then in GPPUD (0 off, 1 down, 2 up) to that pin (on the
rising edge of the clock bit, so removing the control before the clock, as
the manual's sequence does, keeps the pull); the 150
cycle set-up waits the manual asks for need not be respected.

Event detection follows the pin levels: rising/falling edges (GPREN/GPFEN
and the "asynchronous" GPAREN/GPAFEN alike) and high/low levels
(GPHEN/GPLEN) set GPEDS bits, which are write-one-to-clear (a level
detection sets its bit again while the level persists).  Optional
interrupt outputs ``irqs``: gpio_int[0] (pins 0–27, GPU IRQ 49),
gpio_int[1] (28–45, IRQ 50), gpio_int[2] (46–53, IRQ 51), gpio_int[3]
(any pin, IRQ 52) — each high while its GPEDS bits are not all clear.

Not implemented: alternate functions themselves (no peripheral is routed to
a pin here), pad drive strength, the test register (0xB0).  Reserved offsets
raise UnmodelledAccess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from vizor.machine.devices.base import IrqLine, UnmodelledAccess

GPFSEL0 = 0x00  # .. GPFSEL5 = 0x14
GPSET0, GPSET1 = 0x1C, 0x20
GPCLR0, GPCLR1 = 0x28, 0x2C
GPLEV0, GPLEV1 = 0x34, 0x38
GPEDS0, GPEDS1 = 0x40, 0x44
GPREN0, GPREN1 = 0x4C, 0x50
GPFEN0, GPFEN1 = 0x58, 0x5C
GPHEN0, GPHEN1 = 0x64, 0x68
GPLEN0, GPLEN1 = 0x70, 0x74
GPAREN0, GPAREN1 = 0x7C, 0x80
GPAFEN0, GPAFEN1 = 0x88, 0x8C
GPPUD = 0x94
GPPUDCLK0, GPPUDCLK1 = 0x98, 0x9C

NPINS = 54
PIN_MASK = (1 << NPINS) - 1
FSEL_INPUT, FSEL_OUTPUT = 0, 1
PULL_OFF, PULL_DOWN, PULL_UP = 0, 1, 2

# Stored 54-bit words, each reached through a pair of registers (bank 0, 1)
_WORDS = {"eds": GPEDS0, "ren": GPREN0, "fen": GPFEN0, "hen": GPHEN0,
          "len": GPLEN0, "aren": GPAREN0, "afen": GPAFEN0}
_BANK_MASKS = ((1 << 28) - 1, ((1 << 46) - 1) & ~((1 << 28) - 1),
               PIN_MASK & ~((1 << 46) - 1), PIN_MASK)


def _reset_pulls() -> tuple[int, ...]:
    table = [(range(0, 9), PULL_UP), (range(9, 28), PULL_DOWN), (range(28, 30), PULL_OFF),
             (range(30, 34), PULL_DOWN), (range(34, 37), PULL_UP),
             (range(37, 44), PULL_DOWN), (range(44, 46), PULL_OFF), (range(46, 54), PULL_UP)]
    pulls = [PULL_OFF] * NPINS
    for pins, pull in table:
        for pin in pins:
            pulls[pin] = pull
    return tuple(pulls)


RESET_PULLS = _reset_pulls()


@dataclass(frozen=True)
class GpioState:
    fsel: tuple[int, ...]
    output: int
    words: tuple[tuple[str, int], ...]
    pud: int
    pudclk: tuple[int, int]
    pulls: tuple[int, ...]
    driven: tuple[tuple[int, bool], ...]
    level: int


class Gpio:
    """The GPIO block; ``irqs`` are the optional gpio_int[0..3] outputs."""

    def __init__(self, irqs: Sequence[IrqLine] = ()) -> None:
        if len(irqs) not in (0, 4):
            raise ValueError("pass all four gpio_int lines or none")
        self._irqs = tuple(irqs)
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._fsel = [0] * 6
        self._output = 0
        self._words = dict.fromkeys(_WORDS, 0)
        self._pud = 0
        self._pudclk = [0, 0]
        self._pulls = list(RESET_PULLS)
        self._driven: dict[int, bool] = {}
        self._level = self.levels()
        self._update_irqs()

    def state(self) -> GpioState:
        return GpioState(tuple(self._fsel), self._output, tuple(self._words.items()),
                         self._pud, tuple(self._pudclk), tuple(self._pulls),
                         tuple(sorted(self._driven.items())), self._level)

    def restore(self, state: GpioState) -> None:
        self._fsel = list(state.fsel)
        self._output = state.output
        self._words = dict(state.words)
        self._pud = state.pud
        self._pudclk = list(state.pudclk)
        self._pulls = list(state.pulls)
        self._driven = dict(state.driven)
        self._level = state.level
        self._update_irqs()

    # ----------------------------------------------------- external pins
    def function(self, pin: int) -> int:
        return (self._fsel[pin // 10] >> (3 * (pin % 10))) & 7

    def drive(self, pin: int, level: bool) -> None:
        """Something outside the SoC drives ``pin`` to ``level``."""
        self._driven[pin] = bool(level)
        self._update_irqs()

    def release(self, pin: int) -> None:
        self._driven.pop(pin, None)
        self._update_irqs()

    def levels(self) -> int:
        """The 54 pin levels, bit n = GPIO n, as GPLEV0/1 read them."""
        value = 0
        for pin in range(NPINS):
            if self.function(pin) == FSEL_OUTPUT:
                high = bool(self._output >> pin & 1)
            elif pin in self._driven:
                high = self._driven[pin]
            else:
                high = self._pulls[pin] == PULL_UP
            value |= high << pin
        return value

    # ------------------------------------------------------------- access
    def read(self, offset: int, size: int) -> int:
        if size != 4 or offset & 3:
            raise UnmodelledAccess(f"GPIO: {size}-byte access at {offset:#x}")
        if offset <= 0x14:
            return self._fsel[offset >> 2]
        if offset in (GPSET0, GPSET1, GPCLR0, GPCLR1):
            return 0  # write-only
        if offset in (GPLEV0, GPLEV1):
            return self._half(self._level, offset == GPLEV1)
        for name, base in _WORDS.items():
            if offset in (base, base + 4):
                return self._half(self._words[name], offset == base + 4)
        if offset == GPPUD:
            return self._pud
        if offset in (GPPUDCLK0, GPPUDCLK1):
            return self._pudclk[offset == GPPUDCLK1]
        raise UnmodelledAccess(f"GPIO: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4 or offset & 3:
            raise UnmodelledAccess(f"GPIO: {size}-byte access at {offset:#x}")
        value &= 0xFFFFFFFF
        bits = lambda high: (value << 32 if high else value) & PIN_MASK  # noqa: E731
        if offset <= 0x14:
            self._fsel[offset >> 2] = value & (0xFFF if offset == 0x14 else 0x3FFFFFFF)  # GPFSEL5: pins 50-53
        elif offset in (GPSET0, GPSET1):
            self._output |= bits(offset == GPSET1)
        elif offset in (GPCLR0, GPCLR1):
            self._output &= ~bits(offset == GPCLR1)
        elif offset in (GPLEV0, GPLEV1):
            pass  # read-only
        elif offset in (GPEDS0, GPEDS1):
            self._words["eds"] &= ~bits(offset == GPEDS1)
        elif offset == GPPUD:
            self._pud = value & 3
        elif offset in (GPPUDCLK0, GPPUDCLK1):
            high = offset == GPPUDCLK1
            # the pull is latched on a rising edge of a pin's clock bit
            clocked = ((value & ~self._pudclk[high]) << (32 if high else 0)) & PIN_MASK
            self._pudclk[high] = value
            for pin in range(NPINS):
                if clocked >> pin & 1 and self._pud != 3:
                    self._pulls[pin] = self._pud
        else:
            for name, base in _WORDS.items():
                if offset in (base, base + 4):
                    high = offset == base + 4
                    keep = 0xFFFFFFFF if high else PIN_MASK & ~0xFFFFFFFF
                    self._words[name] = (self._words[name] & keep) | bits(high)
                    break
            else:
                raise UnmodelledAccess(f"GPIO: write of {value:#x} to {offset:#x}")
        self._update_irqs()

    @staticmethod
    def _half(word: int, high: bool) -> int:
        return (word >> 32 if high else word) & 0xFFFFFFFF

    # --------------------------------------------------- event detection
    def _update_irqs(self) -> None:
        old, new = self._level, self.levels()
        w = self._words
        rising, falling = new & ~old, old & ~new
        w["eds"] |= (rising & (w["ren"] | w["aren"]) | falling & (w["fen"] | w["afen"])
                     | new & w["hen"] | ~new & PIN_MASK & w["len"])
        self._level = new
        for line, mask in zip(self._irqs, _BANK_MASKS):
            line.set(bool(w["eds"] & mask))
