"""The TUI's saved-session keys: R records (a live board), and in ``vizor replay`` j jumps
to an instruction count, S steps back, B reverse-continues, V reverse-steps in VM.
A mixin of ``VizorApp`` (kept apart to keep app.py short); it turns keys into runner
commands and shows REC / the timeline."""

from __future__ import annotations

import os

from textual.binding import Binding

import vizor.driver.runner as R
from vizor.app.messages import RecordingChanged
from vizor.panes.common import BadInput, parse_number

SESSION_BINDINGS = [
    Binding("R", "record", "Record", show=False),
    Binding("j", "prompt('seek')", "Jump", show=False),
    Binding("S", "step_back", "Back", show=False),
    Binding("B", "reverse_continue", "Rev cont", show=False),
    Binding("V", "reverse_step_vm", "Back in VM", show=False),
]
# `vizor replay`'s footer: j S B V shown (after s Step), in place of live keys that
# would not fit in 120 columns; every key still works, and ? lists them all
REPLAY_FOOTER = [
    Binding("j", "prompt('seek')", "Jump"),
    Binding("S", "step_back", "Back", key_display="S"),
    Binding("B", "reverse_continue", "Rev cont", key_display="B"),
    Binding("V", "reverse_step_vm", "Back in VM", key_display="V"),
    Binding("n", "step_more('over')", "Over", show=False),
    Binding("o", "step_more('out')", "Out", show=False),
    Binding("g", "prompt('goto')", "Go to", show=False),
    Binding("w", "walk", "Walk", show=False),
    Binding("c", "console", "Console", show=False),
]
SESSION_HELP = (
    ("R", "start / stop recording the session (asks for the file; REC in the status line)"),
    ("j", "replay: jump to an instruction count"),
    ("S", "replay: step back one instruction on the selected core"),
    ("B", "replay: reverse-continue to the previous breakpoint hit (space cancels)"),
    ("V", "replay: reverse step in VM (the selected core's previous instruction in its VM)"),
)
REPLAY_ONLY = {"step_back", "reverse_continue", "reverse_step_vm"}


class SessionControls:
    _replace_path = ""     # the existing file the replace prompt asks about
    def check_action(self, action: str, parameters) -> bool | None:
        replaying = self.timeline is not None
        if action in REPLAY_ONLY or (action == "prompt" and parameters == ("seek",)):
            return replaying
        if action == "record":
            return not replaying
        return True

    def on_recording_changed(self, message: RecordingChanged) -> None:
        self.recording = message.state.path
        if self.snapshot is not None:
            self._status(self.snapshot)

    def action_record(self) -> None:
        if self.recording is not None:
            self.runner.send(R.StopRecording())
        else:
            self.action_prompt("record")
            if self.record_path:
                self.query_one("#prompt").value = self.record_path

    def action_step_back(self) -> None:
        self.runner.send(R.StepBack(self.selected))

    def action_reverse_continue(self) -> None:
        self.runner.send(R.ReverseContinue())

    def action_reverse_step_vm(self) -> None:
        snap = self.snapshot
        if snap is not None and snap.cores[self.selected].vmid is None:
            self.say(f"core {self.selected} is not running a VM (reverse step in VM needs EL1/EL0 "
                     f"with stage 2 on)", error=True)
            return
        self.runner.send(R.ReverseStepInVM(self.selected))

    def _session_prompt(self, kind: str, text: str) -> bool:
        """The record and jump prompts; False for other prompts."""
        if kind == "record":
            path = text.strip()
            if not path:
                raise BadInput("record: name the session file")
            if os.path.exists(path):             # ask before replacing it
                self._replace_path = path
                self.action_prompt("replace")
                self.query_one("#prompt").placeholder = (f"{path} exists: y replaces it, anything else "
                                                         f"keeps it  (Esc cancels)")
                return True
            self.runner.send(R.StartRecording(path))
        elif kind == "replace":
            path = self._replace_path
            if text.strip().lower() not in ("y", "yes"):
                raise BadInput(f"{path} kept; not recording")
            self.runner.send(R.StartRecording(path))
        elif kind == "seek":
            n = parse_number(text.replace(",", ""), "instruction count")
            info = self.timeline
            if not info.start <= n <= info.end:
                raise BadInput(f"instruction {n:,} is outside the recording ({info.start:,}-{info.end:,})")
            self.runner.send(R.Seek(n))
        else:
            return False
        return True

    def _session_status(self) -> str:
        rec = f"[b red]● REC[/] {self.recording}  │ " if self.recording else ""
        return rec + ("[b magenta]REPLAY[/]  " if self.timeline is not None else "")
