"""The runner of ``vizor replay``: every run goes through ``replay.Replay.run`` (the
recorded inputs arrive on their own at their recorded places), and it adds the
replay's commands: seek to an instruction count, step back, reverse-continue,
reverse step in VM (``machine/session/reverse.py``).  No textual, no rich.
"""

from __future__ import annotations

import vizor.machine.session.reverse as reverse
from vizor.driver.commands import (
    Notice,
    ReverseContinue,
    ReverseStepInVM,
    Seek,
    StepBack,
    TimelineInfo,
    reason_text,
)
from vizor.driver.runner import Runner
from vizor.machine.board.board import StopReason


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

    def _reverse_continue(self):
        """A reverse-continue the user can watch and cancel: the board shows as running
        (so space sends Pause), each checkpoint interval searched is announced."""
        self._pause.clear()
        self.running = True
        self._publish_snapshot()
        total = self.replay.checkpoint_before(self.board.instructions) + 1

        def progress(k: int) -> None:
            self.publish(Notice(f"reverse-continue: searching from checkpoint {k + 1} of {total} "
                                f"(instruction {self.replay.session.checkpoints[k].instructions:,}); "
                                f"space cancels"))
        try:
            return reverse.reverse_continue(self.replay, self.debugger, progress=progress,
                                            stop=lambda: reverse.CANCELLED if self._pause.is_set() else None)
        finally:
            self._pause.clear()

    def _handle_more(self, cmd) -> bool:
        replay, dbg = self.replay, self.debugger
        if isinstance(cmd, Seek):
            start, end = replay.session.checkpoints[0].instructions, replay.end
            if not start <= cmd.instructions <= end:
                raise ValueError(f"instruction {cmd.instructions:,} is outside the recording "
                                 f"({start:,}-{end:,})")
            reason = replay.seek(cmd.instructions)
            text = (f"at instruction {replay.board.instructions:,}" if reason.kind == "max_insns"
                    else reason_text(reason))
        elif isinstance(cmd, StepBack):
            reason = reverse.step_back(replay, cmd.core)
            text = reason.detail
        elif isinstance(cmd, ReverseContinue):
            if not dbg.breakpoints:     # said at once, not after replaying the whole recording
                raise ValueError("reverse-continue goes back to the previous breakpoint hit: "
                                 "set a breakpoint first (t, b)")
            reason = self._reverse_continue()
            text = ("back at the previous hit: " + reason_text(reason)) if reason.kind == "breakpoint" \
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
