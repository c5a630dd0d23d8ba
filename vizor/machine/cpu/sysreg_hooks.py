"""The system-register instruction hooks of a core (a mixin of ``Core``).

Every MRS, MSR and SYS instruction a guest executes stops here first
(DESIGN.md fact 6: the hooks fire before QEMU's access checks and may skip
the instruction).  They apply the HCR_EL2 trap bits vizor implements
(``traps.py``), serve the generic timers and the PMU cycle counter from
virtual time, answer ISR_EL1 (from vizor's interrupt lines), MPIDR_EL1 at
EL2/EL3 and HCR_EL2 (whose TWI bit QEMU's copy never holds, see
``Core._wfi_trapped``), keep the Python-side copies of HCR_EL2/SCR_EL3/SPSR_ELx current, broadcast TLB and instruction-cache
maintenance, and report watched register writes to the debugger.
"""

from __future__ import annotations

from unicorn import arm64_const as A

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.traps import is_trappable, traps_to_el2
from vizor.machine.cpu.corestate import HALTED
from vizor.machine.cpu.pmu import (
    A53_COUNTERS,
    PMCCNTR_EL0,
    PMCR_EL0,
    PMU_REGS,
    a53_pmcr,
)
from vizor.machine.cpu.regs import ENC

TIMER_REGS = {
    (3, 3, 14, 0, 0): "CNTFRQ_EL0", (3, 3, 14, 0, 1): "CNTPCT_EL0", (3, 3, 14, 0, 2): "CNTVCT_EL0",
    (3, 3, 14, 2, 0): "CNTP_TVAL_EL0", (3, 3, 14, 2, 1): "CNTP_CTL_EL0", (3, 3, 14, 2, 2): "CNTP_CVAL_EL0",
    (3, 3, 14, 3, 0): "CNTV_TVAL_EL0", (3, 3, 14, 3, 1): "CNTV_CTL_EL0", (3, 3, 14, 3, 2): "CNTV_CVAL_EL0",
    (3, 4, 14, 1, 0): "CNTHCTL_EL2", (3, 4, 14, 0, 3): "CNTVOFF_EL2",
    (3, 4, 14, 2, 0): "CNTHP_TVAL_EL2", (3, 4, 14, 2, 1): "CNTHP_CTL_EL2", (3, 4, 14, 2, 2): "CNTHP_CVAL_EL2",
    (3, 7, 14, 2, 0): "CNTPS_TVAL_EL1", (3, 7, 14, 2, 1): "CNTPS_CTL_EL1", (3, 7, 14, 2, 2): "CNTPS_CVAL_EL1",
}
MPIDR = (3, 0, 0, 0, 5)
CNTKCTL = ENC["CNTKCTL_EL1"]
ISR_EL1 = (3, 0, 12, 1, 0)
SCTLR_OF_EL = {ENC["SCTLR_EL1"]: 1, ENC["SCTLR_EL2"]: 2, ENC["SCTLR_EL3"]: 3}
ISB = 0xD5033FDF
HCR_VSE = 1 << 8
HCR = ENC["HCR_EL2"]
SCR = ENC["SCR_EL3"]
SPSR_ENC = {1: ENC["SPSR_EL1"], 2: ENC["SPSR_EL2"], 3: ENC["SPSR_EL3"]}
SPSR_EL_OF = {enc: el for el, enc in SPSR_ENC.items()}
_RT = {A.UC_ARM64_REG_X0 + i: i for i in range(29)}
_RT.update({A.UC_ARM64_REG_X29: 29, A.UC_ARM64_REG_X30: 30, A.UC_ARM64_REG_XZR: 31})


