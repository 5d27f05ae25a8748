"""The alarm-health tile's figures, kept as the wall annunciates: the operator's load now against EEMUA 191's lines,
and the alarms that make the noise today. The same words and lines as ``wallctl report`` (``rate_level``), live.

Bounded whatever the load: annunciations are counted per minute (1,440 buckets for a day) and the bad actors over
the last 24 h from at most ``MAX_ENTRIES`` remembered annunciations (a flood beyond that forgets its oldest first).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from wallctl.core.alarms.event import AlarmKey
from wallctl.core.measures.figures import Targets, rate_level

DAY_S = 86_400.0
MAX_ENTRIES = 200_000


@dataclass(frozen=True, slots=True)
class HealthFigures:
    last_10min: int  # annunciated in the last 10 minutes
    mean_10min_hour: float  # per 10 minutes over the last hour
    total_24h: int
    top: tuple[tuple[str, str, int], ...]  # (source, type, annunciations in 24 h), the most frequent first
    level: str  # EEMUA 191's word for the last 10 minutes: acceptable, manageable, over-demanding, flood

    @classmethod
    def empty(cls) -> HealthFigures:
        return cls(0, 0.0, 0, (), "acceptable")


class LiveHealth:
    def __init__(self, targets: Targets | None = None, top: int = 5) -> None:
        self.targets = targets or Targets()
        self.top_n = top
        self._minutes: Counter[int] = Counter()
        self._recent: deque[tuple[float, AlarmKey]] = deque()
        self._counts: Counter[AlarmKey] = Counter()

    def note(self, when: float, key: AlarmKey) -> None:
        """An annunciated occurrence (a raise or a re-alarm that sounded)."""
        self._minutes[int(when // 60)] += 1
        self._recent.append((when, key))
        self._counts[key] += 1
        if len(self._recent) > MAX_ENTRIES:
            self._forget_one()

    def _forget_one(self) -> None:
        _, key = self._recent.popleft()
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]

    def figures(self, now: float) -> HealthFigures:
        while self._recent and self._recent[0][0] < now - DAY_S:
            self._forget_one()
        minute = int(now // 60)
        for m in [m for m in self._minutes if m <= minute - 1440]:
            del self._minutes[m]
        last10 = sum(self._minutes.get(m, 0) for m in range(minute - 9, minute + 1))
        hour = sum(self._minutes.get(m, 0) for m in range(minute - 59, minute + 1))
        top = tuple((k[0], k[1], n) for k, n in self._counts.most_common(self.top_n))
        return HealthFigures(last10, round(hour / 6, 2), len(self._recent), top, rate_level(last10, self.targets))
