"""``vizor run --record FILE`` and ``vizor replay FILE [--verify]`` (see main.py).

``vizor replay FILE`` opens the TUI on the recorded run (``replay_tui``, over driver/replay.py);
with ``--headless`` or without a terminal it prints the UART output instead.
A bad or hostile session file is one line on stderr and exit status 2, with
nothing run; ``--verify`` exits 0 when the replay is identical and 1 with the
first divergence named.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_GUEST, EXIT_USAGE = 0, 1, 2


def start_recording(board, args, path: str):
    """A Recorder on a freshly loaded board for ``--record`` (None without it)."""
    from vizor.machine.session.recorder import Recorder
    if not getattr(args, "record", None):
        return None
    try:
        from vizor.machine.session.boot import image_file
        image = image_file(board, path)    # a card's kernel has no file of its own
        from vizor.driver.pacing import checkpoint_policy
        return Recorder(board, args.record, image, image_name=path.rsplit("/", 1)[-1], boot_el=args.boot_el,
                        **checkpoint_policy(None))
    except OSError as e:
        raise ValueError(f"--record {args.record}: {e.strerror}") from None
    except ValueError as e:   # an SD card image a session cannot embed
        raise ValueError(f"--record {args.record}: {e}") from None


def replay_main(args) -> int:
    from vizor.cli.summary import Notices, summary
    from vizor.machine.session.format import SessionError
    from vizor.machine.session.reader import load_session
    from vizor.machine.session.replay import Replay
    try:
        session = load_session(args.file)
        replay = Replay(session)
    except SessionError as e:
        print(_named(args.file, e), file=sys.stderr)
        return EXIT_USAGE
    if session.model_notice():
        print(f"vizor: {args.file}: {session.model_notice()}", file=sys.stderr)
    from vizor.machine.board.loader import ImageError
    for spec in getattr(args, "symbols", []):     # beside the tables the recording carries
        try:
            replay.board.contexts.attach_file(spec)
        except (ImageError, ValueError) as e:
            print(f"vizor: --symbols {spec!r}: {e}" if "--symbols" not in str(e) else f"vizor: {e}",
                  file=sys.stderr)
            return EXIT_USAGE
    if getattr(args, "no_skip_idle", False):
        for core in replay.board.cores:
            core.skip_idle = False
    if getattr(args, "gdb", None) and not args.verify:
        from vizor.cli.gdb import replay_gdb
        return replay_gdb(args, session, replay)
    if args.verify:
        from vizor.cli.interrupt import NAMES, StopOnSignal
        from vizor.machine.session.replay import VerifyCancelled
        try:
            with StopOnSignal(replay.board) as signals:
                bad = replay.verify(cancelled=lambda: signals.received is not None)
        except SessionError as e:
            print(_named(args.file, e), file=sys.stderr)
            return EXIT_USAGE
        except VerifyCancelled:
            print(f"vizor: {args.file}: verify interrupted by {NAMES[signals.received]}: nothing decided",
                  file=sys.stderr)
            return 128 + signals.received
        if bad is not None:
            print(f"vizor: {args.file}: {bad}", file=sys.stderr)
            return EXIT_GUEST
        if not args.quiet:
            print(f"vizor: {args.file}: identical: {len(session.checkpoints)} checkpoints "
                  f"({replay.restored} restored and replayed to the next), {len(session.inputs)} inputs, "
                  f"{session.end['instructions']} instructions, {session.end['uart'].get('bytes')} UART bytes",
                  file=sys.stderr)
        return EXIT_OK
    if not getattr(args, "headless", False) and sys.stdout.isatty() and sys.stdin.isatty():
        return replay_tui(args, session, replay)
    out = sys.stdout
    last = [None]    # the last character the guest printed

    def on_uart(_uart: str, byte: int) -> None:
        last[0] = chr(byte)
        out.write(last[0])
    replay.board.uart_listeners.append(on_uart)
    from vizor.cli.interrupt import StopOnSignal
    try:
        with StopOnSignal(replay.board) as signals:
            reason = replay.run(stop=signals.wrap(None))
    except SessionError as e:
        print(_named(args.file, e), file=sys.stderr)
        return EXIT_USAGE
    out.flush()
    if not args.quiet:
        Notices(last[0] not in (None, "\n")).print(summary(replay.board, reason))
    if signals.received is not None:
        return 128 + signals.received       # as vizor run does
    return EXIT_GUEST if reason.kind == "halted" else EXIT_OK


def replay_tui(args, session, replay) -> int:
    """``vizor replay FILE``: the TUI on the recorded run."""
    from vizor.app.app import run_app
    from vizor.driver.remote import serve_apart
    from vizor.driver.replay import ReplayRunner, timeline_info
    name = str(session.header["image"].get("name", "image"))
    runner = ReplayRunner(replay, lambda _obj: None, image=f"{args.file} ({name})")
    return run_app(serve_apart(runner), replay.board.contexts, image=runner.image,
                   timeline=timeline_info(session))


def _named(path: str, error: Exception) -> str:
    """One line naming the file once."""
    text = str(error)
    return f"vizor: {text}" if text.startswith(f"{path}:") else f"vizor: {path}: {text}"
