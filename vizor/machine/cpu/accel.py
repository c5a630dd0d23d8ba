"""The native accelerator (accel.c: the MRS/MSR/SYS hooks; fasttrap.c: SVC, HVC and
stage-2 aborts; systimer.c: the system timer's counter), loaded with ctypes.

``pip install .`` builds it where a C compiler exists (setup.py).  Without it,
or with ``VIZOR_NATIVE=0`` in the environment, every system-register access
goes to the Python handlers as before: the two paths give identical runs
(tests/test_accel.py, and CI runs the suite both ways).

``STATUS`` says which path this process uses, in words.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import importlib.machinery
import os
from importlib import metadata

ABI = 5
SOURCES = ("accel.h", "fasttrap.h", "accel.c", "fasttrap.c", "systimer.c")   # setup.py hashes the same files
MAX_WATCH = 8
IC_LINES = 64
WATCH_ALL = 0xFFFFFFFF
KINDS = {"mrs": 0, "msr": 1, "sys": 2}


class VzCore(ctypes.Structure):
    _fields_ = [("hcr", ctypes.c_uint64), ("scr", ctypes.c_uint64),
                ("native", ctypes.c_uint64), ("python", ctypes.c_uint64),
                ("reg_read", ctypes.c_void_p), ("pstate_id", ctypes.c_int32),
                ("nwatch", ctypes.c_uint32), ("watch", ctypes.c_uint32 * MAX_WATCH),
                ("spsr", ctypes.c_uint64 * 4), ("eret_watch", ctypes.c_int32), ("cp_reg_id", ctypes.c_int32),
                ("reg_write", ctypes.c_void_p), ("ic_local", ctypes.c_int32), ("ic_others", ctypes.c_int32),
                ("tlb_stale", ctypes.c_void_p), ("index", ctypes.c_int32), ("pc_id", ctypes.c_int32),
                ("fast", ctypes.c_void_p), ("voff", ctypes.c_uint64), ("hctl", ctypes.c_uint64), ("poll_pc", ctypes.c_uint64), ("poll_at", ctypes.c_uint64),
                ("poll_kind", ctypes.c_int32), ("skip_idle", ctypes.c_int32), ("counter_reads", ctypes.c_uint64),
                ("vmem_translate", ctypes.c_void_p), ("cur_reg", ctypes.c_int32), ("ic_n", ctypes.c_int32),
                ("ic_lines", ctypes.c_uint64 * IC_LINES)]


class VzHook(ctypes.Structure):
    _fields_ = [("core", ctypes.POINTER(VzCore)), ("python", ctypes.c_void_p), ("kind", ctypes.c_int32)]


def _candidates() -> list[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        found += glob.glob(os.path.join(here, "_accel" + suffix))
    # run from a checkout (tests): the copy `pip install .` built (the ABI number guards
    # against a stale one); a build's egg-info in the checkout lists no files, so look at all
    for dist in metadata.distributions(name="vizor"):
        for f in dist.files or ():
            name = str(f)
            if name.startswith("vizor/machine/cpu/_accel") and name.endswith((".so", ".pyd", ".dylib")):
                found.append(str(dist.locate_file(f)))
    return found


def _source_digest() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    try:
        for name in SOURCES:
            with open(os.path.join(here, name), "rb") as f:
                h.update(f.read())
    except OSError:
        return None
    return h.hexdigest()[:16]


def _load():
    if os.environ.get("VIZOR_NATIVE", "1") == "0":
        return None, "off (VIZOR_NATIVE=0): system-register hooks in Python"
    digest = _source_digest()
    stale = False
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if lib.vz_abi() != ABI:
            continue
        lib.vz_source.restype = ctypes.c_char_p
        if digest is not None and lib.vz_source().decode() != digest:
            stale = True      # built from another accel.c: `pip install .` again
            continue
        lib.vz_needs_python.argtypes = [ctypes.POINTER(VzCore), ctypes.c_void_p, ctypes.c_int,
                                        ctypes.c_void_p, ctypes.c_int]
        lib.vz_needs_python.restype = ctypes.c_int
        lib.vz_eret_may_be_illegal.argtypes = [ctypes.c_uint64, ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64]
        lib.vz_eret_may_be_illegal.restype = ctypes.c_int
        lib.vz_abort_slot.argtypes = [ctypes.c_uint64, ctypes.c_uint32]
        lib.vz_abort_slot.restype = ctypes.c_uint
        lib.vz_fast_size.restype = ctypes.c_size_t
        return lib, f"on ({path})"
    if stale:
        return None, "stale (built from an older accel.c; pip install . again): system-register hooks in Python"
    return None, "not built (no C compiler at install time?): system-register hooks in Python"


LIB, STATUS = _load()
HOOK = ctypes.cast(LIB.vz_hook_insn, ctypes.c_void_p).value if LIB is not None else None
INTR_HOOK = ctypes.cast(LIB.vz_hook_intr, ctypes.c_void_p).value if LIB is not None else None
TIMER_READ = ctypes.cast(LIB.vz_systimer_read, ctypes.c_void_p).value if LIB is not None else None


class SysregFilter:
    """The C-side state of one core: HCR_EL2/SCR_EL3 copies, watched MSR
    encodings, counters; and the user data of its three hooks."""

    def __init__(self, reg_read_addr: int, pstate_id: int, reg_write_addr: int = 0, cp_reg_id: int = 0) -> None:
        self.core = VzCore(reg_read=reg_read_addr, pstate_id=pstate_id, reg_write=reg_write_addr,
                           cp_reg_id=cp_reg_id)
        self.hooks: dict[str, VzHook] = {}

    def hook_data(self, kind: str, python_callback) -> VzHook:
        """The user data for the C hook of ``kind``, which calls ``python_callback``
        (a ctypes callback of the hook's signature) when Python must see the access."""
        h = VzHook(ctypes.pointer(self.core), ctypes.cast(python_callback, ctypes.c_void_p).value, KINDS[kind])
        self.hooks[kind] = h
        return h

    def set_watch(self, encodings) -> None:
        encs = [enc16(e) for e in encodings]
        if len(encs) > MAX_WATCH:
            self.core.nwatch = WATCH_ALL
            return
        for i, e in enumerate(encs):
            self.core.watch[i] = e
        self.core.nwatch = len(encs)

    @property
    def counts(self) -> tuple[int, int]:
        """(accesses kept in C, accesses sent to Python) so far."""
        return self.core.native, self.core.python


def enc16(enc) -> int:
    op0, op1, crn, crm, op2 = enc
    return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2


POLL_KINDS = {"CNTPCT_EL0": 1, "CNTVCT_EL0": 2}
POLL_NAMES = {v: k for k, v in POLL_KINDS.items()}


class Mirrored:
    """HCR_EL2, SCR_EL3 and the watched MSR encodings of a ``Core`` (a mixin),
    mirrored into its filter (``_filter``, None on the Python path), which
    decides from them which accesses Python must see; and what accel.c needs
    to answer counter reads: CNTVOFF_EL2 (the timer's), ``skip_idle``, and
    the last counter read (``_last_poll``, idle.py), which C keeps."""

    _last_poll_py = None

    @property
    def _last_poll(self):
        f = self._filter
        if f is None:
            return self._last_poll_py
        c = f.core
        return (c.poll_pc, POLL_NAMES[c.poll_kind], c.poll_at) if c.poll_kind else None

    @_last_poll.setter
    def _last_poll(self, last) -> None:
        f = self._filter
        if f is None:
            self._last_poll_py = last
        elif last is None:
            f.core.poll_pc = f.core.poll_kind = f.core.poll_at = 0
        else:
            f.core.poll_pc, f.core.poll_kind, f.core.poll_at = last[0], POLL_KINDS[last[1]], last[2]

    @property
    def skip_idle(self) -> bool:
        return self._skip_idle

    @skip_idle.setter
    def skip_idle(self, on: bool) -> None:
        self._skip_idle = on
        if self._filter is not None:
            self._filter.core.skip_idle = int(bool(on))

    @property
    def timer(self):
        return self._timer

    @timer.setter
    def timer(self, timer) -> None:
        self._timer = timer
        if timer is not None and self._filter is not None:
            timer.voff_mirror = self._filter.core
            timer.mirror()


    @property
    def hcr(self) -> int:
        # accel.c writes HCR_EL2 itself where Python need not see it
        return self._hcr if self._filter is None else self._filter.core.hcr

    @hcr.setter
    def hcr(self, value: int) -> None:
        self._hcr = value
        if self._filter is not None:
            self._filter.core.hcr = value

    @property
    def scr(self) -> int:
        return self._scr

    @scr.setter
    def scr(self, value: int) -> None:
        self._scr = value
        if self._filter is not None:
            self._filter.core.scr = value

    @property
    def msr_watch(self) -> dict:
        return self._msr_watch

    @msr_watch.setter
    def msr_watch(self, watch: dict) -> None:
        self._msr_watch = watch
        if self._filter is not None:
            self._filter.set_watch(watch)
