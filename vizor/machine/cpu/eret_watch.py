"""Illegal exception returns, which Unicorn performs but never faults (a mixin of ``Core``)."""

from __future__ import annotations

import vizor.machine.arch.exceptions as X
from vizor.machine.cpu.sysreg_hooks import SPSR_ENC


class EretWatch:
    #
    # Unicorn (QEMU 5) performs an illegal ERET as the architecture says (it
    # sets PSTATE.IL and continues at ELR in the same EL) but never raises the
    # illegal-state exception the next instruction must take: the IL bit does
    # not reach QEMU's cached translation flags.  ERET has no hook, but its
    # legality depends only on SPSR_ELx, HCR_EL2 and SCR_EL3, whose writes vizor
    # sees.  While the SPSR of the current EL holds a value an ERET could not
    # legally return to, the core runs one instruction per slice and PSTATE.IL
    # is checked before each: the exception is then taken exactly at the
    # instruction ERET returned to.  Only code that has written such an SPSR
    # (a bug being debugged) runs slowly.

    def refresh_eret_watch(self) -> None:
        """Re-read SPSR_EL1..3 from the CPU (after reset or a state restore)."""
        for el, enc in SPSR_ENC.items():
            self._spsr[el] = self.regs.read_enc(enc)
        self._update_eret_watch()

    def _update_eret_watch(self) -> None:
        """Recompute the watch; from a hook, stop the slice when it turns on so
        that the next instruction already runs under it."""
        hcr, scr, spsr = self.hcr, self.scr, self._spsr
        was = self._eret_watch
        self._eret_watch = any(X.eret_may_be_illegal(spsr[el], el, hcr, scr) for el in (1, 2, 3))
        if self._filter is not None:    # accel.c keeps SPSR writes that leave the watch as it is
            self._filter.core.eret_watch = self._eret_watch
        if self._eret_watch and not was and self.board.running is self:
            self._stop()

    def _watch_eret(self, budget: int) -> int:
        pstate = self.regs.read("PSTATE")
        cur = (pstate >> 2) & 3
        if pstate & X.PSTATE_IL:
            self.take_exception(X.sync_target_el(cur, self.hcr, self.scr), X.VEC_SYNC,
                                X.esr(X.EC_ILLEGAL_STATE), self.regs.read("PC"))
            pstate = self.regs.read("PSTATE")
            cur = (pstate >> 2) & 3
        if cur and X.eret_may_be_illegal(self._spsr[cur], cur, self.hcr, self.scr):
            self.slice_cut = True        # one instruction per slice, IL checked before each
            return min(budget, 1)
        return budget

