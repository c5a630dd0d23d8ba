"""Fast register access to one Unicorn instance.

The Python binding's ``reg_read``/``reg_write`` cost ~4 µs each; exception
entry touches eight registers, so it goes through ``uc_reg_read_batch`` /
``uc_reg_write_batch`` here instead (one C call each, ~1.5 µs).  System
registers without a Unicorn id are reached through ``UC_ARM64_REG_CP_REG``
with an (op0, op1, CRn, CRm, op2) encoding.

Only ``core.py`` uses this module; nothing else in vizor touches Unicorn.
"""

from __future__ import annotations

import ctypes

from unicorn import UC_HOOK_INSN
from unicorn import arm64_const as A
from unicorn.unicorn_py3 import unicorn as _ucmod
from unicorn.unicorn_py3.arch.arm64 import UcRegCP64

_lib = _ucmod.uclib

X_IDS = [getattr(A, f"UC_ARM64_REG_X{i}") for i in range(29)] + [A.UC_ARM64_REG_X29, A.UC_ARM64_REG_X30]

# Encodings (op0, op1, CRn, CRm, op2) of the system registers the emulator
# itself reads or writes.  The full name table for the UI lives in sysregs.py.
ENC = {
    "MIDR_EL1": (3, 0, 0, 0, 0),
    "MPIDR_EL1": (3, 0, 0, 0, 5),
    "SCTLR_EL1": (3, 0, 1, 0, 0),
    "ACTLR_EL1": (3, 0, 1, 0, 1),
    "CPACR_EL1": (3, 0, 1, 0, 2),
    "TTBR0_EL1": (3, 0, 2, 0, 0),
    "TTBR1_EL1": (3, 0, 2, 0, 1),
    "TCR_EL1": (3, 0, 2, 0, 2),
    "SPSR_EL1": (3, 0, 4, 0, 0),
    "ESR_EL1": (3, 0, 5, 2, 0),
    "FAR_EL1": (3, 0, 6, 0, 0),
    "PAR_EL1": (3, 0, 7, 4, 0),
    "MAIR_EL1": (3, 0, 10, 2, 0),
    "VBAR_EL1": (3, 0, 12, 0, 0),
    "CNTKCTL_EL1": (3, 0, 14, 1, 0),
    "VPIDR_EL2": (3, 4, 0, 0, 0),
    "VMPIDR_EL2": (3, 4, 0, 0, 5),
    "SCTLR_EL2": (3, 4, 1, 0, 0),
    "HCR_EL2": (3, 4, 1, 1, 0),
    "CPTR_EL2": (3, 4, 1, 1, 2),
    "TTBR0_EL2": (3, 4, 2, 0, 0),
    "TCR_EL2": (3, 4, 2, 0, 2),
    "VTTBR_EL2": (3, 4, 2, 1, 0),
    "VTCR_EL2": (3, 4, 2, 1, 2),
    "SPSR_EL2": (3, 4, 4, 0, 0),
    "ESR_EL2": (3, 4, 5, 2, 0),
    "FAR_EL2": (3, 4, 6, 0, 0),
    "HPFAR_EL2": (3, 4, 6, 0, 4),
    "MAIR_EL2": (3, 4, 10, 2, 0),
    "VBAR_EL2": (3, 4, 12, 0, 0),
    "CNTHCTL_EL2": (3, 4, 14, 1, 0),
    "CNTVOFF_EL2": (3, 4, 14, 0, 3),
    "SCTLR_EL3": (3, 6, 1, 0, 0),
    "SCR_EL3": (3, 6, 1, 1, 0),
    "SPSR_EL3": (3, 6, 4, 0, 0),
    "ESR_EL3": (3, 6, 5, 2, 0),
    "FAR_EL3": (3, 6, 6, 0, 0),
    "VBAR_EL3": (3, 6, 12, 0, 0),
    "CNTFRQ_EL0": (3, 3, 14, 0, 0),
}

