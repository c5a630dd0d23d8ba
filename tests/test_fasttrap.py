"""The native exception fast path (vizor/machine/cpu/fasttrap.c) against the Python path.

fasttrap.c takes SVC, HVC and stage-2 data aborts that Python classified
before, in C.  Each case runs the same board twice, with the path on and off
(``Core.fast_traps``), and compares everything session_oracle.py hashes: every
register and system register of every core, the exception history and counts,
devices, clock and RAM; and the stuck-loop signature the path keeps in C.  The
path must also really be taken (else the comparison proves nothing), and every
input that validates a cached abort (a descriptor word, a translation
register, the instruction, the address) must send a changed case back to
Python, whose answer the C path then equals.
"""

from __future__ import annotations

import os

import pytest
from session_oracle import boot, state_parts

import vizor.machine.cpu.accel as accel
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image

needs_accel = pytest.mark.skipif(accel.INTR_HOOK is None, reason=f"native accelerator {accel.STATUS}")
BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "images", "bench")


def _state(board: Board) -> dict:
    parts = state_parts(board)
    for c in board.cores:
        parts[f"stuck {c.index}"] = (c._stuck_sig, c._stuck_n)
    return parts


def _bench(name: str, iterations: int) -> Board:
    board = Board()
    img = load_image(os.path.join(BENCH, name))
    board.load(img, 2)
    board.write_ram(img.symbols.by_name["iterations"], iterations.to_bytes(8, "little"))
    return board


def _both(make, n: int, between=None, parts: int = 1):
    """Run a board from ``make()`` for ``n`` instructions (in ``parts`` runs, calling
    ``between(board, i)`` between them) with the path on and off; return both."""
    boards = []
    for fast in (True, False):
        board = make()
        for c in board.cores:
            c.fast_traps = fast
        for i in range(parts):
            board.run(max_insns=n // parts)
            if between is not None and i < parts - 1:
                between(board, i)
        boards.append(board)
    return boards


def _taken(board: Board) -> int:
    return sum(c.fast_counts[0] for c in board.cores)


CASES = [("hyp.elf", 12_000_000), ("exc_traps.elf", 2_000_000), ("stage2.elf", 2_000_000),
         ("exc_levels.elf@el3", 2_000_000), ("exc_sync.elf", 2_000_000), ("smp_mailbox.elf", 3_000_000),
         ("irq_timers.elf", 3_000_000)]


@needs_accel
@pytest.mark.parametrize("case,n", CASES, ids=[c for c, _ in CASES])
def test_the_fast_path_leaves_the_machine_as_python_does(case, n):
    on, off = _both(lambda: boot(case), n)
    assert _state(on) == _state(off)
    assert _taken(off) == 0
    if case == "hyp.elf":
        assert _taken(on) > 1000     # the demo's trapped MMIO and SVCs


@needs_accel
@pytest.mark.parametrize("name", ["abort.elf", "hvc.elf"])
def test_the_round_trip_benchmarks_run_natively_and_identically(name):
    on, off = _both(lambda: _bench(name, 3000), 400_000)
    assert _state(on) == _state(off)
    assert _taken(on) >= 2900
    counts = on.cores[0].exception_counts
    assert sum(counts.values()) in (3000, 3001) and counts == off.cores[0].exception_counts


ABORT_IPA_BLOCK = 0x40000000   # abort.S: the level-1 entry for IPA 1-2 GiB is s2_l1 + 8


def _s2_entry(board: Board) -> int:
    img = load_image(os.path.join(BENCH, "abort.elf"))
    return img.symbols.by_name["s2_l1"] + 8


@needs_accel
def test_a_changed_descriptor_sends_the_abort_back_to_python():
    """Mid-run, the stage-2 entry for the faulting IPA becomes a block without
    access rights: the next aborts are permission faults (another ESR), which
    the cached translation fault must not hide."""
    def between(board, i):
        entry = _s2_entry(board)
        # block at PA 1 GiB: AF, SH inner, S2AP = 00 (no access), normal memory
        board.write_ram(entry, (ABORT_IPA_BLOCK | 0x73D & ~0xC0).to_bytes(8, "little"))

    on, off = _both(lambda: _bench("abort.elf", 40_000), 300_000, between, parts=2)
    assert _state(on) == _state(off)
    fscs = [r.esr & 0x3F for r in on.cores[0].exceptions if r.ec == 0x24]
    assert fscs[-1] == 0x0D     # a permission fault (level 1), no longer the translation fault 0x05


@needs_accel
def test_a_changed_vttbr_and_a_changed_address_are_seen():
    """The VMID (VTTBR_EL2, a translation register) and the load's base register
    change between runs: the C path must answer as Python does for the new ones."""
    last = []

    def between(board, i):
        core = board.cores[0]
        last.append(core.exceptions[-1])
        if i == 0:
            core.set_sysreg("VTTBR_EL2", core.sysreg("VTTBR_EL2") ^ (3 << 48))
        else:
            core.regs.set_x(1, 0x40001000)

    on, off = _both(lambda: _bench("abort.elf", 60_000), 450_000, between, parts=3)
    assert _state(on) == _state(off)
    final = on.cores[0].exceptions[-1]
    assert [(r.vmid, r.far) for r in last[:2] + [final]] == \
        [(1, 0x40000000), (2, 0x40000000), (2, 0x40001000)]


@needs_accel
def test_a_debugger_listening_to_exceptions_sees_every_one():
    board = _bench("abort.elf", 500)
    seen = []
    board.exception_listeners.append(lambda core, rec: seen.append(rec))
    board.run(max_insns=100_000)
    assert len(seen) == 501 and _taken(board) == 0


@needs_accel
def test_an_attached_debugger_with_no_catch_keeps_the_path_and_a_catch_sees_every_exception():
    from vizor.machine.debug import Debugger
    board = _bench("abort.elf", 2000)
    dbg = Debugger(board)
    dbg.add_breakpoint(0xDEAD0000)                 # a breakpoint that never hits: no exception needed
    board.run(max_insns=20_000)
    assert _taken(board) > 100
    taken = _taken(board)
    dbg.add_event_stop("exception", ec=0x24)       # data aborts from a lower EL: every one must stop
    hits = 0
    while dbg.run(max_insns=60_000).kind == "exception":
        hits += 1
        if hits == 50:
            break
    assert hits == 50 and _taken(board) == taken
    assert [r.ec for r in list(board.cores[0].exceptions)[-50:]] == [0x24] * 50
