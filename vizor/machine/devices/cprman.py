"""The clock manager (CPRMAN) at 0x3F101000: clock generators, PLL control and the A2W block.

The BCM2835 ARM Peripherals manual documents only the general-purpose clocks
(6.3: CM_GPnCTL / CM_GPnDIV): every write must carry the password 0x5A in bits
31:24 or it is ignored; CTL holds SRC (3:0), ENAB (4), KILL (5), BUSY (7, read
only: the generator is running), FLIP (8) and MASH (10:9); DIV holds DIVI
(23:12) and DIVF (11:0).  Every other clock generator (VPU, UART, EMMC, ...)
has the same CTL/DIV pair at its own offset, and the rest of the block holds
the PLLs:

* CM_PLLA/C/D/H at 0x104-0x110 (ANARST, bit 8, holds the PLL's analogue part
  in reset; the HOLD/LOAD bits of its channels) and CM_PLLB at 0x170;
* CM_LOCK at 0x114, read only: FLOCKA..FLOCKH in bits 8-12, set while that
  PLL is locked;
* the A2W ("analogue to wire") registers from 0x1000: per PLL four ANA words,
  a CTRL word (NDIV 9:0, PDIV 14:12, PWRDN 16, PRST_DISABLE 17) and a FRAC
  word (19:0), and per PLL channel a divider word (DIV 7:0, DISABLE 8).

The model is a register file with the password check, BUSY following ENAB
(and KILL), and each PLL locking as soon as it is powered (A2W CTRL.PWRDN
clear) and out of analogue reset (CM_PLLx.ANARST clear): the real PLL takes
microseconds, which no kernel can tell from "at once", and a kernel that
polls CM_LOCK with a timeout (Linux's clk-bcm2835: "couldn't lock PLL")
goes on.  No clock signal is produced: the UARTs, timers and EMMC do not
depend on these settings.  Reset state is what the Pi firmware leaves before
the kernel starts (``FIRMWARE_STATE``), so a kernel reading the tree back
computes the rates the firmware set up (PLLD 2 GHz, UART 48 MHz, VPU 400 MHz,
EMMC 200 MHz, ...).  Writes without the password are counted in
``ignored_writes``.
"""

from __future__ import annotations

from dataclasses import dataclass

SIZE = 0x2000
PASSWORD = 0x5A000000
PASSWORD_MASK = 0xFF000000

# CM clock generator control bits (6.3)
CTL_ENAB = 1 << 4
CTL_KILL = 1 << 5
CTL_BUSY = 1 << 7

# PLL control in the CM block, and the lock register
CM_PLLA, CM_PLLC, CM_PLLD, CM_PLLH, CM_PLLB = 0x104, 0x108, 0x10C, 0x110, 0x170
CM_LOCK = 0x114
CM_PLL_ANARST = 1 << 8

# A2W: each PLL's CTRL word and its bit in CM_LOCK
A2W_CTRL = {"A": 0x1100, "C": 0x1120, "D": 0x1140, "H": 0x1160, "B": 0x11E0}
A2W_PWRDN = 1 << 16
LOCK_BIT = {"A": 8, "B": 9, "C": 10, "D": 11, "H": 12}
CM_PLL = {"A": CM_PLLA, "B": CM_PLLB, "C": CM_PLLC, "D": CM_PLLD, "H": CM_PLLH}

# The clock generators' CTL offsets: CTL/DIV pairs at 0x000-0x0FC and 0x150-0x1FC
# (CM_PLLx and CM_LOCK sit between them at 0x100-0x14C).
def is_ctl(offset: int) -> bool:
    return offset & 7 == 0 and (offset < 0x100 or 0x150 <= offset < 0x200) and offset != CM_PLLB

