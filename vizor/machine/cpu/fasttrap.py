"""The native exception fast path (fasttrap.c): its state, and Python's side of it (a mixin of ``Core``).

With the accelerator built, a core's UC_HOOK_INTR callback is C's
``vz_hook_intr``: it takes SVC, HVC and already-classified stage-2 data aborts
from EL0/EL1 itself and calls ``Core._on_intr`` for everything else.  Python:

* allows the path for a slice (``_fast_allow``) unless an exception listener
  needs every exception (``Board.exception_demand``: the debugger only while
  an exception catch or a step into a VM is armed) or the debugger
  single-steps the core; exceptions to EL3 always go to Python;
* writes each stage-2 data abort it classifies into C's table
  (``_remember_abort``), with the walk's descriptor words that validate it;
* drains C's records into ``exceptions`` and ``exception_counts``
  (``_drain_fast``) before it records an exception of its own and at the end
  of every slice, so that both see every exception in order;
* keeps the stuck-loop signature of ``entry.py`` in C's struct, where the
  fast path updates it.

Without the accelerator (or with ``VIZOR_NATIVE=0``) none of this exists and
every exception goes through Python; the two paths give identical machines
(tests/test_fasttrap.py).
"""

from __future__ import annotations

import ctypes

from unicorn import UC_HOOK_INTR
from unicorn.unicorn_py3 import unicorn as _ucmod
from unicorn.unicorn_py3.arch.arm64 import UcRegCP64

import vizor.machine.arch.exceptions as X
import vizor.machine.cpu.accel as accel
from vizor.machine.cpu.regs import DIRECT, ENC, X_IDS

_lib = _ucmod.uclib
RING = 1024
WAYS = 4
ABORTS = 64 * WAYS
WALK_WORDS = 24
NTR = 12
TR_TCR, TR_TTBR0, TR_TTBR1, TR_HCR = 1, 2, 3, 5     # faults._TR_NAMES
HCR_VIRQS = X.HCR_VF | X.HCR_VI | 1 << 8   # VF, VI, VSE: no walk reads them (mmu.py), not in the key
MODES = {"imm": 0, "post": 1, "reg": 2, "literal": 3}
IDS = ([DIRECT[n] for n in ("PC", "PSTATE", "SP", "SP_EL0", "SP_EL1", "SP_EL2", "SP_EL3",
                            "ELR_EL1", "ELR_EL2", "ELR_EL3", "ESR_EL1", "ESR_EL2", "ESR_EL3",
                            "FAR_EL1", "FAR_EL2", "FAR_EL3", "VBAR_EL1", "VBAR_EL2", "VBAR_EL3")]
       + X_IDS)


class VzExc(ctypes.Structure):
    _fields_ = [("esr", ctypes.c_uint64), ("elr", ctypes.c_uint64), ("far", ctypes.c_uint64),
                ("hpfar", ctypes.c_uint64), ("time", ctypes.c_uint64),
                ("from_el", ctypes.c_int32), ("to_el", ctypes.c_int32), ("has_far", ctypes.c_int32),
                ("has_hpfar", ctypes.c_int32), ("vmid", ctypes.c_int32), ("pad", ctypes.c_int32)]


class VzAbort(ctypes.Structure):
    _fields_ = [("pc", ctypes.c_uint64), ("va", ctypes.c_uint64), ("imm", ctypes.c_int64),
                ("word", ctypes.c_uint32), ("valid", ctypes.c_int32), ("el", ctypes.c_int32),
                ("mode", ctypes.c_int32), ("rn", ctypes.c_int32), ("rm", ctypes.c_int32),
                ("extend", ctypes.c_int32), ("shift", ctypes.c_int32), ("nwords", ctypes.c_int32),
                ("has_hpfar", ctypes.c_int32), ("unused_tr", ctypes.c_int32), ("pad", ctypes.c_int32),
                ("tr", ctypes.c_uint64 * NTR),
                ("widx", ctypes.c_uint64 * WALK_WORDS), ("wval", ctypes.c_uint64 * WALK_WORDS),
                ("esr", ctypes.c_uint64), ("hpfar", ctypes.c_uint64)]


