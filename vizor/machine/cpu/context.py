"""A core's whole CPU state as bytes, for checkpoints (vizor/machine/session/
checkpoint.py uses it); its TLB and translated code after TLB and IC
maintenance, its own or another core's; and memory read through its current
translation (a mixin of ``Core``)."""

from __future__ import annotations

import ctypes

from unicorn import UC_PROT_EXEC, UC_PROT_READ, UcError
from unicorn.unicorn_const import UC_CTL_TLB_FLUSH
from unicorn.unicorn_py3.unicorn import uclib as _uclib

from vizor.machine.cpu.sysreg_hooks import HCR

# QEMU's own invalidation of the translations made from a range of RAM (by its
# RAM offset, which is the PA: RAM is each instance's first RAM block, at PA 0;
# Board checks it with qemu_ram_addr_from_host).  Unicorn exports it but has no
# API for it: uc_ctl_remove_cache takes a VA, translated by the instance's own
# current MMU state, which for another core may map other memory or none.
try:
    _invalidate_phys = _uclib.tb_invalidate_phys_range_aarch64
    _invalidate_phys.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64]
    _invalidate_phys.restype = None
    RAM_ADDR_OF = _uclib.qemu_ram_addr_from_host_aarch64
    RAM_ADDR_OF.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    RAM_ADDR_OF.restype = ctypes.c_uint64
except AttributeError:        # another Unicorn build: the other cores drop all their code
    _invalidate_phys = RAM_ADDR_OF = None
_vmem_read = _uclib.uc_vmem_read
_translate = _uclib.uc_vmem_translate
_translate.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64)]
_translate.restype = ctypes.c_int


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
        their code of the line's PA, or after IALLUIS (or an IVAU whose VA does
        not translate) all of theirs before they next run, once however many
        came meanwhile."""
        line = xt & ~63
        try:
            if op2 == 1:
                self.uc.ctl_remove_cache(line, line + 64)
            else:
                self.flush_tb()
        except UcError:                  # the VA does not translate: drop everything
            self.flush_tb()
        if op2 == 1:
            pa = ctypes.c_uint64()
            if _translate(self.uc._uch, line, UC_PROT_READ, ctypes.byref(pa)):
                self._others_stale()
            else:
                self._others_drop((pa.value & ~63,))
        elif crm == 1:
            self._others_stale()

    def _ic_kept_in_c(self) -> None:
        """After a run: what accel.c noted of the IC ...IS it kept (an IALLUIS,
        or the lines of IVAUs) reaches the other cores before any of them runs."""
        f = self._filter
        if f is None:
            return
        c = f.core
        if c.ic_others:
            c.ic_others = c.ic_n = 0
            self._others_stale()
        elif c.ic_n:
            lines = c.ic_lines[:c.ic_n]
            c.ic_n = 0
            self._others_drop(lines)

    def _others_drop(self, lines) -> None:
        for c in self.board.cores:
            if c is not self:
                c.drop_code(lines)

    def drop_code(self, lines) -> None:
        """Drop this core's translations of the 64-byte lines at these PAs
        (another core's IC IVAU of them)."""
        if self._tb_stale:
            return                        # all of it goes before the next run anyway
        if _invalidate_phys is None or not self.board.code_by_pa:
            self._tb_stale = True
            return
        h = self.uc._uch
        for pa in lines:
            _invalidate_phys(h, pa, pa + 64)

    def _others_stale(self) -> None:
        for c in self.board.cores:
            if c is not self:
                c._tb_stale = True

    def read_insn(self, va: int) -> int | None:
        """Fetch the instruction word at ``va`` through the current translation."""
        if self._tlb_stale:
            self.flush_tlb()
        va = ctypes.c_uint64(va & 0xFFFFFFFFFFFFFFFF)
        err = _vmem_read(self.uc._uch, va, UC_PROT_EXEC, self._word, 4)
        if err:
            err = _vmem_read(self.uc._uch, va, UC_PROT_READ, self._word, 4)
        return None if err else self._word[0]

    def read_va(self, va: int, size: int = 8) -> int | None:
        """Little-endian read of ``size`` bytes at ``va`` through the core's
        current translation (None if it does not translate)."""
        if self._tlb_stale:
            self.flush_tlb()
        buf = (ctypes.c_uint8 * size)()
        err = _vmem_read(self.uc._uch, ctypes.c_uint64(va & 0xFFFFFFFFFFFFFFFF), UC_PROT_READ, buf, size)
        return None if err else int.from_bytes(bytes(buf), "little")

    def flush_tlb(self) -> None:
        # Unicorn 2.1.4's Python binding has no ctl_flush_tlb(); the control exists
        self.board.tlb_stale[self.index] = 0
        self.uc._Uc__ctl_w(UC_CTL_TLB_FLUSH)

    @property
    def _tlb_stale(self) -> bool:
        return bool(self.board.tlb_stale[self.index])

    def invalidate_tlb(self) -> None:
        """Another core's TLBI ...IS: this core's TLB is dropped before it is next
        used (a run, or a read through its translation).  Only one core runs at a
        time, so this is the same as dropping it now, once per burst of TLBIs
        rather than once per instruction (Linux invalidates page by page).
        accel.c sets the same flags for a TLBI it keeps in C."""
        self.board.tlb_stale[self.index] = 1

    def flush_tb(self) -> None:
        self.uc.ctl_flush_tb()
        self._flush_mark = self.board.slices_run - self._own_slices   # see accel.c, IC
