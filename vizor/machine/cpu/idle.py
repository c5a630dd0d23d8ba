"""Cores that spin or wait on time, skipped in one step (a mixin of ``Core``).

Two patterns cost host time and change nothing but the instruction count and
virtual time; a core in either is advanced without executing, and the result
is bit-identical to executing it (tests/test_stuck_cores.py and
tests/test_busy_wait.py run both ways and compare whole-machine hashes):

* ``b .``: a core branching to itself.  Its slice is counted as executed.
* a delay loop polling the generic timer, as compilers emit it::

      loop: mrs  Xt, CNTPCT_EL0        (or CNTVCT_EL0)
            [add|sub Xd, Xt, Xm|#imm]  (optional)
            cmp  Xd|Xt, Xm|#imm        (either operand order)
            b.<cond> loop              (HS LO HI LS GE LT GT LE)

  Each iteration reads the counter, and nothing else changes but the
  registers the loop itself rewrites.  When the MRS hook sees the core poll
  at the same PC twice in a row and decodes this pattern, it computes (from
  virtual time, exactly) how many whole iterations would still stay in the
  loop, up to the end of the slice, and advances the core by them at once:
  it lands right after the MRS of the last of them with the value that read
  would have returned, and the rest of that iteration runs natively, so the
  other registers and NZCV come out of the CPU itself.

* a wait for an event that cannot come within the slice, as spin-table and
  lock code writes it::

      loop: wfe                              loop: wfe
            b    loop                              ldr|ldar Wt|Xt, [Xn{, #imm}]
                                                   cbz|cbnz Wt|Xt, loop

  Unicorn executes WFE as a no-op, and no other core runs during this core's
  slice, so the RAM word cannot change: when its value keeps the loop going
  the slice is counted as executed, and the core lands where executing it
  would leave it (the PC in the loop, Xt holding the word).

None of these applies when a breakpoint sits in the loop, the debugger steps the
core, or a virtual interrupt (HCR_EL2.VI/VF/VSE) could be taken at EL0/EL1
inside the slice; physical interrupts arrive between slices either way.
``Core.skip_idle = False`` (``--no-skip-idle``) executes everything.
"""

from __future__ import annotations

import vizor.machine.arch.exceptions as X
from vizor.machine.arch.insn import WFE
from vizor.machine.clock import counter_at, micros_at
from vizor.machine.cpu.faults import walk_for

B_SELF = 0x14000000                                  # b .
VIRTUAL = X.HCR_VI | X.HCR_VF | (1 << 8)             # HCR_EL2.VI, VF, VSE: taken by QEMU inside a slice
MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
SIGN = 1 << 63
MONOTONE_CONDS = {2, 3, 8, 9, 10, 11, 12, 13}        # HS LO HI LS GE LT GT LE
UNSIGNED_CONDS = {2, 3, 8, 9}
NZCV_SHIFT = 28


def subs_nzcv(a: int, b: int, width: int = 64) -> int:
    """NZCV (bits 31:28) of a SUBS a, b of ``width`` bits (64 or 32)."""
    top = width - 1
    r = (a - b) & ((1 << width) - 1)
    n = r >> top
    z = int(r == 0)
    c = int(a >= b)
    v = int(((a ^ b) & (a ^ r)) >> top & 1)
    return (n << 3 | z << 2 | c << 1 | v) << NZCV_SHIFT


def cond_holds(cond: int, nzcv: int) -> bool:
    n, z, c, v = (nzcv >> 31) & 1, (nzcv >> 30) & 1, (nzcv >> 29) & 1, (nzcv >> 28) & 1
    base = cond >> 1
    if base == 1:
        r = c == 1                       # HS / LO
    elif base == 4:
        r = c == 1 and z == 0            # HI / LS
    elif base == 5:
        r = n == v                       # GE / LT
    elif base == 6:
        r = z == 0 and n == v            # GT / LE
    else:
        raise ValueError(f"condition {cond} is not one a delay loop uses")
    return r if cond & 1 == 0 else not r


