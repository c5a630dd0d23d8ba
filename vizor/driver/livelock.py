"""Break the one livelock inside Unicorn that breakpoints can cause.

A breakpoint is a Unicorn exit (carriers.py), and Unicorn stops at an exit
by executing a WFI in its place.  QEMU skips a WFI when the CPU "has work":
among others a virtual IRQ or FIQ pending, i.e. HCR_EL2.VI or VF set in
QEMU's copy of HCR_EL2 — which a hypervisor has set while it runs at EL2
(between injecting an interrupt and its ERET), and while its guest runs with
the interrupt masked (in the guest's own interrupt handler).  The skipped
WFI leaves PC on the exit, the exit is taken again, and ``emu_start`` never
returns: no instruction is counted, no hook runs, no stop is checked.

``LivelockGuard(board)`` watches from a thread: when the core inside
``emu_start`` has breakpoints armed, VI or VF in its HCR_EL2, and has not
counted an instruction for ``PATIENCE`` seconds, it calls ``emu_stop`` on
it.  It looks every ``POLL`` seconds, and every ``FAST_POLL`` while such a
core runs, so a hit costs about ``PATIENCE`` (a reverse-continue over a long
history meets many).  A stop it makes elsewhere (a Python hook that held the
core that long) is an ordinary early end of a slice: it changes no result.  The core then stands where the livelock held it,
at the exit, and reports the breakpoint exactly as an exit stop without
pending work does — so the outcome does not depend on the timing, and runs
stay deterministic (the guard never fires where progress is made).  It lives
outside ``machine/`` because it reads the host clock.
"""

from __future__ import annotations

import threading

from vizor.machine.arch.exceptions import HCR_VF, HCR_VI

PATIENCE = 0.012      # seconds without a counted instruction inside one emu_start
POLL = 0.05           # while no core could livelock
FAST_POLL = 0.002     # while one could


class LivelockGuard:
    def __init__(self, board, patience: float = PATIENCE, poll: float = POLL, fast_poll: float = FAST_POLL) -> None:
        self.board = board
        self.patience = patience
        self.poll = poll
        self.fast_poll = min(fast_poll, poll)
        self.broken = 0              # livelocks broken so far
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "LivelockGuard":
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="vizor-livelock-guard", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._quit.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _watch(self) -> None:
        seen, still, poll = None, 0.0, self.poll
        while not self._quit.wait(poll):
            core = self.board.running
            if core is None or not core.carriers.exits or not core.hcr & (HCR_VI | HCR_VF):
                seen, still, poll = None, 0.0, self.poll
                continue
            poll = self.fast_poll
            now = (core, core.instructions, core._counter.value)
            if now != seen:
                seen, still = now, 0.0
                continue
            still += poll
            if still >= self.patience:
                core.uc.emu_stop()
                self.broken += 1
                seen, still = None, 0.0
