"""A core's whole CPU state as bytes, for checkpoints (vizor/machine/session/
checkpoint.py uses it), and its translated code after IC maintenance (a mixin
of ``Core``)."""

from __future__ import annotations

import ctypes

from unicorn import UcError

from vizor.machine.cpu.sysreg_hooks import HCR


class CpuContext:
    def save_context(self) -> bytes:
        """Unicorn's whole CPU state of this core (general and system registers,
        PSTATE, FP/SIMD, exclusive monitor), as bytes."""
        return bytes(self.uc.context_save())

    def restore_context(self, data: bytes) -> None:
        """Load a state from ``save_context``.  Only the CPU part of ``data`` is
        used: the context header (pointers of the instance that saved it) is
        this instance's own."""
        ctx = self.uc.context_save()
        local = bytes(ctx)
        if len(data) != len(local):
            raise ValueError(f"a CPU context is {len(local)} bytes, not {len(data)}")
        head = len(local) - int.from_bytes(local[:8], "little")
        ctypes.memmove(ctx.context, local[:head] + data[head:], len(local))
        self.uc.context_restore(ctx)
        # An HCR_EL2 write rebuilds QEMU's cached flags (any CP_REG write does) and,
        # through its write function, the pending virtual IRQ/FIQ/SError, which
        # live outside the context (cs->interrupt_request)
        self.regs.write_enc(HCR, self.regs.read_enc(HCR))
        self.flush_tlb()
        self.flush_tb()
        self.walk_cache.clear()
        self._warp_off()
        self.refresh_eret_watch()

    def _code_changed(self, crm: int, op2: int, xt: int) -> None:
        """IC IVAU (CRm 5, op2 1), IALLU (5, 0) or IALLUIS (1, 0) just executed.
        This core drops the translated code of the 64-byte line, or all of it;
        the other cores (IVAU and IALLUIS reach the Inner Shareable domain) drop
        all of theirs before they next run, once however many came meanwhile."""
        line = xt & ~63
        try:
            if op2 == 1:
                self.uc.ctl_remove_cache(line, line + 64)
            else:
                self.flush_tb()
        except UcError:                  # the VA does not translate: drop everything
            self.flush_tb()
        if crm == 1 or op2 == 1:
            self._others_stale()

    def _others_stale(self) -> None:
        for c in self.board.cores:
            if c is not self:
                c._tb_stale = True
