"""The board's devices: where each sits on the bus and how its interrupt lines run.

The address map and the IRQ wiring are data here, not knowledge inside the
devices (which only know register offsets and their own lines):

    generic timers (per core) -> ArmLocal timer inputs -> core IRQ/FIQ
    GPU peripherals -> InterruptController -> ArmLocal GPU routing -> one core

Unmodelled blocks kernels commonly probe (USB, thermal sensor) are
reset-value stubs (devices/reset_values.py).  The EMMC slot starts empty; ``insert_sd`` puts a card (an image file) in it.
The power manager's watchdog calls back into the board (``watchdog_reset``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vizor.machine.devices.arm_local import ArmLocal
from vizor.machine.devices.asb import Asb
from vizor.machine.devices.cprman import Cprman
from vizor.machine.devices.dma import DmaController
from vizor.machine.devices.emmc import Emmc
from vizor.machine.devices.generic_timer import GenericTimer
from vizor.machine.devices.gpio import Gpio
from vizor.machine.devices.interrupt_controller import InterruptController
from vizor.machine.devices.mini_uart import MiniUart
from vizor.machine.devices.pl011 import Pl011Uart
from vizor.machine.devices.power_management import PowerManagement
from vizor.machine.devices.reset_values import RESET_VALUE_BLOCKS, ResetValueStub
from vizor.machine.devices.rng import Rng
from vizor.machine.devices.sd_card import DiskImage, SdCard
from vizor.machine.devices.system_timer import SystemTimer
from vizor.machine.devices.videocore_mailbox import VideoCoreMailbox

if TYPE_CHECKING:
    from vizor.machine.board.bus import Bus
    from vizor.machine.clock import Clock


class Sockets(Protocol):
    """What the wiring plugs devices into: the board (board.py), seen from here."""

    clock: Clock
    cores: list
    bus: Bus
    devices: dict[str, object]

    def read_ram(self, pa: int, n: int) -> bytes: ...
    def write_ram(self, pa: int, data: bytes) -> None: ...
    def uart_output(self, uart: str, byte: int) -> None: ...
    def watchdog_reset(self, halt: bool) -> None: ...

# (name, base, size) — ARM physical addresses
ADDRESS_MAP = (
    ("system_timer", 0x3F003000, 0x20),
    ("dma", 0x3F007000, 0x1000),
    ("asb", 0x3F00A000, 0x24),
    ("interrupt_controller", 0x3F00B000, 0x400),
    ("videocore_mailbox", 0x3F00B880, 0x40),
    ("power_management", 0x3F100000, 0x114),
    ("cprman", 0x3F101000, 0x2000),
    ("rng", 0x3F104000, 0x14),
    ("gpio", 0x3F200000, 0xB4),
    ("pl011", 0x3F201000, 0x1000),
    ("mini_uart", 0x3F215000, 0x80),
    ("emmc", 0x3F300000, 0x100),
    ("arm_local", 0x40000000, 0x100),
)
# GPU interrupt numbers (BCM2835 ARM Peripherals, 7.5)
IRQ_SYSTEM_TIMER = (0, 1, 2, 3)
IRQ_AUX = 29
IRQ_GPIO = (49, 50, 51, 52)
IRQ_UART = 57
IRQ_EMMC = 62
BASIC_ARM_MAILBOX = 1


def wire_devices(board: "Sockets") -> dict[str, object]:
    clock = board.clock
    cores = board.cores
    local = ArmLocal(clock, [c.irq_line for c in cores], [c.fiq_line for c in cores])
    for i, c in enumerate(cores):
        c.timer = GenericTimer(clock, [local.timer_input(i, t) for t in range(4)])
    intc = InterruptController(local.gpu_irq_input, local.gpu_fiq_input)
    devices = {
        "arm_local": local,
        "interrupt_controller": intc,
        "system_timer": SystemTimer(clock, [intc.irq_input(n) for n in IRQ_SYSTEM_TIMER]),
        "mini_uart": MiniUart(intc.irq_input(IRQ_AUX), lambda b: board.uart_output("mini", b)),
        "pl011": Pl011Uart(intc.irq_input(IRQ_UART), lambda b: board.uart_output("pl011", b)),
        "gpio": Gpio([intc.irq_input(n) for n in IRQ_GPIO]),
        "videocore_mailbox": VideoCoreMailbox(board.read_ram, board.write_ram,
                                              intc.basic_input(BASIC_ARM_MAILBOX)),
        "power_management": PowerManagement(clock, board.watchdog_reset),
        "rng": Rng(clock),
        "cprman": Cprman(),
        "dma": DmaController(),
        "asb": Asb(),
        "emmc": Emmc(None, intc.irq_input(IRQ_EMMC)),
    }
    for name, base, size in ADDRESS_MAP:
        board.bus.attach(base, size, devices[name], name)
    # stateless reset-value stubs: on the bus (and in its unmodelled log), not in
    # board.devices, so checkpoints and resets do not see them
    for name, base, size, values in RESET_VALUE_BLOCKS:
        board.bus.attach(base, size, ResetValueStub(name, values), name)
    return devices


def insert_sd(board: "Sockets", path: "str | DiskImage", writable: bool = False) -> SdCard:
    """Put a card holding the raw image at ``path`` (or a ``DiskImage``) in
    the EMMC slot (SdImageError if it cannot be opened)."""
    card = SdCard(path if isinstance(path, DiskImage) else DiskImage(path, writable))
    emmc = board.devices["emmc"]
    emmc.card = card
    emmc.reset()
    return card

