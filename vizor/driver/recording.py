"""Recording a live board from the runner (``vizor boot --record``, ``R`` in the TUI).

``start_recording(runner, path)`` puts a ``session.Recorder`` on the
runner's board; from then on every run of the board goes through it
(``Runner._advance``), typed UART bytes and breakpoints are noted with the
exact place in the schedule, and ``stop_recording`` (or quitting) closes the
file.

Like runner.py this uses no textual and no rich.
"""

from __future__ import annotations

from vizor.driver.commands import Notice, RecordingState
from vizor.driver.pacing import checkpoint_policy
from vizor.machine.session.recorder import Recorder


def start_recording(runner, path: str) -> None:
    """Record the board of ``runner`` (a ``runner.Runner``) into ``path`` from here
    (ValueError: why not)."""
    if runner.recorder is not None:
        raise ValueError(f"already recording to {runner.recorder_path}")
    if runner.record_refusal:
        raise ValueError(runner.record_refusal)
    if not path.strip():
        raise ValueError("record: name the session file")
    from vizor.machine.session.boot import image_file
    try:
        image = image_file(runner.board, runner.image)   # a card's kernel has no file of its own
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


def stop_recording(runner) -> None:
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
