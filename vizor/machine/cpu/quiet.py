"""A core polling a quiet device register, skipped to the end of its slice (a mixin of ``Core``).

A kernel waiting for input polls a status register (the mini UART's LSR,
the PL011's FR) in a loop, each read a Python callback.  While nothing is
pending the loop changes nothing: no device changes state inside a core's
slice (device events fire between rounds, other cores do not run, host
input arrives between slices), and such a register is *quiet*: reading it
has no side effect and its value depends on device state only, not on time
(the devices list them in ``QUIET_READS``; the bus answers ``quiet(pa)``).

So when the MMIO read callback sees the same quiet register read from the
same PC, with the same value, a few instructions apart, eight times in a
row, the core stops and ``_quiet_skip`` checks one iteration for real: it
executes it instruction by instruction, and skips only if

* every instruction is an integer data-processing instruction, a branch, a
  NOP/YIELD, or a plain load (no store, atomic, exclusive, FP/SIMD, system
  register access, exception-generating or WFx instruction);
* the iteration made exactly one MMIO access (the quiet read) and read no
  time (the system timer, which systimer.c answers, counts its reads);
* afterwards every general register, SP, PC and PSTATE (NZCV among it) is as
  before, and no breakpoint, watchpoint, exception or stop intervened.

The iteration is then a fixed point: each further one, starting from the same
registers and reading the same RAM and the same register value, does exactly
the same and changes nothing.  The rest of the slice, in whole iterations,
is counted as executed (``Core.skipped``) without running it: bit-identical to
running it (tests/test_quiet_poll.py compares whole machines both ways).
``skip_idle = False`` (``--no-skip-idle``) turns this off with the rest.
"""

from __future__ import annotations

from vizor.machine.arch.insn import decode_load_store
from vizor.machine.cpu.corestate import RUNNING

ASK = 8                 # reads in a row before a check
BACKOFF = -4096         # reads before the next check after a failed one
MAX_LEN = 16            # instructions per iteration
_HINTS = (0xD503201F, 0xD503203F)   # NOP, YIELD


def quiet_instruction(w: int | None) -> bool:
    """Whether ``w`` only reads memory and writes general registers or NZCV."""
    if w is None:
        return False
    if (w >> 26) & 7 == 0b100 or (w >> 25) & 7 == 0b101:      # data processing: immediate, register
        return (w >> 25) & 0xF != 0b1111                        # (not SIMD&FP: x111)
    if (w >> 26) & 7 == 0b101:                                  # branches, exception generation, system
        return (w & 0x7C000000 == 0x14000000 or w & 0xFF000010 == 0x54000000      # B, BL, B.cond
                or w & 0x7C000000 == 0x34000000                                    # CBZ/CBNZ, TBZ/TBNZ
                or w & 0xFF9FFC1F in (0xD61F0000, 0xD63F0000, 0xD65F0000)          # BR, BLR, RET
                or w in _HINTS)
    if (w >> 25) & 5 == 0b100:                                  # loads and stores
        if (w >> 27) & 7 == 0b111 and (w >> 24) & 3 == 0 and (w >> 21) & 1 and (w >> 10) & 3 == 0:
            return False                                        # atomic memory operations
        ls = decode_load_store(w)
        return ls is not None and ls.is_load and not (ls.simd or ls.exclusive)
    return False


