"""Watchpoints on the conformance kernel images/tests/watch.elf: loads and stores
of every size, pairs, exclusives, an EL1 access under VMID 5, off-range bytes."""

from __future__ import annotations

import pytest
from conformance import image

from vizor.cli.main import main
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger

ELF = image("watch.elf")
IMAGE = load_image(ELF, 2)
SYM = IMAGE.symbols.by_name
BUF = SYM["watch_buf"]
MAX = 2_000_000  # the whole kernel runs in well under this

# label, offset in watch_buf, bytes touched, "read"/"write", memory before, after (kernel order)
ACCESSES = [
    ("x_ldrb", 0x00, 1, "read", 0xA5, 0xA5),
    ("x_ldrh", 0x10, 2, "read", 0x8899, 0x8899),
    ("x_ldrw", 0x20, 4, "read", 0xCAFEF00D, 0xCAFEF00D),
    ("x_ldrx", 0x30, 8, "read", 0x7766554433221100, 0x7766554433221100),
    ("x_strb", 0x40, 1, "write", 0x40, 0x1B),
    ("x_strh", 0x50, 2, "write", 0x5050, 0x2BBB),
    ("x_strw", 0x60, 4, "write", 0x60606060, 0x3CCCDDDD),
    ("x_strx", 0x70, 8, "write", 0x7070707070707070, 0x4EEEEEEEFFFFFFFF),
    ("x_ldp", 0x80, 16, "read", 0x8888888888888882_8080808080808081,
     0x8888888888888882_8080808080808081),
    ("x_stp", 0xA0, 16, "write", 0xA8A8A8A8A8A8A8A8_A0A0A0A0A0A0A0A0,
     0x3333CCCC4444DDDD_1111AAAA2222BBBB),
    ("x_ldxr", 0xC0, 4, "read", 0x29, 0x29),
    ("x_stxr", 0xC0, 4, "write", 0x29, 0x2A),
    ("x_far_str", 0x800, 8, "write", 0x0800080008000800, 0x0BADC0DE0BADC0DE),
    ("x_far_ldr", 0x800, 8, "read", 0x0BADC0DE0BADC0DE, 0x0BADC0DE0BADC0DE),
]
# every byte range of watch_buf the kernel touches (the "back untouched" read at +0x08 too)
TOUCHED = sorted({(off, size) for _l, off, size, *_ in ACCESSES} | {(0x08, 8)})
EXPECTED_OUTPUT = open(image("watch.expected")).read()


def boot():
    board = Board()
    board.load(IMAGE, 2)
    out: list[str] = []
    board.uart_listeners.append(lambda _u, b: out.append(chr(b)))
    return board, Debugger(board), out


def run_to_done(dbg, out, limit=MAX):
    """Run on, continuing after every stop; returns the stops seen."""
    stops = []
    while True:
        reason = dbg.run(max_insns=limit, stop=lambda: "done" if "DONE" in "".join(out[-8:]) else None)
        if reason.kind != "watchpoint":
            assert reason.kind == "stop", reason
            return stops
        stops.append(reason)
        assert len(stops) < 100


def watch(dbg, off, size, mode, **kw):
    return dbg.add_watchpoint(pa=BUF + off, length=size, reads="r" in mode, writes="w" in mode, **kw)


def test_the_kernel_labels_lie_outside_the_watched_page():
    assert BUF & 0xFFF == 0
    assert all(SYM[label] < BUF or SYM[label] >= BUF + 0x1000 for label, *_ in ACCESSES)


@pytest.fixture(scope="module")
def every_access_watched():
    """One run with a watchpoint on exactly the bytes of each access (plus one
    with vmid=5 on the bytes the EL1 load shares with the EL2 LDR X),
    continuing after every stop; what the core looked like at each stop."""
    board, dbg, out = boot()
    ids = {}
    for _label, off, size, *_ in ACCESSES:
        if (off, size) not in ids:
            ids[off, size] = watch(dbg, off, size, "rw").id
    watch(dbg, 0x30, 8, "rw", vmid=5)
    core, seen = board.cores[0], []
    while True:
        reason = dbg.run(max_insns=MAX, stop=lambda: "done" if "DONE" in "".join(out[-8:]) else None)
        if reason.kind != "watchpoint":
            assert reason.kind == "stop", reason
            break
        seen.append((reason, core.pc, core.el, core.vmid(), core.regs.x(2)))
        assert len(seen) < 100
    return board, dbg, ids, seen, "".join(out)


