"""Durations (time to acknowledge, to clear, shelved...) with their median and p90 in bounded memory.

Values are kept as a count per rounded value - to the second below an hour, the minute below a day, the hour above -
so a million acknowledgements cost a few thousand counters, and percentiles to the second where they matter.
Percentiles are nearest-rank: the smallest kept value with at least that share of the values at or below it.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any


def _bucket(v: float) -> float:
    if v < 3600.0:
        return float(round(v))
    if v < 86_400.0:
        return round(v / 60.0) * 60.0
    return round(v / 3600.0) * 3600.0


class Durations:
    __slots__ = ("_counts", "count", "max", "total")

    def __init__(self) -> None:
        self._counts: Counter[float] = Counter()
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        v = max(0.0, seconds)
        self._counts[_bucket(v)] += 1
        self.count += 1
        self.total += v
        self.max = max(self.max, v)

    def percentile(self, q: float) -> float | None:
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for value in sorted(self._counts):
            seen += self._counts[value]
            if seen >= rank:
                return value
        return self.max  # not reached: the counts sum to count

    def summary(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median": self.percentile(0.5),
            "p90": self.percentile(0.9),
            "max": round(self.max, 3) if self.count else None,
            "total": round(self.total, 3),
        }
