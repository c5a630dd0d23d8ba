"""PowerManagement: the password in bits 31:24, the watchdog count in 1/65536 s
ticks, WRCFG full reset, and the firmware's halt partition in RSTS."""

from __future__ import annotations

from vizor.machine.clock import CPU_HZ
from vizor.machine.devices.power_management import (
    PM_PASSWORD,
    PM_RSTC,
    PM_RSTS,
    PM_WDOG,
    RSTC_WRCFG_FULL_RESET,
    RSTS_HADWRF,
    RSTS_PARTITION_HALT,
    PowerManagement,
    partition_bits,
    rsts_partition,
)


def make(clock):
    resets = []
    return PowerManagement(clock, resets.append), resets


def test_a_write_without_the_password_changes_nothing(clock):
    pm, _ = make(clock)
    pm.write(PM_WDOG, 4, 0x1000)
    pm.write(PM_RSTS, 4, 0x555)
    assert pm.read(PM_WDOG, 4) == 0
    assert pm.read(PM_RSTS, 4) == 0x1000


def test_the_watchdog_counts_down_in_ticks_of_a_65536th_second(clock):
    pm, _ = make(clock)
    pm.write(PM_WDOG, 4, PM_PASSWORD | 0x10000)
    assert pm.read(PM_WDOG, 4) == 0x10000
    clock.advance_to(CPU_HZ // 2)
    assert pm.read(PM_WDOG, 4) == 0x8000


def test_expiry_with_full_reset_configured_requests_a_reset(clock):
    pm, resets = make(clock)
    pm.write(PM_WDOG, 4, PM_PASSWORD | 10)
    pm.write(PM_RSTC, 4, PM_PASSWORD | RSTC_WRCFG_FULL_RESET)
    clock.advance_to(CPU_HZ)
    assert resets == [False]
    assert pm.read(PM_RSTS, 4) & RSTS_HADWRF


def test_expiry_without_full_reset_configured_does_nothing(clock):
    pm, resets = make(clock)
    pm.write(PM_WDOG, 4, PM_PASSWORD | 10)
    clock.advance_to(CPU_HZ)
    assert resets == [] and pm.read(PM_WDOG, 4) == 0


def test_the_halt_partition_asks_for_power_off(clock):
    pm, resets = make(clock)
    pm.write(PM_RSTS, 4, PM_PASSWORD | RSTS_PARTITION_HALT)
    pm.write(PM_WDOG, 4, PM_PASSWORD | 10)
    pm.write(PM_RSTC, 4, PM_PASSWORD | RSTC_WRCFG_FULL_RESET)
    clock.advance_to(CPU_HZ)
    assert resets == [True]


def test_writing_zero_stops_the_watchdog(clock):
    pm, resets = make(clock)
    pm.write(PM_RSTC, 4, PM_PASSWORD | RSTC_WRCFG_FULL_RESET)
    pm.write(PM_WDOG, 4, PM_PASSWORD | 10)
    pm.write(PM_WDOG, 4, PM_PASSWORD | 0)
    clock.advance_to(CPU_HZ)
    assert resets == []


def test_partition_numbers_sit_in_the_even_bits():
    assert partition_bits(63) == 0x555
    assert rsts_partition(0x555) == 63
    assert rsts_partition(partition_bits(5)) == 5


def test_state_keeps_a_running_watchdog(clock):
    pm, _ = make(clock)
    pm.write(PM_RSTC, 4, PM_PASSWORD | RSTC_WRCFG_FULL_RESET)
    pm.write(PM_WDOG, 4, PM_PASSWORD | 100)
    st = pm.state()
    resets = []
    PowerManagement.from_state(clock, st, resets.append)
    pm._stop()
    clock.advance_to(CPU_HZ)
    assert resets == [False]
