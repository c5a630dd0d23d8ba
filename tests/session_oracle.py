"""The oracle that saved sessions are held to: a straight run of the machine.

``state_hash(board)`` hashes what a run depends on and shows, read through the
machine's own interfaces and never through the session code (no checkpoint
capture, no RamTracker): every core's count, run state, general, FP/SIMD and
system registers (those that hold state: counters and timer views that read the
host clock are left out; the generic timers are devices), the Python side QEMU
does not hold (architectural HCR_EL2 and SCR_EL3, SPSR shadow, exception
history), every device's ``state()``, the interrupt lines, the clock and its
pending event times, and RAM (the non-zero 4 KiB pages, found through
/proc/self/pagemap: hashing 1 GiB takes seconds).

The cases (``CASES``) are the conformance kernels, the device kernels (SD card,
RNG with a seed, watchdog, framebuffer) and the demo, each booted at EL2 as the
firmware does (``"name"``) and at EL3 (``--boot-el 3``: ``"name@el3"``); the SD
card kernel gets a card made by ``vizor mksd``, inserted read-only, as ``--sd``.

``Straight(case)`` is a board booted as the case says and run forward only, to an
instruction count (``at``) or to the first moment a core has executed m
instructions (``at_core``: where a step or a breakpoint leaves it).
"""

from __future__ import annotations

import array
import ctypes
import functools
import hashlib
import os
import tempfile

from conformance import INPUTS, KERNELS, UART_DEVICE, image

from vizor.cli.mksd import make_sd_image
from vizor.machine.arch.sysregs import BY_NAME
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.board.wiring import insert_sd
from vizor.machine.cpu.regs import DIRECT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
DEVICE_KERNELS = ("sdcard.elf", "rng.elf", "watchdog.elf", "framebuffer.elf")
IMAGES = {**{k: image(k) for k in KERNELS + DEVICE_KERNELS}, "hyp.elf": HYP}
# Every image booted at EL2 (the firmware's way) and at EL3 (kernel_old=1, --boot-el 3).
CASES = {**{k: (p, 2) for k, p in IMAGES.items()}, **{f"{k}@el3": (p, 3) for k, p in IMAGES.items()}}
# --rng-seed of a case's board (the others keep the RNG's default seed).
RNG_SEED = {"rng.elf": 7}
# Console input typed while the machine runs: (instruction count, UART, bytes), given
# where a run of exactly that many instructions stops (the kernels' INPUTS: at reset).
TYPED: dict[str, tuple[tuple[int, str, bytes], ...]] = {"hyp.elf": ((150_000, "pl011", b"hello\r"),)}

# Read the host clock in Unicorn (vizor serves them from virtual time through
# hooks, and the generic timers are devices): not state of the CPU.
_HOST_VIEWS = ("CNTPCT_EL0", "CNTVCT_EL0", "PMCCNTR_EL0", "PMXEVCNTR_EL0")
# Not in Unicorn (a read fails): vizor keeps the A53's IMPLEMENTATION DEFINED
# registers in Core.impdef, hashed with the core.
_NOT_IN_UNICORN = ("CPUACTLR_EL1", "CPUECTLR_EL1", "CPUMERRSR_EL1", "DLR_EL0", "DSPSR_EL0", "L2CTLR_EL1",
                   "L2ECTLR_EL1", "L2MERRSR_EL1", "RMR_EL1", "RMR_EL2", "RMR_EL3", "RVBAR_EL1", "RVBAR_EL2")
SYSREGS = sorted((n, e) for n, e in BY_NAME.items()
                 if e[0] == 3 and n not in _HOST_VIEWS + _NOT_IN_UNICORN
                 and not n.endswith(("_TVAL_EL0", "_TVAL_EL1", "_TVAL_EL2"))
                 and not (n.startswith("CNT") and "_CTL_" in n))   # ISTATUS: from the host clock
_PAGE = 4096


def kernel(case: str) -> str:
    """The image's name of a case ("rng.elf@el3" -> "rng.elf")."""
    return case.split("@")[0]


def boot_el(case: str) -> int:
    return CASES[case][1]


@functools.lru_cache(maxsize=None)
def sd_card() -> str:
    """The card sdcard.elf reads (its files, as tests/test_board_devices.py makes it)."""
    d = tempfile.mkdtemp(prefix="vizor-oracle-sd-")
    files = {"hello.txt": b"Hello from the SD card\n", "A long file name.txt": b"long name body\n"}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    out = os.path.join(d, "card.img")
    make_sd_image(out, [os.path.join(d, n) for n in files])
    return out


