"""The gdb stub against the real gdb-multiarch, on the demo hypervisor: cores as
threads, a VMID-filtered `monitor break`, system registers, memory through the
core's regime, stepping, watchpoints, gdb's own conditions, and a second client."""
from __future__ import annotations

import re

import pytest
from gdb_client import GDB, gdb_batch, register, vizor_gdb_server

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed (Debian: gdb-multiarch)")

SCHEDULE = 0xFFFF000000002EA4      # minios.elf's schedule, in VMIDs 2 and 3


@pytest.fixture
def port():
    with vizor_gdb_server() as p:
        yield p


def test_info_threads_lists_the_four_cores_with_el_and_state(port):
    out = gdb_batch(port, "info threads")
    assert re.search(r"\* 1\s+Thread 1 \(core 0 EL2 running\) 0x0+80000", out), out
    for n in (1, 2, 3):
        assert re.search(rf"{n + 1}\s+Thread {n + 1} \(core {n} EL2 parked\)\s+0x0+300", out), out


def test_monitor_break_on_a_vmid_stops_there_and_vttbr_shows_vmid_3(port):
    out = gdb_batch(port, "monitor break schedule@vmid=3", "continue", "info registers VTTBR_EL2",
                    "p $pc", "p $CurrentEL", "info threads")
    assert "1: break 0xffff000000002ea4 vmid=3" in out
    assert register(out, "VTTBR_EL2") >> 48 == 3
    assert f"$1 = (void (*)()) {SCHEDULE:#x}" in out
    assert "$2 = 4" in out                                   # EL1
    assert re.search(r"\* \d\s+Thread \d \(core \d EL1 VMID 3 running\) 0xffff000000002ea4", out), out


def test_x_stepi_and_registers(port):
    out = gdb_batch(port, "x/4i $pc", "p/x $SCTLR_EL2", "stepi", "p $pc", "p $x0", "set $x0 = 5", "p $x0",
                    "info registers cpsr")
    assert "=> 0x80000:\tmsr\tdaifset, #0xf" in out
    assert re.search(r"0x8000c:\s+cmp\s+x20, #0x3", out), out
    assert "$1 = 0x0" in out
    assert "$2 = (void (*)()) 0x80004" in out
    assert "$3 = 256" in out and "$4 = 5" in out           # the firmware's x0 (DTB address), then ours
    assert register(out, "cpsr") & 0xF == 0x9               # EL2h


def test_gdb_conditional_breakpoint_on_a_system_register(port):
    out = gdb_batch(port, f"break *{SCHEDULE:#x} if ($VTTBR_EL2 >> 48) == 3", "continue",
                    "p $VTTBR_EL2 >> 48", "continue", "p $VTTBR_EL2 >> 48")
    assert out.count("hit Breakpoint 1") == 2, out
    assert "$1 = 3" in out and "$2 = 3" in out


def test_watch_reports_the_old_and_new_value(port):
    out = gdb_batch(port, "monitor break schedule@vmid=3", "continue", "watch *(long *)($sp - 16)", "continue")
    assert re.search(r"hit (Hardware )?[Ww]atchpoint 1: \*\(long \*\)\(\$sp - 16\)\s+Old value = -?\d+\s+"
                     r"New value = -?\d+", out), out


def test_memory_that_does_not_translate_is_an_error_not_a_crash(port):
    out = gdb_batch(port, "x/2gx 0xffff800000000000", "x/2gx 0x3f201018", "p $pc")
    assert "Cannot access memory at address 0xffff800000000000" in out
    assert "Cannot access memory at address 0x3f201018" in out      # a device register: never read
    assert "$1 = (void (*)()) 0x80000" in out


def test_monitor_commands_answer_or_refuse_in_one_line(port):
    out = gdb_batch(port, "monitor help", "monitor vmid", "monitor state", "monitor bogus",
                    "monitor break nosuch@vmid=3", "monitor break 0x80010@vmid=300", "monitor walk 0x80000 el2",
                    "monitor stops")
    assert "vizor monitor commands" in out
    assert "core 1: the hypervisor (EL2)" in out
    assert "vizor: unknown monitor command 'bogus'" in out
    assert "vizor: break 'nosuch@vmid=3': unknown symbol 'nosuch' in VMID 3" in out
    assert "VMID 300 is out of range" in out
    assert "walk of VA 0x80000 <_start> on core 0 (EL2): EL2 regime" in out
    assert "no vizor stop conditions" in out
    assert "Traceback" not in out


def test_a_client_that_leaves_leaves_the_board_paused_for_the_next(port):
    first = gdb_batch(port, "monitor break schedule@vmid=3", "continue", "p $pc", "detach", kill=False)
    assert f"$1 = (void (*)()) {SCHEDULE:#x}" in first
    second = gdb_batch(port, "p $pc", "info registers VTTBR_EL2")
    assert f"$1 = (void (*)()) {SCHEDULE:#x}" in second
    assert register(second, "VTTBR_EL2") >> 48 == 3


def test_fpu_registers_are_served():
    with vizor_gdb_server() as port:
        out = gdb_batch(port, "p $v0.q", "p $fpcr", "p $d0")
    assert "<unavailable>" not in out
    assert "$2 = 0" in out


def test_a_bad_address_is_one_line_and_a_public_host_is_warned_about():
    import subprocess
    import sys

    from gdb_client import HYP, ROOT
    bad = subprocess.run([sys.executable, "-m", "vizor", "run", HYP, "--gdb", "hyp.elf"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--gdb 'hyp.elf': give [HOST:]PORT" in bad.stderr
    clash = subprocess.run([sys.executable, "-m", "vizor", "run", HYP, "--gdb", "--until-uart", "x"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60, check=False)
    assert clash.returncode == 2 and "--until-uart does not go with --gdb" in clash.stderr
    public = subprocess.Popen([sys.executable, "-m", "vizor", "run", HYP, "--gdb", "0.0.0.0:0"], cwd=ROOT,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        first = public.stderr.readline()
    finally:
        public.kill()
        public.wait(10)
    assert first.startswith("vizor: warning: the gdb server listens on 0.0.0.0:")
    from vizor.cli.gdb import is_loopback, parse_address
    assert parse_address("1234") == ("127.0.0.1", 1234) and parse_address(":99") == ("127.0.0.1", 99)
    assert parse_address("0.0.0.0:5") == ("0.0.0.0", 5)
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")
