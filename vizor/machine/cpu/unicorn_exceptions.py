"""Synchronous exceptions as Unicorn reports them, taken architecturally (a mixin of ``Core``).

Unicorn stops at ``UC_HOOK_INTR`` with QEMU's exception number and nothing
more (DESIGN.md fact 3): no ESR, FAR, ELR or SPSR, no jump to the vector.
``_exception_from_unicorn`` classifies the exception (decoding the
instruction, redoing the translation for aborts in ``faults.py``), finds the
target EL and syndrome, and enters it with ``Core.take_exception``.
Undefined-instruction reports also carry what vizor emulates itself: WFI/WFE
traps, HCR_EL2 system-register traps QEMU raised first, the Cortex-A53
IMPLEMENTATION DEFINED registers QEMU 5 lacks, the illegal-state exception,
and a breakpoint exit Unicorn reported as a trapped WFI.
"""

from __future__ import annotations

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.insn import WFE, WFI, decode_sys, exception_imm16
from vizor.machine.arch.mmu import UnsupportedGranule
from vizor.machine.arch.traps import traps_to_el2
from vizor.machine.cpu.faults import classify_abort

# QEMU exception numbers reported to UC_HOOK_INTR (target/arm/cpu.h)
EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT = 1, 2, 3, 4
EXCP_BKPT, EXCP_HVC, EXCP_HYP_TRAP, EXCP_SMC = 7, 11, 12, 13


class UnicornExceptions:
    """Exception entry from Unicorn's reports; the state it uses is the Core's."""

    def _on_intr(self, uc, intno: int, _ud) -> None:
        try:
            self._exception_from_unicorn(intno)
        except UnsupportedGranule as e:
            self._halt(f"core {self.index}: cannot classify the abort at PC {self.pc:#x}: {e}")
            self._stop()
        except Exception as e:  # never let an error escape into Unicorn
            self._halt(f"internal error taking exception {intno}: {e!r}")
            self._stop()

    def _exception_from_unicorn(self, intno: int) -> None:
        pc, pstate, _sp = self._entry.read()
        cur = (pstate >> 2) & 3
        hcr, scr = self.hcr, self.scr
        if pc & 3 and intno in (EXCP_UDEF, EXCP_PREFETCH_ABORT):
            # Unicorn (QEMU 5) has no PC alignment check; a misaligned PC shows
            # up as an undefined instruction or fetch fault at that PC.
            self.take_exception(X.sync_target_el(cur, hcr, scr), X.VEC_SYNC, X.esr(X.EC_PC_ALIGN), pc, pc)
            return
        if intno in (EXCP_SWI, EXCP_HVC, EXCP_SMC):
            word = self.read_insn(pc - 4) or 0
            imm = exception_imm16(word)
            if intno == EXCP_SWI:
                self.take_exception(X.sync_target_el(cur, hcr, scr), X.VEC_SYNC, X.esr(X.EC_SVC, imm), pc)
            elif intno == EXCP_HVC:
                self.take_exception(3 if cur == 3 else 2, X.VEC_SYNC, X.esr(X.EC_HVC, imm), pc)
            else:
                self.take_exception(3, X.VEC_SYNC, X.esr(X.EC_SMC, imm), pc)
            return
        if intno == EXCP_HYP_TRAP:  # SMC trapped by HCR_EL2.TSC: returns to the SMC itself
            imm = exception_imm16(self.read_insn(pc) or 0)
            self.take_exception(2, X.VEC_SYNC, X.esr(X.EC_SMC, imm), pc)
            return
        if intno == EXCP_BKPT:
            imm = exception_imm16(self.read_insn(pc) or 0)
            self.take_exception(X.sync_target_el(cur, hcr, scr), X.VEC_SYNC, X.esr(X.EC_BRK, imm), pc)
            return
        if intno == EXCP_UDEF:
            self._undefined(pc, pstate, cur)
            return
        if intno == EXCP_PREFETCH_ABORT and self.carriers.spurious_fetch_fault(pc):
            self._exit_trap = True       # the exit, reported as the fetch fault it is not
            self._stop()
            return
        if intno in (EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT):
            ab = classify_abort(self, pc, cur, instruction=intno == EXCP_PREFETCH_ABORT)
            self.take_exception(ab.target_el, X.VEC_SYNC, ab.esr, pc, ab.far, ab.hpfar)
            return
        self._halt(f"unhandled Unicorn exception {intno} at PC {pc:#x} (EL{cur})")
        self._stop()

    def _undefined(self, pc: int, pstate: int, cur: int) -> None:
        exit_pc = self.carriers.trapped_exit(pc)
        if exit_pc is not None:
            # Unicorn stops at an exit by imitating a WFI, which HCR_EL2.TWI
            # (or SCTLR_EL1.nTWI at EL0) turns into a trap: it is the exit.
            self.regs.write("PC", exit_pc)
            self._exit_trap = True
            self._stop()
            return
        if pstate & X.PSTATE_IL:
            self.take_exception(X.sync_target_el(cur, self.hcr, self.scr), X.VEC_SYNC,
                                X.esr(X.EC_ILLEGAL_STATE), pc)
            return
        word = self.read_insn(pc)
        el2 = X.el2_enabled(self.scr)
        if word in (WFI, WFE) and cur < 2:
            is_wfe = word == WFE
            if el2 and self.hcr & (X.HCR_TWE if is_wfe else X.HCR_TWI):
                self.take_exception(2, X.VEC_SYNC, X.esr_wfx(is_wfe), pc)
                return
            if cur == 0:  # SCTLR_EL1.nTWI/nTWE
                self.take_exception(X.sync_target_el(0, self.hcr, self.scr), X.VEC_SYNC, X.esr_wfx(is_wfe), pc)
                return
        sys = decode_sys(word) if word is not None else None
        if sys is not None and cur < 2 and el2 and traps_to_el2(sys.encoding, sys.is_read, cur, self.hcr):
            self.take_exception(2, X.VEC_SYNC, X.esr_sysreg(*sys.encoding, sys.rt, sys.is_read), pc)
            return
        if sys is not None and sys.encoding in self.impdef and cur >= 1:
            # An A53 register QEMU 5 does not know (it raised UNDEFINED): emulate
            # it here.  (Returning "skip" from the MRS hook would loop in Unicorn.)
            if sys.is_read:
                self.regs.set_x(sys.rt, self.impdef[sys.encoding])
            else:
                self.impdef[sys.encoding] = self.regs.x(sys.rt)
            self.regs.write("PC", pc + 4)
            return
        self.take_exception(X.sync_target_el(cur, self.hcr, self.scr), X.VEC_SYNC, X.esr(X.EC_UNKNOWN), pc)

    def _wfi_trapped(self, pc: int) -> bool:
        """HCR_EL2.TWI, applied by vizor: QEMU's copy of HCR_EL2 never has TWI,
        because Unicorn stops at a breakpoint (exit) by imitating a WFI, which
        a set TWI would turn into a trap.  Only a WFI that would sleep traps
        (Arm ARM: "would otherwise have caused the PE to enter a low-power
        state"); one with an interrupt pending completes.  Returns whether the
        core stays awake."""
        if not self.hcr & X.HCR_TWI or not X.el2_enabled(self.scr):
            return False
        cur = (self.regs.read("PSTATE") >> 2) & 3
        if cur >= 2:
            return False
        if not self.board._wakes(self):
            self.take_exception(2, X.VEC_SYNC, X.esr_wfx(False), pc)
        return True
