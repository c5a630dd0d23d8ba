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
it.  The core then stands where the livelock held it,
at the exit, and reports the breakpoint exactly as an exit stop without
pending work does — so the outcome does not depend on the timing, and runs
stay deterministic (the guard never fires where progress is made).  It lives
outside ``machine/`` because it reads the host clock.
"""

from __future__ import annotations

import threading

from vizor.machine.arch.exceptions import HCR_VF, HCR_VI

PATIENCE = 0.15       # seconds without a counted instruction inside one emu_start
POLL = 0.05


class LivelockGuard:
    def __init__(self, board, patience: float = PATIENCE, poll: float = POLL) -> None:
        self.board = board
        self.patience = patience
        self.poll = poll
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
        seen, still = None, 0.0
        while not self._quit.wait(self.poll):
            core = self.board.running
            if core is None:
                seen, still = None, 0.0
                continue
            now = (core, core.instructions, core._counter.value)
            if now != seen:
                seen, still = now, 0.0
                continue
            still += self.poll
            if still >= self.patience and core.carriers.exits and core.hcr & (HCR_VI | HCR_VF):
                core.uc.emu_stop()
                self.broken += 1
                seen, still = None, 0.0