class PollLoop:
    """A decoded delay loop at ``pc`` (see the module docstring)."""

    __slots__ = ("length", "rt", "rd", "add", "imm", "rm", "cmp_first", "cmp_imm", "cmp_rm", "cond", "width")

    def __init__(self, length, rt, rd, add, imm, rm, cmp_first, cmp_imm, cmp_rm, cond, width=64) -> None:
        self.length, self.rt, self.rd, self.add, self.imm, self.rm = length, rt, rd, add, imm, rm
        self.cmp_first, self.cmp_imm, self.cmp_rm, self.cond = cmp_first, cmp_imm, cmp_rm, cond
        self.width = width

    def derived(self, value: int, regs: list[int]) -> int:
        """The value the compare sees, from a counter read."""
        if self.rd is None:
            return value
        mask = (1 << self.width) - 1
        other = self.imm if self.imm is not None else regs[self.rm] & mask
        return (value + other if self.add else value - other) & mask

    def flags(self, x: int, regs: list[int]) -> int:
        k = self.cmp_imm if self.cmp_imm is not None else regs[self.cmp_rm] & ((1 << self.width) - 1)
        return subs_nzcv(x, k, self.width) if self.cmp_first else subs_nzcv(k, x, self.width)


POLL_REPEAT = 4     # cycles between two reads of one delay loop, at most (decode_poll_loop)


def decode_poll_loop(pc: int, rt: int, fetch, width: int = 64) -> PollLoop | None:
    """The delay loop whose counter read (an MRS, or with ``width`` 32 an LDR of
    the system timer's CLO; destination ``rt``) is at ``pc``, or None: its
    add/sub and compare are ``width``-bit.  ``fetch(va)`` returns the
    instruction word there (None if unreadable)."""
    sf = 0x80000000 if width == 64 else 0
    words = [fetch(pc + 4 * i) for i in range(1, 4)]
    i, rd, add, imm, rm = 0, None, None, None, None
    w = words[0]
    if w is None:
        return None
    if (w & 0xBF800000) == 0x11000000 | sf and (w >> 5) & 31 == rt:            # ADD/SUB Xd, Xt, #imm
        rd, add, imm = w & 31, not (w >> 30) & 1, ((w >> 10) & 0xFFF) << (12 if (w >> 22) & 1 else 0)
        i = 1
    elif (w & 0xBF20FC00) == 0x0B000000 | sf and (w >> 5) & 31 == rt:          # ADD/SUB Xd, Xt, Xm
        rd, add, rm = w & 31, not (w >> 30) & 1, (w >> 16) & 31
        i = 1
    if rd is not None and (rd == 31 or rm in (31, rt, rd)):
        return None
    x = rd if rd is not None else rt
    w = words[i]
    if w is None:
        return None
    cmp_imm = cmp_rm = None
    if (w & 0xFF80001F) == 0x7100001F | sf:                                      # CMP Xn, #imm
        if (w >> 5) & 31 != x:
            return None
        cmp_first, cmp_imm = True, ((w >> 10) & 0xFFF) << (12 if (w >> 22) & 1 else 0)
    elif (w & 0xFF20FC1F) == 0x6B00001F | sf:                                    # CMP Xn, Xm
        n, m = (w >> 5) & 31, (w >> 16) & 31
        if n == x and m not in (x, rt, 31):
            cmp_first, cmp_rm = True, m
        elif m == x and n not in (x, rt, 31):
            cmp_first, cmp_rm = False, n
        else:
            return None
    else:
        return None
    w = words[i + 1]
    if w is None or (w & 0xFF000010) != 0x54000000:                          # B.cond
        return None
    imm19 = (w >> 5) & 0x7FFFF
    target = pc + 4 * (i + 2) + 4 * (imm19 - (1 << 19) if imm19 >> 18 else imm19)
    cond = w & 15
    if target != pc or cond not in MONOTONE_CONDS or rt == 31:
        return None
    return PollLoop(i + 3, rt, rd, add, imm, rm, cmp_first, cmp_imm, cmp_rm, cond, width)


WFE_LOOP_B = 0x17FFFFFF                              # b .-4 (after a wfe)


