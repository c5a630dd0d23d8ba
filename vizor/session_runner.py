"""Saved sessions in the TUI: recording a live board, and the runner of ``vizor replay``.

Recording: ``start_recording(runner, path)`` puts a ``session.Recorder`` on the
runner's board; from then on every run of the board goes through it
(``Runner._advance``), typed UART bytes and breakpoints are noted with the
exact place in the schedule, and ``stop_recording`` (or quitting) closes the
file.

Replay: ``ReplayRunner`` is the runner over a ``replay.Replay``: every run
goes through ``Replay.run`` (the recorded inputs arrive on their own at their
recorded places), and it adds the replay's commands — seek to an instruction
count, step back, reverse-continue, reverse step in VM (``machine/reverse.py``).
Like runner.py this uses no textual and no rich.
"""

from __future__ import annotations

from .commands import (RecordingState, ReverseContinue, ReverseStepInVM, Seek, StepBack,
                       Notice, TimelineInfo)
from .machine.board import StopReason
from .runner import Runner, _reason_text


def start_recording(runner: Runner, path: str) -> None:
    """Record the runner's board into ``path`` from here (ValueError: why not)."""
    from .machine.session import Recorder
    from .pacing import checkpoint_policy
    if runner.recorder is not None:
        raise ValueError(f"already recording to {runner.recorder_path}")
    if runner.record_refusal:
        raise ValueError(runner.record_refusal)
    if not path.strip():
        raise ValueError("record: name the session file")
    try:
        with open(runner.image, "rb") as f:
            image = f.read()
    except OSError as e:
        raise ValueError(f"record: cannot read the image {runner.image}: {e.strerror}") from None
    try:
        runner.recorder = Recorder(runner.board, path, image, image_name=runner.image.rsplit("/", 1)[-1],
                                   boot_el=runner.boot_el, **checkpoint_policy(runner.record_interval))
    except OSError as e:
        raise ValueError(f"record {path}: {e.strerror}") from None
    runner.recorder_path = path
    runner.publish(RecordingState(path))
    runner.publish(Notice(f"recording to {path} from instruction {runner.board.instructions:,}"))


def stop_recording(runner: Runner) -> None:
    rec = runner.recorder
    if rec is None:
        raise ValueError("not recording")
    rec.close()
    runner.recorder = None
    path = runner.recorder_path
    runner.publish(RecordingState(None))
    left_out = (f" ({rec.left_out} left out: too large for a reader, the SD card's written blocks)"
                if rec.left_out else "")
    runner.publish(Notice(f"session saved to {path}: {runner.board.instructions:,} instructions, "
                          f"{rec.inputs} inputs, {rec.checkpoints} checkpoints{left_out}"))
    if not runner.running:
        runner._publish_snapshot()   # a last input may have been delivered on closing


def timeline_info(session) -> TimelineInfo:
    return TimelineInfo(session.checkpoints[0].instructions, session.end["instructions"],
                        tuple((i["at"][0], i["kind"]) for i in session.inputs),
                        tuple(cp.instructions for cp in session.checkpoints))


class ReplayRunner(Runner):
    """The runner of ``vizor replay FILE``: the recorded run, with reverse steps."""

    def __init__(self, replay, publish, *, image: str = "", **kw) -> None:
        super().__init__(replay.board, publish, image=image, **kw)
        self.replay = replay
        self.record_refusal = "a replay cannot be recorded (it is a recording already)"
        self.editable = False                    # edits would leave the recording (edits.py)
        self.reason = f"replay paused at instruction {replay.board.instructions:,}"
        self._log: list[tuple[str, int]] = []   # every byte the UARTs sent, in order
        self._built = 0                          # bytes of _log in the console buffers
        self._rebuild = False
        self._remembered = self._clock()

    # --- the console follows the replay's position, backwards too ----------------------------

    def _on_uart(self, uart: str, byte: int) -> None:
        n = self.replay.uart.count      # counted (by the Replay's listener) before this one runs
        if n - 1 < len(self._log):      # the replay went back: the same bytes come again
            del self._log[max(n - 1, 0):]
            self._rebuild = True
        self._log.append((uart, byte))

    def snapshot(self):
        n = self.replay.uart.count
        if n < len(self._log):
            del self._log[n:]
            self._rebuild = True
        if self._rebuild:
            self._uart_out.clear()
            self._uart_total.clear()
            self._built = 0
            self._rebuild = False
        for uart, byte in self._log[self._built:]:
            Runner._on_uart(self, uart, byte)
        self._built = len(self._log)
        return super().snapshot()

    # --- runs go through the replay --------------------------------------------------------------

    # Wall seconds of replay between in-memory checkpoints: a step back from
    # wherever the user pauses replays at most this much (plus a restore,
    # ~15 ms); keeping one costs ~13 ms on the demo hypervisor (~6 %).
    REMEMBER_EVERY = 0.2

    def _advance(self, fn, max_insns=None, stop=None) -> StopReason:
        reason = self.replay.run(max_insns=max_insns, stop=stop, run=fn)
        # While the replay plays, keep a checkpoint in memory every REMEMBER_EVERY
        # seconds (the file's are a second of the recording's wall time apart).
        now = self._clock()
        if now - self._remembered >= self.REMEMBER_EVERY:
            self._remembered = now
            self.replay.remember()
        return reason

    def _handle_more(self, cmd) -> bool:
        from .machine import reverse
        replay, dbg = self.replay, self.debugger
        if isinstance(cmd, Seek):
            start, end = replay.session.checkpoints[0].instructions, replay.end
            if not start <= cmd.instructions <= end:
                raise ValueError(f"instruction {cmd.instructions:,} is outside the recording "
                                 f"({start:,}-{end:,})")
            reason = replay.seek(cmd.instructions)
            text = (f"at instruction {replay.board.instructions:,}" if reason.kind == "max_insns"
                    else _reason_text(reason))
        elif isinstance(cmd, StepBack):
            reason = reverse.step_back(replay, cmd.core)
            text = reason.detail
        elif isinstance(cmd, ReverseContinue):
            reason = reverse.reverse_continue(replay, dbg)
            text = ("back at the previous hit: " + _reason_text(reason)) if reason.kind == "breakpoint" \
                else reason.detail
        elif isinstance(cmd, ReverseStepInVM):
            reason = reverse.reverse_step_in_vm(replay, cmd.core)
            text = reason.detail
        else:
            return False
        self.running = False
        self._until = None
        self._stopped(text, reason)
        return True


def replay_tui(args, session, replay) -> int:
    """``vizor replay FILE``: the TUI on the recorded run."""
    from .app import run_app
    from .remote import serve_apart
    name = str(session.header["image"].get("name", "image"))
    runner = ReplayRunner(replay, lambda _obj: None, image=f"{args.file} ({name})")
    return run_app(serve_apart(runner), replay.board.contexts, image=runner.image,
                   timeline=timeline_info(session))
