"""SVG snapshots of the main screens on fixed data (no emulation, no cursor, fixed size).

Regenerate after an intended change of the UI with VIZOR_UPDATE_SNAPSHOTS=1 and look
at the files (tests/snapshots/*.svg) before committing them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tui_fakes import SYMBOLS, FakeRunner, guest_board, sync, table_walk

from vizor.app.app import VizorApp

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("VIZOR_UPDATE_SNAPSHOTS") == "1"


async def _screen(keys: tuple[str, ...], tab: str | None) -> str:
    fake = FakeRunner([guest_board(uart=b"hello from the guest\nok\n")], walk=table_walk)
    app = VizorApp(fake, SYMBOLS, image="fake.elf")
    app.animation_level = "none"                      # no tab underline in mid-flight
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(4):
            await pilot.pause(0.05)
        if tab:
            app.query_one("#tabs").active = tab
        await pilot.press(*keys)
        app.set_focus(None)
        for _ in range(4):
            await pilot.pause(0.05)
        await pilot.wait_for_scheduled_animations()
        return app.export_screenshot(title="vizor")


SCREENS = {
    "main": ((), None),
    "core1": (("2",), None),
    "translation": (("w", *"0x200010", "enter"), None),
    "events": ((), "tab-events"),
    "interrupts": ((), "tab-irq"),
}


@pytest.mark.parametrize("name", sorted(SCREENS))
@sync
async def test_screen_matches_its_snapshot(name):
    keys, tab = SCREENS[name]
    svg = await _screen(keys, tab)
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg)
    assert path.exists(), f"no snapshot {path.name}: run with VIZOR_UPDATE_SNAPSHOTS=1"
    assert svg == path.read_text(), f"{name} differs from {path.name} (VIZOR_UPDATE_SNAPSHOTS=1 to accept)"
