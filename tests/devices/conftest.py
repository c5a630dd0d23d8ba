"""Shared helpers for the device unit tests.

Until the project's pytest configuration puts the repository on sys.path,
this conftest does it, so ``pytest tests/devices`` works from a checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from vizor.machine.clock import Clock  # noqa: E402
from vizor.machine.devices.base import IrqLine  # noqa: E402


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
