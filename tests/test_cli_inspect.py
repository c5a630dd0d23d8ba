"""`vizor run --walk VA` and `--state`: the printed walk is the machine's walk, and
every descriptor it shows is what physical memory holds.

Runs images/tests/stage2.elf, which builds stage-2 tables for VMID 5 (start
level 1) and VMID 7 (two concatenated level-1 tables) and an EL1 stage-1 table
whose level-2 table sits at an IPA stage 2 does not map (the S1PTW fault).
"""

from __future__ import annotations

import re

import pytest
from conformance import image

from vizor.cli.main import main
from vizor.machine.arch.esr import decode_esr
from vizor.machine.arch.mmu import translate_el10, walk_stage2
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.cpu.faults import translation_regs

STAGE2 = image("stage2.elf")
MAGIC_B = 0x5CA1AB1E0000000B
DESC = re.compile(r"desc (?:IPA 0x[0-9a-f]+ -> )?PA (0x[0-9a-f]+) = (0x[0-9a-f]{16})")
HEAD = re.compile(r"L(\d)  table (?:IPA|PA) (0x[0-9a-f]+), index (\d+) from (?:VA|IPA)\[(\d+):(\d+)\]")
RESULT = re.compile(r"^result: .*-> PA (0x[0-9a-f]+),", re.M)


