"""Reset-value stubs for BCM2837 blocks vizor does not model: USB and the
thermal sensor (the DMA controller and the clock manager have models of their
own: dma.py, cprman.py).

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
    ("thermal", 0x3F212000, 0x8, THERMAL_VALUES),
    ("usb", 0x3F980000, 0x10000, USB_VALUES),
)