# Registers Unicorn exposes under their own id (cheaper than CP_REG).
DIRECT = {
    "PC": A.UC_ARM64_REG_PC,
    "SP": A.UC_ARM64_REG_SP,
    "PSTATE": A.UC_ARM64_REG_PSTATE,
    "SP_EL0": A.UC_ARM64_REG_SP_EL0,
    "SP_EL1": A.UC_ARM64_REG_SP_EL1,
    "SP_EL2": A.UC_ARM64_REG_SP_EL2,
    "SP_EL3": A.UC_ARM64_REG_SP_EL3,
    "ELR_EL1": A.UC_ARM64_REG_ELR_EL1,
    "ELR_EL2": A.UC_ARM64_REG_ELR_EL2,
    "ELR_EL3": A.UC_ARM64_REG_ELR_EL3,
    "ESR_EL1": A.UC_ARM64_REG_ESR_EL1,
    "ESR_EL2": A.UC_ARM64_REG_ESR_EL2,
    "ESR_EL3": A.UC_ARM64_REG_ESR_EL3,
    "FAR_EL1": A.UC_ARM64_REG_FAR_EL1,
    "FAR_EL2": A.UC_ARM64_REG_FAR_EL2,
    "FAR_EL3": A.UC_ARM64_REG_FAR_EL3,
    "VBAR_EL1": A.UC_ARM64_REG_VBAR_EL1,
    "VBAR_EL2": A.UC_ARM64_REG_VBAR_EL2,
    "VBAR_EL3": A.UC_ARM64_REG_VBAR_EL3,
    "TTBR0_EL1": A.UC_ARM64_REG_TTBR0_EL1,
    "TTBR1_EL1": A.UC_ARM64_REG_TTBR1_EL1,
    "MAIR_EL1": A.UC_ARM64_REG_MAIR_EL1,
    "PAR_EL1": A.UC_ARM64_REG_PAR_EL1,
    "NZCV": A.UC_ARM64_REG_NZCV,
    "FPSR": A.UC_ARM64_REG_FPSR,
    "FPCR": A.UC_ARM64_REG_FPCR,
}
for _i, _rid in enumerate(X_IDS):
    DIRECT[f"X{_i}"] = _rid


class Batch:
    """A fixed list of register ids read or written in one C call."""

    def __init__(self, handle, ids: list[int]) -> None:
        n = len(ids)
        self._h = handle
        self._n = n
        self._ids = (ctypes.c_int * n)(*ids)
        self.vals = (ctypes.c_uint64 * n)()
        base = ctypes.addressof(self.vals)
        self._ptrs = (ctypes.c_void_p * n)(*[base + 8 * i for i in range(n)])

    def read(self):
        _lib.uc_reg_read_batch(self._h, self._ids, self._ptrs, self._n)
        return self.vals

    def write(self, *values: int) -> None:
        v = self.vals
        for i, x in enumerate(values):
            v[i] = x & 0xFFFFFFFFFFFFFFFF
        _lib.uc_reg_write_batch(self._h, self._ids, self._ptrs, self._n)


class CPBatch:
    """A fixed list of system registers (by encoding) read in one C call."""

    def __init__(self, handle, encs: list[tuple[int, int, int, int, int]]) -> None:
        n = len(encs)
        self._h = handle
        self._n = n
        self._ids = (ctypes.c_int * n)(*([A.UC_ARM64_REG_CP_REG] * n))
        self._cps = (UcRegCP64 * n)()
        for cp, (op0, op1, crn, crm, op2) in zip(self._cps, encs):
            cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = op0, op1, crn, crm, op2
        base, size = ctypes.addressof(self._cps), ctypes.sizeof(UcRegCP64)
        self._ptrs = (ctypes.c_void_p * n)(*[base + size * i for i in range(n)])

    def read(self) -> list[int]:
        _lib.uc_reg_read_batch(self._h, self._ids, self._ptrs, self._n)
        return [cp.val for cp in self._cps]


