"""BCM2837 peripheral models: one small class per hardware block (see base.py)."""

from vizor.machine.devices.arm_local import ArmLocal
from vizor.machine.devices.base import IrqLine, UnmodelledAccess
from vizor.machine.devices.generic_timer import GenericTimer, TimerAccess
from vizor.machine.devices.gpio import Gpio
from vizor.machine.devices.interrupt_controller import InterruptController
from vizor.machine.devices.mini_uart import MiniUart
from vizor.machine.devices.pl011 import Pl011Uart
from vizor.machine.devices.system_timer import SystemTimer
from vizor.machine.devices.videocore_mailbox import VideoCoreMailbox

__all__ = [
    "ArmLocal", "GenericTimer", "Gpio", "InterruptController", "IrqLine", "MiniUart",
    "Pl011Uart", "SystemTimer", "TimerAccess", "UnmodelledAccess", "VideoCoreMailbox",
]
