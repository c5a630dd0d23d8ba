"""The ARM <-> VideoCore mailboxes, base 0x3F00B880, with the property channel.

BCM2835 ARM Peripherals (mailbox registers in the ARM-control block) and the
Raspberry Pi firmware "Mailbox property interface" wiki page.  Mailbox 0
carries VideoCore -> ARM replies (read 0x00, peek 0x10, sender 0x14, status
0x18, config 0x1C); the ARM writes requests to mailbox 1 (write 0x20,
status 0x38).  Status bit 31 is "full", bit 30 "empty"; mailbox 0 holds up
to 8 replies.

Channel 8 (property tags, ARM to VC): the ARM writes ``buffer | 8``; the model
reads the buffer through ``read_ram(pa, n)`` (bus address with the
0x40000000/0xC0000000 alias bits stripped), answers every tag it knows
(value buffer filled, tag code = bit 31 | response length), leaves unknown
tags untouched (no response bit), sets the buffer code to 0x80000000
(0x80000001 when the buffer cannot be parsed), writes it back with
``write_ram(pa, data)`` and queues the same ``buffer | 8`` word in mailbox 0.
The answer is immediate: mailbox 1 never reads full.

Optional ``irq`` (the ARM basic "ARM mailbox" interrupt) is high while
mailbox 0 config bit 0 (data-available IRQ enable) is set and mailbox 0 is
not empty.

Framebuffer tags (0x0004xxxx) go to ``Framebuffer`` (framebuffer.py).  The
temperature tags (0x00030006, 0x0003000A) answer a fixed 45 °C and 85 °C (the
thermal sensor is the firmware's; vizor has no host sensor and no heat).

Not implemented: every channel but 8 (a write raises UnmodelledAccess), GPU memory, DMA, GPIO-expander and display tags (left unanswered),
the other mailbox config bits.  Reading an empty mailbox 0 returns 0.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Callable

from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.framebuffer import Framebuffer, FramebufferConfig

MBOX0_READ = 0x00
MBOX0_PEEK = 0x10
MBOX0_SENDER = 0x14
MBOX0_STATUS = 0x18
MBOX0_CONFIG = 0x1C
MBOX1_WRITE = 0x20
MBOX1_PEEK = 0x30
MBOX1_SENDER = 0x34
MBOX1_STATUS = 0x38
MBOX1_CONFIG = 0x3C

STATUS_FULL = 1 << 31
STATUS_EMPTY = 1 << 30
CONFIG_DATA_IRQ = 1 << 0
DEPTH = 8

CHANNEL_PROPERTY = 8
CODE_REQUEST = 0x00000000
CODE_SUCCESS = 0x80000000
CODE_PARSE_ERROR = 0x80000001
TAG_RESPONSE = 1 << 31
MAX_BUFFER = 0x10000

TAG_FIRMWARE_REVISION = 0x00000001
TAG_BOARD_MODEL = 0x00010001
TAG_BOARD_REVISION = 0x00010002
TAG_BOARD_MAC = 0x00010003
TAG_BOARD_SERIAL = 0x00010004
TAG_ARM_MEMORY = 0x00010005
TAG_VC_MEMORY = 0x00010006
TAG_GET_POWER_STATE = 0x00020001
TAG_SET_POWER_STATE = 0x00028001
TAG_GET_CLOCK_RATE = 0x00030002
TAG_SET_CLOCK_RATE = 0x00038002
TAG_GET_MAX_CLOCK_RATE = 0x00030004
TAG_GET_MIN_CLOCK_RATE = 0x00030007
TAG_GET_TEMPERATURE = 0x00030006
TAG_GET_MAX_TEMPERATURE = 0x0003000A

FIRMWARE_REVISION = 0x5F5E1000   # a fixed build date, 2020-09-13
BOARD_REVISION_PI3B = 0xA02082
ARM_MEMORY = (0x00000000, 0x3C000000)
VC_MEMORY = (0x3C000000, 0x04000000)
DEFAULT_MAC = bytes((0xB8, 0x27, 0xEB, 0x00, 0x00, 0x01))  # Raspberry Pi OUI
DEFAULT_SERIAL = 0x00000000_12345678
TEMPERATURE = 45_000        # SoC temperature in thousandths of a degree C (fixed: no host sensor)
MAX_TEMPERATURE = 85_000    # the firmware's throttling limit

# clock id -> (reset rate, min, max) in Hz
CLOCKS = {
    1: (200_000_000, 200_000_000, 200_000_000),      # EMMC
    2: (48_000_000, 48_000_000, 48_000_000),         # UART
    3: (1_200_000_000, 600_000_000, 1_200_000_000),  # ARM
    4: (400_000_000, 250_000_000, 400_000_000),      # CORE
    5: (300_000_000, 250_000_000, 300_000_000),      # V3D
    6: (300_000_000, 250_000_000, 300_000_000),      # H264
    7: (300_000_000, 250_000_000, 300_000_000),      # ISP
    8: (450_000_000, 400_000_000, 450_000_000),      # SDRAM
}
# power domain ids 0..8: SD, UART0, UART1, USB HCD, I2C0, I2C1, I2C2, SPI, CCP2TX
POWER_DEVICES = 9
POWER_ON = 1 << 0
POWER_NO_DEVICE = 1 << 1


def bus_to_physical(address: int) -> int:
    """Strip the VideoCore cache-alias bits (0x40000000, 0xC0000000)."""
    return address & 0x3FFFFFFF


@dataclass(frozen=True)
class VideoCoreMailboxState:
    replies: tuple[int, ...]
    config: int
    clock_rates: tuple[tuple[int, int], ...]
    power: tuple[int, ...]
    framebuffer: FramebufferConfig = FramebufferConfig()


class VideoCoreMailbox:
    """Mailboxes 0/1 of the ARM control block and the firmware's property channel."""

    def __init__(self, read_ram: Callable[[int, int], bytes],
                 write_ram: Callable[[int, bytes], None],
                 irq: IrqLine | None = None, *, mac: bytes = DEFAULT_MAC,
                 serial: int = DEFAULT_SERIAL) -> None:
        self._read_ram = read_ram
        self._write_ram = write_ram
        self._irq = irq
        self._mac = bytes(mac)
        self._serial = serial
        self.framebuffer = Framebuffer()
        self.reset()

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        self._replies: deque[int] = deque()
        self._config = 0
        self._rates = {cid: rate for cid, (rate, _, _) in CLOCKS.items()}
        self._power = [0] * POWER_DEVICES
        self.framebuffer.reset()
        self._update_irqs()

    def state(self) -> VideoCoreMailboxState:
        return VideoCoreMailboxState(tuple(self._replies), self._config,
                                     tuple(sorted(self._rates.items())), tuple(self._power),
                                     self.framebuffer.state())

    def restore(self, state: VideoCoreMailboxState) -> None:
        self._replies = deque(state.replies)
        self._config = state.config
        self._rates = dict(state.clock_rates)
        self._power = list(state.power)
        self.framebuffer.restore(state.framebuffer)
        self._update_irqs()

    # ------------------------------------------------------------- access
    def read(self, offset: int, size: int) -> int:
        if size != 4:
            raise UnmodelledAccess(f"mailbox: {size}-byte access at {offset:#x}")
        if offset == MBOX0_READ:
            value = self._replies.popleft() if self._replies else 0
            self._update_irqs()
            return value
        if offset == MBOX0_PEEK:
            return self._replies[0] if self._replies else 0
        if offset in (MBOX0_SENDER, MBOX1_SENDER, MBOX1_PEEK):
            return 0
        if offset == MBOX0_STATUS:
            return ((STATUS_FULL if len(self._replies) >= DEPTH else 0)
                    | (0 if self._replies else STATUS_EMPTY))
        if offset == MBOX0_CONFIG:
            return self._config
        if offset == MBOX1_STATUS:
            return STATUS_EMPTY
        if offset == MBOX1_CONFIG:
            return 0
        raise UnmodelledAccess(f"mailbox: read of {offset:#x}")

    def write(self, offset: int, size: int, value: int) -> None:
        if size != 4:
            raise UnmodelledAccess(f"mailbox: {size}-byte access at {offset:#x}")
        value &= 0xFFFFFFFF
        if offset == MBOX0_CONFIG:
            self._config = value
        elif offset == MBOX1_WRITE:
            channel = value & 0xF
            if channel != CHANNEL_PROPERTY:
                raise UnmodelledAccess(f"mailbox: channel {channel} ({value:#x}) not modelled")
            self._process(bus_to_physical(value & ~0xF))
            if len(self._replies) < DEPTH:
                self._replies.append(value)
        else:
            raise UnmodelledAccess(f"mailbox: write of {value:#x} to {offset:#x}")
        self._update_irqs()

    def _update_irqs(self) -> None:
        if self._irq is not None:
            self._irq.set(bool(self._config & CONFIG_DATA_IRQ and self._replies))

    # ------------------------------------------------------ property tags
    def _process(self, pa: int) -> None:
        (size,) = struct.unpack("<I", self._read_ram(pa, 4))
        if size < 12 or size > MAX_BUFFER or size & 3:
            self._write_ram(pa + 4, struct.pack("<I", CODE_PARSE_ERROR))
            return
        buf = bytearray(self._read_ram(pa, size))
        code = CODE_PARSE_ERROR
        off = 8
        while off + 4 <= size:
            (tag,) = struct.unpack_from("<I", buf, off)
            if tag == 0:
                code = CODE_SUCCESS
                break
            if off + 12 > size:
                break
            vsize, _ = struct.unpack_from("<II", buf, off + 4)
            end = off + 12 + ((vsize + 3) & ~3)
            if end > size:
                break
            response = self._answer(tag, bytes(buf[off + 12:off + 12 + vsize]))
            if response is not None:
                n = min(len(response), vsize)
                buf[off + 12:off + 12 + n] = response[:n]
                struct.pack_into("<I", buf, off + 8, TAG_RESPONSE | len(response))
            off = end
        struct.pack_into("<I", buf, 4, code)
        self._write_ram(pa, bytes(buf))

    def _answer(self, tag: int, request: bytes) -> bytes | None:
        """The response value buffer for ``tag``, or None for an unknown tag."""
        words = struct.unpack_from(f"<{len(request) // 4}I", request)
        arg = lambda i: words[i] if i < len(words) else 0  # noqa: E731
        u32 = lambda *v: struct.pack(f"<{len(v)}I", *v)  # noqa: E731
        if tag >> 16 == 0x0004:
            return self.framebuffer.answer(tag, words)
        if tag == TAG_FIRMWARE_REVISION:
            return u32(FIRMWARE_REVISION)
        if tag == TAG_BOARD_MODEL:
            return u32(0)
        if tag == TAG_BOARD_REVISION:
            return u32(BOARD_REVISION_PI3B)
        if tag == TAG_BOARD_MAC:
            return self._mac
        if tag == TAG_BOARD_SERIAL:
            return struct.pack("<Q", self._serial)
        if tag == TAG_ARM_MEMORY:
            return u32(*ARM_MEMORY)
        if tag == TAG_VC_MEMORY:
            return u32(*VC_MEMORY)
        if tag in (TAG_GET_CLOCK_RATE, TAG_GET_MAX_CLOCK_RATE, TAG_GET_MIN_CLOCK_RATE,
                   TAG_SET_CLOCK_RATE):
            cid = arg(0)
            if cid not in CLOCKS:
                return u32(cid, 0)
            _, low, high = CLOCKS[cid]
            if tag == TAG_SET_CLOCK_RATE:
                self._rates[cid] = min(max(arg(1), low), high)
            rate = {TAG_GET_MAX_CLOCK_RATE: high,
                    TAG_GET_MIN_CLOCK_RATE: low}.get(tag, self._rates[cid])
            return u32(cid, rate)
        if tag in (TAG_GET_TEMPERATURE, TAG_GET_MAX_TEMPERATURE):
            return u32(arg(0), TEMPERATURE if tag == TAG_GET_TEMPERATURE else MAX_TEMPERATURE)
        if tag in (TAG_GET_POWER_STATE, TAG_SET_POWER_STATE):
            dev = arg(0)
            if dev >= POWER_DEVICES:
                return u32(dev, POWER_NO_DEVICE)
            if tag == TAG_SET_POWER_STATE:
                self._power[dev] = arg(1) & POWER_ON
            return u32(dev, self._power[dev])
        return None
