"""The alarm-health tile's figures, kept as the wall annunciates: the operator's load now against EEMUA 191's lines,
and the alarms that make the noise today. The same words and lines as ``wallctl report`` (``rate_level``), live.

Bounded whatever the load: annunciations are counted per minute (1,440 buckets for a day) and the bad actors over
the last 24 h from at most ``MAX_ENTRIES`` remembered annunciations (a flood beyond that forgets its oldest first).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from itertools import islice

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
        # the keys by their count, so the top list costs O(distinct counts) (~600 for 200,000 annunciations), not a
        # pass over every key: ``most_common`` over 200,000 distinct alarms took 60 ms, every second
        self._by_count: dict[int, dict[AlarmKey, None]] = {}

    def note(self, when: float, key: AlarmKey) -> None:
        """An annunciated occurrence (a raise or a re-alarm that sounded)."""
        self._minutes[int(when // 60)] += 1
        self._recent.append((when, key))
        self._move(key, +1)
        if len(self._recent) > MAX_ENTRIES:
            self._forget_one()

    def _forget_one(self) -> None:
        _, key = self._recent.popleft()
        self._move(key, -1)

    def _move(self, key: AlarmKey, step: int) -> None:
        old = self._counts[key]
        new = old + step
        if old:
            bucket = self._by_count[old]
            del bucket[key]
            if not bucket:
                del self._by_count[old]
        if new > 0:
            self._counts[key] = new
            self._by_count.setdefault(new, {})[key] = None
        else:
            self._counts.pop(key, None)

    def figures(self, now: float) -> HealthFigures:
        while self._recent and self._recent[0][0] < now - DAY_S:
            self._forget_one()
        minute = int(now // 60)
        for m in [m for m in self._minutes if m <= minute - 1440]:
            del self._minutes[m]
        last10 = sum(self._minutes.get(m, 0) for m in range(minute - 9, minute + 1))
        hour = sum(self._minutes.get(m, 0) for m in range(minute - 59, minute + 1))
        ranked = ((k, n) for n in sorted(self._by_count, reverse=True) for k in self._by_count[n])
        top = tuple((k[0], k[1], n) for k, n in islice(ranked, self.top_n))
        return HealthFigures(last10, round(hour / 6, 2), len(self._recent), top, rate_level(last10, self.targets))