def _loaded(w: int):
    """(size, Rn, Rt, offset) of LDR (unsigned offset) or LDAR, 32 or 64-bit; or None."""
    if w & 0xBFC00000 == 0xB9400000:                 # LDR Wt|Xt, [Xn, #imm12 * size]
        size = 8 if w >> 30 & 1 else 4
        return size, (w >> 5) & 31, w & 31, ((w >> 10) & 0xFFF) * size
    if w & 0xBFFFFC00 == 0x88DFFC00:                 # LDAR Wt|Xt, [Xn]
        return (8 if w >> 30 & 1 else 4), (w >> 5) & 31, w & 31, 0
    return None


def decode_wfe_loop(pc: int, read_insn):
    """The WFE wait loop ``pc`` lies in: (base, length, load) with load None
    for ``wfe; b``, else (size, Rn, Rt, offset, loops_on_zero); or None."""
    for base in (pc, pc - 4, pc - 8):
        if read_insn(base) != WFE:
            continue
        w1 = read_insn(base + 4)
        if w1 == WFE_LOOP_B:
            return (base, 2, None) if base >= pc - 4 else None
        ld = _loaded(w1) if w1 is not None else None
        w2 = read_insn(base + 8)
        if ld is None or w2 is None or w2 & 0x7E000000 != 0x34000000:   # CBZ/CBNZ
            continue
        size, rn, rt, off = ld
        imm19 = (w2 >> 5) & 0x7FFFF
        target = base + 8 + 4 * (imm19 - (1 << 19) if imm19 >> 18 else imm19)
        if target != base or w2 & 31 != rt or rt == rn or rt == 31 or (w2 >> 31) != (size == 8):
            continue
        return base, 3, (size, rn, rt, off, not (w2 >> 24) & 1)
    return None


