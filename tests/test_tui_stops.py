"""The TUI's stop conditions against a scripted runner: the breakpoint, watchpoint and
event dialogs, the Breakpoints pane, the step keys and the stop banner."""

from __future__ import annotations

import re

import pytest
from test_tui import SIZE, settle, shown
from tui_fakes import SYMBOLS, FakeRunner, guest_board, sync

import vizor.driver.runner as R
from vizor.app.app import VizorApp
from vizor.app.stop_commands import (
    breakpoint_command,
    catch_command,
    watchpoint_command,
)
from vizor.panes.common import BadInput
from vizor.panes.stopdialog import StopDialog


def make_app():
    fake = FakeRunner([guest_board()])
    return VizorApp(fake, SYMBOLS, image="fake.elf"), fake


async def fill(pilot, app, **fields) -> None:
    """Type into the open dialog's fields, then Enter."""
    for fid, text in fields.items():
        app.screen.query_one(f"#f-{fid}").value = text
    app.screen.query_one(f"#f-{next(iter(fields))}").focus()
    await pilot.press("enter")
    await settle(pilot, 2)


@sync
async def test_breakpoint_dialog_sends_every_filter_condition_and_ignore_count():
    app, fake = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot, 2)
        assert isinstance(app.screen, StopDialog)
        await pilot.press(*"guest_main+8")            # the first field has the focus
        await fill(pilot, app, vmid="3", el="1", core="2", cond="x0 == 0x10", ignore="4")
        assert not isinstance(app.screen, StopDialog)
        await pilot.press("b")
        await settle(pilot, 2)
        await fill(pilot, app, where="")                # empty: the selected core's PC
    assert fake.commands_of(R.AddBreakpoint) == [
        R.AddBreakpoint(0x81008, vmid=3, el=1, core=2, condition="x0 == 0x10", ignore=4),
        R.AddBreakpoint(0x81004, check_core=0)]


@pytest.mark.parametrize("kind, fields, message", [
    ("break", {"where": "nosuch"}, "neither a number nor a symbol"),
    ("break", {"where": "0x80000", "vmid": "256"}, "VMID 256 is out of range"),
    ("break", {"where": "0x80000", "vmid": "2", "el": "2"}, "a VMID filter needs EL0 or EL1"),
    ("break", {"where": "0x80000", "cond": "x99 == 1"}, "unknown register"),
    ("break", {"where": "0x80000", "ignore": "-1"}, "ignore count -1 is out of range"),
    ("break", {"where": "0x80000", "core": "4"}, "core 4 is out of range"),
    ("break", {"where": "0x9999999999999"}, "no core reaches 0x9999999999999: a VA has bits 63:48 all 0 or all 1"),
    ("break", {"where": "0xffff000000080000", "el": "2"}, "EL2 VAs have bits 63:48 all 0"),
    ("watch", {"where": "0x1000", "access": "exec"}, "access 'exec'"),
    ("watch", {"where": "0x1000", "length": "0"}, "length 0 is out of range"),
    ("watch", {"where": "0x1000", "space": "ipa"}, "space 'ipa'"),
    ("watch", {"where": ""}, "a watchpoint needs an address"),
    ("catch", {"event": "reboot"}, "unknown event 'reboot'"),
    ("catch", {"event": "sysreg"}, "name the register"),
    ("catch", {"event": ""}, "which event?"),
])
def test_bad_stop_specifications_are_refused_in_words(kind, fields, message):
    with pytest.raises(BadInput, match=re.escape(message)):
        if kind == "break":
            breakpoint_command(fields, SYMBOLS, 0x80000, 0)
        elif kind == "watch":
            watchpoint_command(fields, SYMBOLS, 0)
        else:
            catch_command(fields)


def test_a_breakpoint_may_name_a_vmid_that_has_not_run_yet():
    cmd = breakpoint_command({"where": "guest_main", "vmid": "255"}, SYMBOLS, None, 0)
    assert cmd == R.AddBreakpoint(0x81000, vmid=255)


@sync
async def test_bad_dialog_input_shows_a_message_keeps_the_dialog_and_sends_nothing():
    app, fake = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for kind, fields, message in (
                ("b", {"where": "0x80000", "cond": "x99 == 1"}, "unknown register"),
                ("e", {"event": "reboot"}, "unknown event 'reboot'")):
            await pilot.press(kind)
            await settle(pilot, 2)
            await fill(pilot, app, **fields)
            assert isinstance(app.screen, StopDialog), fields
            assert message in str(app.screen.query_one("#dialog-error").content), fields
            await pilot.press("escape")
            await settle(pilot, 1)
            assert not isinstance(app.screen, StopDialog)
    assert not [c for c in fake.commands
                if isinstance(c, (R.AddBreakpoint, R.AddWatchpoint, R.AddEventStop))]


