"""Taking an exception the way the architecture does (a mixin of ``Core``).

Unicorn reports synchronous exceptions and vizor delivers interrupts itself;
either way the entry into the target EL happens here: ELR, SPSR, ESR, FAR and
HPFAR written, PSTATE set, SP banked, PC at the vector, the exception recorded,
and a core that keeps re-taking the same exception from its own handler, where
no interrupt can ever break the loop, halted.
"""

from __future__ import annotations

import vizor.machine.arch.exceptions as X
from vizor.machine.cpu.regs import ENC
from vizor.machine.cpu.sysreg_hooks import SPSR_ENC

STUCK_LIMIT = 200  # identical exceptions in a row, each raised by its own handler,
# with no interrupt that could still reach the core (Board.interruptible)
_KIND_NAMES = {X.VEC_SYNC: "sync", X.VEC_IRQ: "irq", X.VEC_FIQ: "fiq", X.VEC_SERROR: "serror"}


class GuestStuck(Exception):
    """A core keeps taking the same exception from its own handler."""


class ExceptionEntry:
    def take_exception(self, target_el: int, kind: int, esr: int, elr: int, far: int | None = None,
                       hpfar: int | None = None) -> None:
        """Enter ``target_el`` the way the architecture does (Arm ARM D1.10).

        This is the hot path of every trap a hypervisor takes, so registers
        move in a few batched C calls (see ``regs.py``).
        """
        self._drain_fast()   # the native path's records first (fasttrap.py)
        self._warp_off()
        r = self.regs
        reads = self._exc_reads[target_el]
        _pc, pstate, sp, vbar, target_sp = reads.read()
        cur = (pstate >> 2) & 3
        vector = vbar + X.vector_offset(cur, pstate, target_el, kind)
        vmid = self.vmid(cur)
        # QEMU keeps the live SP in one register and banks it only when it
        # changes EL or SPSel itself; a PSTATE write does neither, so bank the
        # SP of the EL we leave and load SP_ELx of the target here.
        bank = cur if pstate & X.PSTATE_SP else 0
        new_sp = sp if bank == target_el else target_sp
        sync = kind == X.VEC_SYNC
        key = (target_el, bank, sync, far is not None)
        writes = self._exc_writes.get(key)
        if writes is None:  # interrupts leave ESR_ELx alone
            names = [f"ELR_EL{target_el}", f"SP_EL{bank}", "PSTATE"] + ([f"ESR_EL{target_el}"] if sync else [])
            writes = self._exc_writes[key] = r.batch(names + ([f"FAR_EL{target_el}"] if far is not None else []))
        entry = X.entry_pstate(pstate, target_el)
        if sync:
            if far is not None:
                writes.write(elr, sp, entry, esr, far)
            else:
                writes.write(elr, sp, entry, esr)
        elif far is not None:
            writes.write(elr, sp, entry, far)
        else:
            writes.write(elr, sp, entry)
        if hpfar is not None:
            r.write_enc(ENC["HPFAR_EL2"], hpfar)
        spsr = X.spsr_from_pstate(pstate)
        r.write_enc(SPSR_ENC[target_el], spsr)  # also refreshes QEMU's EL
        if self._eret_watch:
            self._spsr[target_el] = spsr
            self._update_eret_watch()
        else:
            self._spsr[target_el] = spsr
        self._exc_jump.write(new_sp, vector)
        rec = X.ExceptionRecord(self.index, _KIND_NAMES[kind], cur, target_el, esr >> 26 if sync else -1,
                                esr if sync else 0, elr, far, vmid,
                                self._slice_start + self._counter.value, hpfar)
        self.exceptions.append(rec)
        self.exception_counts[rec.ec_name] += 1
        if self.board.exception_listeners:
            self.board.on_exception(self, rec)
        self._check_stuck(elr, esr, vector)

    def _check_stuck(self, elr: int, esr: int, vector: int) -> None:
        sig = self._stuck_sig
        if sig is not None and sig[1] == esr and sig[2] <= elr < sig[2] + 0x80:
            self._stuck_n += 1
            if self._stuck_n >= STUCK_LIMIT and self.board.interruptible(self):
                self._stuck_n = 0     # a timer tick or another core can still break the loop
            elif self._stuck_n >= STUCK_LIMIT:
                self._halt(f"stuck: core {self.index} keeps taking the same exception "
                           f"(EL{(self.pstate >> 2) & 3}, PC {elr:#x}, ESR {esr:#010x})")
                self._stop()
        else:
            self._stuck_n = 0
        self._stuck_sig = (elr, esr, vector)