def test_a_watchpoint_on_exactly_the_bytes_of_each_access_stops_right_after_it(every_access_watched):
    board, _dbg, ids, seen, _out = every_access_watched
    # the checks in the kernel's order; the EL1 accesses and the read-backs come after
    for (label, off, size, kind, old, new), (reason, pc, el, _vmid, _x2) in zip(ACCESSES, seen):
        assert reason.core == 0 and reason.breakpoint == ids[off, size]
        assert pc == SYM[label] + 4 and el == 2, label  # the instruction after the label
        verb = "wrote" if kind == "write" else "read"
        change = f"{new:#x} (was {old:#x})" if kind == "write" else f"{old:#x}"
        assert reason.detail == (f"watchpoint {ids[off, size]}: core 0 EL2 at PC {SYM[label]:#x} {verb} "
                                 f"{size} bytes at PA {BUF + off:#x}: {change}")
    labels = [next(n for n, a in SYM.items() if a == pc - 4 and n.startswith("x_")) for _r, pc, *_ in seen]
    assert labels == [a[0] for a in ACCESSES] + [
        "x_el1_ldr", "x_el1_str",                                           # EL1, VMID 5
        "x_ldrb", "x_ldrh", "x_ldrw", "x_ldrx", "x_ldp", "x_ldrw"]          # the read-backs
    assert [(el, vmid) for _r, _pc, el, vmid, _x in seen[14:16]] == [(1, 5), (1, 5)]


def test_stops_never_change_the_run(every_access_watched):
    board, _dbg, _ids, seen, out = every_access_watched
    plain, plain_dbg, plain_out = boot()
    assert run_to_done(plain_dbg, plain_out) == []
    assert out == "".join(plain_out) == EXPECTED_OUTPUT
    assert board.read_phys(BUF, 0x1000) == plain.read_phys(BUF, 0x1000)
    assert len(seen) == 22


def test_pairs_are_reported_whole_when_watchpoints_cover_parts_of_them():
    board, dbg, out = boot()
    second = watch(dbg, 0x88, 8, "r")  # the LDP's second word
    words = [watch(dbg, 0xA0, 8, "w"), watch(dbg, 0xA8, 8, "w"), watch(dbg, 0xA4, 8, "w")]  # STP, straddling
    stops = run_to_done(dbg, out)
    assert [s.breakpoint for s in stops] == [second.id, words[0].id]
    assert (f"at PC {SYM['x_ldp']:#x} read 16 bytes at PA {BUF + 0x80:#x}: "
            f"0x88888888888888828080808080808081") in stops[0].detail
    assert (f"at PC {SYM['x_stp']:#x} wrote 16 bytes at PA {BUF + 0xA0:#x}: "
            f"0x3333cccc4444dddd1111aaaa2222bbbb (was 0xa8a8a8a8a8a8a8a8a0a0a0a0a0a0a0a0)") in stops[1].detail
    assert [dbg.get(w.id).hits for w in words] == [1, 1, 1]  # one store, every watch it touched


def untouched_ranges():
    """The bytes of watch_buf's page between the accessed ones."""
    holes, at = [], 0
    for off, size in TOUCHED:
        if off > at:
            holes.append((at, off - at))
        at = max(at, off + size)
    holes.append((at, 0x1000 - at))
    return holes


def test_watchpoints_on_the_neighbouring_bytes_of_the_same_page_never_stop():
    holes = untouched_ranges()
    assert (0x01, 7) in holes and (0x12, 0xE) in holes and (0xC4, 0x800 - 0xC4) in holes
    _board, dbg, out = boot()
    ws = [watch(dbg, off, size, "rw") for off, size in holes]
    assert run_to_done(dbg, out) == []
    assert "".join(out) == EXPECTED_OUTPUT
    assert all(dbg.get(w.id).hits == 0 for w in ws)


