"""Messages of the TUI: small dataclasses, past tense, posted by the machine worker.

The runner publishes frozen objects (``vizor.machine.inspect.snapshot``); ``message_for``
wraps each in the message the app dispatches.  ``SnapshotReady`` is high
frequency while the board runs: a newer one replaces a queued one.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from vizor.driver.commands import Notice, RecordingState, StopReport, StopsState
from vizor.machine.inspect.snapshot import BoardState, CodeState, WalkState


@dataclass
class SnapshotReady(Message):
    snapshot: BoardState

    def can_replace(self, message: Message) -> bool:
        # a queued snapshot may be dropped for a newer one, unless it marks a stop
        return isinstance(message, SnapshotReady) and message.snapshot.stop_serial == self.snapshot.stop_serial


@dataclass
class WalkReady(Message):
    walk: WalkState


@dataclass
class CodeReady(Message):
    code: CodeState


@dataclass
class NoticePosted(Message):
    text: str
    error: bool = False


@dataclass
class StopsChanged(Message):
    stops: StopsState


@dataclass
class StopReported(Message):
    report: StopReport


@dataclass
class RecordingChanged(Message):
    state: RecordingState


@dataclass
class CoreSelected(Message):
    core: int


def message_for(obj: object) -> Message:
    if isinstance(obj, BoardState):
        return SnapshotReady(obj)
    if isinstance(obj, WalkState):
        return WalkReady(obj)
    if isinstance(obj, CodeState):
        return CodeReady(obj)
    if isinstance(obj, StopsState):
        return StopsChanged(obj)
    if isinstance(obj, StopReport):
        return StopReported(obj)
    if isinstance(obj, RecordingState):
        return RecordingChanged(obj)
    if isinstance(obj, Notice):
        return NoticePosted(obj.text, obj.error)
    raise TypeError(f"no message for {type(obj).__name__}")
