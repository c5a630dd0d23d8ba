"""The TUI over the real runner and board, on the conformance kernels: what the panes show
after a known number of instructions, a walk, a breakpoint hit, console input, bad input."""

from __future__ import annotations

import subprocess
import sys
import time

from test_tui import SIZE, shown, text_of
from tui_fakes import sync

import vizor.driver.runner as R
from vizor.app.app import VizorApp
from vizor.driver.remote import serve_apart
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image

IMAGES = "images/tests"


def real_app(name: str, apart: bool = True):
    """The app over a real board; ``apart``: the machine in its own process, as
    `vizor boot` runs it (the returned board is then the parent's copy, at reset)."""
    board = Board()
    image = load_image(f"{IMAGES}/{name}")
    board.load(image)
    runner = R.Runner(board, lambda _o: None, image=name)
    return VizorApp(serve_apart(runner) if apart else runner, board.symbols, image=name), board


async def wait_for(pilot, cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for the UI")
        await pilot.pause(0.05)


def paused(app) -> bool:
    return app.snapshot is not None and not app.snapshot.running


@sync
async def test_stage2_after_18000_instructions_core0_runs_vmid5_at_el1():
    app, board = real_app("stage2.elf")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.runner.send(R.Run(max_insns=18_000))
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == 18_000)
        await pilot.pause(0.1)
        text = shown(app, "#cores")
        assert "core 0 NS-EL1 EL1h (SP_EL1)" in text and "VMID 5" in text
        assert "<el1_read" in text
        assert "VMID 5" in shown(app, "#status")
        assert " VMID 5 " in shown(app, "#sysregs")
        await pilot.press("q")


@sync
async def test_a_walk_typed_in_the_translation_pane_shows_both_stages():
    app, board = real_app("stage2.elf")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.runner.send(R.Run(max_insns=18_000))
        await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == 18_000)
        await pilot.press("w", *"0x80000", "enter")
        await wait_for(pilot, lambda: app.query_one("#walk").walk is not None)
        await pilot.pause(0.1)
        text = text_of(app.query_one("#walk-view").content)
        assert "EL1&0 regime, stage 1 + stage 2 (VMID 5)" in text
        assert "stage 2 (IPA 0x80000 -> PA" in text
        assert "VA 0x80000 -> IPA 0x80000 -> PA 0x80000" in text


@sync
async def test_a_breakpoint_toggled_in_the_ui_is_hit_and_shown():
    app, board = real_app("stage2.elf")
    main = board.symbols.by_name["main"]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("t", *"main", "enter")
        await wait_for(pilot, lambda: app.snapshot.breakpoints)
        await pilot.press("space")
        await wait_for(pilot, lambda: paused(app) and "breakpoint" in app.snapshot.reason)
        assert app.snapshot.cores[0].pc == main
        assert "<main>" in shown(app, "#cores")
        assert "●▶" in shown(app, "#disasm")
        await pilot.press("t", *"main", "enter")           # the same again removes it
        await wait_for(pilot, lambda: not app.snapshot.breakpoints)


@sync
async def test_keys_typed_in_the_console_reach_the_uart_receive_fifo():
    app, board = real_app("exc_levels.elf", apart=False)  # reads the board itself
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("c", "o", "k", "enter")
        await wait_for(pilot, lambda: app.snapshot.uart("pl011").rx_waiting == 3)
        st = board.devices["pl011"].state()
        assert st.rx_fifo + st.pending_input == b"ok\r"


@sync
async def test_a_breakpoint_outside_ram_is_refused_with_a_message():
    app, board = real_app("exc_levels.elf")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("t", *"0x50000000", "enter")
        await wait_for(pilot, lambda: "outside RAM" in shown(app, "#message"))
        assert app.query_one("#message").has_class("error")
        await pilot.pause(0.1)
        assert app.snapshot.breakpoints == ()


def test_pause_takes_effect_within_100_ms_at_full_speed():
    board = Board()
    board.load(load_image("images/bench/loop.elf"))
    got = []
    runner = R.Runner(board, got.append)
    import threading
    t = threading.Thread(target=runner.serve, args=(True,))
    t.start()
    try:
        deadline = time.monotonic() + 10
        while not any(getattr(s, "running", False) and s.instructions > 0 for s in got):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.3)
        sent = time.monotonic()
        runner.send(R.Pause())
        while not (got and getattr(got[-1], "reason", "") == "paused"):
            assert time.monotonic() - sent < 2
            time.sleep(0.001)
        assert time.monotonic() - sent < 0.1
    finally:
        runner.send(R.Quit())
        t.join(5)


def test_the_machine_and_runner_import_without_textual_or_rich():
    code = ("import sys, vizor.machine.board.board, vizor.machine.inspect.snapshot, vizor.machine.debug.engine, vizor.driver.runner;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_vizor_boot_without_a_terminal_says_so_and_exits_2():
    code = f"import sys; from vizor.cli.main import main; sys.exit(main(['boot', '{IMAGES}/exc_levels.elf']))"
    r = subprocess.run([sys.executable, "-c", code],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "needs a terminal" in r.stderr


@sync
async def test_a_vmid_breakpoint_set_at_reset_stops_in_that_vm_with_its_symbol():
    board = Board()
    board.load(load_image("images/hyp/hyp.elf"))
    runner = serve_apart(R.Runner(board, lambda _o: None, image="hyp.elf"))
    app = VizorApp(runner, board.contexts, image="hyp.elf")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("t", *"schedule @vmid=3", "enter")   # VMID 3 has not run yet
        await wait_for(pilot, lambda: app.snapshot.breakpoints)
        await pilot.press("space")
        await wait_for(pilot, lambda: paused(app) and "breakpoint" in app.snapshot.reason)
        stopped = [c for c in app.snapshot.cores if c.pc == board.contexts.resolve("schedule", 3)]
        assert stopped and stopped[0].vmid == 3
        await pilot.pause(0.1)
        banner = shown(app, "#stop")
        assert "VMID 3" in banner and "EL1" in banner and "<schedule>" in banner
        assert app.selected == stopped[0].index  # the panes follow the core that stopped
        await pilot.press("k")
        await pilot.pause(0.1)
        assert "1 breakpoint yes 1 break at schedule (0xffff000000002ea4) vmid=3" in app.query_one("#stops").text()
        app.set_focus(None)
        await pilot.press("t", "enter")             # nothing typed: the breakpoint at the PC goes
        await wait_for(pilot, lambda: not app.snapshot.breakpoints)
        assert app.query_one("#stops").text() == ""
        await pilot.press("q")
