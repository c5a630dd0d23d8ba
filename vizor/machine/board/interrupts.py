"""How interrupts reach a core (a mixin of ``Board``): delivery at slice
boundaries, WFI wake-ups, whether any interrupt can still reach a core, and
so whether a core can still make progress (a core halted as stuck stops the
run only when no other core can).

PSTATE.I/F have no hook (``msr daifclr`` is invisible to vizor), so a pending
interrupt is taken at the start of the core's next slice (``Board.run`` keeps
slices short while one waits on a mask), and after a WFI woken by an interrupt
the core still masks, the next ``WAKE_STEPS`` instructions run one at a time:
kernels idle with "wfi; msr daifclr; ...; msr daifset".
"""

from __future__ import annotations

import vizor.machine.arch.exceptions as X
from vizor.machine.cpu.core import HALTED, PARKED, RUNNING, WFI_IDLE, Core

WAKE_STEPS = 64
MASKED_SLICE = 2_000  # slice length while an interrupt waits on PSTATE.I/F


class InterruptDelivery:
    def _line_changed(self, core: Core):
        def changed(level: bool) -> None:
            if level and self._takeable(core):
                if self.running is core:
                    core._stop()
                elif self.running is None:     # raised between runs (an input): taken at once
                    core.slice_left = 0
        return changed

    def _takeable(self, core: Core) -> tuple[bool, bool] | None:
        """The interrupt the core would take now: (fiq?, target EL), or None."""
        if not (core.irq_line.level or core.fiq_line.level):
            return None                  # the common case: no PSTATE read
        pstate = core.pstate
        cur = (pstate >> 2) & 3
        for fiq, line in ((True, core.fiq_line), (False, core.irq_line)):
            if line.level:
                target = X.irq_target_el(fiq, core.hcr, core.scr)
                if X.interrupt_taken(cur, pstate, target, fiq):
                    return fiq, target
        return None

    def _new_slice(self, core: Core, left: int) -> int:
        """Start a slice of at most ``left`` instructions: take a pending
        interrupt the core can take now (the only place one is taken) and
        return the slice's length.  The board plans it whole, so a run cut
        inside it (max_insns, a step, a stop) goes on with it and where runs
        are cut never changes what the machine does (tests/test_slice_plan.py);
        only the core ends it early (``Core._stop``: a line, a trap, a deadline)."""
        self._deliver(core)
        if (core.irq_line.level or core.fiq_line.level) and self._takeable(core) is None:
            left = min(left, MASKED_SLICE)
        if core.wake_steps:
            core.wake_steps -= 1
            left = 1
        return left

    def _deliver(self, core: Core) -> None:
        hit = self._takeable(core)
        if hit is not None:
            fiq, target = hit
            core.wake_steps = 0
            core.wake_window_spent = False
            # Taken before the slice, outside Unicorn: the core's time is where its
            # slice will start (its exception record and listeners read
            # _slice_start + the instructions counted in the slice, none yet).  Left
            # as they were, they would be the previous slice's: the time the core
            # went to sleep, and after a checkpoint restore whatever ran last.
            core._slice_start = self.clock.base + self._round_done[core.index]
            core._counter.value = 0        # emu_start resets it as well
            core.take_exception(target, X.VEC_FIQ if fiq else X.VEC_IRQ, 0, core.pc)

    def _wakes(self, core: Core) -> bool:
        """Whether a WFI wake-up event is pending: a physical IRQ/FIQ line
        (masked or not), or a virtual IRQ/FIQ (HCR_EL2.VI with IMO, VF with
        FMO) — which exists only for EL1 and EL0, so it does not wake EL2."""
        if core.irq_line.level or core.fiq_line.level:
            return True
        hcr = core.hcr
        if not hcr & (X.HCR_VI | X.HCR_VF) or hcr & X.HCR_TGE or core.el >= 2:
            return False
        return bool((hcr & X.HCR_VI and hcr & X.HCR_IMO) or (hcr & X.HCR_VF and hcr & X.HCR_FMO))

    def _wake(self, core: Core) -> None:
        core.state = RUNNING
        if (core.irq_line.level or core.fiq_line.level) and self._takeable(core) is None \
                and not core.wake_window_spent:
            # once per interrupt: code that sleeps again without unmasking
            # (an idle loop polling with IRQs masked) is not the idiom
            core.wake_steps = WAKE_STEPS
            core.wake_window_spent = True

    def interruptible(self, core: Core) -> bool:
        """Whether an interrupt could still be taken by ``core`` in its present
        state (EL, PSTATE masks, HCR_EL2/SCR_EL3 routing): a virtual one pending,
        or a source routed to it that is raised or armed (a timer enabled and not
        masked, a mailbox, the GPU controller, the PMU, the local timer)."""
        pstate = core.pstate
        cur = (pstate >> 2) & 3
        devices = self.devices
        gpu = devices["interrupt_controller"].can_raise()
        armed = [core.timer.armed(n) for n in range(4)] if core.timer is not None else [False] * 4
        irq, fiq = devices["arm_local"].reachable(core.index, armed, gpu)
        hcr = core.hcr
        virtual = cur < 2 and X.el2_enabled(core.scr) and not hcr & X.HCR_TGE
        irq |= bool(virtual and hcr & X.HCR_IMO and hcr & X.HCR_VI)
        fiq |= bool(virtual and hcr & X.HCR_FMO and hcr & X.HCR_VF)
        for is_fiq, possible in ((False, irq), (True, fiq)):
            if possible and X.interrupt_taken(cur, pstate, X.irq_target_el(is_fiq, hcr, core.scr), is_fiq):
                return True
        return False

    def may_progress(self, core: Core) -> bool:
        """Whether ``core`` may still do something: running (but not spinning in
        ``b .`` with no interrupt able to reach it), released from the spin
        table, or asleep in WFI (the idle limit of ``Board.run`` ends a board
        that never wakes)."""
        if core.state == WFI_IDLE:
            return True
        if core.state == PARKED:
            return self._released(core)
        if core.state != RUNNING:
            return False
        return not (core._spins_in_place(core.pc) and not self.interruptible(core))

    def _halted_alone(self, core: Core) -> bool:
        """``core`` has just halted: if it is stuck and another core may still
        progress, tell the halt listeners and let the others run on."""
        if core.state != HALTED or not (core.fault or "").startswith("stuck:"):
            return False
        if not any(self.may_progress(c) for c in self.cores if c is not core):
            return False
        for listener in self.halt_listeners:
            listener(core)
        return True

    def _nothing_left(self) -> Core | None:
        """A halted core, when no core may progress any more (checked each round)."""
        halted = [c for c in self.cores if c.state == HALTED]
        if halted and not any(self.may_progress(c) for c in self.cores):
            return halted[0]
        return None
