"""Rng against the bcm2835-rng register layout: the FIFO word count in STATUS
bits 31:24, the warm-up count, and a deterministic, seeded generator."""

from __future__ import annotations

import pytest

from vizor.machine.clock import cycles_for_micros
from vizor.machine.devices.base import UnmodelledAccess
from vizor.machine.devices.rng import (
    FIFO_DEPTH,
    RNG_CTRL,
    RNG_DATA,
    RNG_INT_MASK,
    RNG_STATUS,
    WORD_MICROS,
    Rng,
    RngState,
)


def after(clock, us):
    clock.advance_to(clock.cycles + cycles_for_micros(us))


def test_no_word_is_available_before_the_generator_is_enabled(clock):
    rng = Rng(clock)
    after(clock, 1000)
    assert rng.read(RNG_STATUS, 4) >> 24 == 0
    assert rng.read(RNG_DATA, 4) == 0


def test_the_fifo_fills_with_virtual_time_up_to_its_depth(clock):
    rng = Rng(clock)
    rng.write(RNG_CTRL, 4, 1)
    assert rng.read(RNG_STATUS, 4) >> 24 == 0
    after(clock, WORD_MICROS)
    assert rng.read(RNG_STATUS, 4) >> 24 == 1
    after(clock, 100 * WORD_MICROS)
    assert rng.read(RNG_STATUS, 4) >> 24 == FIFO_DEPTH


def test_reading_data_takes_a_word_from_the_count(clock):
    rng = Rng(clock)
    rng.write(RNG_CTRL, 4, 1)
    after(clock, 10 * WORD_MICROS)
    rng.read(RNG_DATA, 4)
    assert rng.read(RNG_STATUS, 4) >> 24 == FIFO_DEPTH - 1


def test_the_warm_up_count_delays_the_first_word_and_reads_back(clock):
    rng = Rng(clock)
    rng.write(RNG_STATUS, 4, 0x40000)
    assert rng.read(RNG_STATUS, 4) & 0xFFFFF == 0x40000
    rng.write(RNG_CTRL, 4, 1)
    after(clock, 100)
    assert rng.read(RNG_STATUS, 4) >> 24 == 0   # 0x40000 RNG clocks = 1048 us
    after(clock, 1000)
    assert rng.read(RNG_STATUS, 4) >> 24 > 0


def words(clock, seed, n=8):
    rng = Rng(clock, seed)
    rng.write(RNG_CTRL, 4, 1)
    out = []
    for _ in range(n):
        after(clock, WORD_MICROS)
        out.append(rng.read(RNG_DATA, 4))
    return out


def test_the_same_seed_gives_the_same_words_and_another_seed_others():
    from vizor.machine.clock import Clock
    a, b, c = words(Clock(), 7), words(Clock(), 7), words(Clock(), 8)
    assert a == b
    assert a != c
    assert len(set(a)) == len(a)


def test_state_restores_the_generator_mid_stream(clock):
    rng = Rng(clock, 3)
    rng.write(RNG_CTRL, 4, 1)
    after(clock, 40)
    rng.read(RNG_DATA, 4)
    st = rng.state()
    assert isinstance(st, RngState)
    nxt = rng.read(RNG_DATA, 4)
    again = Rng.from_state(clock, st)
    assert again.read(RNG_DATA, 4) == nxt


def test_int_mask_reads_back_and_unknown_offsets_are_unmodelled(clock):
    rng = Rng(clock)
    rng.write(RNG_INT_MASK, 4, 1)
    assert rng.read(RNG_INT_MASK, 4) == 1
    with pytest.raises(UnmodelledAccess):
        rng.read(0x40, 4)
