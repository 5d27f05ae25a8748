"""EEMUA 191 alarm-rate bookkeeping: flood on/off with hysteresis, and first-out of a burst."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from wallctl.core.alarms.event import AlarmKey


@dataclass(frozen=True, slots=True)
class FloodPolicy:
    window_s: float = 600.0  # EEMUA 191 counts per 10 minutes
    start_above: int = 10  # a flood starts above 10 new alarms per window...
    end_below: int = 5  # ...and ends below 5
    burst_gap_s: float = 60.0  # a new alarm after this much quiet starts a new burst


class FloodDetector:
    def __init__(self, policy: FloodPolicy) -> None:
        self.policy = policy
        self._times: deque[float] = deque()
        self.active = False
        self.started_at: float | None = None
        self._last_new: float | None = None
        self._burst_leader: AlarmKey | None = None
        self._burst_size = 0
        self.per_minute: dict[int, int] = {}  # minute (epoch // 60) -> new alarms, for the rate chart
        self.keep_minutes = 72 * 60

    def rate(self, now: float) -> int:
        """New alarms within the window ending now."""
        self._expire(now)
        return len(self._times)

    def new_alarm(self, key: AlarmKey, now: float) -> AlarmKey | None:
        """Count one new alarm. Returns the key to mark first-out when this alarm makes its burst a burst."""
        self._times.append(now)
        self._expire(now)
        minute = int(now // 60)
        self.per_minute[minute] = self.per_minute.get(minute, 0) + 1
        if len(self.per_minute) > self.keep_minutes:
            for m in sorted(self.per_minute)[: len(self.per_minute) - self.keep_minutes]:
                del self.per_minute[m]
        first_out: AlarmKey | None = None
        if self._last_new is None or now - self._last_new > self.policy.burst_gap_s:
            self._burst_leader, self._burst_size = key, 1
        else:
            self._burst_size += 1
            if self._burst_size == 2:
                first_out = self._burst_leader
        self._last_new = now
        self.update(now)
        return first_out

    def update(self, now: float) -> bool:
        """Re-evaluate the flood state; returns True when it changed."""
        n = self.rate(now)
        if not self.active and n > self.policy.start_above:
            self.active, self.started_at = True, now
            return True
        if self.active and n < self.policy.end_below:
            self.active, self.started_at = False, None
            return True
        return False

    def _expire(self, now: float) -> None:
        horizon = now - self.policy.window_s
        times = self._times
        while times and times[0] <= horizon:
            times.popleft()

    def restore(self, active: bool, started_at: float | None, per_minute: dict[int, int], now: float) -> None:
        """Back from the journal after a restart: the window's new alarms (to the minute) and the flood state.

        A flood in progress stays a flood; it ends as usual once the rate falls below ``end_below``."""
        self.per_minute.update(per_minute)
        horizon = now - self.policy.window_s
        for minute, n in sorted(per_minute.items()):
            t = min(now, minute * 60.0 + 59.0)
            if t > horizon:
                self._times.extend([t] * n)
        self.active, self.started_at = active, started_at if active else None
        self.update(now)

    def snapshot(self, now: float) -> dict[str, object]:
        """What :meth:`restore` needs: small (one entry per minute of the window)."""
        first = int((now - self.policy.window_s) // 60)
        return {
            "active": self.active,
            "started_at": self.started_at,
            "per_minute": {str(m): n for m, n in self.per_minute.items() if m >= first},
        }

    def history(self) -> list[float]:
        return list(self._times)

    def rate_series(self, now: float, hours: float) -> tuple[list[float], list[int]]:
        """(minute start times, new alarms in the window ending at each minute) over the last ``hours``."""
        end = int(now // 60)
        start = end - int(hours * 60)
        span = max(1, int(self.policy.window_s // 60))
        xs: list[float] = []
        ys: list[int] = []
        running = sum(self.per_minute.get(m, 0) for m in range(start - span + 1, start))
        for m in range(start, end + 1):
            running += self.per_minute.get(m, 0)
            running -= self.per_minute.get(m - span, 0)
            xs.append(m * 60.0)
            ys.append(running)
        return xs, ys
