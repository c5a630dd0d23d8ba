"""What `vizor run` and `vizor replay` write where: stdout is the guest's UART
output and nothing of vizor's own, stderr carries vizor's notices and the
summary, and when both go to one terminal vizor's first line starts on a line
of its own even if the guest's last line was left open (issue 18, items 7-8).

The runs go through a subprocess with stderr joined to stdout, as a terminal
shows them."""

from __future__ import annotations

import struct
import subprocess
import sys

from conformance import image

# At 0x80000 (EL2): print "X" on the PL011 (no newline), then power off as the
# firmware's halt does: PM_RSTS = partition 63 (0x555), PM_WDOG = 10 ticks,
# PM_RSTC = full reset, each with the password 0x5A in bits 31:24; then `b .`.
POWER_OFF_AFTER_X = [
    0xD2A7E400, 0xF2820000,              # mov x0, #0x3f200000; movk x0, #0x1000 (PL011 DR)
    0x52800B01, 0xB9000001,              # mov w1, #'X'; str w1, [x0]
    0xD2A7E202,                          # mov x2, #0x3f100000 (power management)
    0x52AB4003, 0x7280AAA3, 0xB9002043,  # PM_RSTS = 0x5a000555
    0x52AB4003, 0x72800143, 0xB9002443,  # PM_WDOG = 0x5a00000a
    0x52AB4003, 0x72800403, 0xB9001C43,  # PM_RSTC = 0x5a000020
    0x14000000,                          # b .
]


def aarch64_elf(paddr: int, code: bytes) -> bytes:
    """A minimal AArch64 ELF with one PT_LOAD segment at ``paddr``."""
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                       2, 183, 1, paddr, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 120, paddr, paddr, len(code), len(code), 0x1000)
    return ehdr + phdr + code


def joined(*args) -> tuple[int, str]:
    """Exit status and stdout + stderr in the order they were written."""
    r = subprocess.run([sys.executable, "-m", "vizor.cli", *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    return r.returncode, r.stdout


def separate(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vizor.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_power_off_notice_goes_to_stderr_not_into_the_uart_output():
    r = separate("run", image("watchdog.elf"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "powered the board off" not in r.stdout
    assert r.stdout.endswith("DONE\n")
    assert r.stderr == "vizor: the guest powered the board off\n"


def test_summary_starts_on_its_own_line_after_an_open_uart_line():
    code, out = joined("run", image("rng.elf"), "--until-uart", "DONE")
    assert code == 0, out
    assert "\nDONE\n-- vizor: stopped (stop: UART printed 'DONE')\n" in out


def test_no_blank_line_is_added_when_the_uart_line_was_closed():
    code, out = joined("run", image("rng.elf"), "--until-uart", "DONE\n")
    assert code == 0, out
    assert "\nDONE\n-- vizor: stopped" in out


def test_nothing_printed_means_no_newline_before_the_summary():
    code, out = joined("run", image("rng.elf"), "--max-insns", "100")
    assert code == 0, out
    assert out.startswith("-- vizor: stopped (max_insns")


def test_open_uart_line_is_not_closed_on_stdout():
    r = separate("run", image("rng.elf"), "--until-uart", "DONE")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("\nDONE")       # the guest's bytes, nothing added


def test_power_off_notice_starts_on_its_own_line(tmp_path):
    elf = tmp_path / "off.elf"
    elf.write_bytes(aarch64_elf(0x80000, b"".join(struct.pack("<I", w) for w in POWER_OFF_AFTER_X)))
    code, out = joined("run", str(elf))
    assert code == 0, out
    assert out.startswith("X\nvizor: the guest powered the board off\n-- vizor: stopped (poweroff")


def test_replay_summary_starts_on_its_own_line(tmp_path):
    rec = str(tmp_path / "rng.vzs")
    code, out = joined("run", image("rng.elf"), "--until-uart", "DONE", "--record", rec, "--quiet")
    assert code == 0, out
    code, out = joined("replay", rec)
    assert code == 0, out
    assert "\nDONE\n-- vizor: stopped (stop: end of the recorded session)\n" in out


def test_a_replay_of_a_densely_checkpointed_run_ends_at_the_end_of_the_recording(tmp_path):
    """The recording ends where its board fell asleep, with checkpoints every
    0.5 ms of wall time (a loaded host's 1 s pacer fires inside such a short
    run too): the replay says it reached the end, not that the board is idle."""
    rec = str(tmp_path / "rng.vzs")
    script = ("import sys, vizor.driver.pacing as p; p.CHECKPOINT_SECONDS = 0.0005\n"
              "from vizor.cli.main import main\n"
              f"sys.argv = ['vizor', 'run', {image('rng.elf')!r}, '--until-uart', 'DONE', '--record', {rec!r}, "
              "'--quiet']\nmain()\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    code, out = joined("replay", rec)
    assert code == 0, out
    assert "-- vizor: stopped (stop: end of the recorded session)\n" in out, out[-600:]
