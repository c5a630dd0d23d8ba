"""Reading the machine for people: frozen snapshots of a board, symbol tables, and the
plain-text reports of ``vizor run --walk/--state``.  What the panes may import."""

from vizor.machine.inspect.snapshot import (
    BoardState,
    CodeState,
    CoreState,
    WalkState,
    board_state,
)
from vizor.machine.inspect.symbols import Symbols

__all__ = ["BoardState", "CoreState", "CodeState", "WalkState", "board_state", "Symbols"]
