"""`vizor boot --gdb`: the TUI and the real gdb-multiarch on one board, the board in
its own process as `vizor boot` runs it.  A stop gdb caused shows in the stop
banner and the panes; a pause in the TUI is gdb's stop; gdb attaching pauses a
board the TUI runs; gdb's kill leaves the board to the TUI."""
from __future__ import annotations

import asyncio
import time

import pytest
from gdb_client import GDB, HYP, gdb_batch
from test_tui import SIZE, shown
from tui_fakes import sync

import vizor.driver.runner as R
from vizor.app.app import VizorApp
from vizor.cli.gdb import apart, gdb_runner
from vizor.cli.options import UsageError
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed (Debian: gdb-multiarch)")


def boot_app():
    """What `vizor boot hyp.elf --gdb 127.0.0.1:0` builds; the app and the port."""
    board = Board()
    board.load(load_image(HYP))
    runner = gdb_runner(R.Runner, "127.0.0.1:0", board, lambda _o: None, image="hyp.elf")
    port = runner.gdb_server.address[1]
    return VizorApp(apart(runner), board.contexts, image="hyp.elf"), port


async def wait_for(pilot, cond, what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def gdb(port: int, *commands: str, kill: bool = False):
    """gdb-multiarch in batch mode, in a thread: the TUI goes on meanwhile."""
    return asyncio.create_task(asyncio.to_thread(gdb_batch, port, *commands, timeout=120, kill=kill))


@sync
async def test_a_gdb_stop_shows_in_the_banner_and_a_tui_pause_is_gdbs_stop():
    app, port = boot_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None, "the first snapshot")
        assert f"gdb server listening on 127.0.0.1:{port}" in shown(app, "#message")
        out = await asyncio.wait_for(gdb(port, "monitor break schedule@vmid=3", "continue",
                                         "info registers VTTBR_EL2", "monitor delete 1"), 130)
        assert "vizor: breakpoint 1 (break 0xffff000000002ea4 vmid=3)" in out, out
        await wait_for(pilot, lambda: "VMID 3" in shown(app, "#stop"), "gdb's stop in the banner")
        banner = " ".join(shown(app, "#stop").split())
        assert "STOPPED" in banner and "PC 0xffff000000002ea4 <schedule>" in banner, banner
        assert "breakpoint 1 (break 0xffff000000002ea4 vmid=3) on core 1" in banner, banner
        assert "VMID 3" in shown(app, "#status")            # the panes follow the core that stopped
        task = gdb(port, "continue", "p $pc", "info threads")
        await wait_for(pilot, lambda: app.snapshot.running, "gdb's continue")
        await pilot.press("space")                          # the TUI pauses: gdb is told
        out = await asyncio.wait_for(task, 130)
        assert "received signal SIGINT" in out, out
        assert "Thread 1 (core 0" in out and "Thread 4 (core 3" in out
        await wait_for(pilot, lambda: not app.snapshot.running, "the paused board")
        await pilot.press("q")


@sync
async def test_gdb_attaching_pauses_the_board_and_its_kill_leaves_the_board_to_the_tui():
    app, port = boot_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None, "the first snapshot")
        await pilot.press("space")
        await wait_for(pilot, lambda: app.snapshot.running and app.snapshot.instructions > 0, "a running board")
        out = await asyncio.wait_for(gdb(port, "p $CurrentEL", kill=True), 130)
        assert "$1 = " in out and "killed" in out, out
        await wait_for(pilot, lambda: not app.snapshot.running, "the paused board")
        assert "paused: gdb attached" in shown(app, "#stop")
        at = app.snapshot.instructions
        out = await asyncio.wait_for(gdb(port, "stepi", "p $pc"), 130)     # a second client, same board
        assert "$1 = (void (*)()) 0x" in out, out
        await wait_for(pilot, lambda: app.snapshot.instructions > at, "gdb's step in the panes")
        await pilot.press("space")                          # the TUI still drives it
        await wait_for(pilot, lambda: app.snapshot.running, "the TUI's run")
        await pilot.press("q")


def test_a_bad_gdb_address_is_one_usage_line_before_any_screen():
    board = Board()
    board.load(load_image(HYP))
    with pytest.raises(UsageError, match=r"--gdb 'nonsense': give \[HOST:\]PORT"):
        gdb_runner(R.Runner, "nonsense", board, lambda _o: None)