def run(capsys, *argv):
    code = main(["run", STAGE2, "--quiet", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def board_at(max_insns=None, until=None) -> Board:
    """The board exactly as `vizor run` leaves it (one run call, same stop rule)."""
    board = Board()
    board.load(load_image(STAGE2), 2)
    text: list[str] = []

    def on_uart(_u, byte):
        text.append(chr(byte))
        if until and "".join(text).endswith(until):
            board.request_stop()
    board.uart_listeners.append(on_uart)
    board.run(max_insns=max_insns, stop=(lambda: until in "".join(text) and "uart") if until else None)
    return board


@pytest.fixture(scope="module")
def s1_live_insns() -> int:
    """An instruction count at which the EL1 stage-1 MMU and stage 2 are both on.

    Found by stepping the kernel, so that a rebuilt stage2.elf keeps the test honest."""
    board = Board()
    board.load(load_image(STAGE2), 2)
    core = board.cores[0]
    live = []
    while board.run(max_insns=100).kind == "max_insns":
        if core.sysreg("SCTLR_EL1") & 1 and core.hcr & 1:
            live.append(board.instructions)
        elif live:
            break
    assert len(live) > 2, "stage2.elf never had stage 1 and stage 2 on together"
    return live[len(live) // 2]


def walk_blocks(out: str) -> list[str]:
    return ["walk of " + b for b in out.split("\nwalk of ")[1:]]


def expected_descriptors(walk) -> list[tuple]:
    """Per step, in the order the report shows them: (level, table base, index, VA/IPA bits)
    and, for each descriptor read, (PA, value)."""
    steps, descs = [], []
    for st in walk.steps:
        steps.append((st.level, st.table_base, st.index, *st.ia_bits))
        if st.desc is not None:
            descs.append((st.desc_pa, st.desc))
        if st.s2_walk is not None:
            s, d = expected_descriptors(st.s2_walk)
            steps += s
            descs += d
    if walk.stage2 is not None:
        s, d = expected_descriptors(walk.stage2)
        steps += s
        descs += d
    return steps, descs


def shown_descriptors(block: str) -> list[tuple]:
    steps = [tuple(int(x, 0) for x in m) for m in HEAD.findall(block)]
    return steps, [(int(pa, 16), int(v, 16)) for pa, v in DESC.findall(block)]


def test_two_stage_walk_matches_the_walker_and_memory(capsys, s1_live_insns):
    code, out, _ = run(capsys, "--max-insns", str(s1_live_insns), "--walk", "0x100000",
                       "--walk", "t_ldr", "--regime", "el10")
    assert code == 0
    board = board_at(max_insns=s1_live_insns)
    regs = translation_regs(board.cores[0])
    syms = board.symbols.by_name
    assert regs.ttbr0_el1 == syms["s1_l1"] and regs.vttbr_el2 == syms["s2a_l1"] | 5 << 48
    blocks = walk_blocks(out)
    assert len(blocks) == 2
    for va, block in zip((0x100000, syms["t_ldr"]), blocks):
        walk = translate_el10(va, regs, board.read_phys)
        assert walk.ok and walk.stage2 is not None
        shown = shown_descriptors(block)
        assert shown == expected_descriptors(walk)
        for pa, value in shown[1]:
            assert board.read_phys(pa, 8) == value
        assert int(RESULT.search(block).group(1), 16) == walk.output
        assert "stage 1 + stage 2, VMID 5" in block and "(S1PTW):" in block
        assert f"IPA 0x{walk.ipa:x}" in block
    assert blocks[1].startswith(f"walk of VA 0x{syms['t_ldr']:x} <t_ldr>")
    # the stage-1 leaf: a 2 MiB block of Normal memory through MAIR_EL1.Attr0
    assert "L2  table IPA 0x%x, index 0 from VA[29:21]" % syms["s1_l2"] in blocks[0]
    assert "AttrIndx=0 -> MAIR_EL1.Attr0=0xff (Normal WB RA WA)" in blocks[0]


def test_stage2_fault_on_a_stage1_table_read_is_shown_with_its_level(capsys, s1_live_insns):
    code, out, _ = run(capsys, "--max-insns", str(s1_live_insns), "--walk", "0x40000000",
                       "--regime", "el10")
    assert code == 0
    board = board_at(max_insns=s1_live_insns)
    walk = translate_el10(0x40000000, translation_regs(board.cores[0]), board.read_phys)
    assert walk.fault is not None and walk.fault.s1ptw
    (block,) = walk_blocks(out)
    assert shown_descriptors(block) == expected_descriptors(walk)
    assert "desc IPA 0x10001000 -> PA (none) = (not read)" in block
    result = block.strip().splitlines()[-1]
    assert result.startswith("result: FAULT, stage 2 translation fault, level 3 (S1PTW) IPA 0x10001000")
    assert result.endswith("reading the level-2 stage-1 table (DFSC 0x07)")


def test_concatenated_stage2_tables_walk_to_the_page_the_kernel_reads(capsys):
    until = "ok setup_concat"
    va = 0x8000000000 + 0x91000
    code, out, _ = run(capsys, "--until-uart", until, "--walk", hex(va), "--walk", "page_a",
                       "--regime", "el10")
    assert code == 0
    board = board_at(until=until)
    syms = board.symbols.by_name
    regs = translation_regs(board.cores[0])
    walk = translate_el10(va, regs, board.read_phys)
    b_concat, b_page_a = walk_blocks(out)
    assert "VMID 7" in b_concat and "stage 1: off (SCTLR_EL1.M=0)" in b_concat
    assert (f"L1  table PA 0x{syms['s2b_l1']:x}, index 512 from IPA[39:30] "
            "(2 concatenated tables)") in b_concat
    assert shown_descriptors(b_concat) == expected_descriptors(walk)
    pa = int(RESULT.search(b_concat).group(1), 16)
    assert pa == walk.output == syms["page_b"]
    assert board.read_phys(pa, 8) == MAGIC_B
    assert b_page_a.startswith(f"walk of VA 0x{syms['page_a']:x} <page_a>")


@pytest.mark.parametrize("va", [0x0, 0x3F201000, 0x3FFFFFF8, 0x80000000, 0xFFFFFFFF_FFFFF000,
                                0x1_0000_0000, 0x00FF_0000_0010_0000])
def test_every_descriptor_shown_is_the_walkers_and_in_memory(capsys, s1_live_insns, va):
    code, out, _ = run(capsys, "--max-insns", str(s1_live_insns), "--walk", hex(va), "--regime", "el10")
    assert code == 0
    board = board_at(max_insns=s1_live_insns)
    walk = translate_el10(va, translation_regs(board.cores[0]), board.read_phys)
    (block,) = walk_blocks(out)
    steps, descs = shown_descriptors(block)
    assert (steps, descs) == expected_descriptors(walk)
    assert all(board.read_phys(pa, 8) == v for pa, v in descs)
    result = block.strip().splitlines()[-1]
    if walk.fault is not None:
        assert result.startswith(f"result: FAULT, {walk.fault}")
    else:
        assert int(RESULT.search(block).group(1), 16) == walk.output


def test_stage2_only_regime_walks_an_ipa(capsys):
    code, out, _ = run(capsys, "--until-uart", "ok setup vtcr", "--walk", "0x10002008", "--regime", "s2")
    assert code == 0
    board = board_at(until="ok setup vtcr")
    walk = walk_stage2(0x10002008, translation_regs(board.cores[0]), board.read_phys)
    (block,) = walk_blocks(out)
    assert block.startswith("walk of IPA 0x10002008") and "VMID 5" in block
    assert shown_descriptors(block) == expected_descriptors(walk)
    assert "S2AP=0b01 (read-only)" in block
    assert int(RESULT.search(block).group(1), 16) == walk.output == board.symbols.by_name["page_b"] + 8


def test_auto_regime_of_a_core_at_el2_is_the_el2_regime(capsys):
    code, out, _ = run(capsys, "--until-uart", "ok setup vtcr", "--walk", "main")
    assert code == 0
    (block,) = walk_blocks(out)
    assert "EL2 regime, stage 1 only" in block and "stage 1: off (SCTLR_EL2.M=0)" in block


def test_state_decodes_each_core(capsys):
    until = "ok setup_concat"
    code, out, _ = run(capsys, "--until-uart", until, "--state")
    assert code == 0
    board = board_at(until=until)
    core0 = board.cores[0]
    text = out[out.index("\ncore 0: "):]
    cores = re.split(r"\n(?=core \d: )", text.strip())
    assert [c.split(":")[0] for c in cores] == ["core 0", "core 1", "core 2", "core 3"]
    c0 = cores[0]
    assert c0.startswith(f"core 0: EL2h (SP = SP_EL2), running, PC {board.symbols.format(core0.pc)}")
    assert "MMU       EL2 stage 1 off (SCTLR_EL2.M=0)" in c0
    assert "HCR_EL2   0x80000001: VM RW" in c0
    assert "loaded EL1&0 context: VMID 7, stage 2 on" in c0
    rec = core0.exceptions[-1]
    assert f"ESR_EL{rec.to_el} 0x{rec.esr:08x}: {decode_esr(rec.esr).summary}" in c0
    assert f"ELR_EL{rec.to_el} {board.symbols.format(rec.elr)}" in c0


def test_state_of_a_core_running_a_guest_names_its_vmid(capsys):
    board = Board()
    board.load(load_image(STAGE2), 2)
    core = board.cores[0]
    while board.run(max_insns=50).kind == "max_insns" and not (core.el == 1 and core.hcr & 1):
        pass
    assert core.el == 1, "stage2.elf never ran EL1 under stage 2"
    code, out, _ = run(capsys, "--max-insns", str(board.instructions), "--state", "--walk", "0x10000000")
    assert code == 0
    c0 = out[out.index("\ncore 0: "):out.index("\ncore 1: ")]
    assert "core 0: EL1h (SP = SP_EL1)" in c0
    assert "MMU       EL1&0 stage 1 off (SCTLR_EL1.M=0)" in c0
    assert "guest     VMID 5 running at EL1 (stage 2 on, VMID 5 tables @ 0x%x)" % (
        board.symbols.by_name["s2a_l1"]) in c0
    (block,) = walk_blocks(out[:out.index("\ncore 0: ")])
    assert "EL1&0 regime, stage 1 + stage 2, VMID 5" in block  # auto: the core's own regime
    assert int(RESULT.search(block).group(1), 16) == board.symbols.by_name["page_a"]


def test_walk_on_a_core_at_el3_walks_the_el3_regime_and_says_it_is_secure(capsys):
    code = main(["run", STAGE2, "--quiet", "--boot-el", "3", "--max-insns", "1", "--walk", "0x80000"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "(EL3): EL3 regime, stage 1 only (Secure)" in out and "stage 1: off (SCTLR_EL3.M=0)" in out
    assert "security: the access is Secure (MMU off)" in out
    code = main(["run", STAGE2, "--quiet", "--boot-el", "3", "--max-insns", "1", "--walk", "0x80000",
                 "--regime", "sel10"])
    out, _ = capsys.readouterr()
    assert code == 0 and "Secure EL1&0 regime, stage 1 only (EL2 does not act on Secure state)" in out


@pytest.mark.parametrize("argv,needle", [
    (["--walk", "no_such_symbol"], "neither a number nor a symbol"),
    (["--walk", str(1 << 64)], "not a 64-bit virtual address"),
    (["--walk", "main+zz"], "bad offset"),
    (["--walk", "0x1000", "--core", "4"], "no such core"),
    (["--walk", "0x1000", "--core", "one"], "not a core number"),
    (["--walk", "0x1000", "--regime", "el4"], "choose one of"),
])
def test_bad_inspect_argument_is_one_line_and_status_2(capsys, argv, needle):
    code, out, err = run(capsys, "--max-insns", "10", *argv)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out == ""


def test_walk_and_break_take_a_symbol_with_its_context(capsys):
    def vz(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    hyp = "images/hyp/hyp.elf"
    rc, out, err = vz("run", hyp, "--max-insns", "30000000", "--core", "1", "--regime", "el10",
                      "--walk", "schedule@vmid=3", "--quiet")
    assert "walk of VA 0xffff000000002ea4" in out, err
    rc, out, err = vz("run", hyp, "--max-insns", "1000", "--walk", "schedule@foo")
    assert rc == 2 and "@vmid=N or @el=2" in err
    rc, out, err = vz("run", hyp, "--max-insns", "1000", "--break", "schedule@el=2")
    assert rc == 2 and "the hypervisor (EL2) has no 'schedule'; it is in VMID 2, 3: add @vmid=" in err
