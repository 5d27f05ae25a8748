"""One pass over the history (in time order) and the audit log, keeping per-alarm state only.

Rows before the range's start are folded too, but only to know the picture the range starts with (which alarms are
standing, since when, acknowledged or not); everything counted is counted inside ``[start, end)``. Memory is one
small record per alarm key, the alarms raised within the last ``stale_after_s``, the flood window and a counter per
hour of the range - not the rows.

An *occurrence* starts with a raise, or a realarm while the alarm was out of alarm. It is *annunciated* the first
time one of its rows carries a priority, and then counts once in the alarm rate, the top 10 and the priority
shares. Time to acknowledge and to clear run from the occurrence's start.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from typing import Any

from wallctl.core.measures import records as k
from wallctl.core.measures.durations import Durations
from wallctl.core.measures.floods import FloodFold
from wallctl.core.measures.records import AuditRow, HistoryRow, MeasurePolicy

AlarmKey = tuple[str, str]


class _Alarm:
    """What one alarm key's history says so far."""

    __slots__ = (
        "acked",
        "annunciated",
        "cleared",
        "counted",
        "in_alarm",
        "oos_at",
        "priority",
        "shelved_at",
        "stale",
        "start",
        "suppressed_at",
        "times",
    )

    def __init__(self) -> None:
        self.in_alarm = False
        self.start: float | None = None  # the current occurrence's start
        self.counted = False  # the occurrence started inside the range (its ack/clear times count)
        self.annunciated = False
        self.priority: str | None = None
        self.acked = False
        self.cleared = False
        self.stale = False
        self.shelved_at: float | None = None
        self.suppressed_at: float | None = None
        self.oos_at: float | None = None
        self.times: list[float] | None = None  # the last transitions, for chattering


class _SetAside:
    """Shelved, suppressed or out of service: how often, which alarms, how long."""

    def __init__(self) -> None:
        self.durations = Durations()
        self.count = 0
        self.keys: set[AlarmKey] = set()
        self.still = 0

    def to_json(self) -> dict[str, Any]:
        d = self.durations.summary()
        return {"count": self.count, "alarms": len(self.keys), "still": self.still, "duration_s": d}


