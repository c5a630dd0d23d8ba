"""A core's whole CPU state as bytes, for checkpoints (a mixin of ``Core``;
vizor/machine/session/checkpoint.py uses it)."""

from __future__ import annotations

import ctypes

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
