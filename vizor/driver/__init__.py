"""What owns a running board, with no screen: the runner thread and its command queue,
the machine in its own process, recording and replay runners, checkpoint pacing,
register and memory edits, and the livelock guard."""

from vizor.driver.remote import RemoteRunner, serve_apart
from vizor.driver.replay import ReplayRunner
from vizor.driver.runner import Runner

__all__ = ["Runner", "RemoteRunner", "ReplayRunner", "serve_apart"]
