"""The debugger engine: stop conditions as data and as text, breakpoints and watchpoints
filtered by VMID, EL and core, and stepping over, out and within a VM."""

from vizor.machine.debug.engine import Debugger
from vizor.machine.debug.spec import SpecError, add_break, add_catch, add_watch
from vizor.machine.debug.stepping import StepRun
from vizor.machine.debug.stops import (
           Breakpoint,
           Condition,
           EventStop,
           Filters,
           Watchpoint,
)

__all__ = ["Debugger", "StepRun", "Breakpoint", "Watchpoint", "EventStop", "Condition", "Filters",
           "SpecError", "add_break", "add_watch", "add_catch"]
