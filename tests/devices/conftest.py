"""Shared helpers for the device unit tests."""

from __future__ import annotations

import pytest

from vizor.machine.clock import Clock
from vizor.machine.devices.base import IrqLine


class Probe(IrqLine):
    """An IrqLine that remembers every level change it saw."""

    def __init__(self, name: str = "probe") -> None:
        super().__init__(name)
        self.changes: list[bool] = []
        self.connect(self.changes.append)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def probe_factory():
    return Probe
