"""SVG snapshots of the main screens on fixed data (no emulation, no cursor, fixed size).

Regenerate after an intended change of the UI with VIZOR_UPDATE_SNAPSHOTS=1 and look
at the files (tests/snapshots/*.svg) before committing them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tui_fakes import (
    SYMBOLS,
    FakeRunner,
    guest_board,
    secure_board,
    secure_walk,
    sync,
    table_walk,
)

from vizor.app.app import VizorApp

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("VIZOR_UPDATE_SNAPSHOTS") == "1"


SIZES = {"": (120, 36), "-160x48": (160, 48)}     # file suffix -> terminal size
LONG_LINE = b"a line longer than the console is wide, which wraps rather than being cut: " + b"=" * 40 + b"\n"


def _state(name: str):
    if name.startswith("secure"):
        return secure_board(uart=b"monitor: secure payload, then the kernel\n")
    if name == "halted":
        from dataclasses import replace
        st = guest_board(uart=b"hello from the guest\n" + LONG_LINE, reason="halted: core 3 halted (stuck: "
                         "core 3 keeps taking the same exception (EL1, PC 0x300, ESR 0x02000000))")
        halted = replace(st.cores[3], state="halted", fault="stuck: core 3 keeps taking the same exception")
        return replace(st, cores=st.cores[:3] + (halted,))
    return guest_board(uart=b"hello from the guest\nok\n" + LONG_LINE)


async def _screen(name: str, keys: tuple[str, ...], tab: str | None, size) -> str:
    fake = FakeRunner([_state(name)], walk=secure_walk if name.startswith("secure") else table_walk)
    app = VizorApp(fake, SYMBOLS, image="fake.elf")
    app.animation_level = "none"                      # no tab underline in mid-flight
    async with app.run_test(size=size) as pilot:
        for _ in range(4):
            await pilot.pause(0.05)
        if tab:
            app.query_one("#tabs").active = tab
        await pilot.press(*keys)
        if not keys or keys[0] != "question_mark":
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
    "help": (("question_mark",), None),
    "halted": ((), None),
    "secure": ((), None),                                  # S-EL1, EL3, NS-EL1, EL2 (NS)
    "secure-sysregs": (("2",), "tab-sysregs"),             # SCR_EL3 by field, the monitor's world
    "secure-walk": (("w", *"0x10000", "enter"), None),     # EL3 walk: NSTable, Secure lookups
}


@pytest.mark.parametrize("suffix", sorted(SIZES))
@pytest.mark.parametrize("name", sorted(SCREENS))
@sync
async def test_screen_matches_its_snapshot(name, suffix):
    keys, tab = SCREENS[name]
    svg = await _screen(name, keys, tab, SIZES[suffix])
    name += suffix
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg)
    assert path.exists(), f"no snapshot {path.name}: run with VIZOR_UPDATE_SNAPSHOTS=1"
    assert svg == path.read_text(), f"{name} differs from {path.name} (VIZOR_UPDATE_SNAPSHOTS=1 to accept)"
