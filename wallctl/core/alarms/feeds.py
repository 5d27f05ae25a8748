"""Feeds that must keep speaking: a silent source or topic, or a dead broker link, is itself an alarm.

The wall must never look calm because it is deaf.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic-filter matching (``+`` one level, ``#`` the rest)."""
    f_levels, t_levels = topic_filter.split("/"), topic.split("/")
    for i, f in enumerate(f_levels):
        if f == "#":
            return True
        if i >= len(t_levels):
            return False
        if f != "+" and f != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)


class TopicRoutes(Generic[T]):
    """Fixed topic filters to the values they route to, remembered per topic: every event asks (KPIs, heartbeats),
    and matching each filter level by level cost three calls an event. Bounded: a flood of one-off topics only
    restarts the memory."""

    LIMIT = 20_000

    def __init__(self, routes: Iterable[tuple[str, T]]) -> None:
        self.routes = tuple(routes)
        self._memo: dict[str, tuple[T, ...]] = {}

    def __call__(self, topic: str) -> tuple[T, ...]:
        hit = self._memo.get(topic)
        if hit is None:
            if len(self._memo) >= self.LIMIT:
                self._memo.clear()
            hit = self._memo[topic] = tuple(v for f, v in self.routes if topic_matches(f, topic))
        return hit


@dataclass(frozen=True, slots=True)
class Watch:
    name: str
    interval_s: float
    source: str | None = None
    topic: str | None = None


class FeedWatch:
    """Tracks when each watched feed last spoke; ``check`` returns the feeds whose stale state changed."""

    def __init__(self, watches: list[Watch], now: float) -> None:
        self.watches = watches
        self._last: dict[str, float] = {w.name: now for w in watches}  # a grace period from start
        self._stale: set[str] = set()
        self._by_source = {w.source: w.name for w in watches if w.source}
        self._topics = TopicRoutes((w.topic, w.name) for w in watches if w.topic)

    def seen(self, source: str | None, topic: str | None, now: float) -> None:
        if source is not None and source in self._by_source:
            self._last[self._by_source[source]] = now
        if topic is not None and self._topics.routes:
            for name in self._topics(topic):
                self._last[name] = now

    def check(self, now: float) -> list[tuple[Watch, bool]]:
        out: list[tuple[Watch, bool]] = []
        for w in self.watches:
            stale = now - self._last[w.name] > w.interval_s
            if stale != (w.name in self._stale):
                (self._stale.add if stale else self._stale.discard)(w.name)
                out.append((w, stale))
        return out

    def silent_for(self, name: str, now: float) -> float:
        return now - self._last[name]


class LinkWatch:
    """Broker link state with a grace period before 'link down' becomes an alarm."""

    def __init__(self, grace_s: float, now: float) -> None:
        self.grace_s = grace_s
        self.state = "connecting"
        self.down_since: float | None = now
        self.alarmed = False

    def set_state(self, state: str, now: float) -> None:
        if state in ("connected", "none"):
            self.down_since = None
        elif self.down_since is None:
            self.down_since = now
        self.state = state

    def check(self, now: float) -> bool | None:
        """True when the link alarm must be raised, False when it must clear, None for no change."""
        due = self.down_since is not None and now - self.down_since >= self.grace_s
        if due and not self.alarmed:
            self.alarmed = True
            return True
        if not due and self.alarmed and self.down_since is None:
            self.alarmed = False
            return False
        return None

    @property
    def is_down(self) -> bool:
        """'none' means no broker by design (the designer preview), which is not a fault."""
        return self.state not in ("connected", "none")
