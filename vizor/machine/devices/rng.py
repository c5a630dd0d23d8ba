"""BCM2835 hardware random number generator, base 0x3F104000.

The ARM Peripherals manual does not document this block; the register layout
is the one the Linux ``bcm2835-rng`` driver programs: RNG_CTRL (0x00, bit 0
RBGEN starts the generator), RNG_STATUS (0x04, bits 31:24 the number of
32-bit words waiting in the FIFO, bits 19:0 the warm-up count: RNG clocks
whose output is thrown away after enabling), RNG_DATA (0x08, pops one word),
RNG_FF_THRES (0x0C, FIFO threshold) and RNG_INT_MASK (0x10, bit 0 INT_OFF).

Virtual time, not entropy.  The words come from a deterministic generator
(SplitMix64, two 32-bit words per step, low word first) seeded per board
(``Board(rng_seed=...)``, ``vizor run --rng-seed``; default ``DEFAULT_SEED``),
so a replay reads exactly the same numbers.  The FIFO fills with virtual time
once RBGEN is set: after the warm-up (``warmup / RNG_CLOCKS_PER_US`` µs)
one word every ``WORD_MICROS`` µs, up to ``FIFO_DEPTH`` words; a read makes
room, and filling starts again from the time of the read.  Reading
RNG_DATA with the FIFO empty returns 0 and does not advance the generator.

Not implemented: the interrupt (INT_OFF is stored; the line is not wired),
RNG_FF_THRES behaviour (stored and read back).
"""

from __future__ import annotations

from dataclasses import dataclass

from vizor.machine.clock import Clock
from vizor.machine.devices.base import UnmodelledAccess

RNG_CTRL = 0x00
RNG_STATUS = 0x04
RNG_DATA = 0x08
RNG_FF_THRES = 0x0C
RNG_INT_MASK = 0x10

CTRL_RBGEN = 1 << 0
INT_OFF = 1 << 0
STATUS_WARMUP_MASK = 0x000FFFFF
STATUS_WORDS_SHIFT = 24
FIFO_DEPTH = 4
WORD_MICROS = 2            # one word every 2 µs of virtual time
RNG_CLOCKS_PER_US = 250    # the warm-up count is in RNG clocks (core clock 250 MHz)
DEFAULT_SEED = 0x5EED_0F_B0A2D
MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: (new state, 64-bit output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


@dataclass(frozen=True)
class RngState:
    ctrl: int
    warmup: int
    ff_thres: int
    int_mask: int
    seed: int
    generator: int         # SplitMix64 state
    spare: int | None      # the high word of the last 64-bit output, not read yet
    fill_from: int | None  # µs of virtual time words accrue from (None: generator off)
    level: int             # words in the FIFO at fill_from
    taken: int             # words read since power-on


class Rng:
    def __init__(self, clock: Clock, seed: int = DEFAULT_SEED) -> None:
        self._clock = clock
        self.seed = seed & MASK64
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._ctrl = 0
        self._warmup = 0
        self._ff_thres = 0
        self._int_mask = 0
        self._gen = self.seed
        self._spare: int | None = None
        self._fill_from: int | None = None
        self._level = 0
        self._taken = 0

    def state(self) -> RngState:
        return RngState(self._ctrl, self._warmup, self._ff_thres, self._int_mask, self.seed,
                        self._gen, self._spare, self._fill_from, self._level, self._taken)

    def restore(self, state: RngState) -> None:
        self._ctrl, self._warmup = state.ctrl, state.warmup
        self._ff_thres, self._int_mask = state.ff_thres, state.int_mask
        self.seed, self._gen, self._spare = state.seed, state.generator, state.spare
        self._fill_from, self._level, self._taken = state.fill_from, state.level, state.taken

    @classmethod
    def from_state(cls, clock: Clock, state: RngState) -> "Rng":
        dev = cls(clock, state.seed)
        dev.restore(state)
        return dev

    # ------------------------------------------------------------- access
    def words_available(self) -> int:
        if self._fill_from is None:
            return 0
        made = max(self._clock.micros() - self._fill_from, 0) // WORD_MICROS
        return min(self._level + made, FIFO_DEPTH)

    def read(self, offset: int, size: int) -> int:
        if size != 4:
            raise UnmodelledAccess(f"rng: {size}-byte access at {offset:#x}")
        if offset == RNG_CTRL:
            return self._ctrl
        if offset == RNG_STATUS:
            return (self.words_available() << STATUS_WORDS_SHIFT) | self._warmup
        if offset == RNG_DATA:
            level = self.words_available()
            if level == 0:
                return 0
            self._level, self._fill_from = level - 1, self._clock.micros()
            self._taken += 1
            return self._next_word()
        if offset == RNG_FF_THRES:
            return self._ff_thres
        if offset == RNG_INT_MASK:
            return self._int_mask
        raise UnmodelledAccess(f"rng: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4:
            raise UnmodelledAccess(f"rng: {size}-byte access at {offset:#x}")
        value &= MASK32
        if offset == RNG_CTRL:
            was = self._ctrl & CTRL_RBGEN
            self._ctrl = value
            if value & CTRL_RBGEN and not was:
                # the FIFO starts empty and fills after the warm-up
                self._fill_from = self._clock.micros() + self._warmup // RNG_CLOCKS_PER_US
                self._level = 0
            elif not value & CTRL_RBGEN:
                self._fill_from = None
        elif offset == RNG_STATUS:
            self._warmup = value & STATUS_WARMUP_MASK
        elif offset == RNG_FF_THRES:
            self._ff_thres = value
        elif offset == RNG_INT_MASK:
            self._int_mask = value & INT_OFF
        else:
            raise UnmodelledAccess(f"rng: write of {value:#x} to {offset:#x}")

    def _next_word(self) -> int:
        if self._spare is not None:
            word, self._spare = self._spare, None
            return word
        self._gen, out = splitmix64(self._gen)
        self._spare = out >> 32
        return out & MASK32
