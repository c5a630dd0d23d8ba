"""What every device model shares: interrupt lines and the access contract.

A device is a plain class named after the manual's block.  It knows nothing of
the bus or of Unicorn:

* ``read(offset, size) -> int`` and ``write(offset, size, value)`` with the
  offset relative to the device's base and ``size`` in bytes (4 for almost
  every BCM2837 register);
* ``reset()`` returns it to power-on state;
* ``state()`` returns a frozen dataclass holding everything needed to
  recreate it, ``restore(state)`` puts it back (session checkpoints);
* interrupt outputs are ``IrqLine`` objects handed in by the board, and the
  device recomputes their *levels* at the end of every access;
* an offset the model does not implement raises ``UnmodelledAccess``: the
  bus records it (address, size, core, EL, PC) and reads as 0 / ignores the
  write, so a kernel touching an unmodelled register is visible, not silent.

Time comes from an injected ``Clock`` (``vizor.machine.clock``), never from the
host.
"""

from __future__ import annotations

from typing import Callable


class UnmodelledAccess(Exception):
    """Raised by a device for a register offset it does not model.  A read
    raising it returns ``reads_as`` (0 unless the device gives a reset value)
    once the bus has recorded the access."""

    def __init__(self, *args: object, reads_as: int = 0) -> None:
        super().__init__(*args)
        self.reads_as = reads_as


class IrqLine:
    """A level-sensitive interrupt line.

    The device drives it with ``set(level)``; whoever listens (an interrupt
    controller input, a core's IRQ pin) is called only when the level changes.
    """

    __slots__ = ("name", "level", "_listeners")

    def __init__(self, name: str = "", on_change: Callable[[bool], None] | None = None) -> None:
        self.name = name
        self.level = False
        self._listeners: list[Callable[[bool], None]] = []
        if on_change is not None:
            self._listeners.append(on_change)

    def connect(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)
        if self.level:
            listener(True)

    def set(self, level: bool) -> None:
        level = bool(level)
        if level != self.level:
            self.level = level
            for listener in self._listeners:
                listener(level)

    def __repr__(self) -> str:
        return f"IrqLine({self.name!r}, {'high' if self.level else 'low'})"
