"""The native system-register filter (vizor/machine/cpu/accel.c) against the Python
handlers it stands in front of, and the two paths against each other.

The filter may keep an access in C only where the Python handler would have
done nothing: returned False ("let QEMU execute it") without touching any
state.  The first test asks the real handlers (``SysregHooks``) about every
encoding the filter keeps, at EL1 and EL2, with no trap bits and with all of
them.  The second runs images both ways and compares whole-machine hashes.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest
from conformance import image
from unicorn.unicorn_py3.arch.arm64 import UcRegCP64

import vizor.machine.arch.exceptions as X
import vizor.machine.cpu.accel as accel
from vizor.machine.cpu.sysreg_hooks import SysregHooks

needs_accel = pytest.mark.skipif(accel.LIB is None, reason=f"native accelerator {accel.STATUS}")

TRAP_BITS = (X.HCR_TWI | X.HCR_TID1 | X.HCR_TID2 | X.HCR_TID3 | X.HCR_TIDCP | X.HCR_TACR | X.HCR_TSW
             | X.HCR_TPC | X.HCR_TPU | X.HCR_TTLB | X.HCR_TVM | X.HCR_TDZ | X.HCR_TRVM)
VTTBR = (3, 4, 2, 1, 0)


class _Touched(Exception):
    pass


class _Regs:
    def __init__(self, el: int) -> None:
        self.el = el

    def read(self, name):
        if name == "PSTATE":
            return self.el << 2
        if name == "PC":
            return 0x1000
        raise _Touched(f"regs.read({name})")

    def read_enc(self, enc):
        return 0    # PMUSERENR, MDCR_EL2: nothing set

    def __getattr__(self, name):
        raise _Touched(f"regs.{name}")


class _Board:
    signalled = False     # read by every handler (a signal stops the run there): no side effect

    def __getattr__(self, name):
        raise _Touched(f"board.{name}")


class Handlers(SysregHooks):
    """The real MRS/MSR/SYS handlers on a core that raises on any side effect."""

    def __init__(self, el: int, hcr: int, scr: int, watch: dict) -> None:
        d = self.__dict__
        d.update(regs=_Regs(el), board=_Board(), hcr=hcr, scr=scr, msr_watch=watch, state="running",
                 _pending_sync=None, mpidr=0x80000000, timer=None, cycle_counter=None)

    def __setattr__(self, name, value):
        raise _Touched(f"sets {name}")

    def _stop(self):
        raise _Touched("stop")

    def _halt(self, why):
        raise _Touched(f"halt: {why}")

    def _update_eret_watch(self):
        raise _Touched("eret watch")

    def now(self):
        raise _Touched("now")


def _filter_says_python(core: accel.VzCore, kind: int, cp, el: int) -> bool:
    return bool(accel.LIB.vz_needs_python(ctypes.byref(core), None, kind, ctypes.byref(cp), el))


@needs_accel
@pytest.mark.parametrize("el", [1, 2])
@pytest.mark.parametrize("hcr", [0, TRAP_BITS], ids=["no-traps", "all-traps"])
def test_every_access_the_filter_keeps_is_one_python_would_leave_alone(el, hcr):
    scr = X.SCR_NS
    watch = {VTTBR: lambda *a: None}
    core = accel.VzCore(hcr=hcr, scr=scr)
    f = accel.SysregFilter(0, 0)
    f.core = core
    f.set_watch(watch)
    handlers = Handlers(el, hcr, scr, watch)
    cp = UcRegCP64()
    kept = 0
    for kind, op0s, handler in ((0, (2, 3), handlers._on_mrs), (1, (2, 3), handlers._on_msr),
                                (2, (1,), handlers._on_sys)):
        for op0 in op0s:
            for op1 in range(8):
                for crn in range(16):
                    for crm in range(16):
                        for op2 in range(8):
                            cp.op0, cp.op1, cp.crn, cp.crm, cp.op2, cp.val = op0, op1, crn, crm, op2, 0x5A
                            if kind == 1 and (op0, crn, crm, op2) == (3, 4, 0, 0) and op1 in (0, 4, 6):
                                continue    # SPSR_ELx: C keeps the copy itself (test_spsr_writes_...)
                            if kind == 1 and (op0, op1, crn, crm, op2) == (3, 4, 1, 1, 0):
                                continue    # HCR_EL2: likewise (test_hcr_writes_...)
                            if _filter_says_python(core, kind, cp, el):
                                continue
                            kept += 1
                            try:
                                handled = handler(1, cp)   # X0
                            except _Touched as e:
                                pytest.fail(f"kind {kind} enc {(op0, op1, crn, crm, op2)} at EL{el}, "
                                            f"HCR {hcr:#x}: kept in C, but Python {e}")
                            assert handled is False, (kind, (op0, op1, crn, crm, op2), el, hcr)
    if hcr == 0 or el == 2:
        assert kept > 75_000    # of 81,920: the common case stays in C


@needs_accel
def test_the_filter_sends_what_python_acts_on():
    core = accel.VzCore(hcr=X.HCR_TVM, scr=X.SCR_NS)
    cp = UcRegCP64()

    def says(kind, enc, el):
        cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = enc
        return _filter_says_python(core, kind, cp, el)

    assert says(0, (3, 3, 14, 0, 1), 2)          # CNTPCT_EL0 from virtual time, any EL
    assert says(0, (3, 0, 0, 0, 5), 1)           # MPIDR_EL1
    assert says(0, (3, 0, 12, 1, 0), 2)          # ISR_EL1: the interrupt lines are vizor's
    assert says(1, (3, 4, 1, 1, 0), 2)           # HCR_EL2 write: vizor keeps a copy
    assert says(1, (3, 0, 1, 0, 0), 1)           # SCTLR_EL1 write at EL1 under TVM: traps
    assert not says(1, (3, 0, 1, 0, 0), 2)       # ... the hypervisor's own write at EL2 does not
    assert not says(0, (3, 0, 1, 0, 0), 1)       # a read: TRVM is clear
    assert not says(0, (3, 0, 0, 0, 0), 1)       # MIDR_EL1: no TID bit set
    assert says(2, (1, 0, 8, 3, 0), 2)           # TLBI VMALLE1IS: broadcast to the other cores (no flags here)
    assert not says(1, VTTBR, 2)                 # no watch set
    accel.SysregFilter.set_watch(type("F", (), {"core": core})(), {VTTBR: None})
    assert says(1, VTTBR, 2)                     # the debugger watches VTTBR_EL2 writes


@needs_accel
def test_the_c_illegal_eret_rules_are_pythons():
    for m in range(32):
        for at_el in (1, 2, 3):
            for hcr in (0, X.HCR_TGE, X.HCR_RW, X.HCR_TGE | X.HCR_RW):
                for scr in (0, X.SCR_NS, 1 << 10, X.SCR_NS | 1 << 10):
                    spsr = 0x3C0 | m
                    assert bool(accel.LIB.vz_eret_may_be_illegal(spsr, at_el, hcr, scr)) == \
                        X.eret_may_be_illegal(spsr, at_el, hcr, scr), (m, at_el, hcr, scr)


@needs_accel
def test_spsr_writes_stay_in_c_unless_they_switch_the_eret_watch():
    core = accel.VzCore(hcr=X.HCR_RW, scr=X.SCR_NS | 1 << 10)
    cp = UcRegCP64()
    cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = 3, 4, 4, 0, 0       # SPSR_EL2
    cp.val = 0x3C5                                                # EL1h: a legal return from EL2
    assert not _filter_says_python(core, 1, cp, 2) and core.spsr[2] == 0x3C5
    cp.val = 0x3CD                                                # EL3h from EL2: illegal
    assert _filter_says_python(core, 1, cp, 2) and core.spsr[2] == 0x3C5   # Python turns the watch on
    core.eret_watch = 1
    core.spsr[2] = 0x3CD
    cp.val = 0x3C9                                                # EL2h: legal again
    assert _filter_says_python(core, 1, cp, 2) and core.spsr[2] == 0x3CD   # Python turns it off
    core.eret_watch = 0
    core.spsr[2] = 0x3C9
    assert not _filter_says_python(core, 1, cp, 1) and core.spsr[2] == 0x3C9   # at EL1: UNDEFINED
    accel.SysregFilter.set_watch(type("F", (), {"core": core})(), {(3, 4, 4, 0, 0): None})
    cp.val = 0x3C5
    assert _filter_says_python(core, 1, cp, 2)                    # the debugger watches it


@needs_accel
def test_hcr_writes_stay_in_c_and_lose_twi_there():
    core = accel.VzCore(hcr=X.HCR_RW, scr=X.SCR_NS | 1 << 10)
    cp = UcRegCP64()
    cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = 3, 4, 1, 1, 0       # HCR_EL2

    def says(el):
        return accel.LIB.vz_needs_python(ctypes.byref(core), None, 1, ctypes.byref(cp), el)

    cp.val = X.HCR_RW | X.HCR_VM | X.HCR_IMO
    assert says(2) == 0 and core.hcr == cp.val                   # QEMU executes it; Core.hcr follows
    cp.val |= X.HCR_TWI
    assert says(2) == 2 and core.hcr == cp.val                   # written without TWI in C, skipped
    assert says(1) == 0 and core.hcr == cp.val                   # at EL1: UNDEFINED, nothing kept
    core.spsr[2] = 0x3C5                                         # an ERET to EL1h ...
    cp.val = X.HCR_VM                                            # ... is illegal once EL1 is AArch32
    assert says(2) == 1 and core.hcr == X.HCR_RW | X.HCR_VM | X.HCR_IMO | X.HCR_TWI   # Python decides


HASH_SCRIPT = r"""
import sys
sys.path[:0] = {paths!r}
from test_determinism import machine_hash
from vizor.machine.board import Board, load_image
import vizor.machine.cpu.accel as accel
board = Board()
board.load(load_image({image!r}, {el}), {el})
board.run(max_insns={n})
print(accel.LIB is not None, board.instructions, machine_hash(board))
"""

CASES = [("hyp", os.path.join(os.path.dirname(__file__), "..", "images", "hyp", "hyp.elf"), 2, 20_000_000),
         ("exc_traps", image("exc_traps.elf"), 2, 2_000_000),
         ("irq_timers", image("irq_timers.elf"), 2, 2_000_000),
         ("stage2", image("stage2.elf"), 2, 2_000_000),
         ("exc_levels", image("exc_levels.elf"), 3, 2_000_000),
         ("smp_spinlock", image("smp_spinlock.elf"), 2, 2_000_000),
         # counter reads answered in C, and the delay loops among them that idle.py skips
         ("delay", os.path.join(os.path.dirname(__file__), "..", "images", "bench", "delay.elf"), 2, 4_000_000_000)]


def _hash(path: str, el: int, n: int, native: bool) -> tuple[str, str, str]:
    here = os.path.dirname(os.path.abspath(__file__))
    code = HASH_SCRIPT.format(paths=[os.path.dirname(here), here], image=os.path.abspath(path), el=el, n=n)
    env = dict(os.environ, VIZOR_NATIVE="1" if native else "0")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    return tuple(r.stdout.split())


@needs_accel
@pytest.mark.parametrize("name,path,el,n", CASES, ids=[c[0] for c in CASES])
def test_native_and_python_paths_run_identically(name, path, el, n):
    on, off = _hash(path, el, n, True), _hash(path, el, n, False)
    assert on[0] == "True" and off[0] == "False"
    assert on[1:] == off[1:]


@needs_accel
def test_tlbi_is_stays_in_c_and_marks_the_other_cores_tlbs_stale():
    flags = (ctypes.c_uint8 * 4)()
    core = accel.VzCore(scr=X.SCR_NS, tlb_stale=ctypes.addressof(flags), index=1)
    cp = UcRegCP64()
    cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = (1, 0, 8, 3, 1)      # TLBI VAE1IS
    assert _filter_says_python(core, 2, cp, 1) is False
    assert list(flags) == [1, 0, 1, 1]
    core.hcr = X.HCR_TTLB                                          # trapped from EL1: Python takes it
    assert _filter_says_python(core, 2, cp, 1) is True


LINUX_SCRIPT = r"""
import sys
sys.path[:0] = {paths!r}
from test_determinism import machine_hash
from vizor.cli.main import _parser
from vizor.cli.options import build_board
import vizor.machine.cpu.accel as accel
args = _parser().parse_args(["run", {image!r}, "--dtb", {dtb!r}, "--initrd", {initrd!r}, "--append", "console=ttyAMA0"])
board, _ = build_board(args)
board.run(max_insns={n})
reads = sum(c._filter.core.counter_reads for c in board.cores) if accel.LIB else 0
print(accel.LIB is not None, board.instructions, machine_hash(board), reads > 0)
"""


@needs_accel
def test_linux_runs_the_same_with_counter_reads_and_tlbis_in_c(tmp_path):
    """Linux reads CNTPCT_EL0 at EL1 and invalidates TLBs page by page with
    TLBI ...IS: both stay in C on the native path, which must not change the run."""
    from linux_material import material, missing
    if missing():
        pytest.skip(missing())
    from linux_runs import write_initramfs
    m = material()
    initrd = write_initramfs(m, str(tmp_path))
    here = os.path.dirname(os.path.abspath(__file__))
    code = LINUX_SCRIPT.format(paths=[os.path.dirname(here), here], image=m.image, dtb=m.dtb, initrd=initrd,
                               n=150_000_000)
    out = {}
    for native in ("1", "0"):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                           env=dict(os.environ, VIZOR_NATIVE=native), cwd=os.path.dirname(here))
        assert r.returncode == 0, r.stderr[-2000:]
        out[native] = r.stdout.split()
    assert out["1"][0] == "True" and out["1"][3] == "True"
    assert out["1"][1:3] == out["0"][1:3]
