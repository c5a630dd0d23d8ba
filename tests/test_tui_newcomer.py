"""Issue 21, what a newcomer trips over: keys reach every tab, the console takes Tab
only when `c` put the focus there, nothing essential is cut at 120x36 or 160x48,
help scrolls, a halted board says why, bare symbols resolve in the selected core's
context, recordings carry their symbols, runs by count, the small things."""

from __future__ import annotations

import pytest
from test_runner_stops import start
from tui_fakes import SYMBOLS, FakeRunner, board, core, guest_board, sync

import vizor.driver.runner as R
from vizor.app.app import VizorApp
from vizor.app.keys import TABS
from vizor.machine.board.contexts import SymbolContexts
from vizor.machine.inspect.symbols import Symbols
from vizor.panes.common import EL2, BadInput, parse_address
from vizor.panes.help import HelpScreen

SIZES = [(120, 36), (160, 48)]


async def settle(pilot, n: int = 4) -> None:
    for _ in range(n):
        await pilot.pause(0.05)


def app_on(states, symbols=SYMBOLS):
    fake = FakeRunner(states)
    return VizorApp(fake, symbols, image="fake.elf"), fake


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_square_brackets_reach_every_tab_and_tab_never_enters_the_console(size):
    app, fake = app_on([guest_board()])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        tabs = app.query_one("#tabs")
        seen = [tabs.active]
        for _ in TABS:
            await pilot.press("right_square_bracket")
            seen.append(tabs.active)
        assert sorted(set(seen)) == sorted(t for t, _ in TABS) and seen[-1] == seen[0]
        await pilot.press("left_square_bracket")
        assert tabs.active == TABS[-1][0]
        await pilot.press("w")                         # the Walk input, then Tab ten times
        for _ in range(10):
            await pilot.press("tab")
            assert app.focused is None or app.focused.id != "console-log"
        assert not fake.commands_of(R.UartInput)       # no tab byte reached the guest
        app.set_focus(None)
        await pilot.press("c", "tab", "x")
        assert app.focused.id == "console-log"
        await pilot.press("escape")
        assert app.focused is None
        await pilot.press("tab", "tab")
        assert app.focused is None or app.focused.id != "console-log"
        await pilot.press("q")
    assert fake.commands_of(R.UartInput) == [R.UartInput("pl011", b"\t"), R.UartInput("pl011", b"x")]


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_nothing_essential_is_cut(size):
    halted = core(3, pc=0x300, state="halted")
    cores = guest_board().cores[:3] + (halted,)
    long = "".join(f"line {n}: " + "x" * 150 + "\n" for n in range(30)).encode()
    app, _ = app_on([board(cores=cores, uart=long, reason="a long stop reason " * 12)])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        pane = app.query_one("#cores")
        lines = [t.plain for t in pane._texts]
        for c in cores[1:]:
            line = next(x for x in lines if x.startswith(f"{c.index} "))
            assert "VMID" in line[:pane.size.width], line
        assert any("HALTED" in x for x in lines)
        assert max(len(x) for x in lines) <= pane.size.width
        log = app.query_one("#console-log")
        assert log.size.height >= 8
        assert max(len(x) for x in log.lines) <= log.size.width     # wrapped, not cut
        assert any(x.startswith("line 29") for x in log.lines)
        stop = app.query_one("#stop")
        assert stop.size.height >= 2                  # the long reason wraps
        footer = " ".join(b.key_display or b.key for b in app.BINDINGS if b.show)
        assert "q" in footer and app.screen.size.width == size[0]
        await pilot.press("question_mark")
        await settle(pilot)
        body = app.screen.query_one("#help-body")
        if size[1] <= 36:
            assert body.max_scroll_y > 0
        await pilot.press("end")
        await settle(pilot)
        assert body.scroll_y == body.max_scroll_y
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@sync
async def test_a_halted_board_reads_halted_and_old_messages_go_away():
    from vizor.app import view_keys
    app, _ = app_on([board(reason="halted: core 0 halted (stuck: loop)",
                           cores=(core(0, state="halted"), core(1, state="parked"),
                                  core(2, state="parked"), core(3, state="parked")))])
    view_keys.MESSAGE_SECONDS, old = 0.2, view_keys.MESSAGE_SECONDS
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert "HALTED" in str(app.query_one("#status").render())
            app.say("refused", error=True)
            await settle(pilot, 8)
            assert "refused" not in str(app.query_one("#message").render())
    finally:
        view_keys.MESSAGE_SECONDS = old


def test_run_on_a_halted_board_says_why_and_a_halted_core_does_not_step():
    board_, runner, got, wait, thread = start("images/hyp/hyp.elf")
    runner.send(R.EditRegister(0, "PC", 0x1180))      # the hypervisor has no code there
    runner.send(R.Run())
    stop = wait(lambda o: isinstance(o, R.StopReport) and o.text.startswith("halted"))
    assert "core 0" in stop.text
    runner.send(R.Run())
    note = wait(lambda o: isinstance(o, R.Notice) and "cannot run" in o.text)
    assert note.error and "core 0 halted" in note.text
    runner.send(R.Step(0))
    note = wait(lambda o: isinstance(o, R.Notice) and "cannot step" in o.text)
    snap = [o for o in got if isinstance(o, R.BoardState)][-1]
    assert not snap.running and snap.reason.startswith("halted")
    runner.send(R.Quit())
    thread.join(5)


