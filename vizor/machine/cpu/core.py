"""One Cortex-A53 core: a Unicorn instance plus the architecture Unicorn leaves out.

All Unicorn calls of vizor live here and in ``regs.py`` and ``carriers.py``.  Everything else
talks to a ``Core`` in architectural terms: ``core.el``, ``core.sysreg(name)``,
``core.take_exception(...)``, ``core.run(budget)``.

What this adds to Unicorn (see DESIGN.md for the measurements behind it):

* synchronous exceptions taken architecturally (``unicorn_exceptions.py``, a
  mixin): Unicorn reports only QEMU's exception number; vizor classifies it,
  builds ESR/FAR/HPFAR, writes ELR/SPSR, sets PSTATE and jumps to the vector
  (``entry.py``; SVC, HVC and known stage-2 aborts natively, ``fasttrap.py``);
* HCR_EL2 trap bits for MRS/MSR/SYS in the instruction hooks (``sysreg_hooks.py``);
* the generic timer registers served from virtual time (not the host clock);
* physical IRQ/FIQ taken between slices (``deliver_interrupts``);
* TLBI ...IS and IC maintenance reaching the other cores' instances;
* the illegal-state exception after an illegal ERET (``eret_watch.py``).
"""

from __future__ import annotations

import ctypes
from collections import Counter, deque
from typing import TYPE_CHECKING, Callable

from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_HOOK_MEM_INVALID, UC_MODE_ARM, UC_PROT_ALL  # isort: skip
from unicorn import Uc, UcError
from unicorn import arm64_const as A
from unicorn.unicorn_py3.unicorn import uclib as _uclib

import vizor.machine.arch.exceptions as X
import vizor.machine.cpu.accel as accel
from vizor.machine.arch.insn import WFI
from vizor.machine.cpu.carriers import Carriers
from vizor.machine.cpu.context import CpuContext
from vizor.machine.cpu.corestate import HALTED, PARKED, RUNNING, WFI_IDLE  # noqa: F401 (PARKED re-exported)
from vizor.machine.cpu.entry import ExceptionEntry
from vizor.machine.cpu.eret_watch import EretWatch
from vizor.machine.cpu.fasttrap import FastTraps
from vizor.machine.cpu.faults import _TR_ENCS
from vizor.machine.cpu.idle import IdleSkip
from vizor.machine.cpu.mmio_access import MmioAccess
from vizor.machine.cpu.pmu import CycleCounter
from vizor.machine.cpu.quiet import QuietPoll
from vizor.machine.cpu.regs import (
    ENC,
    Regs,
    add_insn_hook,
    add_native_insn_hook,
    python_insn_callback,
)
from vizor.machine.cpu.sysreg_hooks import HCR, SCR, SysregHooks
from vizor.machine.cpu.unicorn_exceptions import UnicornExceptions

if TYPE_CHECKING:
    from vizor.machine.cpu.host import BoardServices


# Cortex-A53 IMPLEMENTATION DEFINED registers that QEMU 5 (inside Unicorn)
# lacks, with the values the Pi 3 firmware leaves (A53 TRM, 4.3):
# L2CTLR (4 cores), L2ECTLR, CPUACTLR, CPUECTLR (SMPEN set), CPUMERRSR, L2MERRSR;
# and PMEVCNTR4/5_EL0, PMEVTYPER4/5_EL0: the A53 has six event counters, QEMU 5
# four (they hold what is written and count nothing, like QEMU's own; pmu.py).
IMPDEF_RESET = {
    (3, 1, 11, 0, 2): 0x3000000, (3, 1, 11, 0, 3): 0, (3, 1, 15, 2, 0): 0,
    (3, 1, 15, 2, 1): 0x40, (3, 1, 15, 2, 2): 0, (3, 1, 15, 2, 3): 0,
    (3, 3, 14, 8, 4): 0, (3, 3, 14, 8, 5): 0, (3, 3, 14, 12, 4): 0, (3, 3, 14, 12, 5): 0,
}