@sync
async def test_watchpoint_and_event_dialogs_send_their_commands():
    app, fake = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot, 2)
        await fill(pilot, app, where="0x200000", access="access", length="16", vmid="2")
        await pilot.press("e")
        await settle(pilot, 2)
        await fill(pilot, app, event="exception dabt", vmid="2", el="2")
    assert fake.commands_of(R.AddWatchpoint) == [R.AddWatchpoint(0x200000, "pa", 16, True, True, vmid=2)]
    assert fake.commands_of(R.AddEventStop) == [R.AddEventStop("exception", ec=0x24, vmid=2, to_el=2)]


def test_event_and_va_watch_specifications():
    assert watchpoint_command({"where": "guest_main", "space": "va"}, SYMBOLS, 1) == \
        R.AddWatchpoint(0x81000, "va", 8, False, True, via_core=1)
    assert watchpoint_command({"where": "0x1000", "access": "read"}, SYMBOLS, 0) == \
        R.AddWatchpoint(0x1000, "pa", 8, True, False)
    assert catch_command({"event": "sysreg vttbr_el2"}) == R.AddEventStop("sysreg", register="VTTBR_EL2")
    assert catch_command({"event": "vm-entry", "vmid": "3"}) == R.AddEventStop("vm-entry", vmid=3)
    assert catch_command({"event": "exception irq"}) == R.AddEventStop("exception", exc_kind="irq")
    assert catch_command({"event": "exception hvc"}) == R.AddEventStop("exception", ec=0x16)
    assert catch_command({"event": "mmio", "core": "1"}) == R.AddEventStop("mmio", core=1)


@sync
async def test_breakpoints_pane_lists_hits_and_enables_disables_and_deletes():
    app, fake = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.runner.publish(R.StopsState((
            R.StopCondition(1, "breakpoint", "break 0xffff000000002ea4 vmid=3", True, 7),
            R.StopCondition(2, "watchpoint", "watch write PA 0x200000+8", False, 0))))
        await pilot.press("k")
        await settle(pilot)
        assert app.query_one("#tabs").active == "tab-stops"
        text = app.query_one("#stops").text()
        assert "1 breakpoint yes 7 break 0xffff000000002ea4 vmid=3" in text
        assert "2 watchpoint no 0 watch write PA 0x200000+8" in text
        await pilot.press("enter")                     # row 1: enabled -> disable it
        await pilot.press("down", "enter", "d")        # row 2: disabled -> enable it; delete it
        await settle(pilot)
    assert fake.commands_of(R.EnableStop) == [R.EnableStop(1, False), R.EnableStop(2, True)]
    assert fake.commands_of(R.RemoveStop) == [R.RemoveStop(2)]
    assert fake.commands_of(R.Step) == []             # the pane's keys did not leak to the app


@sync
async def test_step_keys_send_step_over_out_in_vm_and_run_until_vmid():
    app, fake = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", "o", "v")               # core 0 runs VMID 5
        await pilot.press("2", "v")                    # core 1 is in the hypervisor: refused
        await settle(pilot)
        assert "core 1 is not running a VM" in shown(app, "#message")
        await pilot.press("r", *"300", "enter")        # not a VMID: refused
        await settle(pilot)
        assert "VMID 300 is out of range" in shown(app, "#message")
        await pilot.press("r", *"3", "enter")
        await settle(pilot)
    assert fake.commands_of(R.StepMore) == [R.StepMore(0, "over"), R.StepMore(0, "out"), R.StepMore(0, "vm")]
    assert fake.commands_of(R.RunUntilVMID) == [R.RunUntilVMID(3)]


@sync
async def test_the_stop_banner_names_core_vmid_el_pc_with_symbol_and_reason():
    app, fake = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.runner.publish(R.StopReport(1, "breakpoint", "breakpoint 1 (break 0x81004 vmid=5) on core 0",
                                        0, el=1, vmid=5, pc=0x81004))
        await settle(pilot)
        text = shown(app, "#stop")
        for part in ("STOPPED", "core 0", "VMID 5", "EL1", "PC 0x81004 <guest_main+0x4>",
                     "breakpoint 1 (break 0x81004 vmid=5)"):
            assert part in text
        assert app.query_one("#stop").has_class("hit")
