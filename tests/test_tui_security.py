"""Issue 22 in the TUI: every core's world in the Cores pane and the status line,
the world in the stop banner, SCR_EL3 by field in System registers, at 120x36 and
160x48 (Pilot on scripted snapshots)."""

from __future__ import annotations

import pytest
from tui_fakes import SYMBOLS, FakeRunner, secure_board, secure_walk, sync

import vizor.driver.runner as R
from vizor.app.app import VizorApp

SIZES = [(120, 36), (160, 48)]


async def settle(pilot, n: int = 4) -> None:
    for _ in range(n):
        await pilot.pause(0.05)


def text_of(app, selector: str) -> str:
    w = app.query_one(selector)
    return str(w.render()) if not hasattr(w, "_texts") else "\n".join(t.plain for t in w._texts)


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_every_core_shows_its_world_and_the_banner_says_it(size):
    app = VizorApp(FakeRunner([secure_board()], walk=secure_walk), SYMBOLS, image="fake.elf")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        pane = app.query_one("#cores")
        lines = [t.plain for t in pane._texts]
        assert lines[0].startswith("core 0 S-EL1 EL1h")
        for index, world in ((1, "EL3"), (2, "NS-EL1"), (3, "EL2 (NS)")):
            line = next(x for x in lines if x.startswith(f"{index} "))
            assert line.split("VMID")[0].strip() == f"{index} {world}", line
        assert max(len(x) for x in lines) <= pane.size.width
        assert "core 0: S-EL1" in app._status_text
        app.runner.publish(R.StopReport(1, "catch", "catch 1 (smc from secure) on core 0", 0,
                                        el=1, vmid=None, pc=0x81004, world="S-EL1"))
        await settle(pilot)
        assert "│  S-EL1  │" in app._stop_text
        await pilot.press("2")                        # core 1, in the monitor
        app.query_one("#tabs").active = "tab-sysregs"
        await settle(pilot)
        pane = app.query_one("#sysregs")
        lines = [t.plain.rstrip() for t in pane._texts]
        scr = next(i for i, x in enumerate(lines) if x.startswith("SCR_EL3"))
        world = next(i for i, x in enumerate(lines) if x.startswith("world"))
        fields = " ".join(lines[scr:world]).split()   # in as many rows as the pane's width needs
        assert fields[1:] == ["0x5b0", "NS=0", "IRQ=0", "FIQ=0", "EA=0", "SMD=1", "HCE=1", "SIF=0", "RW=1",
                              "ST=0", "TWI=0", "TWE=0"]
        assert world - scr == (3 if size[0] == 120 else 1)     # wrapped only where the pane is narrow
        assert lines[world].split()[:3] == ["world", "EL3", "Secure;"]
        assert max(len(x) for x in lines[scr:world + 1]) <= pane.size.width
        await pilot.press("q")


def test_scr_el3_is_decoded_field_by_field():
    from vizor.panes.sysregs import scr_fields
    text = scr_fields(0x5B1 | 1 << 11 | 1 << 13)
    assert text == "NS=1 IRQ=0 FIQ=0 EA=0 SMD=1 HCE=1 SIF=0 RW=1 ST=1 TWI=0 TWE=1"
    assert scr_fields(0xE).split()[:4] == ["NS=0", "IRQ=1", "FIQ=1", "EA=1"]
