"""Command line: argument parsing, and ``vizor run`` (headless); ``boot``, ``replay`` and
``mksd`` are dispatched to their modules.

Bad input is one line on stderr and exit status 2, never a traceback.
Exit status 1 means the guest did not get where it was asked to (it halted,
stuck in an exception loop, or went idle before ``--until-uart`` matched).
"""

from __future__ import annotations

import argparse
import codecs
import re
import sys

from vizor.cli.options import UsageError, build_board

EXIT_OK, EXIT_GUEST, EXIT_USAGE = 0, 1, 2
UART_DEVICES = {"pl011": "pl011", "mini": "mini_uart"}


def _int(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _boot_el(text: str) -> int:
    value = _int(text)
    if value not in (2, 3):
        raise argparse.ArgumentTypeError(f"{text!r} is neither 2 nor 3")
    return value


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one line and exit status 2 (``vizor run: --max-insns: 'abc'
    is not a number``), not the usage text: --help has it."""

    def error(self, message: str):
        message = re.sub(r"^argument ([^:]+): ", r"\1: ", message)
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from importlib import metadata
    try:
        return metadata.version("vizor")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="vizor", description="A debugger and inspector for hypervisors and bare-metal kernels "
                                          "on an emulated Raspberry Pi 3 Model B.")
    p.add_argument("--version", action="version", version=f"vizor {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run an image headless, streaming its UART output"),
                       ("boot", "boot an image (the bundled one when none is named)")):
        s = sub.add_parser(name, help=text, description=text)
        s.add_argument("image", nargs="?",
                       help="kernel ELF or raw kernel8.img (none: the card's, with --sd, as the firmware "
                            "boots it; else, for boot, the bundled demo)")
        s.add_argument("--boot-el", type=_boot_el, default=2, metavar="{2,3}",
                       help="2: firmware boot (core 0 at EL2, cores 1-3 in the spin table); "
                            "3: kernel_old=1 (raw image at 0, all cores at EL3)")
        s.add_argument("--record", metavar="FILE", help="save the session (image, inputs, checkpoints) "
                                                        "for vizor replay")
        if name == "run":   # headless only: boot has the TUI's keys for these
            s.add_argument("--max-insns", type=_int, default=None, metavar="N",
                           help="stop after N instructions (all cores together)")
            s.add_argument("--until-uart", metavar="TEXT", help="stop once the UART output contains TEXT")
            s.add_argument("--input", metavar="TEXT", help="bytes typed into the UART (\\n, \\r, \\x.. escapes)")
            s.add_argument("--uart", choices=("pl011", "mini"), default="pl011",
                           help="which UART --input feeds (default pl011)")
            s.add_argument("--quiet", action="store_true", help="no summary at the end")
            s.add_argument("--walk", action="append", metavar="VA", default=[],
                           help="after the run, print every step of the translation of VA "
                                "(hex, decimal, SYMBOL or SYMBOL+OFF); may be repeated")
            s.add_argument("--core", default="0", metavar="C", help="core whose tables --walk uses (default 0)")
            s.add_argument("--regime", default="auto", metavar="R",
                           help="--walk regime: auto (the core's EL and world), el10 (Non-secure EL1&0: "
                                "stage 1 + stage 2), sel10 (Secure EL1&0), el2, el3, s2 (IPA through stage 2)")
            s.add_argument("--state", action="store_true", help="after the run, print each core's decoded state")
        s.add_argument("--symbols", action="append", default=[], metavar="FILE[@vmid=N|@el2]",
                       help="load an ELF's or a System.map's symbols for one VM or for the hypervisor (repeatable)")
        s.add_argument("--sd", metavar="FILE", help="raw SD card image in the EMMC slot (vizor mksd makes one); "
                                                    "writes stay in memory unless --sd-writable")
        s.add_argument("--sd-writable", action="store_true", help="let the guest's writes reach the --sd file")
        s.add_argument("--dtb", metavar="FILE", help="device tree, patched and placed as the Pi firmware does "
                                                     "(x0 = its address)")
        s.add_argument("--initrd", metavar="FILE", help="initramfs, placed after the kernel")
        s.add_argument("--append", metavar="ARGS", help="kernel command line (/chosen/bootargs; needs --dtb)")
        s.add_argument("--armstub", metavar="FILE", help="raw stub run at 0 on every core at EL3 before the kernel, "
                                                         "as config.txt's armstub= (images/armstub/armstub8.bin)")
        s.add_argument("--no-skip-idle", action="store_true",
                       help="execute every instruction of cores spinning in `b .`, waiting or polling the timer or an idle UART "
                            "(by default they are advanced in one step, with the same result)")
        s.add_argument("--rng-seed", type=_int, default=None, metavar="N",
                       help="seed of the hardware RNG's deterministic generator")
        if name == "run":
            s.add_argument("--screenshot", metavar="FILE.png",
                           help="after the run, write what the framebuffer shows as a PNG")
        s.add_argument("--break", dest="breaks", action="append", default=[],
                       metavar="LOC[@vmid=N][@el=E][@core=C][@secure|@ns][@if=COND][@ignore=N]",
                       help="stop before the instruction at LOC (address or SYMBOL[+OFF]) "
                            "when the filters match (repeatable)")
        s.add_argument("--watch", action="append", default=[],
                       metavar="[pa:|va:]ADDR[+LEN][@r|@w|@rw][@vmid=N][@el=E][@core=C][@secure|@ns]",
                       help="stop after an access to ADDR..ADDR+LEN (default: a PA, 8 bytes, writes)")
        s.add_argument("--catch", action="append", default=[],
                       metavar="exception[:EC]|smc|world|vm-exit|vm-entry|sysreg:REG|mmio"
                               "[@vmid=N][@el=E][@core=C][@secure|@ns]",
                       help="stop on an event (repeatable)")
        if name == "boot":
            s.add_argument("--run", action="store_true", help="start running at once (default: paused at reset)")
        s.add_argument("--gdb", nargs="?", const="127.0.0.1:1234", metavar="[HOST:]PORT",
                       help="serve gdb (default 127.0.0.1:1234), paused at reset; see docs/gdb.md"
                       if name == "run" else "serve gdb too (default 127.0.0.1:1234): gdb and the TUI "
                                             "drive the same board; see docs/gdb.md")
    s = sub.add_parser("replay", help="replay a session saved with --record",
                       description="replay a session saved with --record in the TUI (headless with "
                                   "--headless, --verify or without a terminal)")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--verify", action="store_true",
                   help="check that the replay reproduces the recording (exit 0) or name the first "
                        "divergence (exit 1)")
    s.add_argument("--headless", action="store_true",
                   help="no TUI: print the UART output of the replayed run, like vizor run")
    s.add_argument("--quiet", action="store_true", help="no summary at the end")
    s.add_argument("--no-skip-idle", action="store_true",
                   help="execute every instruction of spinning or polling cores (same result, slower)")
    s.add_argument("--gdb", nargs="?", const="127.0.0.1:1234", metavar="[HOST:]PORT",
                   help="serve the replay to gdb, reverse execution included (default 127.0.0.1:1234)")
    s.add_argument("--symbols", action="append", default=[], metavar="FILE[@vmid=N|@el2]",
                   help="attach an ELF's or a System.map's symbols besides those the recording carries (repeatable)")
    s = sub.add_parser("mksd", help="make a raw SD card image: MBR + one FAT32 partition with FILEs",
                       description="make a raw SD card image: MBR + one FAT32 partition holding FILEs "
                                   "(directories with their trees) at its root, long names kept")
    s.add_argument("out", metavar="OUT.img")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--force", action="store_true", help="replace OUT.img if it exists")
    return p


def _mksd(args) -> int:
    from vizor.cli.mksd import MksdError, make_sd_image
    try:
        size = make_sd_image(args.out, args.files, force=args.force)
    except MksdError as e:
        raise UsageError(str(e)) from None
    print(f"{args.out}: {size >> 20} MiB, FAT32 partition at sector 2048, {len(args.files)} item(s)")
    return EXIT_OK


def _screenshot_path(path: str | None) -> str | None:
    import os
    if path is None:
        return None
    if not path.lower().endswith(".png"):
        raise UsageError(f"--screenshot {path!r}: the file name must end in .png")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK) or os.path.isdir(path) \
            or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"--screenshot {path!r}: cannot write there")
    return path


def _write_screenshot(board, path: str, notices) -> bool:
    from vizor.cli.screenshot import board_picture, png_bytes
    picture = board_picture(board)
    if picture is None:
        notices.print("vizor: no screenshot: the guest allocated no framebuffer")
        return False
    try:
        with open(path, "wb") as f:
            f.write(png_bytes(*picture))
    except OSError as e:
        raise UsageError(f"--screenshot {path!r}: {e.strerror or e}") from None
    return True


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "replay":
            from vizor.cli.session import replay_main
            return replay_main(args)
        if args.command == "mksd":
            return _mksd(args)
        if args.command == "boot":
            from vizor.cli.boot import boot_main
            return boot_main(args)
        if getattr(args, "gdb", None):
            from vizor.cli.gdb import run_gdb
            return run_gdb(args)
        return _run(args)
    except UsageError as e:
        print(f"vizor: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("vizor: interrupted", file=sys.stderr)
        return EXIT_GUEST


def _debugger(board, args):
    """The Debugger with the --break/--watch/--catch conditions, or None."""
    specs = getattr(args, "breaks", []), getattr(args, "watch", []), getattr(args, "catch", [])
    if not any(specs):
        return None
    from vizor.machine.debug.engine import Debugger
    from vizor.machine.debug.spec import SpecError, add_break, add_catch, add_watch
    dbg = Debugger(board)
    for adder, items in zip((add_break, add_watch, add_catch), specs):
        for spec in items:
            try:
                adder(dbg, spec)
            except SpecError as e:
                raise UsageError(str(e)) from None
    return dbg


def stop_report(board, reason) -> str:
    """Where a stop condition stopped the run: core, VMID, EL, PC with symbol, why, state."""
    from vizor.machine.inspect.text import core_state_lines
    core = board.cores[reason.core]
    el, vmid = core.el, core.vmid()
    from vizor.machine.arch.security import world_label
    ctx = f"VMID {vmid}" if vmid is not None else ("hypervisor" if el == 2 else world_label(el, core.scr))
    return (f"stopped: {reason.detail}\n"
            f"  core {core.index}, EL{el}, {ctx}, PC {board.contexts.format(core, core.pc)}\n"
            f"{core_state_lines(board, core)}")


def _run(args) -> int:
    from vizor.cli.summary import Notices, summary
    from vizor.machine.inspect.text import (
        REGIMES,
        InspectError,
        parse_address,
        parse_core,
        state_report,
        walk_report,
    )

    board, path = build_board(args)
    shot = _screenshot_path(args.screenshot)
    dbg = _debugger(board, args)
    from vizor.cli.session import start_recording
    try:
        rec = start_recording(board, args, path)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.regime not in REGIMES:
        raise UsageError(f"--regime {args.regime!r}: choose one of {', '.join(REGIMES)}")
    try:
        walk_core = parse_core(args.core, len(board.cores))
        walks = [parse_address(v, board.contexts) for v in args.walk]
    except InspectError as e:
        raise UsageError(str(e)) from None
    text: list[str] = []
    out = sys.stdout

    last = args.until_uart[-1] if args.until_uart else None

    def on_uart(_uart: str, byte: int) -> None:
        ch = chr(byte)
        text.append(ch)
        out.write(ch)
        if ch == last and args.until_uart in "".join(text[-len(args.until_uart):]):
            board.request_stop()  # stop at this very store, not at the end of the slice

    board.uart_listeners.append(on_uart)

    def on_halt(core) -> None:          # a stuck core halted while the others run on
        lead = "\n" if text and text[-1] != "\n" else ""
        print(f"{lead}vizor: core {core.index} halted ({core.fault}); the other cores run on",
              file=sys.stderr, flush=True)

    board.halt_listeners.append(on_halt)
    if args.input:
        try:
            data = codecs.decode(args.input, "unicode_escape").encode("latin-1")
        except UnicodeEncodeError:
            raise UsageError(f"--input {args.input!r}: only bytes 0-255 (\\x00-\\xff) can be typed") from None
        except (UnicodeError, ValueError):
            raise UsageError(f"--input {args.input!r}: a bad escape (use \\n, \\r, \\t, \\\\ or \\xHH)") from None
        if rec is not None:
            rec.note_uart(args.uart, data)  # at instruction 0: the time a replay gives it too
        else:
            board.devices[UART_DEVICES[args.uart]].receive(data)
    stop = None
    if args.until_uart:
        target = args.until_uart
        window = max(len(target) * 2, 256)

        def stop() -> str | None:
            tail = "".join(text[-window:])
            return f"UART printed {target!r}" if target in tail else None
    from vizor.cli.interrupt import StopOnSignal
    from vizor.driver.livelock import LivelockGuard
    with LivelockGuard(board), StopOnSignal(board) as signals:   # livelock: a breakpoint under a pending vIRQ
        stop = signals.wrap(stop)
        if rec is not None:
            try:
                reason = rec.run(max_insns=args.max_insns, stop=stop, run=dbg.run if dbg else None)
            finally:
                rec.close()
        else:
            reason = (dbg.run(max_insns=args.max_insns, stop=stop) if dbg
                      else board.run(max_insns=args.max_insns, stop=stop))
    stopped = reason.core is not None and reason.kind not in ("max_insns", "halted", "idle")
    line_open = bool(text) and text[-1] != "\n"
    if walks or args.state or stopped:
        if line_open:
            out.write("\n")
            line_open = False
        if stopped:
            out.write(f"\n{stop_report(board, reason)}\n")
        for va in walks:
            out.write(f"\n{walk_report(board.cores[walk_core], va, args.regime)}\n")
        if args.state:
            out.write(f"\n{state_report(board)}\n")
    out.flush()
    notices = Notices(line_open)
    if reason.kind == "poweroff":
        notices.print("vizor: the guest powered the board off")
    if shot and not _write_screenshot(board, shot, notices):
        return EXIT_GUEST
    if not args.quiet:
        notices.print(summary(board, reason))
    if signals.received is not None:
        return 128 + signals.received       # as a shell reports a process a signal ended
    if reason.kind == "halted":
        return EXIT_GUEST
    if args.until_uart and reason.kind != "stop":
        return EXIT_GUEST
    return EXIT_OK

