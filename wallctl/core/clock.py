"""Time as a dependency: the engine, rules and annunciator ask a ``Clock`` instead of ``time.time()``.

Tests use :class:`ManualClock` to step through a 30 s re-sound or a 24 h stale timer without sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time, as published in state and journal)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        self._now = when