class Regs:
    """Register file of one Unicorn instance, by architectural name."""

    def __init__(self, uc) -> None:
        self._h = uc._uch
        self._val = ctypes.c_uint64()
        self._pval = ctypes.byref(self._val)
        self._cp = UcRegCP64()
        self._pcp = ctypes.byref(self._cp)
        self.xregs = Batch(self._h, X_IDS + [A.UC_ARM64_REG_SP])

    def batch(self, names: list[str]) -> Batch:
        return Batch(self._h, [DIRECT[n] for n in names])

    def cp_batch(self, encs: list[tuple[int, int, int, int, int]]) -> CPBatch:
        return CPBatch(self._h, encs)

    def write_id(self, rid: int, value: int) -> None:
        """Write a register by Unicorn id (the id an instruction hook reports)."""
        self._val.value = value & 0xFFFFFFFFFFFFFFFF
        _lib.uc_reg_write(self._h, rid, self._pval)

    def read(self, name: str) -> int:
        rid = DIRECT.get(name)
        if rid is not None:
            self._val.value = 0  # PSTATE and NZCV are 32-bit: no stale upper half
            _lib.uc_reg_read(self._h, rid, self._pval)
            return self._val.value
        return self.read_enc(ENC[name])

    def write(self, name: str, value: int) -> None:
        rid = DIRECT.get(name)
        if rid is not None:
            self._val.value = value & 0xFFFFFFFFFFFFFFFF
            _lib.uc_reg_write(self._h, rid, self._pval)
            return
        self.write_enc(ENC[name], value)

    def read_enc(self, enc: tuple[int, int, int, int, int]) -> int:
        cp = self._cp
        cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = enc
        cp.val = 0
        _lib.uc_reg_read(self._h, A.UC_ARM64_REG_CP_REG, self._pcp)
        return cp.val

    def write_enc(self, enc: tuple[int, int, int, int, int], value: int) -> None:
        """Write a system register by encoding.

        A CP_REG write also makes QEMU recompute its cached execution state
        (the EL among it), which a PSTATE write alone does not do.
        """
        cp = self._cp
        cp.op0, cp.op1, cp.crn, cp.crm, cp.op2 = enc
        cp.val = value & 0xFFFFFFFFFFFFFFFF
        _lib.uc_reg_write(self._h, A.UC_ARM64_REG_CP_REG, self._pcp)

    def x(self, n: int) -> int:
        """Xn, with n == 31 meaning XZR."""
        if n == 31:
            return 0
        _lib.uc_reg_read(self._h, X_IDS[n], self._pval)
        return self._val.value

    def set_x(self, n: int, value: int) -> None:
        if n != 31:
            self._val.value = value & 0xFFFFFFFFFFFFFFFF
            _lib.uc_reg_write(self._h, X_IDS[n], self._pval)

    def vector(self, n: int) -> int:
        """Vn, all 128 bits (for debuggers)."""
        buf = (ctypes.c_uint64 * 2)()
        _lib.uc_reg_read(self._h, A.UC_ARM64_REG_V0 + n, buf)
        return buf[0] | buf[1] << 64


# --- instruction hooks without the binding's wrappers ----------------------------
#
# Every MRS/MSR/SYS instruction a guest executes calls into Python (DESIGN.md
# fact 6), and a hypervisor's context switches run many of them.  The Python
# binding wraps each call in two Python frames, a ctypes cast and a named
# tuple; registering the ctypes callback directly roughly halves the cost.

_INSN_SYS_CB = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32,
                                ctypes.POINTER(UcRegCP64), ctypes.c_void_p)


def python_insn_callback(callback) -> object:
    """A C-callable function of the UC_HOOK_INSN signature that calls
    ``callback(reg_id, cp) -> bool`` (``cp``: the UcRegCP64 structure: crn,
    crm, op0, op1, op2, val; True skips the instruction).  Keep it alive as
    long as the hook."""

    def trampoline(_h, reg, pcp, _ud):
        return 1 if callback(reg, pcp.contents) else 0

    return _INSN_SYS_CB(trampoline)


def add_native_insn_hook(uc, insn: int, function: int, user_data=None) -> None:
    """Hook ``insn`` (UC_ARM64_INS_MRS/MSR/SYS/SYSL) on ``uc`` with a C function
    (its address) and its user data (a ctypes object the caller keeps alive)."""
    handle = ctypes.c_size_t()
    data = None if user_data is None else ctypes.cast(ctypes.pointer(user_data), ctypes.c_void_p)
    err = _lib.uc_hook_add(uc._uch, ctypes.byref(handle), UC_HOOK_INSN, ctypes.c_void_p(function),
                           data, ctypes.c_uint64(1), ctypes.c_uint64(0), ctypes.c_int(insn))
    if err:
        raise RuntimeError(f"uc_hook_add(UC_HOOK_INSN, {insn}) failed: error {err}")


def add_insn_hook(uc, insn: int, callback) -> object:
    """Hook ``insn`` on ``uc`` with a Python ``callback(reg_id, cp) -> bool``
    (see ``python_insn_callback``).  Returns the C callback object, which the
    caller must keep alive."""
    fn = python_insn_callback(callback)
    add_native_insn_hook(uc, insn, ctypes.cast(fn, ctypes.c_void_p).value)
    return fn
