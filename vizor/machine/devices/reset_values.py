"""Reset-value stubs for BCM2837 blocks vizor does not model: DMA, USB, the
clock manager and the thermal sensor.

Kernels commonly probe these while they start: they read an ID register, poll
a "busy" or "idle" bit after a reset, or check that a DMA channel is not
active.  A stub answers every read with the register's reset value (0 where
no value is listed below) and ignores writes, so such a kernel keeps going;
every access still goes through ``UnmodelledAccess``, so the bus records it
in the unmodelled-access log (``Bus.unmodelled``) before the stub's value is
returned.  A stub has no state: writing a register does not change what it
reads.

Where each value comes from is said next to its table.  Blocks and offsets
with no documented reset value read 0, exactly as an unmapped register does.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizor.machine.devices.base import UnmodelledAccess

# --- DMA controller, 0x3F007000 (BCM2835 ARM Peripherals, ch. 4) --------------------------------
# Channels 0-14 at 0x100 each: CS 0x00, CONBLK_AD 0x04, TI 0x08, SOURCE_AD 0x0C, DEST_AD 0x10,
# TXFR_LEN 0x14, STRIDE 0x18, NEXTCONBK 0x1C, DEBUG 0x20; all reset to 0 (4.2.1.2-4.2.1.10),
# except DEBUG.LITE (bit 28), set on the reduced "DMA Lite" engines, channels 7-14 (4.5).
# INT_STATUS 0xFE0 resets to 0; ENABLE 0xFF0 lists EN0-EN14 with reset value 1 (4.2.1.12).
# Channel 15 sits elsewhere (0x3FE05000) and is not covered.
DMA_CHANNELS = 15
DMA_CHANNEL_STRIDE = 0x100
DMA_CS = 0x00
DMA_DEBUG = 0x20
DMA_DEBUG_LITE = 1 << 28
DMA_INT_STATUS = 0xFE0
DMA_ENABLE = 0xFF0
DMA_VALUES = {DMA_ENABLE: (1 << DMA_CHANNELS) - 1,
              **{c * DMA_CHANNEL_STRIDE + DMA_DEBUG: DMA_DEBUG_LITE for c in range(7, DMA_CHANNELS)}}

# --- USB: Synopsys DesignWare OTG core, 0x3F980000 --------------------------------------------
# The ARM Peripherals manual only names the block (ch. 15).  The identification and
# hardware-configuration words are fixed by the synthesis of the BCM2837's core (release
# 2.80a) and read the same on every Pi 3; GRSTCTL.AHBIdle (bit 31) is set while the core is
# idle and CSftRst (bit 0) reads 0 once a soft reset has completed; GUSBCFG's reset value
# has USBTrdTim = 5 (bits 13:10).  Everything else reads 0.
USB_GUSBCFG = 0x00C
USB_GRSTCTL = 0x010
USB_GSNPSID = 0x040
USB_GHWCFG1 = 0x044
USB_GHWCFG2 = 0x048
USB_GHWCFG3 = 0x04C
USB_GHWCFG4 = 0x050
USB_VALUES = {
    USB_GUSBCFG: 0x00001400,
    USB_GRSTCTL: 0x80000000,
    USB_GSNPSID: 0x4F54280A,    # "OT", release 2.80a
    USB_GHWCFG1: 0x00000000,
    USB_GHWCFG2: 0x228DDD50,
    USB_GHWCFG3: 0x0FF000E8,
    USB_GHWCFG4: 0x1FF00020,
}

# --- Clock manager, 0x3F101000 (BCM2835 ARM Peripherals, 6.3) ---------------------------------
# The documented registers are the general-purpose clocks: CM_GP0CTL 0x70, CM_GP0DIV 0x74,
# CM_GP1CTL 0x78, CM_GP1DIV 0x7C, CM_GP2CTL 0x80, CM_GP2DIV 0x84.  Every field of them resets
# to 0 — in particular CTL.BUSY (bit 7), which a kernel polls after stopping a clock, so it
# goes on at once.  Other clocks (PCM, PWM, ...) are not documented; they read 0 as well.
CM_GP0CTL = 0x70
CM_CTL_BUSY = 1 << 7
CM_VALUES: dict[int, int] = {}

# --- Thermal sensor, 0x3F212000 -----------------------------------------------------------------
# Not in the ARM Peripherals manual, and no reset value is documented for its two registers
# (control 0x00, status 0x04): both read 0.  Kernels that want the temperature usually ask
# the firmware through the mailbox's "get temperature" property tag instead.
THERMAL_VALUES: dict[int, int] = {}


@dataclass(frozen=True)
class ResetValueStubState:
    """A stub has no state (writes are ignored)."""


class ResetValueStub:
    """Reads answer from ``values`` (register offset -> reset value, 0 if absent);
    writes are ignored; both are reported to the bus as unmodelled."""

    def __init__(self, block: str, values: dict[int, int]) -> None:
        self.block = block
        self.values = dict(values)

    def read(self, offset: int, size: int) -> int:
        word = self.values.get(offset & ~3, 0)
        raise UnmodelledAccess(f"{self.block} +{offset:#x}", reads_as=word >> (8 * (offset & 3)))

    def write(self, offset: int, size: int, value: int) -> None:
        raise UnmodelledAccess(f"{self.block} +{offset:#x}")

    def reset(self) -> None:
        pass

    def state(self) -> ResetValueStubState:
        return ResetValueStubState()

    def restore(self, state: ResetValueStubState) -> None:
        pass


# (name, base, size, values) — ARM physical addresses
RESET_VALUE_BLOCKS = (
    ("dma", 0x3F007000, 0x1000, DMA_VALUES),
    ("clock_manager", 0x3F101000, 0x1000, CM_VALUES),
    ("thermal", 0x3F212000, 0x8, THERMAL_VALUES),
    ("usb", 0x3F980000, 0x10000, USB_VALUES),
)
