"""One Cortex-A53 core: the one place that drives Unicorn, and the architecture Unicorn
leaves out (exception entry, abort classification, system-register hooks, the PMU,
breakpoint and watchpoint carriers).  The board it runs on is reached through the
small ``BoardServices`` interface of ``host.py``."""

from vizor.machine.cpu.core import HALTED, PARKED, RUNNING, WFI_IDLE, Core
from vizor.machine.cpu.host import BoardServices, CoreView

__all__ = ["Core", "BoardServices", "CoreView", "RUNNING", "WFI_IDLE", "PARKED", "HALTED"]
