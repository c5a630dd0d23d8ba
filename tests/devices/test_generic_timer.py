"""GenericTimer against the Arm ARM (D11 The Generic Timer; CNTx_CTL/CVAL/TVAL,
CNTVOFF_EL2, CNTKCTL_EL1, CNTHCTL_EL2 register pages)."""

from __future__ import annotations

import pytest

from vizor.machine.clock import cycles_for_counter
from vizor.machine.devices.base import IrqLine
from vizor.machine.devices.generic_timer import (
    CNTHP,
    CNTPNS,
    CNTPS,
    CNTV,
    CTL_ENABLE,
    CTL_IMASK,
    CTL_ISTATUS,
    GenericTimer,
    TimerAccess,
)


@pytest.fixture
def lines():
    return [IrqLine(n) for n in ("cntps", "cntpns", "cnthp", "cntv")]


@pytest.fixture
def timer(clock, lines):
    return GenericTimer(clock, lines)


def test_counters_follow_virtual_time_at_19_2_mhz(clock, timer):
    clock.advance_to(1_200_000_000)  # one second of virtual time
    assert timer.read_sysreg("CNTPCT_EL0") == 19_200_000
    assert timer.read_sysreg("CNTFRQ_EL0") == 19_200_000


def test_cntvct_is_cntpct_minus_cntvoff(clock, timer):
    clock.advance_to(cycles_for_counter(1000))
    timer.write_sysreg("CNTVOFF_EL2", 300)
    assert timer.read_sysreg("CNTVCT_EL0") == 700
    assert timer.read_sysreg("CNTPCT_EL0") == 1000


def test_cntfrq_stores_what_is_written(timer):
    timer.write_sysreg("CNTFRQ_EL0", 62_500_000)
    assert timer.read_sysreg("CNTFRQ_EL0") == 62_500_000


def test_cntp_fires_at_exact_counter_value(clock, timer, lines):
    timer.write_sysreg("CNTP_CVAL_EL0", 500)
    timer.write_sysreg("CNTP_CTL_EL0", CTL_ENABLE)
    clock.advance_to(cycles_for_counter(500) - 1)
    assert not lines[CNTPNS].level
    assert not timer.read_sysreg("CNTP_CTL_EL0") & CTL_ISTATUS
    clock.advance_to(cycles_for_counter(500))
    assert lines[CNTPNS].level
    assert timer.read_sysreg("CNTP_CTL_EL0") == CTL_ENABLE | CTL_ISTATUS
    # lowered by moving the compare value into the future
    timer.write_sysreg("CNTP_CVAL_EL0", 900)
    assert not lines[CNTPNS].level


def test_cntv_fires_at_exact_counter_value_including_cntvoff(clock, timer, lines):
    clock.advance_to(cycles_for_counter(200))
    timer.write_sysreg("CNTVOFF_EL2", 100)
    timer.write_sysreg("CNTV_CVAL_EL0", 400)  # virtual 400 = physical 500
    timer.write_sysreg("CNTV_CTL_EL0", CTL_ENABLE)
    assert clock.next_deadline() == cycles_for_counter(500)
    clock.advance_to(cycles_for_counter(500) - 1)
    assert not lines[CNTV].level
    clock.advance_to(cycles_for_counter(500))
    assert lines[CNTV].level
    assert not lines[CNTPNS].level  # other timers untouched
    timer.write_sysreg("CNTV_CTL_EL0", 0)
    assert not lines[CNTV].level


def test_imask_lowers_the_output_but_istatus_stays(clock, timer, lines):
    timer.write_sysreg("CNTHP_CVAL_EL2", 10)
    timer.write_sysreg("CNTHP_CTL_EL2", CTL_ENABLE)
    clock.advance_to(cycles_for_counter(10))
    assert lines[CNTHP].level
    timer.write_sysreg("CNTHP_CTL_EL2", CTL_ENABLE | CTL_IMASK)
    assert not lines[CNTHP].level
    assert timer.read_sysreg("CNTHP_CTL_EL2") & CTL_ISTATUS
    timer.write_sysreg("CNTHP_CTL_EL2", CTL_ENABLE)
    assert lines[CNTHP].level


def test_virtual_count_wraps_modulo_2_64(timer, lines):
    # CNTVOFF above CNTPCT: CNTVCT wraps to a huge unsigned value, which is
    # at or past any compare value, so the condition holds at once.
    timer.write_sysreg("CNTVOFF_EL2", 100)
    assert timer.read_sysreg("CNTVCT_EL0") == (1 << 64) - 100
    timer.write_sysreg("CNTV_CVAL_EL0", 400)
    timer.write_sysreg("CNTV_CTL_EL0", CTL_ENABLE)
    assert lines[CNTV].level


def test_istatus_is_read_only(timer):
    timer.write_sysreg("CNTPS_CTL_EL1", CTL_ISTATUS)
    assert timer.read_sysreg("CNTPS_CTL_EL1") == 0


def test_disabled_timer_does_not_fire_or_schedule(clock, timer, lines):
    timer.write_sysreg("CNTPS_CVAL_EL1", 5)
    assert clock.next_deadline() is None
    clock.advance_to(cycles_for_counter(10))
    assert not lines[CNTPS].level
    timer.write_sysreg("CNTPS_CTL_EL1", CTL_ENABLE)  # condition already true
    assert lines[CNTPS].level


