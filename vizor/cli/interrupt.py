"""Ctrl-C and SIGTERM during a headless run: the board stops, the run ends the orderly
way (summary printed, a recording closed valid).

Python raises KeyboardInterrupt in whatever Python code runs when the signal
arrives, and on a polling guest that is nearly always a Unicorn hook callback,
where ctypes prints "Exception ignored" and the run goes on.  So the handler
only sets ``Board.signalled``: the next system-register or MMIO hook stops the
run after its instruction (``Core._signal_stop``), at a point where the stop is
exact, and the run's stop check between slices reports why.  The handler may
run anywhere (between an MMIO callback's return and Unicorn, say, where a stop
would leave the load abandoned but counted), so it never stops the core itself.
"""

from __future__ import annotations

import signal
import threading

NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


class StopOnSignal:
    def __init__(self, board) -> None:
        self.board = board
        self.received: int | None = None
        self._old: dict[int, object] = {}

    def _handler(self, signum, _frame) -> None:
        self.received = signum
        self.board.signalled = True

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in NAMES:
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self.board.signalled = False

    def wrap(self, stop):
        """``stop`` (a run's stop check, or None) that also ends the run on a signal."""
        def check() -> str | None:
            if self.received is not None:
                return f"interrupted by {NAMES[self.received]}"
            return stop() if stop is not None else None
        return check