class SysregHooks:
    """MRS/MSR/SYS handling; the state it uses is the Core's."""

    def _trap(self, enc, rt: int, is_read: bool) -> bool:
        """If an EL0/EL1 access traps to EL2, arrange the exception and stop."""
        if not X.el2_enabled(self.scr):
            return False
        cur = (self.regs.read("PSTATE") >> 2) & 3
        if cur >= 2 or not traps_to_el2(enc, is_read, cur, self.hcr):
            return False
        self._pending_sync = (2, X.esr_sysreg(*enc, rt, is_read), self.regs.read("PC"), None)
        self._stop()
        return True

    def _on_mrs(self, reg: int, cp) -> bool:
        if self.board.signalled:
            self._signal_stop()
        try:
            enc = (cp.op0, cp.op1, cp.crn, cp.crm, cp.op2)
            name = TIMER_REGS.get(enc)
            if name is not None:
                return self._timer_access(name, enc, reg, None)
            if enc == PMCCNTR_EL0 and self._pmu_allowed():
                self.regs.write_id(reg, self.cycle_counter.read(self.now()))
                return True
            if enc == PMCR_EL0 and self._pmu_allowed():
                hpmn = None
                if (self.regs.read("PSTATE") >> 2) & 3 < 2 and X.el2_enabled(self.scr):
                    hpmn = self.regs.read_enc((3, 4, 1, 1, 1)) & 0x1F   # MDCR_EL2.HPMN
                self.regs.write_id(reg, a53_pmcr(self.regs.read_enc(PMCR_EL0), A53_COUNTERS if hpmn is None else hpmn))
                return True
            if enc == HCR and self.hcr & X.HCR_TWI:
                if (self.regs.read("PSTATE") >> 2) & 3 >= 2:
                    self.regs.write_id(reg, self.hcr)  # the value with TWI, not QEMU's copy
                    return True
            if enc == ISR_EL1:
                cur = (self.regs.read("PSTATE") >> 2) & 3
                if cur == 0:
                    return False              # UNDEFINED at EL0: QEMU raises it
                self.regs.write_id(reg, self._isr(cur))
                return True
            if enc == MPIDR:
                cur = (self.regs.read("PSTATE") >> 2) & 3
                if cur >= 2 or not X.el2_enabled(self.scr):
                    self.regs.write_id(reg, self.mpidr)
                    return True
                return False  # QEMU answers VMPIDR_EL2 to EL1
            if is_trappable(enc):
                if self._trap(enc, _RT.get(reg, 31), True):
                    return True
            return False
        except Exception as e:
            self._halt(f"internal error in MRS hook: {e!r}")
            self._stop()
            return True

    def _defer_mmu_switch(self, enc, el: int, value: int) -> bool:
        """An MSR that turns the MMU of the current regime on or off, with no
        ISB after it: the in-order A53 has already fetched the next instruction,
        which runs under the old regime (kernels branch to their TTBR1 addresses
        that way).  QEMU would apply the write at once, so the MSR is skipped and
        ``Core.run`` makes the write after the next instruction."""
        if max((self.regs.read("PSTATE") >> 2) & 3, 1) != el or not (self.regs.read_enc(enc) ^ value) & 1:
            return False
        if self.read_insn(self.regs.read("PC") + 4) == ISB:
            return False
        self._deferred_write = (enc, value)
        self._stop()
        return True

    def _isr(self, cur: int) -> int:
        """ISR_EL1: the A, I and F bits pending, virtual ones at EL1 where
        HCR_EL2.AMO/IMO/FMO route them to EL2 (Arm ARM D13.2.61).  The
        physical lines are vizor's (QEMU never sees them)."""
        hcr = self.hcr
        virt = cur < 2 and X.el2_enabled(self.scr) and not hcr & X.HCR_TGE
        i = hcr & X.HCR_VI if virt and hcr & X.HCR_IMO else self.irq_line.level
        f = hcr & X.HCR_VF if virt and hcr & X.HCR_FMO else self.fiq_line.level
        a = virt and hcr & X.HCR_AMO and hcr & HCR_VSE
        return (0x100 if a else 0) | (0x80 if i else 0) | (0x40 if f else 0)

    def _pmu_allowed(self) -> bool:
        """PMU access permitted here without a trap (else QEMU decides and traps):
        not EL0 without PMUSERENR_EL0.EN, not EL0/EL1 under MDCR_EL2.TPM."""
        cur = (self.regs.read("PSTATE") >> 2) & 3
        if cur < 2 and X.el2_enabled(self.scr) and self.regs.read_enc((3, 4, 1, 1, 1)) & (1 << 6):
            return False
        return cur > 0 or bool(self.regs.read_enc((3, 3, 9, 14, 0)) & 1)

    def _on_msr(self, reg: int, cp) -> bool:
        if self.board.signalled:
            self._signal_stop()
        handled = self._msr(reg, cp)
        if self.msr_watch:
            enc = (cp.op0, cp.op1, cp.crn, cp.crm, cp.op2)
            watch = self.msr_watch.get(enc)
            if watch is not None and self._pending_sync is None and self.state != HALTED:
                try:
                    watch(self, enc, cp.val)  # the write happens (it did not trap)
                except Exception as e:
                    self._halt(f"internal error in a system register watch: {e!r}")
                    self._stop()
        return handled

    def _msr(self, reg: int, cp) -> bool:
        try:
            enc = (cp.op0, cp.op1, cp.crn, cp.crm, cp.op2)
            if enc == HCR:
                if (self.regs.read("PSTATE") >> 2) & 3 < 2:
                    return False            # UNDEFINED below EL2: QEMU raises it
                self.hcr = cp.val
                self._update_eret_watch()
                if cp.val & X.HCR_TWI:  # QEMU must not see TWI: make the write without it
                    self.regs.write_enc(HCR, cp.val & ~X.HCR_TWI)
                    return True
                return False
            if enc == SCR:
                self.scr = cp.val
                self._update_eret_watch()
                return False
            el = SPSR_EL_OF.get(enc)
            if el is not None:
                if (self.regs.read("PSTATE") >> 2) & 3 < el:
                    return False            # UNDEFINED below its EL: QEMU raises it
                self._spsr[el] = cp.val
                self._update_eret_watch()
                return False
            name = TIMER_REGS.get(enc)
            if name is not None:
                return self._timer_access(name, enc, reg, cp.val)
            if enc in PMU_REGS and self._pmu_allowed():
                self.cycle_counter.write(enc, cp.val, self.now())
                return enc == PMCCNTR_EL0  # the control registers are QEMU's too
            if is_trappable(enc):
                if self._trap(enc, _RT.get(reg, 31), False):
                    return True
            el = SCTLR_OF_EL.get(enc)
            if el is not None:
                return self._defer_mmu_switch(enc, el, cp.val)
            return False
        except Exception as e:
            self._halt(f"internal error in MSR hook: {e!r}")
            self._stop()
            return True

    def _on_sys(self, reg: int, cp) -> bool:
        if self.board.signalled:
            self._signal_stop()
        try:
            enc = (cp.op0, cp.op1, cp.crn, cp.crm, cp.op2)
            if self._trap(enc, _RT.get(reg, 31), False):
                return True
            if cp.crn == 8 and cp.crm in (3, 0) and cp.op0 == 1:  # TLBI ...IS (CRm 3; CRm 0 for IPAS2..IS)
                if cp.crm == 3 or (cp.op1 == 4 and cp.crm == 0):
                    self.board.broadcast_tlb_flush(self)
            elif cp.crn == 7 and cp.crm in (1, 5) and cp.op2 in (0, 1):  # IC IALLUIS, IALLU, IVAU
                self._flush_tb = (cp.crm, cp.op2, self.regs.x(_RT.get(reg, 31)))   # Core._code_changed
                self._stop()
            return False
        except Exception as e:
            self._halt(f"internal error in SYS hook: {e!r}")
            self._stop()
            return True

    def _timer_access(self, name: str, enc, reg: int, value: int | None) -> bool:
        """Serve a generic-timer register from virtual time (Unicorn would read the host clock)."""
        timer = self.timer
        cur = (self.regs.read("PSTATE") >> 2) & 3
        if cur and value is None and name == "CNTFRQ_EL0":
            return False    # QEMU's copy is the model's (reset, and every write below): it answers
        if cur == 0:        # CNTKCTL_EL1 is QEMU's alone (no hook): the model reads it for EL0's rights
            timer.write_sysreg("CNTKCTL_EL1", self.regs.read_enc(CNTKCTL))
        if cur < 3:
            ns = bool(self.scr & X.SCR_NS)
            verdict = timer.access(name, cur, self.hcr, el2_enabled=ns, secure=not ns,
                                   scr_st=bool(self.scr & (1 << 11)))
            if not verdict.allowed:
                if verdict.ec == X.EC_SYSREG:
                    syn = X.esr_sysreg(*enc, _RT.get(reg, 31), value is None)
                else:
                    syn = X.esr(X.EC_UNKNOWN)
                self._pending_sync = (verdict.target_el, syn, self.regs.read("PC"), None)
                self._stop()
                return True
        if value is None:
            v = timer.read_sysreg(name)
            self.regs.write_id(reg, v)
            if name in ("CNTPCT_EL0", "CNTVCT_EL0") and self.skip_idle:
                self._poll_skip(name, reg, _RT.get(reg, 31), v)
        else:
            timer.write_sysreg(name, value)
            if name == "CNTFRQ_EL0":
                return False        # QEMU keeps its copy too (reads above)
        return True