def test_rewriting_cval_reschedules_the_event(clock, timer, lines):
    timer.write_sysreg("CNTP_CTL_EL0", CTL_ENABLE)
    timer.write_sysreg("CNTP_CVAL_EL0", 100)
    timer.write_sysreg("CNTP_CVAL_EL0", 300)
    assert clock.next_deadline() == cycles_for_counter(300)
    clock.advance_to(cycles_for_counter(299))
    assert not lines[CNTPNS].level
    clock.advance_to(cycles_for_counter(300))
    assert lines[CNTPNS].level


def test_tval_write_sets_cval_to_count_plus_signed_value(clock, timer):
    clock.advance_to(cycles_for_counter(1000))
    timer.write_sysreg("CNTP_TVAL_EL0", 50)
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 1050
    timer.write_sysreg("CNTP_TVAL_EL0", 0xFFFFFF9C)  # -100
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 900


def test_tval_reads_signed_difference(clock, timer):
    timer.write_sysreg("CNTV_CVAL_EL0", 100)
    clock.advance_to(cycles_for_counter(40))
    assert timer.read_sysreg("CNTV_TVAL_EL0") == 60
    clock.advance_to(cycles_for_counter(110))
    assert timer.read_sysreg("CNTV_TVAL_EL0") == (-10) & 0xFFFFFFFF


def test_counters_are_read_only(timer):
    with pytest.raises(KeyError):
        timer.write_sysreg("CNTPCT_EL0", 5)


def test_state_restore_reschedules(clock, lines):
    a = GenericTimer(clock, lines)
    a.write_sysreg("CNTP_CVAL_EL0", 77)
    a.write_sysreg("CNTP_CTL_EL0", CTL_ENABLE)
    saved = a.state()
    other = [IrqLine() for _ in range(4)]
    b = GenericTimer(clock, other)
    b.restore(saved)
    assert b.state() == saved
    clock.advance_to(cycles_for_counter(77))
    assert other[CNTPNS].level


# --- EL0 / EL1 access control ------------------------------------------------

def test_el0_counter_access_is_gated_by_cntkctl(timer):
    assert timer.access("CNTPCT_EL0", 0) == TimerAccess(False, 1, 0x18)
    assert timer.access("CNTVCT_EL0", 0) == TimerAccess(False, 1, 0x18)
    assert timer.access("CNTFRQ_EL0", 0) == TimerAccess(False, 1, 0x18)
    timer.write_sysreg("CNTKCTL_EL1", 0b10)  # EL0VCTEN
    assert timer.access("CNTVCT_EL0", 0).allowed
    assert timer.access("CNTFRQ_EL0", 0).allowed
    assert not timer.access("CNTPCT_EL0", 0).allowed


def test_el0_timer_access_is_gated_by_el0pten_and_el0vten(timer):
    assert not timer.access("CNTV_CTL_EL0", 0).allowed
    assert not timer.access("CNTP_CVAL_EL0", 0).allowed
    timer.write_sysreg("CNTKCTL_EL1", 1 << 8)  # EL0VTEN
    assert timer.access("CNTV_CTL_EL0", 0).allowed
    assert not timer.access("CNTP_CVAL_EL0", 0).allowed
    timer.write_sysreg("CNTKCTL_EL1", 1 << 9)  # EL0PTEN
    assert timer.access("CNTP_CVAL_EL0", 0).allowed


def test_el0_traps_go_to_el2_when_hcr_tge_is_set(timer):
    assert timer.access("CNTPCT_EL0", 0, hcr_el2=1 << 27) == TimerAccess(False, 2, 0x18)


def test_el1_physical_access_traps_to_el2_per_cnthctl(timer):
    assert timer.access("CNTPCT_EL0", 1).allowed
    assert timer.access("CNTP_CTL_EL0", 1).allowed
    timer.write_sysreg("CNTHCTL_EL2", 0)
    assert timer.access("CNTPCT_EL0", 1) == TimerAccess(False, 2, 0x18)
    assert timer.access("CNTP_TVAL_EL0", 1) == TimerAccess(False, 2, 0x18)
    assert timer.access("CNTVCT_EL0", 1).allowed  # virtual side is never trapped
    assert timer.access("CNTV_CTL_EL0", 1).allowed
    # without EL2 (e.g. Secure state on v8.0) nothing traps to EL2
    assert timer.access("CNTPCT_EL0", 1, el2_enabled=False).allowed


def test_cnthctl_traps_el0_too_once_cntkctl_allows_it(timer):
    timer.write_sysreg("CNTKCTL_EL1", 0b1)  # EL0PCTEN
    timer.write_sysreg("CNTHCTL_EL2", 0)
    assert timer.access("CNTPCT_EL0", 0) == TimerAccess(False, 2, 0x18)


def test_el2_registers_are_undefined_below_el2(timer):
    assert timer.access("CNTHP_CTL_EL2", 1) == TimerAccess(False, 1, 0x00)
    assert timer.access("CNTVOFF_EL2", 1) == TimerAccess(False, 1, 0x00)
    assert timer.access("CNTVOFF_EL2", 2).allowed


def test_secure_timer_is_undefined_in_non_secure_el1_and_at_el2(timer):
    assert timer.access("CNTPS_CTL_EL1", 1) == TimerAccess(False, 1, 0x00)
    assert timer.access("CNTPS_CTL_EL1", 2) == TimerAccess(False, 2, 0x00)
    assert timer.access("CNTPS_CTL_EL1", 1, secure=True) == TimerAccess(False, 3, 0x18)
    assert timer.access("CNTPS_CTL_EL1", 1, secure=True, scr_st=True).allowed
    assert timer.access("CNTPS_CTL_EL1", 3).allowed
