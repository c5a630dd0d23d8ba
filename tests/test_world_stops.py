"""Stops by security state (issue 22) on the secmon kernel (images/tests/secmon.c,
entered at EL3): breakpoints and watchpoints with @secure / @ns, catching SMC
from one world, world switches caught and recorded; from the library, the
command line and the TUI's dialogs."""

from __future__ import annotations

import re

import pytest
from conformance import image, run_vizor
from test_tui import SIZE, shown
from test_tui_board import wait_for
from tui_fakes import sync

import vizor.driver.runner as R
from vizor.app.app import VizorApp
from vizor.app.stop_commands import breakpoint_command, catch_command
from vizor.cli.main import main
from vizor.machine.arch.security import world_label
from vizor.machine.board.board import Board
from vizor.machine.board.loader import load_image
from vizor.machine.debug.engine import Debugger
from vizor.machine.debug.spec import SpecError, add_break, add_catch, add_watch
from vizor.panes.common import BadInput

SECMON = "secmon.elf"
# core 0's world switches in secmon, in order: start.S leaves EL3 for NS-EL2,
# then three calls into the Secure payload (two from NS-EL2, one from NS-EL1)
CORE0_SWITCHES = ["EL3 -> EL2 (NS)"] + ["EL2 (NS) -> EL3 -> S-EL1", "S-EL1 -> EL3 -> EL2 (NS)"] * 2 + \
                 ["NS-EL1 -> EL3 -> S-EL1", "S-EL1 -> EL3 -> NS-EL1"]


def secmon(boot_el: int = 3):
    board = Board()
    board.load(load_image(image(SECMON), boot_el), boot_el)
    return board, Debugger(board)


def stops(dbg, limit: int = 40, budget: int = 2_000_000):
    """Every stop until the kernel parks: (reason, core, its world label, PC)."""
    out = []
    for _ in range(limit):
        r = dbg.run(max_insns=budget)
        if r.kind in ("max_insns", "idle"):
            return out
        core = dbg.board.cores[r.core]
        out.append((r, core.index, world_label(core.el, core.scr), core.pc))
    raise AssertionError("too many stops")


def test_a_secure_breakpoint_fires_only_in_the_secure_world():
    board, dbg = secmon()
    add_break(dbg, "pr@secure")
    worlds = [w for _r, _c, w, _pc in stops(dbg)]
    # pr at EL3 (the monitor's lines: 6, and the [el3] switch count never comes from there) and S-EL1
    assert set(worlds) == {"EL3", "S-EL1"} and worlds.count("S-EL1") == 3


def test_a_breakpoint_by_world_and_el_tells_the_two_el1s_apart():
    for spec, label in (("pr@secure@el=1", "S-EL1"), ("pr@ns@el=1", "NS-EL1")):
        board, dbg = secmon()
        add_break(dbg, spec)
        hits = stops(dbg)
        assert [w for _r, _c, w, _pc in hits] == [label] * 3, spec
        assert all(pc == board.contexts.resolve("pr", None) for *_x, pc in hits)
    board, dbg = secmon()
    add_break(dbg, "secure_main@ns")           # only the Secure payload runs it: never
    assert stops(dbg) == []


def test_catch_smc_from_one_world():
    board, dbg = secmon()
    add_catch(dbg, "smc@ns")
    hits = stops(dbg)
    assert [r.kind for r, *_ in hits] == ["exception"] * 3
    assert ["from EL2 (NS) to EL3" in r.detail for r, *_ in hits] == [True, True, False]
    assert "from NS-EL1 to EL3" in hits[2][0].detail
    assert all(w == "EL3" for _r, _c, w, _pc in hits)       # stopped at the monitor's vector
    board, dbg = secmon()
    add_catch(dbg, "exception:smc@secure")
    hits = stops(dbg)
    assert len(hits) == 3 and all("from S-EL1 to EL3" in r.detail for r, *_ in hits)


def test_world_switches_are_caught_where_the_new_world_starts():
    board, dbg = secmon()
    add_catch(dbg, "world@core=0")
    hits = stops(dbg)
    paths = [re.search(r"world: (.*), PC", r.detail).group(1) for r, *_ in hits]
    assert paths == CORE0_SWITCHES
    secure_main = board.contexts.resolve("secure_main", None)
    assert [pc for *_x, pc in hits if _x[2] == "S-EL1"] == [secure_main] * 3
    board, dbg = secmon()
    add_catch(dbg, "world@secure")                   # only the switches into the Secure world
    assert [w for _r, _c, w, _pc in stops(dbg)] == ["S-EL1"] * 3


def test_world_switches_are_recorded_without_a_catch_and_stops_change_nothing():
    board, dbg = secmon()
    out = []
    board.uart_listeners.append(lambda u, b: out.append(chr(b)))
    add_break(dbg, "pr@secure@el=1")
    while "DONE" not in "".join(out):
        assert dbg.run(max_insns=5_000_000).kind != "max_insns"
    recs = [w for w in dbg.world_switches if w.core == 0]
    assert [w.path() for w in recs] == CORE0_SWITCHES
    assert [w.to_secure for w in recs] == [False] + [True, False] * 3
    plain, _, _ = run_vizor(SECMON, 3)
    assert "".join(out) == plain
    dbg.run(max_insns=400_000)                     # the secondaries' turn: they leave EL3 for NS-EL2 too
    assert {(w.core, w.path()) for w in dbg.world_switches if w.core} == \
        {(c, "EL3 -> EL2 (NS)") for c in (1, 2, 3)}