class IdleSkip:
    """The skipping side of ``Core`` (its state is the Core's)."""

    def _may_skip(self, pc: int, length: int) -> bool:
        if self.single_step or not self.skip_idle:
            return False
        exits = self.carriers.exits
        if exits and any(pc <= e < pc + 4 * length for e in exits):
            return False
        return not (self.hcr & VIRTUAL and (self.regs.read("PSTATE") >> 2) & 3 < 2)

    def _spins_in_place(self, pc: int) -> bool:
        """The core is in ``b .`` and a slice of it changes nothing but the count."""
        return self.read_insn(pc) == B_SELF and self._may_skip(pc, 1)

    def _skips_slice(self, pc: int, budget: int) -> bool:
        """``b .`` or a WFE wait (see the docstring) that stays for the whole
        slice: advance the core as executing ``budget`` instructions would."""
        if self._spins_in_place(pc):
            return True
        loop = decode_wfe_loop(pc, self.read_insn)
        if loop is None:
            return False
        base, length, load = loop
        if not self._may_skip(base, length):
            return False
        if load is not None:
            size, rn, rt, off, on_zero = load
            value = self._ram_word(self.regs.read("SP") if rn == 31 else self.regs.x(rn), off, size)
            if value is None or (value == 0) != on_zero:
                return False
            if (pc - base) // 4 + budget > 1:          # the load runs in the span
                self.regs.set_x(rt, value)
        self.regs.write("PC", base + 4 * (((pc - base) // 4 + budget) % length))
        return True

    def _ram_word(self, base: int, off: int, size: int):
        """The RAM word a wait loop loads, or None (not RAM, or not translatable here)."""
        va = (base + off) & MASK64
        if va % size:
            return None
        el = (self.regs.read("PSTATE") >> 2) & 3
        if el == 3:
            pa = va if not self.regs.read_enc((3, 6, 1, 0, 0)) & 1 else None   # SCTLR_EL3.M
        else:
            walk = walk_for(self, va, el, "r")
            pa = walk.output if walk is not None and walk.fault is None else None
        if pa is None or (pa & ~0xFFF) in self.carriers.pages:   # a watched page: the read must happen
            return None
        try:
            return self.board.read_phys(pa, size)
        except Exception:          # BusError: a device, not RAM
            return None

    def _poll_skip(self, name: str, reg: int, rt: int, value: int) -> None:
        """Called by the MRS hook after serving a CNTPCT/CNTVCT read of ``value``
        into X``rt``: plan a skip of the rest of a delay loop (see the docstring)."""
        pc = self.regs.read("PC")
        now = self.board.clock.cycles          # the cycle of this read
        last, self._last_poll = self._last_poll, (pc, name, now)
        # a delay loop's reads are at most POLL_REPEAT cycles apart (accel.c asks
        # Python about exactly these reads, and answers the others itself)
        if last is None or last[:2] != (pc, name) or not 0 < now - last[2] <= POLL_REPEAT or self._budget is None:
            return
        loop = decode_poll_loop(pc, rt, self.read_insn)
        if loop is None:
            return
        off = value - counter_at(now)          # the virtual offset, constant over the loop
        self._plan_poll_skip(pc, loop, value, lambda j: (counter_at(now + j * loop.length) + off) & MASK64)

    def _clo_poll(self, value: int) -> None:
        """Called (through systimer.c, which asks after a run of reads from one PC)
        inside the read of the system timer's CLO that returned ``value``: plan a
        skip of the rest of a delay loop polling it (see the docstring)."""
        pc = self.regs.read("PC")
        w = self.read_insn(pc)
        if w is None or (w & 0xFFC00000) != 0xB9400000 and (w & 0xFFE00C00) != 0xB8400000:
            return                             # not LDR Wt, [Xn, #imm] or LDUR
        loop = decode_poll_loop(pc, w & 31, self.read_insn, 32)
        if loop is None:            # another shape: advanced within each microsecond, if it qualifies
            self._timer_loop(pc, self._fast.poll_len)
            return
        now = self.board.clock.cycles
        self._plan_poll_skip(pc, loop, value, lambda j: micros_at(now + j * loop.length) & MASK32)

    def _plan_poll_skip(self, pc: int, loop: PollLoop, value: int, read) -> None:
        """Skip the iterations of ``loop`` at ``pc`` that stay in it, whose counter
        read just returned ``value``; ``read(j)`` is what the j-th next iteration's
        read returns."""
        if self._budget is None or not self._may_skip(pc, loop.length):
            return
        L = loop.length
        done = self._counter.value            # this slice's instructions, the read included
        jmax = (self._budget - done) // L
        if jmax < 2:
            return
        regs = self.regs.xregs.read() if loop.rm is not None or loop.cmp_rm is not None else ()

        def continues(v: int) -> bool:
            return cond_holds(loop.cond, loop.flags(loop.derived(v, regs), regs))

        x0, xmax = loop.derived(value, regs), loop.derived(read(jmax), regs)
        sign = 1 << (loop.width - 1)
        signed = loop.cond not in UNSIGNED_CONDS
        lo, hi = (x0 ^ sign, xmax ^ sign) if signed else (x0, xmax)
        if lo > hi:                             # the compared value wraps within reach: not monotone
            return
        if not continues(value):
            return
        if continues(read(jmax)):
            j = jmax
        else:                                   # first iteration that leaves the loop
            a, b = 0, jmax                      # continues(a), not continues(b)
            while b - a > 1:
                mid = (a + b) // 2
                if continues(read(mid)):
                    a = mid
                else:
                    b = mid
            j = b
        if j < 2:
            return
        # Land right after the read of iteration j-1 with what it read; the rest of that
        # iteration (add/sub, cmp, b.cond) then runs natively, so registers and flags
        # come out of the CPU itself, in its own representation, as if never skipped.
        self._pending_skip = ((j - 1) * L, loop.rt, read(j - 1), L - 1)
        self._stop(cut=False)

    def _apply_skip(self) -> tuple[int, int]:
        """Land after the MRS of the last skipped iteration and run the rest of that
        iteration; returns (instructions skipped, instructions executed)."""
        n, rt, value, rest = self._pending_skip
        self._pending_skip = None
        self._last_poll = None
        self.regs.set_x(rt, value)
        self.uc.emu_start(self.regs.read("PC"), 0xFFFFFFFFFFFFFFFF, 0, rest)
        return n, min(self._counter.value, rest)