def test_read_watchpoints_ignore_stores_including_the_store_exclusive():
    # QEMU's store-exclusive reads before it writes: it is still a store
    _board, dbg, out = boot()
    for off, size in {(a[1], a[2]) for a in ACCESSES if a[3] == "write"}:
        watch(dbg, off, size, "r")
    stops = run_to_done(dbg, out)
    assert all(" read " in s.detail for s in stops)
    labels = [next(n for n, a in SYM.items() if f"at PC {a:#x} " in s.detail and n.startswith("x_"))
              for s in stops]
    assert labels == ["x_ldxr", "x_far_ldr",  # the loads of the exclusive and far words
                      "x_ldrb", "x_ldrh", "x_ldrw", "x_ldrx", "x_ldp", "x_ldrw"]  # the read-backs
    assert "".join(out) == EXPECTED_OUTPUT


def test_write_watchpoints_ignore_loads():
    _board, dbg, out = boot()
    for off, size in {(a[1], a[2]) for a in ACCESSES if a[3] == "read"} - {(0xC0, 4), (0x800, 8)}:
        watch(dbg, off, size, "w")  # the words only ever loaded
    assert len(dbg.stops) == 5
    assert run_to_done(dbg, out) == []
    assert "".join(out) == EXPECTED_OUTPUT


def test_the_exclusive_pair_still_succeeds_under_a_watchpoint():
    board, dbg, out = boot()
    watch(dbg, 0xC0, 4, "rw")
    core = board.cores[0]
    ldxr = dbg.run(max_insns=MAX)
    assert core.pc == SYM["x_ldxr"] + 4 and "read 4 bytes" in ldxr.detail
    stxr = dbg.run(max_insns=MAX)
    assert core.pc == SYM["x_stxr"] + 4 and "wrote 4 bytes" in stxr.detail and "0x2a (was 0x29)" in stxr.detail
    assert core.regs.x(2) == 0  # STXR status: the store happened
    rest = run_to_done(dbg, out)
    assert len(rest) == 1 and ": 0x2a" in rest[0].detail  # the read-back
    assert "ok stxr_status 0\n" in "".join(out) and "ok back excl 2a\n" in "".join(out)


def test_a_vmid_watchpoint_stops_only_for_the_el1_access_under_that_vmid():
    board, dbg, out = boot()
    r = watch(dbg, 0x30, 8, "rw", vmid=5)  # the PA the EL2 LDR X reads first
    w = watch(dbg, 0x70, 8, "rw", vmid=5)  # the PA the EL2 STR X writes first and reads back last
    other = watch(dbg, 0x30, 8, "rw", vmid=7)
    core = board.cores[0]
    first = dbg.run(max_insns=MAX)
    assert first.breakpoint == r.id and core.pc == SYM["x_el1_ldr"] + 4
    assert core.el == 1 and core.vmid() == 5 and "core 0 EL1 vmid=5" in first.detail
    assert f"read 8 bytes at PA {BUF + 0x30:#x}: 0x7766554433221100" in first.detail
    second = dbg.run(max_insns=MAX)
    assert second.breakpoint == w.id and core.pc == SYM["x_el1_str"] + 4 and core.vmid() == 5
    assert "wrote 8 bytes" in second.detail and "0x7766554433221101 (was 0x4eeeeeeeffffffff)" in second.detail
    assert run_to_done(dbg, out) == []
    assert (dbg.get(r.id).hits, dbg.get(w.id).hits, dbg.get(other.id).hits) == (1, 1, 0)


def test_watch_from_the_command_line(capsys):
    code = main(["run", ELF, "--watch", f"pa:{BUF + 0x70:#x}+8@rw", "--max-insns", str(MAX), "--quiet"])
    out, _err = capsys.readouterr()
    assert code == 0
    assert (f"stopped: watchpoint 1: core 0 EL2 at PC {SYM['x_strx']:#x} wrote 8 bytes at PA {BUF + 0x70:#x}: "
            f"0x4eeeeeeeffffffff (was 0x7070707070707070)") in out
    assert "<x_strx+0x4>" in out  # the PC after the store, with its symbol
    assert "ok stores" not in out  # stopped before the kernel printed the stores
