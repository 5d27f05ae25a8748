"""Branch sites at the wall: which site a message comes from, whether each site's link is alive, and which of its
events are a backlog that must not sound.

A branch broker's bridge says ``1`` on ``<prefix>$bridge/state`` when it connects and ``0`` (its last will) when
it is lost. A site whose bridge has been down longer than its grace, or that has sent nothing for longer than its
heartbeat, is one critical alarm (``site/<name>``, ``site_link_down``) until it is back.

The backlog rule: when a site's link comes back, the bridge first delivers what the branch queued meanwhile. An
event stamped (its own ``time``) before the moment the link came back is such a backlog: its alarm state is
applied as usual, but quietly, like a retained replay, so an alarm that came and went during the outage does not
sound now. The catch-up ends at the first event stamped after that moment (the bridge delivers in order), after a
second without backlog, or after a minute at most (a branch clock running behind could otherwise keep it going);
then the backlog's alarms that still stand unacknowledged sound after all. Unstamped events happened, as the
contract says, when they arrived: they are always live.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from wallctl.core.alarms.engine import AlarmChange, AlarmEngine
from wallctl.core.alarms.event import AlarmKey, Event
from wallctl.core.clock import Clock
from wallctl.core.severity import Severity

LINK_TYPE = "site_link_down"
SETTLE_S = 1.0  # a catch-up without backlog for this long is over
CATCH_UP_MAX_S = 60.0  # and it never lasts longer than this


class SiteSpec(Protocol):
    """A configured site (:class:`wallctl.core.config.sites.Site`), as far as the watch needs it."""

    @property
    def name(self) -> str: ...
    @property
    def topic_prefix(self) -> str: ...
    @property
    def heartbeat_s(self) -> float | None: ...
    @property
    def link_grace_s(self) -> float: ...
    @property
    def state_topic(self) -> str: ...
    @property
    def label(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Route:
    site: str
    topic: str  # without the site's prefix: what topic templates and payload profiles see
    state: bool  # the bridge's connection state, not an event


@dataclass(slots=True)
class _Link:
    spec: SiteSpec
    heard: float  # last message from the site (or the start, or the bridge's return: a fresh grace)
    bridge: bool | None = None  # what the bridge last said; None: nothing yet
    down_since: float | None = None
    alarmed: str | None = None  # "down" or "silent": what the raised alarm says
    alarmed_since: float = 0.0  # since when, as the alarm said
    up_since: float | None = None  # catching up since the link came back
    last_backlog: float = 0.0
    backlog: set[AlarmKey] = field(default_factory=set)  # alarms the backlog raised, to sound if still standing
    replayed: int = 0  # backlog events received (a redelivered one too: the engine drops it), in all


class SiteWatch:
    def __init__(self, engine: AlarmEngine, clock: Clock, sites: Iterable[SiteSpec]) -> None:
        self.engine = engine
        self.clock = clock
        now = clock.now()
        specs = list(sites)
        self._links = {s.name: _Link(s, now) for s in specs}
        self._states = {s.state_topic: s.name for s in specs}
        self._prefixes = [(s.topic_prefix, s.name) for s in specs]
        self._restore(now)

    def __bool__(self) -> bool:
        return bool(self._links)

    # ---------------------------------------------------------------- inbound
    def route(self, topic: str) -> Route | None:
        """The site a message on ``topic`` belongs to (prefixes never overlap: the config refuses that)."""
        name = self._states.get(topic)
        if name is not None:
            return Route(name, topic, True)
        for prefix, name in self._prefixes:
            if topic.startswith(prefix):
                return Route(name, topic[len(prefix) :], False)
        return None

    def bridge_state(self, name: str, payload: bytes) -> None:
        """The bridge's notification: ``1`` connected, ``0`` lost; an empty (cleared) one forgets what it said."""
        text = payload.strip()
        if text in (b"1", b"0"):
            self._bridge(self._links[name], text == b"1", self.clock.now())
        elif not text:
            link = self._links[name]
            link.bridge, link.down_since = None, None

    def heard(self, name: str) -> None:
        """Any message under the site's prefix: the site speaks, so its link works (whatever the bridge said)."""
        link, now = self._links[name], self.clock.now()
        link.heard = now
        if link.bridge is False:
            self._bridge(link, True, now)  # the bridge's '1' may come behind its first events

    def tag(self, event: Event, name: str, topic: str) -> Event:
        """The event as the wall keeps it: its whole topic, its site, and whether it is backlog."""
        return replace(event, topic=topic, site=name, backlog=self._backlog(self._links[name], event))

    def ingested(self, event: Event, change: AlarmChange | None) -> None:
        """A backlog event was applied: remember the alarm it touched, to sound it if it still stands at the end."""
        if event.backlog and event.site is not None and change is not None:
            self._links[event.site].backlog.add(change.key)

    # ---------------------------------------------------------------- timers
    def tick(self) -> None:
        now = self.clock.now()
        for link in self._links.values():
            self._check(link, now)
            if link.up_since is not None and (
                now - link.last_backlog >= SETTLE_S or now - link.up_since >= CATCH_UP_MAX_S
            ):
                link.up_since = None
            if link.up_since is None and link.backlog:
                keys, link.backlog = link.backlog, set()
                for key in sorted(keys):
                    self.engine.sound_late(key)

    # ---------------------------------------------------------------- state
    def summary(self) -> dict[str, dict[str, Any]]:
        """Per site, for the state topic: the link as the wall sees it."""
        out = {}
        for name, link in self._links.items():
            out[name] = {
                "link": {True: "up", False: "down", None: "unknown"}[link.bridge],
                "down_since": _round(link.down_since),
                "last_heard": _round(link.heard),
                "alarm": link.alarmed,
                "catching_up": link.up_since is not None,
                "replayed": link.replayed,
            }
        return out

    # ---------------------------------------------------------------- internals
    def _restore(self, now: float) -> None:
        """A link alarm the journal kept standing stays until the site proves it is back (its bridge's '1', or
        any message from it): the wall restarted, the outage did not end."""
        for name, link in self._links.items():
            alarm = self.engine.get((f"site/{name}", LINK_TYPE))
            if alarm is not None and alarm.in_alarm:
                link.alarmed, link.alarmed_since, link.bridge = "down", alarm.first, False
                link.down_since = min(alarm.first, now - link.spec.link_grace_s)

    def _bridge(self, link: _Link, up: bool, now: float) -> None:
        if up:
            if link.bridge is not True:
                if link.bridge is False:  # back after an outage: what it queued meanwhile comes first
                    link.up_since = link.last_backlog = now
                link.bridge, link.down_since = True, None
                link.heard = now  # connected: the heartbeat gets a fresh grace
        else:
            if link.bridge is not False:
                link.bridge, link.down_since = False, now
            link.up_since = None  # a catch-up cut short: what it raised settles at the next tick

    def _backlog(self, link: _Link, event: Event) -> bool:
        if link.up_since is None or not event.stamped:
            return False
        if event.time < link.up_since:
            link.last_backlog = self.clock.now()
            link.replayed += 1
            return True
        link.up_since = None  # stamped after the link came back: the bridge has delivered the backlog
        return False

    def _check(self, link: _Link, now: float) -> None:
        spec = link.spec
        down = link.down_since is not None and now - link.down_since >= spec.link_grace_s
        silent = spec.heartbeat_s is not None and now - link.heard > spec.heartbeat_s
        want = "down" if down else "silent" if silent else None
        if want == link.alarmed:
            return
        was, since, link.alarmed = link.alarmed, link.alarmed_since, want
        branch = spec.label or f"branch {spec.name}"
        if want == "down":
            assert link.down_since is not None
            link.alarmed_since = link.down_since
            self._raise(spec.name, Severity.CRITICAL, f"{branch}: link down since {clock_text(link.down_since, now)}")
        elif want == "silent":
            link.alarmed_since = link.heard
            self._raise(
                spec.name,
                Severity.CRITICAL,
                f"{branch}: silent since {clock_text(link.heard, now)} (nothing for over {spec.heartbeat_s:g} s)",
            )
        else:
            self._raise(spec.name, Severity.CLEARED, f"{branch}: back (was {was} since {clock_text(since, now)})")

    def _raise(self, name: str, severity: Severity, text: str) -> None:
        now = self.clock.now()
        self.engine.ingest(
            Event(f"site/{name}", LINK_TYPE, severity, now, category="network", text=text, received=now, site=name)
        )


def clock_text(when: float, now: float) -> str:
    """A moment as the room reads it: 14:02, or 'Mar 03 14:02' when it is not from the last 20 hours."""
    fmt = "%H:%M" if now - when < 20 * 3600 else "%b %d %H:%M"
    return time.strftime(fmt, time.localtime(when))


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None
