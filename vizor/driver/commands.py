"""The runner's vocabulary: commands the UI sends (``Runner.send``) and the frozen
answers that are not board snapshots.  Plain dataclasses; no textual, no rich."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# --- commands (UI -> runner) ----------------------------------------------------------

@dataclass(frozen=True)
class Run:
    max_insns: Optional[int] = None   # stop after this many more instructions (all cores)


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Step:
    core: int


@dataclass(frozen=True)
class ToggleBreakpoint:
    """Remove the breakpoint with these filters at ``address`` (enable it if disabled), or
    add one.  ``pc_of`` (t with nothing typed: ``address`` is that core's PC): the
    breakpoint that core's disassembly marks there, whatever its filters."""

    address: int
    vmid: Optional[int] = None
    el: Optional[int] = None
    core: Optional[int] = None
    check_core: Optional[int] = 0   # the core whose translation must reach RAM at ``address`` (None: no check)
    world: Optional[str] = None     # "secure" | "ns" (stops.Filters)
    pc_of: Optional[int] = None


@dataclass(frozen=True)
class AddBreakpoint:
    """A breakpoint with every filter of the debugger (the dialog's command)."""

    address: int
    vmid: Optional[int] = None
    el: Optional[int] = None
    core: Optional[int] = None
    condition: Optional[str] = None   # "x0 == 0x10" (stops.Condition syntax)
    ignore: int = 0
    check_core: Optional[int] = None  # the core whose translation must reach RAM (None: no check)
    world: Optional[str] = None       # "secure" | "ns" (stops.Filters)


@dataclass(frozen=True)
class AddWatchpoint:
    address: int
    space: str = "pa"                 # "pa" | "va" (translated now on ``via_core``)
    length: int = 8
    reads: bool = False
    writes: bool = True
    vmid: Optional[int] = None
    el: Optional[int] = None
    core: Optional[int] = None
    via_core: int = 0
    world: Optional[str] = None


@dataclass(frozen=True)
class AddEventStop:
    kind: str                         # stops.EVENT_KINDS
    ec: Optional[int] = None
    exc_kind: str = "sync"
    vmid: Optional[int] = None
    to_el: Optional[int] = None
    register: Optional[str] = None
    core: Optional[int] = None
    world: Optional[str] = None       # the world taken from (exception), entered (world)


@dataclass(frozen=True)
class RemoveStop:
    id: int


@dataclass(frozen=True)
class EnableStop:
    id: int
    enabled: bool


@dataclass(frozen=True)
class StepMore:
    """``how``: "over" (a BL/BLR runs to its return), "out" (to the caller),
    "vm" (the next instruction in the same VM)."""

    core: int
    how: str


@dataclass(frozen=True)
class RunUntilVMID:
    vmid: int


@dataclass(frozen=True)
class UartInput:
    uart: str                 # "pl011" | "mini"
    data: bytes


@dataclass(frozen=True)
class WalkVA:
    core: int
    va: int
    regime: str = "auto"


@dataclass(frozen=True)
class ShowCode:
    core: int
    address: int


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class StartRecording:
    path: str                 # the session file (overwritten)


@dataclass(frozen=True)
class StopRecording:
    pass


@dataclass(frozen=True)
class Seek:
    """Replay only: go to instruction count ``instructions``."""

    instructions: int


@dataclass(frozen=True)
class EditRegister:
    core: int
    name: str          # X0..X30, SP, PC, ELR_EL2, HCR_EL2, ... (vizor/driver/edits.py)
    value: int


@dataclass(frozen=True)
class EditMemory:
    core: int          # whose current regime translates ``va``
    va: int
    size: int          # 1, 2, 4 or 8 bytes, little-endian
    value: int


@dataclass(frozen=True)
class StepBack:
    """Replay only: back to where ``core`` had executed one instruction fewer."""

    core: int


@dataclass(frozen=True)
class ReverseContinue:
    """Replay only: back to the previous breakpoint hit."""


@dataclass(frozen=True)
class ReverseStepInVM:
    """Replay only: back to the core's previous instruction in the VM it is in."""

    core: int


# --- answers that are not snapshots ------------------------------------------------------

@dataclass(frozen=True)
class Notice:
    text: str
    error: bool = False


@dataclass(frozen=True)
class StopCondition:
    id: int
    kind: str                         # "breakpoint" | "watchpoint" | "catch"
    text: str                         # the engine's describe()
    enabled: bool
    hits: int


@dataclass(frozen=True)
class StopsState:
    """Every stop condition set, in the order they were set (published when it changes)."""

    stops: tuple[StopCondition, ...]


@dataclass(frozen=True)
class RecordingState:
    """Published when recording starts or stops (``path`` None: not recording)."""

    path: Optional[str]
    inputs: int = 0
    checkpoints: int = 0


@dataclass(frozen=True)
class TimelineInfo:
    """What a replay's timeline shows besides the current position: where the
    recording starts and ends, its inputs (count, kind) and checkpoints."""

    start: int
    end: int
    inputs: tuple[tuple[int, str], ...]
    checkpoints: tuple[int, ...]


@dataclass(frozen=True)
class StopReport:
    """Why and where the board stopped: published at every stop."""

    stop_serial: int
    kind: str                         # StopReason.kind, or "pause"
    text: str                         # the reason in words
    core: Optional[int]               # the core that stopped (None: the board as a whole)
    el: Optional[int] = None
    vmid: Optional[int] = None
    pc: Optional[int] = None
    world: Optional[str] = None       # "S-EL1", "NS-EL1", "EL2 (NS)", "EL3"


def reason_text(reason) -> str:
    """One line for a ``StopReason`` (board.py), as the status line and stop reports say it."""
    kind = reason.kind
    if kind == "step":
        return f"stepped core {reason.core}" if getattr(reason, "core", None) is not None else "stepped"
    if kind == "breakpoint":
        return reason.detail or "breakpoint"
    if kind == "halted":
        return f"halted: {reason.detail}"
    if kind == "idle":
        return f"idle: {reason.detail}"
    return f"{kind}: {reason.detail}" if reason.detail else kind