def test_a_kernel_that_never_changes_world_is_never_single_stepped():
    board, dbg = secmon(boot_el=2)                 # entered at EL2: SCR_EL3 stays 0x5b1
    stepped = []
    real = dbg._world_arm
    dbg._world_arm = lambda core, scr: (real(core, scr), stepped.append(dbg._world_armed[core.index]))
    dbg.run(max_insns=2_000_000)
    assert dbg.world_switches == () and not any(stepped)


@pytest.mark.parametrize("adder, spec, message", [
    (add_break, "main@secure@vmid=1", "VMID names a Non-secure guest"),
    (add_break, "main@el=2@secure", "no Secure EL2"),
    (add_break, "main@el=3@ns", "EL3 is always Secure"),
    (add_break, "main@secure@ns", "one world only"),
    (add_watch, "pa:0x1000@secure@vmid=2", "VMID names a Non-secure guest"),
    (add_catch, "world@vmid=1", "world takes only"),
    (add_catch, "world:x", "world takes only"),
    (add_catch, "smc:1", "smc takes no"),
    (add_catch, "vm-exit@secure", "@secure goes with exception, smc or world"),
])
def test_impossible_world_filters_are_refused(adder, spec, message):
    board, dbg = secmon()
    with pytest.raises(SpecError, match=re.escape(message)):
        adder(dbg, spec)
    assert dbg.stops == ()


def test_cli_catch_world_and_break_secure(capsys):
    code = main(["run", image(SECMON), "--boot-el", "3", "--quiet", "--catch", "world@secure"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "stopped: catch 1: core 0 entered the Secure world: EL2 (NS) -> EL3 -> S-EL1" in out
    assert "core 0, EL1, S-EL1, PC 0x" in out and "<secure_main>" in out
    code = main(["run", image(SECMON), "--boot-el", "3", "--quiet", "--break", "pr@ns@el=1"])
    out, err = capsys.readouterr()
    assert code == 0 and "break " in out and "EL1 Non-secure" in out and "core 0, EL1, NS-EL1" in out
    code = main(["run", image(SECMON), "--boot-el", "3", "--quiet", "--catch", "smc@secure@vmid=2"])
    out, err = capsys.readouterr()
    assert code == 2 and "VMID names a Non-secure guest" in err


def test_the_dialogs_take_a_world():
    syms = Board().symbols
    assert breakpoint_command({"where": "0x80000", "world": "secure"}, syms, None, 0) == \
        R.AddBreakpoint(0x80000, world="secure", check_core=0)
    assert catch_command({"event": "smc", "world": "ns"}) == R.AddEventStop("exception", ec=0x17, world="ns")
    assert catch_command({"event": "world", "world": "Secure"}) == R.AddEventStop("world", world="secure")
    for fields, message in (({"event": "world", "vmid": "1"}, "world takes only"),
                            ({"event": "mmio", "world": "ns"}, "a world goes with"),
                            ({"event": "smc", "world": "normal"}, "secure or ns")):
        with pytest.raises(BadInput, match=message):
            catch_command(fields)
    with pytest.raises(BadInput, match="no Secure EL2"):
        breakpoint_command({"where": "0x80000", "el": "2", "world": "s"}, syms, None, 0)


@sync
async def test_tui_catch_world_from_the_dialog_stops_in_the_secure_payload_and_logs_the_switches():
    board = Board()
    board.load(load_image(image(SECMON), 3), 3)
    runner = R.Runner(board, lambda _o: None, image=SECMON)
    app = VizorApp(runner, board.symbols, image=SECMON)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("e")
        await pilot.pause(0.1)
        app.screen.query_one("#f-event").value = "world"
        app.screen.query_one("#f-world").value = "secure"
        app.screen.query_one("#f-event").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(c.describe().startswith("catch world switch into the Secure")
                                          for c in runner.debugger.stops))
        await pilot.press("space")
        await wait_for(pilot, lambda: app.snapshot.stop_serial > 0 and not app.snapshot.running
                       and app.snapshot.world_switches)
        await pilot.pause(0.2)
        assert "entered the Secure world: EL2 (NS) -> EL3 -> S-EL1" in app._stop_text
        assert "core 0 S-EL1" in shown(app, "#cores")
        app.query_one("#tabs").active = "tab-events"
        await pilot.pause(0.2)
        events = shown(app, "#events")
        assert "world switch: EL2 (NS) → EL3 → S-EL1 (now Secure)" in events
        assert "world switch: EL3 → EL2 (NS) (now Non-secure)" in events
        await pilot.press("q")


@sync
async def test_tui_quick_toggle_takes_a_world():
    from test_tui import settle
    from tui_fakes import SYMBOLS, FakeRunner, secure_board
    fake = FakeRunner([secure_board()])
    app = VizorApp(fake, SYMBOLS, image="fake.elf")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for typed in ("0x81004 @secure", "0x81004@ns@el=1", "0x81004 @el=2 @secure"):
            await pilot.press("t")
            await pilot.press(*typed)
            await pilot.press("enter")
            await settle(pilot)
        assert "no Secure EL2" in shown(app, "#message")
    assert fake.commands_of(R.ToggleBreakpoint) == [R.ToggleBreakpoint(0x81004, world="secure"),
                                                   R.ToggleBreakpoint(0x81004, el=1, world="ns")]
