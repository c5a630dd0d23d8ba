"""The command line: argument parsing and the ``run``, ``boot``, ``replay`` and ``mksd``
commands, their one-line errors and exit statuses.  The top of the house: it may use
the app, the driver and the machine."""

from vizor.cli.main import main

__all__ = ["main"]
