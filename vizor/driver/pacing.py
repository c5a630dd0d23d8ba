"""When a recording takes its next checkpoint: by wall time, not by instruction count.

A step back replays from the nearest checkpoint, so what bounds its latency
is the wall time between checkpoints, not their distance in instructions
(25 M instructions are 0.1 s of a compute loop and 8 s of the trap-heavy
demo hypervisor).  ``WallPacer(seconds)`` is the ``checkpoint_due``
predicate a ``session.Recorder`` asks between slices.  Host time decides
only where the checkpoints fall, never what the machine does: a replay
restores and re-runs them exactly wherever they are.  This module lives
outside ``machine/``, which never reads host time.
"""

from __future__ import annotations

import time
from typing import Callable

CHECKPOINT_SECONDS = 1.0   # wall time between a recording's checkpoints (vizor run/boot --record, R)


class WallPacer:
    def __init__(self, seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if seconds is None:
            seconds = CHECKPOINT_SECONDS    # read here, so that a test can shorten the period
        if seconds <= 0:
            raise ValueError("the checkpoint period must be positive")
        self.seconds = seconds
        self._clock = clock
        self._last = clock()

    def __call__(self) -> bool:
        """True (and the period restarts) when a checkpoint is due."""
        now = self._clock()
        if now - self._last >= self.seconds:
            self._last = now
            return True
        return False


def checkpoint_policy(interval: int | None) -> dict:
    """A Recorder's checkpoint options: every ``interval`` instructions if
    given (tests want them where they can predict them), else every
    CHECKPOINT_SECONDS of wall time."""
    if interval:
        return {"interval": interval}
    return {"interval": None, "checkpoint_due": WallPacer()}
