"""vizor run --break/--watch/--catch/--symbols: stop conditions from the command line."""

from __future__ import annotations

import os

import pytest
from conformance import image

from vizor.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
MINIOS = os.path.join(ROOT, "images", "guests", "minios.elf")


def run(capsys, *argv):
    code = main(["run", *argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def test_break_on_a_guest_symbol_in_one_vm_reports_core_vmid_el_and_symbol(capsys):
    code, out, err = run(capsys, HYP, "--break", "schedule@vmid=3", "--max-insns", "50000000")
    assert code == 0, err
    assert "stopped: breakpoint 1" in out
    assert "EL1, VMID 3, PC 0xffff000000002ea4 <schedule>" in out  # minios.elf's symbol, via hyp.symbols
    assert "guest     VMID 3 running at EL1" in out


def test_break_with_a_condition_and_an_ignore_count(capsys):
    code, out, _ = run(capsys, image("stage2.elf"), "--break", "t_ldr@vmid=5@ignore=1@if=x0 != 0",
                       "--max-insns", "20000000")
    assert code == 0 and "stopped: breakpoint 1" in out and "VMID 5" in out


def test_watch_a_pa_reports_the_write_with_old_and_new_value(capsys):
    # the demo hypervisor's VM 1 stage-2 table (VTTBR_EL2 base 0xa0000, images/README.md)
    code, out, _ = run(capsys, HYP, "--watch", "pa:0xa0000+8@w", "--max-insns", "20000000")
    assert code == 0
    assert "stopped: watchpoint 1: core 0 EL2" in out and "at PA 0xa0000" in out and "(was 0x0)" in out


def test_catch_an_exception_class_from_one_vm(capsys):
    code, out, _ = run(capsys, HYP, "--catch", "exception:dabt-lower@vmid=2@el=2", "--max-insns", "20000000")
    assert code == 0
    assert "took data abort (lower EL)" in out and "from EL1 vmid=2 to EL2" in out


def test_catch_a_system_register_write(capsys):
    code, out, _ = run(capsys, HYP, "--catch", "sysreg:VTTBR_EL2", "--max-insns", "20000000")
    assert code == 0 and "wrote VTTBR_EL2 = 0x1" in out


def test_symbols_for_a_vmid_from_the_command_line(capsys):
    code, out, _ = run(capsys, image("stage2.elf"), "--symbols", f"{MINIOS}@vmid=9",
                       "--break", "schedule@vmid=9", "--max-insns", "100000")
    assert code == 0 and "stopped" not in out  # a valid spec that never fires


@pytest.mark.parametrize("argv,message", [
    (["--break", "no_such_symbol"], "unknown symbol 'no_such_symbol'"),
    (["--break", "sched_exit@vmid=2"], "unknown symbol 'sched_exit' in VMID 2"),  # an EL2 symbol
    (["--break", "0x80000@vmid=2@el=2"], "a VMID filter needs EL0 or EL1"),
    (["--break", "0x8zz"], "unknown symbol '0x8zz'"),
    (["--break", "schedule@vmid=300"], "VMID 300 is out of range"),
    (["--break", "schedule@colour=red"], "unknown option @colour"),
    (["--break", "0x9999999999999"], "no core reaches 0x9999999999999: a VA has bits 63:48 all 0 or all 1"),
    (["--break", "0xffff000000080000@el=2"], "EL2 VAs have bits 63:48 all 0"),
    (["--break", "0x10000000000000000"], "wider than a 64-bit address"),
    (["--watch", "pa:0x3f201000+4"], "not RAM"),
    (["--watch", "pa:zz"], "not a number"),
    (["--catch", "reboot"], "unknown event 'reboot'"),
    (["--catch", "sysreg:NOPE_EL7"], "unknown system register"),
    (["--symbols", "/no/such.elf@vmid=1"], "no such file"),
    (["--symbols", f"{MINIOS}@vm=1"], "want FILE@vmid=N or FILE@el2"),
])
def test_bad_specifications_are_one_line_and_status_2(capsys, argv, message):
    code, out, err = run(capsys, HYP, *argv, "--max-insns", "1000")
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert out == ""  # nothing ran
