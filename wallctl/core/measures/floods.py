"""EEMUA 191 floods over a sliding window: a flood starts when the window holds more than 10 annunciated alarms and
ends when it holds fewer than 5.

``start`` is the time of the oldest alarm in the window when the flood was detected (the burst that made it), ``end``
the moment the window fell below the end line; ``first_out`` lists the alarms of that first window (the ones an
operator should read first). Memory: the times of the window's alarms only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from wallctl.core.measures.records import rfc3339


@dataclass(slots=True)
class Flood:
    start: float
    end: float | None = None
    peak: int = 0
    alarms: int = 0
    first_out: list[tuple[float, str, str]] = field(default_factory=list)

    def to_json(self, range_end: float) -> dict[str, Any]:
        end = self.end if self.end is not None else range_end
        return {
            "start": rfc3339(self.start),
            "end": rfc3339(end),
            "duration_s": round(end - self.start, 3),
            "peak_per_10min": self.peak,
            "alarms": self.alarms,
            "ongoing": self.end is None,
            "first_out": [{"time": rfc3339(t), "source": s, "type": ty} for t, s, ty in self.first_out],
        }


class FloodFold:
    def __init__(self, window_s: float = 600.0, start_above: int = 10, end_below: int = 5) -> None:
        self.window_s, self.start_above, self.end_below = window_s, start_above, end_below
        self._times: deque[float] = deque()
        self._recent: deque[tuple[float, str, str]] = deque(maxlen=start_above + 1)
        self.current: Flood | None = None
        self.floods: list[Flood] = []
        self.count = 0  # all floods, also those beyond the kept list
        self.time_in_flood = 0.0
        self.max_kept = 1000  # a flood per hour for 40 days; more is said by ``count``

    def advance(self, now: float) -> None:
        """Let the window slide to ``now``: a flood ends at the moment its window falls below the end line."""
        horizon = now - self.window_s
        times = self._times
        while times and times[0] <= horizon:
            left = times.popleft()
            flood = self.current
            if flood is not None and len(times) < self.end_below:
                flood.end = left + self.window_s
                self.time_in_flood += flood.end - flood.start
                self.current = None

    def alarm(self, now: float, source: str, type_: str) -> None:
        self.advance(now)
        self._times.append(now)
        self._recent.append((now, source, type_))
        n = len(self._times)
        flood = self.current
        if flood is not None:
            flood.alarms += 1
            flood.peak = max(flood.peak, n)
        elif n > self.start_above:
            flood = Flood(start=self._times[0], peak=n, alarms=n, first_out=list(self._recent)[-n:])
            self.current = flood
            self.count += 1
            if len(self.floods) < self.max_kept:
                self.floods.append(flood)

    def finish(self, end: float) -> None:
        """Close the books at the range's end: a flood still going counts up to there."""
        self.advance(end)
        if self.current is not None:
            self.time_in_flood += end - self.current.start