class Core(accel.Mirrored, FastTraps, IdleSkip, QuietPoll, ExceptionEntry, SysregHooks, EretWatch, UnicornExceptions,
           MmioAccess, CpuContext):
    """One core of the board.  ``index`` is Aff0 of its MPIDR."""

    def __init__(self, index: int, board: "BoardServices") -> None:
        self.index = index
        self.board = board
        self.mpidr = 0x80000000 | index
        uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        uc.ctl_set_cpu_model(A.UC_CPU_ARM64_A53)
        self.uc = uc
        self.regs = Regs(uc)
        self.state = RUNNING
        self.timer = None  # GenericTimer, attached by the board
        self.fault: str | None = None
        self.exceptions: deque[X.ExceptionRecord] = deque(maxlen=256)
        self.exception_counts: Counter[str] = Counter()
        self.instructions = 0
        self._filter = (accel.SysregFilter(ctypes.cast(_uclib.uc_reg_read, ctypes.c_void_p).value,
                                           A.UC_ARM64_REG_PSTATE, ctypes.cast(_uclib.uc_reg_write, ctypes.c_void_p).value,
                                           A.UC_ARM64_REG_CP_REG) if accel.HOOK is not None else None)
        if self._filter is not None:
            fc = self._filter.core
            fc.tlb_stale, fc.index, fc.pc_id = ctypes.addressof(board.tlb_stale), index, A.UC_ARM64_REG_PC
            fc.vmem_translate = ctypes.cast(_uclib.uc_vmem_translate, ctypes.c_void_p).value
        self.hcr = 0
        self.scr = 0
        self.impdef = dict(IMPDEF_RESET)
        self._slice_start = 0
        self._stop_count: int | None = None
        self._pending_sync: tuple[int, int, int, int | None] | None = None
        self._flush_tb = None     # an IC instruction to apply after the slice: (CRm, op2, Xt)
        self._tb_stale = False    # another core's IC ...IS: drop translated code before running
        self._own_slices = self._flush_mark = 0   # slices run, others' slices at the last flush
        self._bad_access: str | None = None
        # An MMIO access that stopped the run (see _complete_restarted).
        self._in_mmio = False
        self._stopped_in_mmio = False
        self._restart: tuple | None = None   # (kind, address, size, value) of that access
        self._again: tuple | None = None     # ... while its instruction runs again
        # SPSR_EL1..3 as last written (MSR hook, exception entry, reset), and
        # whether any of them could make an ERET illegal: see _watch_eret.
        self._spsr = self._filter.core.spsr if self._filter is not None else [0, 0, 0, 0]  # C keeps it
        self._eret_watch = False
        h = ctypes.cast(uc._uch, ctypes.c_void_p).value
        self._counter = ctypes.c_uint64.from_address(h + board.emu_counter_offset)
        self._entry = self.regs.batch(["PC", "PSTATE", "SP"])
        self._exc_reads = {t: self.regs.batch(["PC", "PSTATE", "SP", f"VBAR_EL{t}", f"SP_EL{t}"])
                           for t in (1, 2, 3)}
        self._exc_writes: dict = {}
        self._exc_jump = self.regs.batch(["SP", "PC"])
        self._word = (ctypes.c_uint32 * 1)()
        self._hooks()
        # Breakpoint and watchpoint carriers (exits, page protection).
        self.carriers = Carriers(self)
        self.single_step = False  # the debugger wants every instruction of this core
        self.cycle_counter = CycleCounter()  # PMCCNTR_EL0 in virtual time (pmu.py)
        self.wake_steps = 0       # instructions left to run one by one after a masked wake (board.py)
        self.slice_left = 0       # the rest of the slice the board planned (board.run)
        self.slice_cut = False    # the last run ended its slice (Core._stop)
        self.wake_window_spent = False  # the masked-wake window was used for the pending interrupt
        self._exit_trap = False  # the last stop was an exit that Unicorn reported as a WFI trap
        self.walk_cache: dict = {}  # faults.walk_for: validated walks of faulting accesses
        # Debugger watch on system register writes: encoding -> callback(core, enc, value)
        self.msr_watch: dict[tuple[int, int, int, int, int], Callable[["Core", tuple, int], None]] = {}
        # Spinning and polling skipped in one step, bit-identically (idle.py)
        self.skip_idle = True
        self.skipped = 0      # instructions counted as executed, never executed
        self._ran_whole_slice = True
        self._budget: int | None = None      # the running slice's budget
        self._last_poll = None               # (PC, register) of the last counter read
        self._pending_skip = None            # a delay loop's iterations to skip (idle.py)
        self._deferred_write = None          # (enc, value): an MMU switch without ISB (sysreg_hooks)

    # --- set-up ------------------------------------------------------------

    def _hooks(self) -> None:
        uc = self.uc
        self.fast_traps = True    # fasttrap.c may take SVC, HVC and known stage-2 aborts
        if not self._fast_hook(_TR_ENCS):
            uc.hook_add(UC_HOOK_INTR, self._on_intr)
        handlers = ((A.UC_ARM64_INS_MRS, "mrs", self._on_mrs), (A.UC_ARM64_INS_MSR, "msr", self._on_msr),
                    (A.UC_ARM64_INS_SYS, "sys", self._on_sys))
        if accel.HOOK is None:
            self._insn_hooks = [add_insn_hook(uc, insn, fn) for insn, _kind, fn in handlers]
            return
        # accel.c filters every access in C and calls these handlers only where they act
        self._insn_hooks = []
        for insn, kind, fn in handlers:
            py = python_insn_callback(fn)
            data = self._filter.hook_data(kind, py)
            add_native_insn_hook(uc, insn, accel.HOOK, data)
            self._insn_hooks += [py, data]

    def map_ram(self, base: int, size: int, ptr: int) -> None:
        self.uc.mem_map_ptr(base, size, UC_PROT_ALL, ptr)
        self._fast_ram(base, size, ptr)
        # Bus errors are reported from the end of RAM up, never over RAM itself:
        # an access hook whose range covers a RAM page keeps Unicorn from ever
        # marking that page dirty in the TLB (cputlb.c, notdirty_write), so every
        # store to it would take the slow path and look for code to invalidate.
        self.uc.hook_add(UC_HOOK_MEM_INVALID, self._on_invalid, begin=base + size, end=0xFFFFFFFFFFFFFFFF)

    def reset(self, pc: int, el: int, *, scr: int = X.SCR_FIRMWARE, hcr: int = 0x80000000,
              x0: int = 0) -> None:
        """Put the core at ``pc`` in ELxh with DAIF masked, as firmware leaves it."""
        r = self.regs
        r.write("PSTATE", 0x3CD)
        r.write_enc(SCR, scr)
        self.scr = scr
        r.write_enc(HCR, hcr & ~X.HCR_TWI)
        self.hcr = hcr
        r.write_enc(ENC["VMPIDR_EL2"], self.mpidr)
        r.write_enc(ENC["VPIDR_EL2"], r.read_enc(ENC["MIDR_EL1"]))
        r.write_enc(ENC["CNTHCTL_EL2"], 3)
        r.write_enc((3, 4, 1, 1, 1), 6)  # MDCR_EL2.HPMN = PMCR_EL0.N (six counters)
        r.write_enc(ENC["CNTFRQ_EL0"], 19_200_000)
        for n in range(31):
            r.set_x(n, 0)
        r.set_x(0, x0)
        r.write("PSTATE", X.PSTATE_DAIF | (el << 2) | 1)
        r.write_enc(ENC["VBAR_EL1"], 0)  # any CP_REG write makes the new EL take effect
        r.write("PC", pc)
        self.state = RUNNING
        self.slice_left = 0
        for n in (1, 2, 3):   # UNKNOWN at reset (QEMU: 0): an SPSR never written is never taken
            self._spsr[n] = (n << 2) | 1   # for an illegal return (eret_watch.py), so ELnh here
        self._update_eret_watch()

    # --- architectural view --------------------------------------------------

    @property
    def pc(self) -> int:
        return self.regs.read("PC")

    @property
    def pstate(self) -> int:
        return self.regs.read("PSTATE")

    @property
    def el(self) -> int:
        return (self.regs.read("PSTATE") >> 2) & 3

    def sysreg(self, name: str) -> int:
        if name == "HCR_EL2":
            return self.hcr  # QEMU holds it without TWI (see _wfi_trapped)
        return self.regs.read(name)

    def set_sysreg(self, name: str, value: int) -> None:
        if name == "HCR_EL2":
            self.hcr = value
            value &= ~X.HCR_TWI
        self.regs.write(name, value)
        if name == "SCR_EL3":
            self.scr = value
        if name in ("HCR_EL2", "SCR_EL3", "SPSR_EL1", "SPSR_EL2", "SPSR_EL3"):
            self.refresh_eret_watch()

    def vmid(self, el: int | None = None) -> int | None:
        """The VMID this core runs, or None when no guest context is active
        (EL2/EL3, or stage 2 off).  ``el`` saves a PSTATE read when known."""
        if el is None:
            el = self.el
        if el >= 2 or not (self.hcr & X.HCR_VM) or not (self.scr & X.SCR_NS):
            return None
        return (self.regs.read_enc(ENC["VTTBR_EL2"]) >> 48) & 0xFF

    def _counter_value(self) -> int:
        return self._counter.value

    def _time_in_round(self) -> int:
        """Cycles from the start of the board's round to this core's current
        instruction (the clock's offset while this core runs): the slices it
        already ran in this round plus the instructions of this one."""
        return self._slice_start - self.board.clock.base + self._counter.value

    def now(self) -> int:
        """Virtual time of this core's current instruction."""
        return self._slice_start + self._counter.value

    # --- running -------------------------------------------------------------

    def run(self, budget: int, slice_start: int) -> int:
        """Execute at most ``budget`` instructions; return how many ran.

        Returns early when the core goes idle (WFI), when a hook needs the
        board (an interrupt became pending, a trap to take), or on a fault.
        """
        self._slice_start = slice_start
        self._stop_count = None
        self.slice_cut = False
        if self._tb_stale:
            self._tb_stale = False
            self.flush_tb()
        if self._tlb_stale:
            self.flush_tlb()
        if self._eret_watch:
            budget = self._watch_eret(budget)
        deferred = self._deferred_write      # the write lands after the next instruction
        if deferred is not None:
            self._deferred_write = None
            budget = 1
            self.slice_cut = True
        pc = self.regs.read("PC")
        carriers = self.carriers
        carriers.hit = None
        resume = carriers.resume_from(pc, self.instructions)
        # only a core whose last slice ran whole can be spinning: trapping cores pay nothing
        if self._ran_whole_slice and not resume and deferred is None and self.skip_idle \
                and self._skips_slice(pc, budget):
            self.instructions += budget   # what executing ``b .`` budget times would do, at no cost
            self.skipped += budget
            return budget
        if resume:  # the stop at this exit was reported: execute its instruction now
            budget = 1
        self._budget = budget
        self._fast_allow()
        try:
            self.uc.emu_start(pc, 0xFFFFFFFFFFFFFFFF, 0, budget)
        except UcError as e:
            if carriers.fault is None:
                self._halt(self._bad_access or f"unicorn error: {e}")
        self._drain_fast()
        self._take_warped()
        if resume:
            carriers.resumed(pc)
        if carriers.fault is not None:  # a watched page: the access has not happened yet
            self._bad_access = None
            done = self._counter.value - 1  # counted, not executed
            self._stop_count = None
            done += carriers.step_over()
            self._stop_count = done
        else:
            done = self._stop_count if self._stop_count is not None else min(self._counter.value, budget)
        if self._restart is not None:    # counted in done already, but not completed
            self._complete_restarted()
        self._budget = None
        if self._pending_quiet is not None:   # a quiet status poll (quiet.py)
            skipped, executed = self._quiet_skip(budget, done)
            self.skipped += skipped
            done += skipped + executed
        if self._pending_skip is not None:    # a delay loop, advanced in one step (idle.py)
            skipped, executed = self._apply_skip()
            self.skipped += skipped
            done += skipped + executed
        self.instructions += done
        self._ran_whole_slice = done == budget
        if self._flush_tb is not None:
            self._code_changed(*self._flush_tb)
            self._flush_tb = None
        self._ic_kept_in_c()
        if self._pending_sync is not None:
            target, esr, elr, far = self._pending_sync
            self._pending_sync = None
            self.take_exception(target, X.VEC_SYNC, esr, elr, far)
        elif self._exit_trap:
            self._exit_trap = False
            carriers.stopped_at_exit(self.regs.read("PC"), self.instructions)
        elif self.state == RUNNING and self._counter.value <= budget and self._stop_count is None:
            # Not ended by the count: Unicorn counts the instruction after the
            # budget before it stops (counter = budget + 1); a WFI that halts
            # stops it with counter <= budget, also when it is the budget-th
            # instruction (where a replay cutting at that count stops).
            pc = self.regs.read("PC")
            if not carriers.stopped_at_exit(pc, self.instructions) and self.read_insn(pc - 4) == WFI:
                if not self._wfi_trapped(pc - 4):
                    self.state = WFI_IDLE
        if deferred is not None:         # once the instruction after the MSR has run
            if done:
                self.regs.write_enc(*deferred)
            else:
                self._deferred_write = deferred
        return done

    @property
    def at_exit(self) -> bool:
        """The last ``run`` stopped at an exit address (a breakpoint carrier)."""
        return self.carriers.at_exit

    def mark_exit_arrival(self) -> bool:
        """If PC is at an exit, count it as reached (the next run executes it)."""
        return self.carriers.stopped_at_exit(self.regs.read("PC"), self.instructions)

    def set_exits(self, addresses) -> None:
        """Make ``run`` stop when PC reaches any of ``addresses`` (breakpoints)."""
        self.carriers.set_exits(addresses)

    def _stop(self, cut: bool = True) -> None:
        """Stop emulation after the current instruction (from inside a hook).
        ``cut``: the board must look at the core (an interrupt line, a trap, a
        deadline) and the slice ends here; else (a debugger's stop, a skip
        being checked) the board's next run goes on with the same slice."""
        if cut:
            self.slice_cut = True
        if self._stop_count is None:
            self._stop_count = self._counter.value
        if self._in_mmio:
            self._stopped_in_mmio = True
        self.uc.emu_stop()

    def _halt(self, why: str) -> None:
        self.state = HALTED
        self.fault = why

    def _on_invalid(self, uc, access, address, size, value, _ud) -> bool:
        # UC_MEM_{READ,WRITE,FETCH}_UNMAPPED = 19, 20, 21; _PROT = 23, 22, 24
        kind = "write" if access in (20, 22) else ("fetch" if access in (21, 24) else "read")
        self._bad_access = (f"bus error: {kind} of {size} bytes at PA {address:#x}, which is neither "
                            f"RAM nor a peripheral window (core {self.index}, PC {self.pc:#x})")
        return False