class VzFast(ctypes.Structure):
    _fields_ = [("core", ctypes.POINTER(accel.VzCore)), ("python", ctypes.c_void_p),
                ("enabled", ctypes.c_int32), ("nring", ctypes.c_int32),
                ("taken", ctypes.c_uint64), ("declined", ctypes.c_uint64),
                ("counter", ctypes.c_void_p), ("ram", ctypes.c_void_p), ("ram_words", ctypes.c_uint64),
                ("read_batch", ctypes.c_void_p), ("write_batch", ctypes.c_void_p),
                ("vmem_read", ctypes.c_void_p), ("ids", ctypes.c_int32 * len(IDS)),
                ("tr_cp", UcRegCP64 * NTR), ("hpfar_cp", UcRegCP64), ("spsr_cp", UcRegCP64 * 4),
                ("vttbr_cp", UcRegCP64),
                ("sig_elr", ctypes.c_uint64), ("sig_esr", ctypes.c_uint64), ("sig_vec", ctypes.c_uint64),
                ("sig_set", ctypes.c_int32), ("stuck_n", ctypes.c_int32),
                ("slice_start", ctypes.c_uint64), ("timer_python", ctypes.c_void_p),
                ("timer_to_python", ctypes.c_int32), ("poll_n", ctypes.c_int32),
                ("poll_pc", ctypes.c_uint64), ("poll_at", ctypes.c_uint64), ("poll_len", ctypes.c_uint64),
                ("timer_reads", ctypes.c_uint64),
                ("budget", ctypes.c_uint64), ("warp_pc", ctypes.c_uint64), ("warp_len", ctypes.c_uint64),
                ("warp_at", ctypes.c_uint64), ("warped", ctypes.c_uint64), ("warp_word", ctypes.c_uint32),
                ("warp_have", ctypes.c_int32), ("warp_state", ctypes.c_uint64 * 33),
                ("ring", VzExc * RING), ("aborts", VzAbort * ABORTS)]


def _always() -> bool:
    return True


_INTR_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)
_MMIO_READ = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint, ctypes.c_void_p)
_MMIO_WRITE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint, ctypes.c_uint64,
                               ctypes.c_void_p)
SYSTEM_TIMER_PAGE = 0x3F003000     # devices/system_timer.py
_KIND = "sync"


def _cp(cp, enc) -> None:
    cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = enc


def _unused_ttbr(va: int, tcr: int) -> int:
    """Which of TTBR0/TTBR1_EL1 (its index in the key) an EL1&0 stage-1 walk of
    ``va`` never reads: the other half's (mmu.walk_stage1 selects by bit 55,
    or 63 without top-byte ignore)."""
    bit55 = va >> 55 & 1
    top = 55 if tcr >> (38 if bit55 else 37) & 1 else 63
    return TR_TTBR0 if va >> top & 1 else TR_TTBR1


