"""The AXI asynchronous bridges (ASB) at 0x3F00A000, beside the power manager.

The ARM Peripherals manual does not describe this block; what is known of it
is what Linux's power-domain driver for the BCM2835 (drivers/soc/bcm or
drivers/pmdomain/bcm, ``bcm2835-power.c``) does with it, and the device tree's
second ``reg`` of the ``brcm,bcm2835-pm`` node (0x7E00A000, 0x24 bytes):

* 0x00 ``BRDG_VERSION``, 0x04 ``CPR_CTRL``: named by the driver, never used;
* 0x08-0x1C, one control word per bridge, slave then master side, for the
  V3D, the ISP and the H.264 block (``V3D_S_CTRL`` 0x08 ... ``H264_M_CTRL``
  0x1C): bit 0 ``REQ_STOP`` (asks the bridge to stop), bit 1 ``ACK`` (the
  bridge has stopped), bit 2 ``EMPTY``, bit 3 ``FULL``.  The driver writes
  them with the power manager's password (0x5A in bits 31:24), sets or clears
  REQ_STOP and polls ACK until it follows, giving up after 1 us;
* 0x20 ``AXI_BRDG_ID``: reads 0x62726467, "brdg" in ASCII; the driver's probe
  refuses the block (-ENODEV, "ASB register ID returned ...") otherwise.

The model: the ID word; each control word holds REQ_STOP as written and
answers ACK = REQ_STOP at once (no transaction is ever in flight in an
emulator, so a stop completes immediately) and EMPTY always, FULL never.
A write without the password (or to the read-only ID) is ignored and
counted (``ignored_writes``), as
the power manager and the clock manager do (a choice: the block's own rule is
undocumented, and Linux always writes the password).  The bridges start
running (REQ_STOP clear).  BRDG_VERSION and CPR_CTRL read 0 and are reported
as unmodelled.  QEMU's raspi3b does not map the block (reads 0: Linux's
power-domain driver fails its probe there); vizor follows the board.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizor.machine.devices.base import UnmodelledAccess

SIZE = 0x24
PASSWORD = 0x5A000000
PASSWORD_MASK = 0xFF000000

BRDG_VERSION = 0x00
CPR_CTRL = 0x04
V3D_S_CTRL, V3D_M_CTRL = 0x08, 0x0C
ISP_S_CTRL, ISP_M_CTRL = 0x10, 0x14
H264_S_CTRL, H264_M_CTRL = 0x18, 0x1C
AXI_BRDG_ID = 0x20
CONTROLS = (V3D_S_CTRL, V3D_M_CTRL, ISP_S_CTRL, ISP_M_CTRL, H264_S_CTRL, H264_M_CTRL)

REQ_STOP = 1 << 0
ACK = 1 << 1
EMPTY = 1 << 2
FULL = 1 << 3

BRDG_ID = 0x62726467          # "brdg"


@dataclass(frozen=True)
class AsbState:
    stopped: tuple[bool, ...]      # REQ_STOP of each control word, in CONTROLS order
    ignored_writes: int


class Asb:
    def __init__(self) -> None:
        self.stopped = [False] * len(CONTROLS)
        self.ignored_writes = 0

    def reset(self) -> None:
        self.stopped = [False] * len(CONTROLS)
        self.ignored_writes = 0

    def _word(self, offset: int) -> int:
        if offset == AXI_BRDG_ID:
            return BRDG_ID
        if offset in CONTROLS:
            stop = self.stopped[CONTROLS.index(offset)]
            return (REQ_STOP | ACK if stop else 0) | EMPTY
        raise UnmodelledAccess(f"asb +{offset:#x}")

    def read(self, offset: int, size: int) -> int:
        word = self._word(offset & ~3)
        return (word >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset not in CONTROLS and offset != AXI_BRDG_ID:
            raise UnmodelledAccess(f"asb +{offset:#x}")
        if offset == AXI_BRDG_ID or size != 4 or value & PASSWORD_MASK != PASSWORD:
            self.ignored_writes += 1
            return
        self.stopped[CONTROLS.index(offset)] = bool(value & REQ_STOP)

    def state(self) -> AsbState:
        return AsbState(tuple(self.stopped), self.ignored_writes)

    def restore(self, state: AsbState) -> None:
        self.stopped = list(state.stopped)
        self.ignored_writes = state.ignored_writes
