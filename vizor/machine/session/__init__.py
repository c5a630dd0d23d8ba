"""Saved sessions: the file format, recording a board, checkpoints, exact replay and
reverse execution."""

from vizor.machine.session.format import SessionError
from vizor.machine.session.reader import Session, load_session, read_image_bytes
from vizor.machine.session.recorder import Recorder
from vizor.machine.session.replay import Divergence, Replay

__all__ = ["Recorder", "Session", "SessionError", "load_session", "read_image_bytes", "Replay", "Divergence"]
