"""The clock manager (CPRMAN): the password, BUSY following ENAB, PLLs locking
once powered and out of reset, and the firmware's clock tree at reset
(BCM2835 ARM Peripherals 6.3 for the CTL/DIV layout)."""

from __future__ import annotations

from vizor.machine.devices.cprman import (
    A2W_CTRL,
    A2W_PWRDN,
    CM_LOCK,
    CM_PLL_ANARST,
    CM_PLLD,
    CTL_BUSY,
    CTL_ENAB,
    CTL_KILL,
    PASSWORD,
    Cprman,
)

GP0CTL, GP0DIV = 0x70, 0x74
UARTCTL, UARTDIV = 0xF0, 0xF4
XOSC = 19_200_000


def test_a_write_without_the_password_is_ignored_and_counted():
    cm = Cprman()
    cm.write(GP0DIV, 4, 0x5000)
    assert cm.read(GP0DIV, 4) == 0 and cm.ignored_writes == 1
    cm.write(GP0DIV, 4, PASSWORD | 0x5000)
    assert cm.read(GP0DIV, 4) == 0x5000         # the password does not read back


def test_busy_follows_enable_and_kill():
    cm = Cprman()
    cm.write(GP0CTL, 4, PASSWORD | CTL_ENAB | 1)      # oscillator, enabled
    assert cm.read(GP0CTL, 4) & CTL_BUSY
    cm.write(GP0CTL, 4, PASSWORD | 1)                  # disabled: the generator stops
    assert not cm.read(GP0CTL, 4) & CTL_BUSY
    cm.write(GP0CTL, 4, PASSWORD | CTL_ENAB | CTL_KILL | 1)
    assert not cm.read(GP0CTL, 4) & CTL_BUSY


def test_every_pll_is_locked_at_reset_as_the_firmware_leaves_them():
    assert Cprman().read(CM_LOCK, 4) == 0x1F00        # FLOCKA..FLOCKH


def test_a_pll_unlocks_in_reset_or_powered_down_and_locks_again_when_both_end():
    cm = Cprman()
    ctrl = cm.read(A2W_CTRL["D"], 4)
    cm.write(CM_PLLD, 4, PASSWORD | CM_PLL_ANARST)
    cm.write(A2W_CTRL["D"], 4, PASSWORD | ctrl | A2W_PWRDN)
    assert not cm.read(CM_LOCK, 4) & (1 << 11)
    cm.write(A2W_CTRL["D"], 4, PASSWORD | ctrl)       # powered, still in reset
    assert not cm.read(CM_LOCK, 4) & (1 << 11)
    cm.write(CM_PLLD, 4, PASSWORD)                     # out of reset: locked
    assert cm.read(CM_LOCK, 4) & (1 << 11)
    cm.write(CM_LOCK, 4, PASSWORD)                     # read only
    assert cm.read(CM_LOCK, 4) == 0x1F00


def pll_rate(cm: Cprman, pll: str, ana1: int) -> float:
    ctrl = cm.read(A2W_CTRL[pll], 4)
    ndiv, pdiv = ctrl & 0x3FF, (ctrl >> 12) & 7
    frac = cm.read(A2W_CTRL[pll] + 0x100, 4) & 0xFFFFF
    prediv = 2 if cm.read(ana1, 4) & (1 << 14) else 1      # ANA1's feedback prescaler
    return XOSC * (ndiv + frac / (1 << 20)) * prediv / pdiv


def test_the_firmware_tree_gives_plld_2ghz_and_the_uart_48mhz():
    cm = Cprman()
    plld = pll_rate(cm, "D", 0x1054)
    assert abs(plld - 2e9) < 100
    per = plld / (cm.read(0x1540, 4) & 0xFF)             # PLLD_PER channel: /4
    ctl, div = cm.read(UARTCTL, 4), cm.read(UARTDIV, 4)
    assert ctl & 0xF == 6 and ctl & CTL_BUSY               # source PLLD_PER, running
    assert abs(per * 4096 / div - 48e6) < 1e4              # DIVI.DIVF = 10.417


def test_state_round_trips_and_reset_restores_the_firmware_tree():
    cm = Cprman()
    cm.write(UARTDIV, 4, PASSWORD | 0x1000)
    saved = cm.state()
    other = Cprman()
    other.restore(saved)
    assert other.read(UARTDIV, 4) == 0x1000 and other.state() == saved
    other.reset()
    assert other.read(UARTDIV, 4) == 0xA6AB