# The state the Pi 3 firmware leaves (observed on QEMU raspi3b at reset through its
# monitor, `xp /2048wx 0x3f101000`, before any guest instruction; Linux then reports
# the same tree there as here): PLLA 2.25 GHz, PLLC 2.4 GHz, PLLD 2 GHz, PLLH 864 MHz
# from the 19.2 MHz crystal; VPU 400 MHz on PLLC_CORE0, UART 48 MHz and GP1 25 MHz on
# PLLD_PER, EMMC 200 MHz on PLLC_PER, the timer and OTP on the oscillator.  Offsets
# not listed read 0.
FIRMWARE_STATE = {
    0x008: 0x245, 0x00C: 0x3000,            # VPU
    0x028: 0x244, 0x02C: 0x3000,            # H264
    0x030: 0x244, 0x034: 0x3000,            # ISP
    0x070: 0x200,                           # GP0
    0x078: 0x96, 0x07C: 0x14000,            # GP1
    0x080: 0x291, 0x084: 0x249F00,          # GP2
    0x090: 0x91, 0x094: 0x4000,             # OTP
    0x098: 0x200, 0x0A0: 0x200, 0x0A8: 0x200,   # PCM, PWM, SLIM
    0x0E0: 0x91, 0x0E4: 0xA000,             # TSENS
    0x0E8: 0x291, 0x0EC: 0x13333,           # TIMER
    0x0F0: 0x296, 0x0F4: 0xA6AB,            # UART
    0x0F8: 0x97, 0x0FC: 0x2000,             # VEC
    CM_PLLA: 0x8A, CM_PLLC: 0x228, CM_PLLD: 0x20A,
    0x1A8: 0x4006, 0x1AC: 0x3000,           # SDC
    0x1C0: 0x295, 0x1C4: 0x6000,            # EMMC
    0x1014: 0x144000, 0x101C: 0x100,        # PLLA ANA1, ANA3
    0x1034: 0x144000, 0x103C: 0x100,        # PLLC ANA1, ANA3
    0x1054: 0x144000, 0x105C: 0x100,        # PLLD ANA1, ANA3
    0x1070: 0x900000, 0x1074: 0xC,          # PLLH ANA0, ANA1
    0x1100: 0x2103A, 0x1120: 0x2103E, 0x1140: 0x21034, 0x1160: 0x2102D,   # PLL CTRL
    0x1200: 0x98000, 0x1220: 0x80000, 0x1240: 0x15556,                    # PLL FRAC
    0x1300: 0x100, 0x1320: 0x100, 0x1340: 0x100, 0x1360: 0x4,             # channels
    0x1400: 0x3, 0x1420: 0x100, 0x1440: 0x4,
    0x1520: 0x2, 0x1540: 0x4,
    0x1600: 0x100, 0x1620: 0x2, 0x1640: 0x100,
}


@dataclass(frozen=True)
class CprmanState:
    regs: tuple[tuple[int, int], ...]
    ignored_writes: int


class Cprman:
    def __init__(self) -> None:
        self.regs: dict[int, int] = {}
        self.ignored_writes = 0
        self.reset()

    def reset(self) -> None:
        self.regs = dict(FIRMWARE_STATE)
        self.ignored_writes = 0

    def locked(self, pll: str) -> bool:
        """A PLL is locked while powered and out of analogue reset."""
        return not (self.regs.get(A2W_CTRL[pll], 0) & A2W_PWRDN
                    or self.regs.get(CM_PLL[pll], 0) & CM_PLL_ANARST)

    def _word(self, offset: int) -> int:
        if offset == CM_LOCK:
            return sum(1 << LOCK_BIT[p] for p in LOCK_BIT if self.locked(p))
        value = self.regs.get(offset, 0)
        if is_ctl(offset):
            value &= ~CTL_BUSY
            if value & CTL_ENAB and not value & CTL_KILL:
                value |= CTL_BUSY
        return value

    def read(self, offset: int, size: int) -> int:
        word = self._word(offset & ~3)
        return (word >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4 or offset & 3 or value & PASSWORD_MASK != PASSWORD or offset == CM_LOCK:
            self.ignored_writes += 1
            return
        self.regs[offset] = value & ~PASSWORD_MASK

    def state(self) -> CprmanState:
        return CprmanState(tuple(sorted(self.regs.items())), self.ignored_writes)

    def restore(self, state: CprmanState) -> None:
        self.regs = dict(state.regs)
        self.ignored_writes = state.ignored_writes
