"""`vizor run`: output, exit status, and one clear line for every kind of bad input."""

from __future__ import annotations

import struct
import sys

import pytest
from conformance import image

from vizor.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_runs_a_kernel_and_streams_its_uart(capsys):
    code, out, err = run(capsys, "run", image("stage2.elf"), "--until-uart", "DONE")
    assert code == 0
    assert out.startswith("stage2") and "DONE" in out
    assert "core 0: EL" in err and "instructions" in err


def test_max_insns_stops_the_run(capsys):
    code, out, err = run(capsys, "run", image("smp_spinlock.elf"), "--max-insns", "10000")
    assert code == 0
    assert "10,000 instructions" in err


def test_until_uart_not_reached_is_exit_status_1(capsys):
    code, _, err = run(capsys, "run", image("stage2.elf"), "--until-uart", "NEVER PRINTED")
    assert code == 1
    assert "idle" in err


@pytest.mark.parametrize("make,needle", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_text("hello, I am a text file\n" * 10), "neither an ELF"),
    (lambda p: p.write_bytes(b"\x7fELF" + b"\x02\x01\x01" + b"\0" * 9 + b"garbage"), "corrupt ELF"),
    (lambda p: p.write_bytes(open(sys.executable, "rb").read(4096)), "not AArch64"),
])
def test_bad_image_is_one_line_and_status_2(capsys, tmp_path, make, needle):
    p = tmp_path / "kernel"
    make(p)
    code, out, err = run(capsys, "run", str(p))
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def aarch64_elf(paddr: int, code: bytes) -> bytes:
    """A minimal AArch64 ELF with one PT_LOAD segment at ``paddr``."""
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                       2, 183, 1, paddr, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 120, paddr, paddr, len(code), len(code), 0x1000)
    return ehdr + phdr + code


def test_segment_outside_ram_is_refused(capsys, tmp_path):
    p = tmp_path / "high.elf"
    p.write_bytes(aarch64_elf(0x3F200000, b"\x1f\x20\x03\xd5"))
    code, _, err = run(capsys, "run", str(p))
    assert code == 2 and "outside RAM" in err


def test_guest_stuck_in_an_exception_loop_is_reported(capsys, tmp_path):
    # udf at the entry with VBAR_EL2 = 0: the vector (zeros) is undefined too, forever.
    elf = tmp_path / "stuck.elf"
    elf.write_bytes(aarch64_elf(0x80000, b"\x00\x00\x00\x00"))
    code, _, err = run(capsys, "run", str(elf), "--max-insns", "1000000")
    assert code == 1
    assert "stuck" in err and "ESR 0x02000000" in err


@pytest.mark.parametrize("uart,device", [("pl011", "pl011"), ("mini", "mini_uart")])
def test_input_is_queued_on_the_chosen_uart(capsys, monkeypatch, uart, device):
    import vizor.machine.board.board as board_mod
    boards = []
    real_init = board_mod.Board.__init__

    def spy(self, *a, **k):
        real_init(self, *a, **k)
        boards.append(self)

    monkeypatch.setattr(board_mod.Board, "__init__", spy)
    code, _, err = run(capsys, "run", image("stage2.elf"), "--input", "ab\\n", "--uart", uart,
                       "--max-insns", "1000")
    assert code == 0, err
    dev = boards[0].devices[device]
    got = bytearray()
    if device == "pl011":
        while not dev.read(0x18, 4) & 0x10:  # FR.RXFE clear: a byte waits in DR
            got.append(dev.read(0x00, 4) & 0xFF)
    else:
        dev.write(0x04, 4, 1)  # AUX_ENABLES: mini UART on
        while dev.read(0x54, 4) & 1:  # LSR data ready
            got.append(dev.read(0x40, 4) & 0xFF)
    assert bytes(got) == b"ab\n"  # the guest never read them: all there, none lost


def test_bad_input_escape_is_a_usage_error(capsys):
    code, _, err = run(capsys, "run", image("stage2.elf"), "--input", "\\x4", "--max-insns", "10")
    assert code == 2 and err.startswith("vizor: --input")


def test_summary_virtual_time_counts_a_round_cut_short(capsys):
    # 20,000 instructions end inside the first 100,000-cycle round.
    assert main(["run", image("stage2.elf"), "--max-insns", "20000"]) == 0
    err = capsys.readouterr().err
    assert "virtual time 0.017 ms (CNTPCT 0x140)" in err  # 20,000 cycles of core 0


@pytest.mark.parametrize("command,argv,line", [
    ("run", ["--max-insns", "abc"], "vizor run: --max-insns: 'abc' is not a number"),
    ("run", ["--max-insns", "-5"], "vizor run: --max-insns: '-5' is negative"),
    ("run", ["--rng-seed", "0xq"], "vizor run: --rng-seed: '0xq' is not a number"),
    ("run", ["--boot-el", "two"], "vizor run: --boot-el: 'two' is not a number"),
    ("run", ["--boot-el", "4"], "vizor run: --boot-el: '4' is neither 2 nor 3"),
    ("boot", ["--rng-seed", "many"], "vizor boot: --rng-seed: 'many' is not a number"),
])
def test_a_bad_number_is_one_line_naming_the_option_and_status_2(capsys, command, argv, line):
    with pytest.raises(SystemExit) as e:
        main([command, image("stage2.elf"), *argv])
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == ""
    assert err.startswith(line) and len(err.strip().splitlines()) == 1 and "usage:" not in err