class QuietPoll:
    """The quiet-poll side of ``Core`` (its state is the Core's)."""

    _quiet_last = None       # (pc, pa, value, instruction count, MMIO accesses) of the last quiet read
    _quiet_n = 0
    _pending_quiet = None    # (pc, iteration length, timer loop): check after the slice
    _mmio_count = 0          # MMIO accesses through Python (mmio_access.py)

    def _quiet_read(self, pa: int, value: int) -> None:
        """Called by the MMIO read callback after a quiet register's read."""
        if self._quiet_n < 0:              # backing off after a check that failed
            self._quiet_n += 1
            return
        n = self._counter.value
        pc = self.regs.read("PC")
        last, self._quiet_last = self._quiet_last, (pc, pa, value, n, self._mmio_count)
        if last is None or last[:3] != (pc, pa, value) or last[4] != self._mmio_count - 1 \
                or not 0 < n - last[3] <= MAX_LEN:
            self._quiet_n = 0
            return
        self._quiet_n += 1
        if self._quiet_n == ASK:
            self._quiet_n = BACKOFF        # until the check says otherwise (_quiet_skip)
            if self._budget is not None and self._budget - n > 4 * (n - last[3]) and self.skip_idle \
                    and not self.single_step:
                self._pending_quiet = (pc, n - last[3], False)
                self._stop(cut=False)

    def _timer_loop(self, pc: int, length: int) -> None:
        """A loop reading the system timer's CLO at ``pc`` every ``length``
        instructions that idle.py cannot decode: check it after the slice and,
        if it reads nothing but the timer, let systimer.c advance it within
        each microsecond (``warp`` there)."""
        if self._budget is not None and self.skip_idle and not self.single_step and length <= 4 * MAX_LEN:
            self._pending_quiet = (pc, length, True)
            self._stop(cut=False)

    def _quiet_skip(self, budget: int, done: int) -> tuple[int, int]:
        """Check one iteration (see the docstring) and skip the rest of the slice
        (``budget`` instructions, ``done`` of them run) in whole iterations:
        (skipped, executed)."""
        pc, length, timer = self._pending_quiet
        self._pending_quiet = None
        left = budget - done
        pcs: set[int] = set()
        skipped, executed = self._quiet_check(pc, length, left, done, timer, pcs)
        if timer:
            if skipped:               # the check passed: C advances the loop from now on
                self._arm_warp(pc, length, pcs)
            return 0, executed
        if skipped:
            self._quiet_n, self._quiet_last = 0, None     # ask again at once in the next slice
        return skipped, executed

    def _quiet_check(self, pc: int, length: int, left: int, done: int, timer: bool = False,
                     pcs: set | None = None) -> tuple[int, int]:
        if left < 3 * length or self._eret_watch or self._deferred_write is not None \
                or not self._may_skip(pc, 1) or self.regs.read("PC") != pc + 4:
            return 0, 0
        state = self._quiet_state()
        mmio, reads = self._mmio_count, self._timer_reads()
        exits = self.carriers.exits
        start, stop_count = self._slice_start, self._stop_count
        self._stop_count = None
        executed = 0
        try:
            for _ in range(length):
                at = self.regs.read("PC")
                if at in exits or not quiet_instruction(self.read_insn(at)):
                    return 0, executed
                if pcs is not None:
                    pcs.add(at)
                self._slice_start = start + done + executed    # virtual time stays exact
                n = self._step_one(at)
                executed += n
                if n != 1 or self.state != RUNNING or self._stop_count is not None \
                        or self.carriers.hit is not None or self.carriers.fault is not None:
                    return 0, executed
        finally:
            self._slice_start, self._stop_count = start, stop_count
        if timer:          # only the system timer, read in C (a CLO poll: never through Python)
            if self._mmio_count != mmio or self._timer_reads() == reads or self._quiet_state() != state:
                return 0, executed
            return 1, executed
        if self._mmio_count != mmio + 1 or self._timer_reads() != reads or self._quiet_state() != state:
            return 0, executed
        whole = (left - executed) // length * length
        return whole, executed

    def _step_one(self, pc: int) -> int:
        """Execute the instruction at ``pc``; 1 if it ran."""
        self._fast_allow()
        try:
            self.uc.emu_start(pc, 0xFFFFFFFFFFFFFFFF, 0, 1)
        except Exception as e:           # UcError: a bus error
            self._halt(self._bad_access or f"unicorn error: {e}")
        self._drain_fast()
        return min(self._counter.value, 1)

    def _quiet_state(self) -> tuple:
        return tuple(self.regs.xregs.read()) + (self.regs.read("PC"), self.regs.read("PSTATE"),
                                                self.regs.read("NZCV"))
