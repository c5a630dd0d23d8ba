"""SystemTimer against BCM2835 ARM Peripherals chapter 12 (CS, CLO, CHI,
C0–C3; "when the low 32 bits of the counter match a compare register the
corresponding status bit is set and an interrupt raised")."""

from __future__ import annotations

import pytest

from vizor.machine.clock import cycles_for_micros
from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.system_timer import C0, C1, C3, CHI, CLO, CS, SystemTimer


@pytest.fixture
def lines():
    return [IrqLine(f"m{n}") for n in range(4)]


@pytest.fixture
def timer(clock, lines):
    return SystemTimer(clock, lines)


def test_counter_runs_at_1_mhz_of_virtual_time(clock, timer):
    clock.advance_to(cycles_for_micros(1234))
    assert timer.read(CLO, 4) == 1234
    assert timer.read(CHI, 4) == 0
    clock.advance_to(cycles_for_micros((3 << 32) + 7))
    assert timer.read(CLO, 4) == 7
    assert timer.read(CHI, 4) == 3


def test_match_sets_cs_bit_and_raises_irq_at_exact_cycle(clock, timer, lines):
    timer.write(C1, 4, 100)
    clock.advance_to(cycles_for_micros(100) - 1)
    assert timer.read(CS, 4) == 0 and not lines[1].level
    clock.advance_to(cycles_for_micros(100))
    assert timer.read(CS, 4) == 0b0010
    assert lines[1].level
    assert not lines[0].level and not lines[3].level


def test_cs_match_bits_are_write_one_to_clear(clock, timer, lines):
    timer.write(C1, 4, 10)
    timer.write(C3, 4, 10)
    clock.advance_to(cycles_for_micros(10))
    assert timer.read(CS, 4) == 0b1010
    timer.write(CS, 4, 0)  # writing 0 changes nothing
    assert timer.read(CS, 4) == 0b1010
    timer.write(CS, 4, 0b0010)
    assert timer.read(CS, 4) == 0b1000
    assert not lines[1].level and lines[3].level
    timer.write(CS, 4, 0b1000)
    assert not lines[3].level


def test_match_stays_until_cleared_even_after_counter_moves_on(clock, timer, lines):
    timer.write(C0, 4, 5)
    clock.advance_to(cycles_for_micros(500))
    assert lines[0].level


def test_rewriting_compare_reschedules(clock, timer, lines):
    timer.write(C1, 4, 50)
    timer.write(C1, 4, 80)
    clock.advance_to(cycles_for_micros(79))
    assert not lines[1].level
    clock.advance_to(cycles_for_micros(80))
    assert lines[1].level


def test_compare_behind_clo_matches_after_the_32_bit_wrap(clock, timer, lines):
    clock.advance_to(cycles_for_micros(1000))
    timer.write(C1, 4, 999)
    assert timer.next_match_micros(1) == (1 << 32) + 999
    clock.advance_to(cycles_for_micros((1 << 32) + 998))
    assert not lines[1].level
    clock.advance_to(cycles_for_micros((1 << 32) + 999))
    assert lines[1].level


def test_compare_equal_to_clo_waits_a_full_wrap(clock, timer, lines):
    clock.advance_to(cycles_for_micros(1000))
    timer.write(C1, 4, 1000)  # CLO already became 1000 before this write
    assert not lines[1].level
    assert timer.next_match_micros(1) == (1 << 32) + 1000


def test_match_repeats_every_wrap(clock, timer, lines):
    timer.write(C1, 4, 3)
    clock.advance_to(cycles_for_micros(3))
    timer.write(CS, 4, 2)
    clock.advance_to(cycles_for_micros((1 << 32) + 2))
    assert not lines[1].level
    clock.advance_to(cycles_for_micros((1 << 32) + 3))
    assert lines[1].level


def test_clo_and_chi_are_read_only(clock, timer):
    clock.advance_to(cycles_for_micros(42))
    timer.write(CLO, 4, 0)
    assert timer.read(CLO, 4) == 42


def test_unmodelled_offsets_raise(timer):
    with pytest.raises(UnmodelledAccess):
        timer.read(0x1C, 4)


def test_state_round_trip_reschedules(clock, lines):
    a = SystemTimer(clock, lines)
    a.write(C3, 4, 9)
    saved = a.state()
    fresh = [IrqLine() for _ in range(4)]
    b = SystemTimer(clock, fresh)
    b.restore(saved)
    assert b.state() == saved
    clock.advance_to(cycles_for_micros(9))
    assert fresh[3].level
