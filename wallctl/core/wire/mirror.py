"""A display node's picture of the wall, kept from the controller's messages: the state, the view projections and
the controller's presence. It is the :class:`~wallctl.core.view.source.WallSource` of the display's views, so
they draw exactly what they draw in the controller's own process.

Every message is a whole projection: a newer one replaces the older (by ``seq`` within one controller run, by
``epoch`` across runs), so a display that joins, reconnects or misses messages draws the retained latest, never a
stale mix. When the controller falls silent (its status turns ``offline``: the broker sends its last will), the
facts say ``controller: lost`` and the banner shows it: a wall must never look calm because it is deaf.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from wallctl.core.alarms.engine import Counts
from wallctl.core.alarms.flood import FloodDetector, FloodPolicy
from wallctl.core.clock import Clock
from wallctl.core.kpi import KpiBoard, KpiSpec
from wallctl.core.measures.live import HealthFigures
from wallctl.core.severity import Severity
from wallctl.core.signal import Signal
from wallctl.core.topology.state import NORMAL, Edge, ElementState
from wallctl.core.view.diagnostics import Diagnostics
from wallctl.core.view.facts import WallFacts
from wallctl.core.view.rows import AlarmKey, ListRows
from wallctl.core.wall.presets import LayoutSet
from wallctl.core.wall.rules import Decision
from wallctl.core.wall.tiles import AlarmListOptions
from wallctl.core.wire.view import (
    decision_of_state,
    decode_diagnostics,
    decode_health,
    decode_kpis,
    decode_map,
    decode_picture,
    decode_rows,
    list_id,
)

log = logging.getLogger("wallctl.mirror")
EMPTY_ROWS = ListRows([], 0, {"shelved": 0, "suppressed": 0}, [])


class MirrorPicture:
    """The summary numbers as last received (the :class:`~wallctl.core.view.source.Picture` of a display)."""

    def __init__(self, policy: FloodPolicy) -> None:
        self.flood = FloodDetector(policy)
        self._counts = Counts(0, 0, 0, 0, {}, {}, None)
        self._set_aside: dict[Severity, int] = {}
        self._oldest: float | None = None

    def counts(self) -> Counts:
        return self._counts

    def oldest_unacked(self) -> float | None:
        return self._oldest

    def set_aside_by_severity(self) -> Mapping[Severity, int]:
        return Counter(self._set_aside)

    def apply(self, body: dict[str, Any]) -> None:
        p = decode_picture(body)
        self._counts, self._set_aside, self._oldest = p.counts, p.set_aside, p.oldest_unacked
        self.flood.active = p.flood
        self.flood.per_minute = p.per_minute


class MirrorMap:
    """One map's element states as last received, with what changed for the tiles that draw it."""

    def __init__(self) -> None:
        self.nodes: dict[str, ElementState] = {}
        self.links: dict[Edge, ElementState] = {}
        self._dirty_nodes: set[str] = set()
        self._dirty_links: set[Edge] = set()

    def node(self, node_id: str) -> ElementState:
        return self.nodes.get(node_id, NORMAL)

    def take_dirty(self) -> tuple[set[str], set[Edge]]:
        out = (self._dirty_nodes, self._dirty_links)
        self._dirty_nodes, self._dirty_links = set(), set()
        return out

    def apply(self, body: dict[str, Any]) -> None:
        m = decode_map(body)
        self._dirty_nodes |= {n for n in m.nodes.keys() | self.nodes.keys() if m.nodes.get(n) != self.nodes.get(n)}
        self._dirty_links |= {e for e in m.links.keys() | self.links.keys() if m.links.get(e) != self.links.get(e)}
        self.nodes, self.links = m.nodes, m.links


class MirrorFeed:
    """One list's rows as last received."""

    def __init__(self, mirror: WallMirror, name: str) -> None:
        self._mirror, self.name = mirror, name

    def rows(self) -> ListRows:
        return self._mirror.lists.get(self.name, EMPTY_ROWS)

    def close(self) -> None:
        pass


