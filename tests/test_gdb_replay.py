"""`vizor replay FILE --gdb`: the recorded run served to gdb-multiarch, with
reverse-stepi and reverse-continue (bs/bc) over vizor's checkpoints."""
from __future__ import annotations

import subprocess
import sys

import pytest
from gdb_client import GDB, HYP, ROOT, gdb_batch, vizor_gdb_server

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed (Debian: gdb-multiarch)")

SCHEDULE = "0xffff000000002ea4"       # minios.elf's schedule


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = tmp_path_factory.mktemp("gdb") / "hyp.vzs"
    subprocess.run([sys.executable, "-m", "vizor", "run", HYP, "--max-insns", "3000000", "--quiet",
                    "--record", str(path)], cwd=ROOT, check=True, capture_output=True, timeout=120)
    return str(path)


def test_reverse_stepi_and_reverse_continue_on_a_replay(session):
    with vizor_gdb_server(None, session, command="replay") as port:
        out = gdb_batch(port, f"monitor break {SCHEDULE}@vmid=3", "continue", "stepi", "stepi", "p $pc",
                        "reverse-stepi", "p $pc", "reverse-stepi", "p $pc", "info registers VTTBR_EL2",
                        "continue", "continue", "p $pc", "reverse-continue", "p $pc",
                        "monitor delete 1", "reverse-continue", "p $pc")
    assert "$1 = (void (*)()) 0xffff000000002eac" in out
    assert "$2 = (void (*)()) 0xffff000000002ea8" in out
    assert f"$3 = (void (*)()) {SCHEDULE}" in out
    assert "No more reverse-execution history." in out                 # forward: the end of the recording
    assert "back at the previous hit: breakpoint 1" in out
    assert f"$5 = (void (*)()) {SCHEDULE}" in out
    assert "$6 = (void (*)()) 0x300" in out                            # no breakpoint: back to the start
    assert "Traceback" not in out


def test_a_replay_refuses_edits_from_gdb(session):
    with vizor_gdb_server(None, session, command="replay") as port:
        out = gdb_batch(port, "set $x0 = 5", "p $x0")
    assert "$1 = 5" not in out
