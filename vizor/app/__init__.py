"""The Textual application of ``vizor boot`` and ``vizor replay``: the screen, its keys,
dialogs and messages.  It talks to the board only through the driver (commands in,
snapshots out) and renders with the panes."""

from vizor.app.app import VizorApp, run_app

__all__ = ["VizorApp", "run_app"]