class WallMirror:
    def __init__(
        self, clock: Clock, layouts: LayoutSet, kpis: tuple[KpiSpec, ...], flood: FloodPolicy, maps: list[str]
    ) -> None:
        self.clock = clock
        self.layouts = layouts
        self.kpis = KpiBoard(kpis)
        self.diagnostics = Diagnostics()
        self.selected: AlarmKey | None = None
        self.picture = MirrorPicture(flood)
        self.maps = {name: MirrorMap() for name in maps}
        self.lists: dict[str, ListRows] = {}
        self.state: dict[str, Any] | None = None
        self.controller_online = False
        self._decision = Decision("", None, None, "default", "", None, 0.0)
        self._seen: dict[str, tuple[float, int]] = {}  # topic -> (epoch, seq) last applied
        self.state_changed: Signal[[]] = Signal("mirror: picture changed")
        self.decision_changed: Signal[[Decision]] = Signal("mirror: decision changed")
        self.layouts_changed: Signal[[LayoutSet]] = Signal("mirror: layouts changed")
        self.diagnostics_changed: Signal[[]] = Signal("mirror: diagnostics changed")
        self.controller_changed: Signal[[bool]] = Signal("mirror: controller online or lost")
        self._health = HealthFigures.empty()

    # ------------------------------------------------------------------ WallSource
    @property
    def decision(self) -> Decision:
        return self._decision

    def facts(self) -> WallFacts:
        if self.state is None:
            return WallFacts(
                self._decision.mode or "-", "default", "-", None, None, "connecting", 0, None, None, None, None,
                "", True, False, 0, "ok", False, 0, "ok" if self.controller_online else "lost",
            )  # fmt: skip
        return WallFacts.from_state(self.state, controller="ok" if self.controller_online else "lost")

    def health(self) -> HealthFigures:
        return self._health

    def list_feed(self, options: AlarmListOptions) -> MirrorFeed:
        return MirrorFeed(self, list_id(options.sort, options.filter, options.show_consequences))

    def map_state(self, file: str) -> MirrorMap | None:
        name = file.replace("/", ":") if file else "estate"
        return self.maps.setdefault(name, MirrorMap())

    # ------------------------------------------------------------------ the wire in
    def _newer(self, topic: str, body: dict[str, Any]) -> bool:
        """Whether ``body`` is newer than what this topic last brought (a redelivered old one is dropped)."""
        stamp = (float(body.get("epoch") or 0.0), int(body.get("seq") or 0))
        last = self._seen.get(topic)
        if last is not None and stamp[0] == last[0] and stamp[1] <= last[1]:
            return False
        self._seen[topic] = stamp
        return True

    def apply_state(self, body: dict[str, Any]) -> bool:
        """The controller's state; True when the decision (mode, focus, pin) changed."""
        if not self._newer("state", body):
            return False
        self.state = body
        decision = decision_of_state(body)
        changed = _what_shows(decision) != _what_shows(self._decision)
        self._decision = decision
        self.state_changed.emit()
        return changed

    def decides_otherwise(self, body: dict[str, Any]) -> bool:
        """Whether the state ``body`` holds another decision (mode, focus, pin) than the one applied."""
        return _what_shows(decision_of_state(body)) != _what_shows(self._decision)

    def apply_view(self, tail: str, body: dict[str, Any]) -> None:
        """One ``view/<tail>`` message."""
        if not self._newer(tail, body):
            return
        kind, _, name = tail.partition("/")
        if kind == "lists":
            self.lists[name] = decode_rows(body).listed()
            self.state_changed.emit()
        elif kind == "picture":
            self.picture.apply(body)
            self.state_changed.emit()
        elif kind == "map":
            self.maps.setdefault(name, MirrorMap()).apply(body)
            self.state_changed.emit()
        elif kind == "health":
            self._health = decode_health(body)
            self.state_changed.emit()
        elif kind == "kpis":
            for series_name, points in decode_kpis(body).items():
                series = self.kpis.series.get(series_name)
                if series is not None:
                    series.points.clear()
                    series.points.extend(points)
        elif kind == "diagnostics":
            decode_diagnostics(body, self.diagnostics)
            self.diagnostics_changed.emit()

    def set_controller(self, online: bool) -> None:
        if online != self.controller_online:
            log.info("controller %s", "online" if online else "LOST: the picture may be stale")
            self.controller_online = online
            self.controller_changed.emit(online)
            self.state_changed.emit()

    def set_layouts(self, layouts: LayoutSet) -> None:
        self.layouts = layouts
        self.layouts_changed.emit(layouts)


def _what_shows(d: Decision) -> tuple[object, ...]:
    """The parts of a decision a display draws: another reason or stamp alone changes nothing on the wall."""
    return d.mode, d.focus_region, d.focus_target, d.pin