class FastTraps:
    """Python's side of fasttrap.c, for a ``Core`` (``_fast`` is None without it)."""

    _fast = None
    _warp_pcs: frozenset = frozenset()
    _sig_py = None
    _stuck_n_py = 0

    def _fast_hook(self, tr_encs) -> bool:
        """Hook UC_HOOK_INTR through C (True), or leave it to the caller (False).
        RAM is attached later (``Core.map_ram``)."""
        if accel.INTR_HOOK is None or self._filter is None or accel.LIB.vz_fast_size() != ctypes.sizeof(VzFast):
            return False
        f = VzFast()
        f.core = ctypes.pointer(self._filter.core)
        self._fast_py = _INTR_CB(lambda _uc, intno, _ud: self._on_intr(None, intno, None))
        f.python = ctypes.cast(self._fast_py, ctypes.c_void_p).value
        f.counter = ctypes.addressof(self._counter)
        f.read_batch = ctypes.cast(_lib.uc_reg_read_batch, ctypes.c_void_p).value
        f.write_batch = ctypes.cast(_lib.uc_reg_write_batch, ctypes.c_void_p).value
        f.vmem_read = ctypes.cast(_lib.uc_vmem_read, ctypes.c_void_p).value
        f.ids[:] = IDS
        for cp, enc in zip(f.tr_cp, tr_encs):
            _cp(cp, enc)
        _cp(f.hpfar_cp, ENC["HPFAR_EL2"])
        for el in (1, 2, 3):
            _cp(f.spsr_cp[el], ENC[f"SPSR_EL{el}"])
        _cp(f.vttbr_cp, ENC["VTTBR_EL2"])
        sig, n = self._stuck_sig, self._stuck_n
        self._fast = f
        self._filter.core.fast = ctypes.addressof(f)   # CNTPCT/CNTVCT reads in C (accel.c)
        self._stuck_sig, self._stuck_n = sig, n
        handle = ctypes.c_size_t()
        err = _lib.uc_hook_add(self.uc._uch, ctypes.byref(handle), UC_HOOK_INTR,
                               ctypes.c_void_p(accel.INTR_HOOK), ctypes.c_void_p(ctypes.addressof(f)),
                               ctypes.c_uint64(1), ctypes.c_uint64(0))
        if err:
            raise RuntimeError(f"uc_hook_add(UC_HOOK_INTR) failed: error {err}")
        return True

    def _fast_ram(self, base: int, size: int, ptr: int) -> None:
        """Let C check walk descriptors in the RAM mapped at PA ``base`` (only 0)."""
        if self._fast is not None and base == 0:
            self._fast.ram, self._fast.ram_words = ptr, size // 8

    def _map_system_timer(self, read, write) -> bool:
        """Map the system timer's page with CLO/CHI read in C (``vz_systimer_read``)
        and the rest through ``read``/``write`` (Python, the binding's MMIO callback
        signatures); False without the accelerator."""
        f = self._fast
        if f is None:
            return False
        uc = self.uc

        def guarded(fn, *args):
            try:
                return fn(uc, *args)
            except BaseException as e:   # as the binding's callbacks do: stop, re-raise after
                if uc._hook_exception is None:
                    uc._hook_exception = e
                uc.emu_stop()
                return 0

        py_read = _MMIO_READ(lambda _h, off, size, _ud: guarded(read, off, size, None))
        py_write = _MMIO_WRITE(lambda _h, off, size, value, _ud: guarded(write, off, size, value, None))
        self._timer_cbs = (py_read, py_write)
        f.timer_python = ctypes.cast(py_read, ctypes.c_void_p).value
        err = _lib.uc_mmio_map(uc._uch, ctypes.c_uint64(SYSTEM_TIMER_PAGE), ctypes.c_uint64(0x1000),
                               ctypes.c_void_p(accel.TIMER_READ), ctypes.c_void_p(ctypes.addressof(f)),
                               ctypes.cast(py_write, ctypes.c_void_p), ctypes.c_void_p(0))
        if err:
            raise RuntimeError(f"uc_mmio_map(system timer) failed: error {err}")
        return True

    def _arm_warp(self, pc: int, length: int, pcs) -> None:
        """Let C advance the timer loop whose CLO read is at ``pc`` (quiet.py checked it)."""
        f = self._fast
        f.warp_pc, f.warp_len, f.warp_word, f.warp_have = pc, length, self.read_insn(pc) or 0, 0
        self._warp_pcs = frozenset(pcs)

    def _warp_off(self) -> None:
        if self._fast is not None:
            self._fast.warp_pc = 0

    def _take_warped(self) -> None:
        """After the slice's emu_start: count what C advanced in timer loops as
        skipped, and advance nothing in the single steps that may follow."""
        f = self._fast
        if f is not None:
            f.budget = 0
            if f.warped:
                self.skipped += f.warped
                f.warped = 0

    def _timer_reads(self) -> int:
        """System timer counter reads answered in C so far (quiet.py)."""
        return self._fast.timer_reads if self._fast is not None else 0

    def _timer_reads_in_python(self, on: bool) -> None:
        if self._fast is not None:
            self._fast.timer_to_python = int(on)

    # --- the stuck-loop signature (entry.py), in C when the path exists ----------

    @property
    def _stuck_sig(self):
        f = self._fast
        if f is None:
            return self._sig_py
        return (f.sig_elr, f.sig_esr, f.sig_vec) if f.sig_set else None

    @_stuck_sig.setter
    def _stuck_sig(self, sig) -> None:
        f = self._fast
        if f is None:
            self._sig_py = sig
        elif sig is None:
            f.sig_set = 0
        else:
            f.sig_elr, f.sig_esr, f.sig_vec = sig
            f.sig_set = 1

    @property
    def _stuck_n(self) -> int:
        f = self._fast
        return self._stuck_n_py if f is None else f.stuck_n

    @_stuck_n.setter
    def _stuck_n(self, n: int) -> None:
        f = self._fast
        if f is None:
            self._stuck_n_py = n
        else:
            f.stuck_n = n

    # --- per slice ------------------------------------------------------------------

    def _fast_allow(self) -> None:
        """Allow the path for the next slice unless a debugger must see each exception."""
        f = self._fast
        if f is not None:
            board = self.board
            demand = board.exception_demand
            f.enabled = int(self.fast_traps and not self.single_step
                            and not any(demand.get(fn, _always)() for fn in board.exception_listeners))
            f.slice_start = self._slice_start
            f.budget = self._budget or 0
            # IC maintenance stays in C while no other core ran since this one dropped its code
            self._filter.core.ic_local = int(self.board.slices_run - self._own_slices == self._flush_mark)
            f.poll_n = f.poll_pc = 0          # CLO poll runs are counted within a slice
            if f.warp_pc and (not self.skip_idle or self.single_step or self.carriers.exits & self._warp_pcs):
                f.warp_pc = 0

    def _drain_fast(self) -> None:
        """Move the exceptions C took into ``exceptions`` and ``exception_counts``."""
        f = self._fast
        if f is None or not f.nring:
            return
        rec_of, start, index = X.ExceptionRecord, self._slice_start, self.index
        append, counts = self.exceptions.append, self.exception_counts
        for r in f.ring[:f.nring]:
            esr = r.esr
            rec = rec_of(index, _KIND, r.from_el, r.to_el, esr >> 26, esr, r.elr,
                         r.far if r.has_far else None, r.vmid if r.vmid >= 0 else None,
                         start + r.time, r.hpfar if r.has_hpfar else None)
            append(rec)
            counts[rec.ec_name] += 1
        f.nring = 0

    def _remember_abort(self, pc: int, word: int, el: int, ls, va: int, tr, words, values,
                        esr: int, hpfar: int | None) -> None:
        """Give C a stage-2 data abort Python just classified, with what validates it."""
        f = self._fast
        if f is None or ls.mode not in MODES or len(words) > WALK_WORDS:
            return
        first = accel.LIB.vz_abort_slot(pc, word)
        ways = [f.aborts[first + w] for w in range(WAYS)]
        tr = list(tr)
        tr[TR_HCR] &= ~HCR_VIRQS
        unused = _unused_ttbr(va, tr[TR_TCR])
        tr[unused] = 0        # a guest's processes (ASIDs) share its kernel's MMIO accesses
        # the entry of the same access (now stale), or a free way, or the next in turn
        a = next((e for e in ways if e.valid and (e.pc, e.word, e.el, e.va) == (pc, word, el, va)
                  and list(e.tr) == tr), None) or next((e for e in ways if not e.valid), None)
        if a is None:
            turn = self._fast_turn = (getattr(self, "_fast_turn", 0) + 1) % WAYS
            a = ways[turn]
        a.valid = 0
        a.pc, a.word, a.el, a.va = pc, word, el, va
        a.mode, a.rn, a.rm, a.imm = MODES[ls.mode], ls.rn, ls.rm, ls.imm
        a.extend, a.shift = ls.extend, ls.shift
        a.tr[:] = tr
        a.unused_tr = unused
        a.nwords = len(words)
        a.widx[:len(words)] = words
        a.wval[:len(values)] = values
        a.esr = esr
        a.has_hpfar = hpfar is not None
        a.hpfar = hpfar or 0
        a.valid = 1

    def _forget_aborts(self) -> None:
        f = self._fast
        if f is not None:
            for a in f.aborts:
                a.valid = 0

    @property
    def fast_counts(self) -> tuple[int, int]:
        """(exceptions taken in C, exceptions sent to Python) so far."""
        f = self._fast
        return (f.taken, f.declined) if f is not None else (0, 0)