def contexts() -> SymbolContexts:
    ctx = SymbolContexts(el2=Symbols.from_list([(0x80000, 4, "_start")]))
    ctx.attach(Symbols.from_list([(0x1180, 4, "main")]), 1)
    for vmid in (2, 3):
        ctx.attach(Symbols.from_list([(0x2ea4, 4, "schedule"), (0x1000, 4, "main2")]), vmid)
    return ctx


def test_a_bare_name_resolves_in_the_selected_context_only():
    ctx = contexts()
    with pytest.raises(BadInput, match=r"main is in VMID 1: add @vmid="):
        parse_address("main", ctx, EL2)
    with pytest.raises(BadInput, match=r"schedule is in VMID 2, 3: add @vmid="):
        parse_address("schedule", ctx, EL2)
    assert parse_address("schedule", ctx, 3) == 0x2ea4
    assert parse_address("schedule@vmid=2", ctx, EL2) == 0x2ea4
    assert parse_address("main+4", ctx, 1) == 0x1184
    with pytest.raises(BadInput, match=r"_start is in the hypervisor \(EL2\): add @el=2"):
        parse_address("_start", ctx, 1)
    assert parse_address("_start@el=2", ctx, 1) == 0x80000


@sync
async def test_the_toggle_prompt_uses_the_selected_cores_context():
    app, fake = app_on([guest_board()], contexts())   # core 0 runs VMID 5 (no table: the image's)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("t", *"schedule", "enter")
        await settle(pilot)
        assert "schedule is in VMID 2, 3" in str(app.query_one("#message").render())
        await pilot.press("t", *"schedule @vmid=3", "enter", "plus", *"1,000", "enter")
        await settle(pilot)
        await pilot.press("q")
    assert fake.commands_of(R.ToggleBreakpoint)[0].address == 0x2ea4
    assert fake.commands_of(R.Run)[-1] == R.Run(max_insns=1000)


def test_a_recording_carries_its_symbols_and_an_old_one_still_replays(tmp_path):
    from vizor.machine.board.board import Board
    from vizor.machine.board.loader import load_image
    from vizor.machine.session.reader import load_session
    from vizor.machine.session.recorder import Recorder
    from vizor.machine.session.replay import Replay
    image = "images/hyp/hyp.elf"
    for name, strip in (("new.vzs", False), ("old.vzs", True)):
        b = Board()
        b.load(load_image(image))
        if strip:                                  # as the previous version wrote it: no tables
            b.contexts = SymbolContexts(el2=b.symbols)
        with open(image, "rb") as f:
            rec = Recorder(b, str(tmp_path / name), f.read(), image_name="hyp.elf", boot_el=2)
        rec.run(max_insns=200_000)
        rec.close()
    new = load_session(str(tmp_path / "new.vzs"))
    assert {r["context"] for r in new.header["symbols"]} == {"vmid=1", "vmid=2", "vmid=3"}
    replay = Replay(new)
    live = Board()
    live.load(load_image(image))
    assert replay.board.contexts.resolve("schedule", 3) == live.contexts.resolve("schedule", 3)
    assert replay.verify() is None
    old = load_session(str(tmp_path / "old.vzs"))
    assert "symbols" not in old.header
    assert Replay(old).verify() is None


def test_stop_condition_ids_have_no_gaps_after_a_step_over_and_messages_name_symbols():
    board_, runner, got, wait, thread = start("images/hyp/hyp.elf")
    runner.send(R.StepMore(0, "over"))
    wait(lambda o: isinstance(o, R.StopReport))
    sched = board_.contexts.resolve("schedule", 3)
    runner.send(R.ToggleBreakpoint(sched, vmid=3, check_core=None))
    note = wait(lambda o: isinstance(o, R.Notice) and "set" in o.text)
    assert note.text.startswith("breakpoint 1 set: break at schedule (") and "vmid=3" in note.text
    runner.send(R.EnableStop(1, False))
    runner.send(R.ToggleBreakpoint(sched, vmid=3, check_core=None))   # t on a disabled one enables it
    note = wait(lambda o: isinstance(o, R.Notice) and "enabled" in o.text)
    assert [b.enabled for b in runner.debugger.breakpoints] == [True]
    runner.send(R.Quit())
    thread.join(5)


def test_the_events_tab_has_pc_and_far_columns():
    from vizor.panes.events import EventsPane
    pane = EventsPane(SYMBOLS)
    text = "\n".join(t.plain for t in pane.render_snapshot(guest_board()).lines())
    assert "PC (ELR)" in text and "FAR" in text and "0x81008" in text


def test_boot_help_has_break_and_no_headless_options(capsys):
    from vizor.cli.main import main
    with pytest.raises(SystemExit):
        main(["boot", "--help"])
    out = capsys.readouterr().out
    assert "--break" in out and "--watch" in out and "--catch" in out
    for opt in ("--max-insns", "--until-uart", "--walk", "--state", "--quiet"):
        assert opt not in out
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    assert "--symbols" in capsys.readouterr().out