def loaded(case: str) -> Board:
    """The board as ``vizor run IMAGE [--boot-el 3] [--sd CARD] [--rng-seed N]`` builds it."""
    path, el = CASES[case]
    name = kernel(case)
    board = Board()
    board.load(load_image(path, el), el)
    if name in RNG_SEED:
        rng = board.devices["rng"]
        rng.seed = RNG_SEED[name]
        rng.reset()
    if name == "sdcard.elf":
        insert_sd(board, sd_card())
    return board


def boot(case: str) -> Board:
    """The board as ``vizor run`` boots it, with the kernel's console input typed at reset."""
    board = loaded(case)
    for uart, data in INPUTS.get(kernel(case), {}).items():
        board.devices[UART_DEVICE[uart]].receive(data)
    return board


def _pages(board: Board) -> list[int]:
    """Pages of RAM the host ever backed (present or swapped): the others read as zero."""
    n = len(board.ram) // _PAGE
    with open("/proc/self/pagemap", "rb") as f:
        f.seek(ctypes.addressof(board._ram_buf) // _PAGE * 8)
        raw = f.read(n * 8)
    out, step = [], 512                     # 2 MiB at a time first
    zero = bytes(step * 8)
    entries = array.array("Q")
    entries.frombytes(raw)
    for base in range(0, n, step):
        if raw[base * 8:(base + step) * 8] != zero:
            out.extend(p for p in range(base, base + step) if entries[p] >> 62)
    return out


def ram_hash(board: Board) -> str:
    h = hashlib.blake2b(digest_size=16)
    zero = bytes(_PAGE)
    ram = board.ram
    for p in _pages(board):
        data = ram[p * _PAGE:(p + 1) * _PAGE]
        if data != zero:
            h.update(p.to_bytes(4, "little"))
            h.update(data)
    return h.hexdigest()


def core_state(c) -> list:
    regs = c.regs
    return [c.index, c.instructions, c.state, c.fault, c.hcr, c.scr, list(c._spsr),
            [regs.read(n) for n in sorted(DIRECT)], [regs.vector(i) for i in range(32)],
            [(n, regs.read_enc(e)) for n, e in SYSREGS],
            [repr(r) for r in c.exceptions], sorted(c.exception_counts.items()),
            repr(c.cycle_counter.state()), c._deferred_write, sorted(c.impdef.items())]


def state_parts(board: Board) -> dict[str, str]:
    """Hashes by part (cores, devices, clock, RAM): a difference says where it is."""
    def h(obj) -> str:
        return hashlib.blake2b(repr(obj).encode(), digest_size=16).hexdigest()
    clock = board.clock
    events = sorted(ev.when for ev in clock._queue if not ev.cancelled)
    parts = {f"core {c.index}": h(core_state(c)) for c in board.cores}
    parts["devices"] = h([(n, repr(d.state())) for n, d in board.devices.items()]
                         + [repr(c.timer.state()) for c in board.cores])
    parts["clock"] = h([board.instructions, clock.base, events])
    parts["lines"] = h([(c.irq_line.level, c.fiq_line.level) for c in board.cores])
    parts["power"] = h([board.powered_off, board.power_cycles])
    parts["RAM"] = ram_hash(board)
    return parts


def state_hash(board: Board) -> str:
    return hashlib.blake2b(repr(sorted(state_parts(board).items())).encode(), digest_size=16).hexdigest()


class Straight:
    """A board booted as ``case`` says and run forward only (booted again to go back)."""

    def __init__(self, case: str, typed: tuple | None = None) -> None:
        self.case = case
        self.typed = TYPED.get(kernel(case), ()) if typed is None else typed   # (count, UART, bytes)
        self.board = boot(case)
        self.given = 0            # inputs of ``typed`` given so far
        self.boots = 1

    def _back(self, behind: bool) -> None:
        if behind:
            self.board = boot(self.case)
            self.given = 0
            self.boots += 1

    def _run(self, max_insns: int | None = None, run=None, **kw):
        """``Board.run`` (or ``run``: a Debugger's), cut where the console input is typed."""
        b = self.board
        run = run or b.run
        end = None if max_insns is None else b.instructions + max_insns
        while True:
            nxt = self.typed[self.given] if self.given < len(self.typed) else None
            if nxt is not None and nxt[0] == b.instructions:
                b.devices[UART_DEVICE[nxt[1]]].receive(nxt[2])
                self.given += 1
                continue
            cap = min([x for x in (end, nxt[0] if nxt else None) if x is not None], default=None)
            reason = run(max_insns=None if cap is None else cap - b.instructions, **kw)
            if reason.kind != "max_insns" or cap == end:
                return reason

    def at(self, n: int) -> Board:
        """The board after exactly ``n`` instructions."""
        self._back(self.board.instructions > n)
        b = self.board
        if b.instructions < n:
            reason = self._run(max_insns=n - b.instructions)
            assert b.instructions == n, f"the straight run stopped at {b.instructions}, not {n}: {reason}"
        return b

    def at_position(self, pos: list) -> Board:
        """The board where a run stood at ``pos`` ([instructions, clock base, next core,
        done in round per core, round end]: one count can be several places, e.g.
        before and after a round in which every core waited)."""
        b = self.board

        def here() -> list:
            return [b.instructions, b.clock.base, b._next_core, list(b._round_done), b._round_end]
        if here() != pos:
            self._back(b.instructions > pos[0] or (b.instructions == pos[0] and b.clock.base > pos[1]))
            b = self.board
            reason = self._run(max_insns=pos[0] - b.instructions, stop=lambda: "there" if here() == pos else None)
            assert here() == pos, f"the straight run did not stand at {pos}: {here()} ({reason})"
        return b

    def at_core(self, core: int, m: int) -> Board:
        """The board at the first moment core ``core`` has executed ``m`` instructions."""
        c = self.board.cores[core]
        self._back(c.instructions >= m)
        c = self.board.cores[core]
        if m > 0:
            reason = self._run(core_limit=(core, m))
            assert reason.kind == "step" and c.instructions == m, reason
        return self.board

    def breakpoint_hits(self, address: int, el: int | None, upto: int, last: int = 3) -> list[tuple]:
        """(instructions, core, core's count, state hash or None) of every hit of a
        breakpoint at ``address`` (``el`` filter) before instruction ``upto``, from
        reset; the state hashed for the ``last`` ones only."""
        from vizor.driver.livelock import LivelockGuard
        from vizor.machine.debug.engine import Debugger
        hits: list[tuple] = []
        for hashing in (False, True):
            s = Straight(self.case, self.typed)
            board = s.board
            dbg = Debugger(board)
            dbg.add_breakpoint(address, el=el)
            k = 0
            with LivelockGuard(board):       # a hit under a pending virtual IRQ (docs/machine.md)
                while True:
                    r = s._run(max_insns=upto - board.instructions, run=dbg.run)
                    if r.kind != "breakpoint":
                        break
                    if not hashing:
                        hits.append((board.instructions, r.core, board.cores[r.core].instructions, None))
                    elif k >= len(hits) - last:
                        hits[k] = hits[k][:3] + (state_hash(board),)
                    k += 1
        return hits

    def vm_return(self, lo: int, hi: int) -> tuple[int, int, int, int] | None:
        """A core that leaves a VM and comes back into it between instructions ``lo``
        and ``hi``: (core, vmid, m_back, m_before) where at the first moment the
        core has executed m_back instructions it is back in the VM, and m_before is
        the last count before that at which it was in the VM, or None."""
        s0 = Straight(self.case, self.typed)
        board = s0.board
        s0._run(max_insns=lo)
        seen: dict[int, tuple[int, int, bool]] = {}   # core -> (vmid, count in it, left since)
        window = None
        while window is None and board.instructions < hi:
            if s0._run(max_insns=4).kind != "max_insns":   # a guest may run only 6 between exits
                return None
            for c in board.cores:
                v = c.vmid()
                was = seen.get(c.index)
                if v is not None and was is not None and was[0] == v and was[2]:
                    window = (c.index, v, was[1], c.instructions)
                    break
                if v is not None:
                    seen[c.index] = (v, c.instructions, False)
                elif was is not None:
                    seen[c.index] = (was[0], was[1], True)
        if window is None:
            return None
        core, vmid, a, b = window
        s = Straight(self.case, self.typed)
        inside, left = None, False
        for m in range(a, b + 1):      # the core one instruction at a time
            now = s.at_core(core, m).cores[core].vmid() == vmid
            if now and left:
                return core, vmid, m, inside
            if now:
                inside = m
            else:
                left = True
        return None


def differs(a: Board, b: Board) -> list[str]:
    """The parts in which two boards differ."""
    pa, pb = state_parts(a), state_parts(b)
    return [k for k in pa if pa[k] != pb[k]]