class MeasureFold:
    def __init__(self, start: float, end: float, policy: MeasurePolicy | None = None) -> None:
        if end <= start:
            raise ValueError("the range must end after it starts")
        self.start, self.end = start, end
        self.policy = p = policy or MeasurePolicy()
        self._alarms: dict[AlarmKey, _Alarm] = {}
        self._now = float("-inf")
        self._in_range = False
        # rates
        self.alarms = 0
        self.raised = 0  # occurrences, annunciated or not
        self.per_10min: Counter[int] = Counter()
        self.per_hour: Counter[int] = Counter()
        self.top: Counter[AlarmKey] = Counter()
        self.by_priority: Counter[str] = Counter()
        self.floods = FloodFold(p.flood_window_s, p.flood_start_above, p.flood_end_below)
        # behaviour of alarms
        self.transitions: Counter[AlarmKey] = Counter()
        self.chatter_episodes: Counter[AlarmKey] = Counter()
        self.fleeting: Counter[AlarmKey] = Counter()
        self._standing = 0
        self.standing_max = 0
        self._stale_queue: deque[tuple[float, AlarmKey, float]] = deque()  # (becomes stale at, key, start)
        self._stale = 0
        self.stale_max = 0
        self.sample_s = 3600.0 if end - start <= 45 * 86_400 else 86_400.0
        self._next_sample = start
        self.standing_series: list[tuple[float, int]] = []
        self.stale_series: list[tuple[float, int]] = []
        # response
        self.tta: dict[str, Durations] = {}
        self.ttc: dict[str, Durations] = {}
        self.never_acked = 0
        self.shelved, self.suppressed, self.out_of_service = _SetAside(), _SetAside(), _SetAside()
        # operator actions
        self.actions: Counter[tuple[str, str]] = Counter()
        self.failed_actions = 0
        self.rows = 0

    # ------------------------------------------------------------------ input
    def feed(self, rows: Iterable[HistoryRow]) -> None:
        for row in rows:
            self.add(row)

    def add(self, row: HistoryRow) -> None:
        t, source, type_, kind, _sev, priority, _site = row
        if t >= self.end:
            return
        self.rows += 1
        if t > self._now:
            self._advance(t)
        key = (source, type_)
        a = self._alarms.get(key)
        if a is None:
            a = self._alarms[key] = _Alarm()
        inside = self._in_range
        if kind == k.RAISE or (kind == k.REALARM and not a.in_alarm):
            self._begin(key, a, t, inside)
        elif kind == k.CLEAR:
            if inside:
                self._transition(key, a, t)
            if a.in_alarm:
                self._end_standing(a)
                if a.start is not None and not a.cleared:
                    a.cleared = True
                    if a.counted:
                        if a.annunciated:
                            self._sample(self.ttc, a.priority, t - a.start)
                        if t - a.start <= self.policy.fleeting_s:
                            self.fleeting[key] += 1
        elif kind == k.ACK:
            if a.start is not None and not a.acked:
                a.acked = True
                if a.counted and a.annunciated:
                    self._sample(self.tta, a.priority, t - a.start)
        elif kind in (k.REALARM, k.ESCALATE):  # worse while standing: needs acknowledging again
            a.acked = False
        elif kind == k.SHELVE:
            a.shelved_at = self._set_aside(self.shelved, key, a.shelved_at, t, inside)
        elif kind == k.UNSHELVE:
            a.shelved_at = self._back(self.shelved, a.shelved_at, t)
        elif kind == k.SUPPRESS:
            a.suppressed_at = self._set_aside(self.suppressed, key, a.suppressed_at, t, inside)
        elif kind == k.UNSUPPRESS:
            a.suppressed_at = self._back(self.suppressed, a.suppressed_at, t)
        elif kind == k.OUT_OF_SERVICE:
            a.oos_at = self._set_aside(self.out_of_service, key, a.oos_at, t, inside)
        elif kind == k.IN_SERVICE:
            a.oos_at = self._back(self.out_of_service, a.oos_at, t)
        if priority is not None and a.start is not None and not a.annunciated:
            self._annunciated(key, a, t, priority)

    def add_audit(self, row: AuditRow) -> None:
        if self.start <= row.time < self.end:
            self.actions[row.origin, row.action] += 1
            self.failed_actions += not row.ok

    # ------------------------------------------------------------------ occurrences
    def _begin(self, key: AlarmKey, a: _Alarm, t: float, inside: bool) -> None:
        if a.counted and a.annunciated and not a.acked:
            self.never_acked += 1
        if inside:
            self._transition(key, a, t)
            self.raised += 1
        if not a.in_alarm:
            a.in_alarm = True
            self._standing += 1
            if inside:
                self.standing_max = max(self.standing_max, self._standing)
        a.start, a.counted, a.annunciated, a.priority = t, inside, False, None
        a.acked = a.cleared = a.stale = False
        self._stale_queue.append((t + self.policy.stale_after_s, key, t))

    def _annunciated(self, key: AlarmKey, a: _Alarm, t: float, priority: str) -> None:
        a.annunciated, a.priority = True, priority
        if not self._in_range:
            return
        self.alarms += 1
        rel = t - self.start
        self.per_10min[int(rel // 600.0)] += 1
        self.per_hour[int(rel // 3600.0)] += 1
        self.top[key] += 1
        self.by_priority[priority] += 1
        self.floods.alarm(t, key[0], key[1])

    def _end_standing(self, a: _Alarm) -> None:
        a.in_alarm = False
        self._standing -= 1
        if a.stale:
            a.stale = False
            self._stale -= 1

    def _transition(self, key: AlarmKey, a: _Alarm, t: float) -> None:
        self.transitions[key] += 1
        n, window = self.policy.chatter_transitions, self.policy.chatter_window_s
        times = a.times
        if times is None:
            times = a.times = []
        times.append(t)
        if len(times) > n:
            del times[0]
        if len(times) == n and times[-1] - times[0] <= window:
            self.chatter_episodes[key] += 1
            times.clear()  # the next episode needs n transitions of its own

    @staticmethod
    def _sample(into: dict[str, Durations], priority: str | None, seconds: float) -> None:
        for name in ("all", priority or "none"):
            d = into.get(name)
            if d is None:
                d = into[name] = Durations()
            d.add(seconds)

    def _set_aside(self, s: _SetAside, key: AlarmKey, since: float | None, t: float, inside: bool) -> float:
        if since is not None:
            return since  # already (a repeated edge): the first one counts
        if inside:
            s.count += 1
            s.keys.add(key)
        return t

    def _back(self, s: _SetAside, since: float | None, t: float) -> float | None:
        """Back in: how long it was set aside counts when that began inside the range; nothing is set aside now."""
        if since is not None and since >= self.start:
            s.durations.add(t - since)
        return None

    # ------------------------------------------------------------------ time
    def _advance(self, t: float) -> None:
        """Everything that happens by the clock alone up to ``t``: alarms turning stale, samples, flood ends."""
        q, alarms = self._stale_queue, self._alarms
        while q and q[0][0] <= t:
            at, key, start = q.popleft()
            self._sample_until(at)
            a = alarms.get(key)
            if a is not None and a.in_alarm and a.start == start and not a.stale:
                a.stale = True
                self._stale += 1
                if at >= self.start:
                    self.stale_max = max(self.stale_max, self._stale)
        self._sample_until(t)
        if not self._in_range and t >= self.start:
            self._in_range = True
            self.standing_max = max(self.standing_max, self._standing)
            self.stale_max = max(self.stale_max, self._stale)
        if self._in_range:
            self.floods.advance(t)
        self._now = t

    def _sample_until(self, t: float) -> None:
        while self._next_sample <= t and self._next_sample < self.end:
            self.standing_series.append((self._next_sample, self._standing))
            self.stale_series.append((self._next_sample, self._stale))
            self._next_sample += self.sample_s

    def finish(self) -> None:
        """The range is over: what is still open (floods, shelves, unacknowledged alarms) is closed at its end."""
        self._advance(self.end)
        self.floods.finish(self.end)
        for a in self._alarms.values():
            if a.counted and a.annunciated and not a.acked:
                self.never_acked += 1
            for s, since in ((self.shelved, a.shelved_at), (self.suppressed, a.suppressed_at)):
                if since is not None:
                    s.still += 1
                    self._back(s, since, self.end)
            if a.oos_at is not None:
                self.out_of_service.still += 1
                self._back(self.out_of_service, a.oos_at, self.end)

    @property
    def keys(self) -> int:
        return len(self._alarms)
