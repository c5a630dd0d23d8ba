"""``vizor boot [IMAGE]``: the board built from the command line, served from its own
process, and the TUI on it; with ``--gdb`` gdb drives the same board (docs/gdb.md)."""

from __future__ import annotations

import sys

from vizor.app.app import run_app
from vizor.cli.gdb import apart, gdb_runner
from vizor.cli.options import UsageError, build_board
from vizor.driver.recording import start_recording
from vizor.driver.runner import Runner


def set_stop_conditions(dbg, args) -> None:
    """--break, --watch, --catch as for ``vizor run``: set before the TUI opens
    (the Stops tab lists them); a bad one is a UsageError."""
    from vizor.machine.debug.spec import SpecError, add_break, add_catch, add_watch
    for adder, specs in ((add_break, getattr(args, "breaks", [])), (add_watch, getattr(args, "watch", [])),
                         (add_catch, getattr(args, "catch", []))):
        for spec in specs:
            try:
                adder(dbg, spec)
            except SpecError as e:
                raise UsageError(str(e)) from None


def boot_main(args) -> int:
    """``vizor boot [IMAGE] [--boot-el 2|3] [--run] [--break/--watch/--catch SPEC]``; returns
    the exit status."""
    board, path = build_board(args)
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        raise UsageError("boot opens the TUI and needs a terminal (stdout is not one); "
                         "use `vizor run` to run an image headless")
    if getattr(args, "gdb", None):        # --gdb: a server beside the machine thread (cli/gdb.py)
        runner = gdb_runner(Runner, args.gdb, board, lambda _obj: None, image=path)
    else:
        runner = Runner(board, lambda _obj: None, image=path)
    runner.boot_el = args.boot_el
    set_stop_conditions(runner.debugger, args)
    record = getattr(args, "record", None)
    if record:
        try:
            start_recording(runner, record)   # before the machine thread starts: at reset
        except ValueError as e:
            raise UsageError(f"--record: {e}") from None
    symbols = getattr(board, "contexts", None) or board.symbols   # per-VM tables when the board has them
    return run_app(apart(runner), symbols, start_running=getattr(args, "run", False), image=path,
                   record_path=record)
