"""Find where Unicorn keeps its executed-instruction counter.

``emu_start(..., count=N)`` counts instructions in ``uc->emu_counter``, but
Unicorn has no API to read it, and vizor needs the exact number of
instructions a slice executed when the slice stops early (WFI, a trap, an
interrupt becoming pending) to keep virtual time exact.  This module finds
the field's offset in ``struct uc_struct`` once per process by running two
known instruction counts on a scratch instance and looking for the word that
holds them; ``core.py`` then reads it with ctypes.  If no unique offset is
found (a Unicorn build vizor does not know), it raises ``RuntimeError``.
"""

from __future__ import annotations

import ctypes
import functools

from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, Uc
from unicorn import arm64_const as A

_NOP = b"\x1f\x20\x03\xd5"
_WORDS = 4096


def _snapshot(uc: Uc) -> list[int]:
    h = ctypes.cast(uc._uch, ctypes.c_void_p).value
    return (ctypes.c_uint64 * _WORDS).from_address(h)[:]


@functools.cache
def emu_counter_offset() -> int:
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM64_A53)
    uc.mem_map(0, 0x10000)
    uc.mem_write(0, _NOP * 0x4000)
    # run 1: stopped by the count (counter = count + 1);
    # run 2: stopped by an exit after 64 instructions (counter = 64, limit 777)
    uc.emu_start(0, 0xFFFFFFFFFFFFFFFF, 0, 1234)
    s1 = _snapshot(uc)
    uc.ctl_exits_enabled(True)
    uc.ctl_set_exits([0x100])
    uc.ctl_flush_tb()
    uc.emu_start(0, 0xFFFFFFFFFFFFFFFF, 0, 777)
    s2 = _snapshot(uc)
    hits = [i for i in range(_WORDS) if s1[i] == 1235 and s2[i] == 64]
    if len(hits) != 1:
        raise RuntimeError("cannot find Unicorn's instruction counter; "
                           "vizor needs unicorn 2.1.x (see DESIGN.md)")
    return hits[0] * 8
