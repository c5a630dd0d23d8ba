"""Regenerate the SVG screenshots of the TUI's main screens from the demo hypervisor.

    python screenshots/make.py [NAME ...]

Each screen boots images/hyp/hyp.elf on a fresh board, drives the app with the
keys a user would press (120x36 terminal, cursor blink and animations off) and
stops the board at a fixed instruction count or at a breakpoint, so the
pictures are the same on every run.  They are documentation, not test oracles
(tests/test_tui_snapshots.py checks the screens on fixed data).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import vizor.driver.runner as R  # noqa: E402
from vizor.app.app import VizorApp  # noqa: E402
from vizor.machine.board.board import Board  # noqa: E402
from vizor.machine.board.loader import load_image  # noqa: E402

IMAGE = os.path.join(ROOT, "images", "hyp", "hyp.elf")
STEADY = 1_500_000        # every VM has booted and printed; both mini OS instances run


async def wait_for(pilot, cond, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise RuntimeError("the screen did not get there")
        await pilot.pause(0.05)


def paused(app) -> bool:
    return app.snapshot is not None and not app.snapshot.running


async def run_to(pilot, app, insns: int) -> None:
    app.runner.send(R.Run(max_insns=insns - app.snapshot.instructions))
    await wait_for(pilot, lambda: paused(app) and app.snapshot.instructions == insns)


async def select_vm_core(pilot, app, vmid: int) -> None:
    core = next((c.index for c in app.snapshot.cores if c.vmid == vmid), 0)
    await pilot.press(str(core + 1))


async def main_screen(pilot, app):
    await run_to(pilot, app, STEADY)
    await select_vm_core(pilot, app, 2)


async def breakpoint_hit(pilot, app):
    await pilot.press("t", *"schedule @vmid=3", "enter")     # set at reset: VMID 3 has not run yet
    await wait_for(pilot, lambda: app.snapshot.breakpoints)
    await pilot.press("space")
    await wait_for(pilot, lambda: paused(app) and "breakpoint" in app.snapshot.reason)
    await pilot.press(str(app.runner.board.cores.index(
        next(c for c in app.runner.board.cores if c.vmid() == 3)) + 1))
    await pilot.press("k")


async def breakpoint_dialog(pilot, app):
    await pilot.press("b", *"schedule")
    for fid, text in (("vmid", "3"), ("el", "1"), ("cond", "x0 != 0"), ("ignore", "2")):
        app.screen.query_one(f"#f-{fid}").value = text


async def translation(pilot, app):
    await run_to(pilot, app, STEADY)
    await select_vm_core(pilot, app, 3)
    await pilot.press("w", *"schedule el10", "enter")
    await wait_for(pilot, lambda: app.query_one("#walk").walk is not None)


async def interrupts(pilot, app):
    await run_to(pilot, app, STEADY)
    app.query_one("#tabs").active = "tab-irq"


async def events(pilot, app):
    await run_to(pilot, app, STEADY)
    app.query_one("#tabs").active = "tab-events"


async def help_screen(pilot, app):
    await pilot.press("question_mark")


SCREENS = {"main": main_screen, "breakpoint-hit": breakpoint_hit, "breakpoint-dialog": breakpoint_dialog,
           "translation": translation, "interrupts": interrupts, "events": events, "help": help_screen}


async def shoot(name: str) -> str:
    board = Board()
    board.load(load_image(IMAGE))
    runner = R.Runner(board, lambda _o: None, image="hyp.elf")
    app = VizorApp(runner, board.contexts, image="hyp.elf")
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await SCREENS[name](pilot, app)
        for _ in range(6):
            await pilot.pause(0.05)
        await pilot.wait_for_scheduled_animations()
        svg = app.export_screenshot(title=f"vizor boot — {name}")
        await pilot.press("escape")
        app.exit()
    return svg


def main(names: list[str]) -> int:
    for name in names or list(SCREENS):
        if name not in SCREENS:
            print(f"make.py: no screen {name!r} ({', '.join(SCREENS)})", file=sys.stderr)
            return 2
        path = os.path.join(HERE, f"{name}.svg")
        with open(path, "w", encoding="utf-8") as f:
            f.write(asyncio.run(shoot(name)))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
