"""The live state painted on the map: per node, link and site, the worst alarm and whether it is unacknowledged.

Derived from the alarm engine change by change (only the touched node is recomputed), with a dirty set the view
drains at its own frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wallctl.core.alarms.alarm import Alarm, AlarmState
from wallctl.core.alarms.engine import AlarmChange, AlarmEngine
from wallctl.core.severity import Severity
from wallctl.core.topology.model import Topology

VISIBLE_STATES = frozenset({AlarmState.UNACK, AlarmState.ACKED, AlarmState.RTNUN})


@dataclass(frozen=True, slots=True)
class ElementState:
    severity: Severity  # CLEARED = nothing to show
    unacked: bool = False
    consequence: bool = False  # every alarm on it is a consequence of a cause elsewhere
    count: int = 0

    @property
    def alarmed(self) -> bool:
        return self.severity > Severity.CLEARED


NORMAL = ElementState(Severity.CLEARED)
Edge = tuple[str, str]


def worst(alarms: list[Alarm]) -> ElementState:
    shown = [a for a in alarms if a.state in VISIBLE_STATES and (a.in_alarm or a.state is AlarmState.RTNUN)]
    if not shown:
        return NORMAL
    standing = [a for a in shown if a.in_alarm]
    sev = max((a.severity for a in standing), default=Severity.CLEARED)
    return ElementState(
        severity=sev,
        unacked=any(a.state in (AlarmState.UNACK, AlarmState.RTNUN) for a in shown),
        consequence=bool(standing) and all(a.cause is not None for a in standing),
        count=len(shown),
    )


def _store(table: dict[Any, ElementState], dirty: set[Any], key: Any, state: ElementState) -> None:
    """Keep only non-normal states in ``table``; note the key as dirty when its state changed."""
    if table.get(key, NORMAL) == state:
        return
    if state == NORMAL:
        table.pop(key, None)
    else:
        table[key] = state
    dirty.add(key)


class TopologyState:
    def __init__(self, topology: Topology, engine: AlarmEngine) -> None:
        self.topology = topology
        self.engine = engine
        self.nodes: dict[str, ElementState] = {}
        self.links: dict[Edge, ElementState] = {}
        self._link_alarms: dict[Edge, set[tuple[str, str]]] = {}
        self._alarm_link: dict[tuple[str, str], Edge | None] = {}
        self.dirty_nodes: set[str] = set()
        self.dirty_links: set[Edge] = set()
        engine.changed.connect(self.on_change)
        engine.bulk_changed.connect(self.on_bulk)
        graph = topology.graph
        for alarm in list(engine):
            if alarm.source in graph:
                self._touch(alarm.key)

    def on_change(self, change: AlarmChange) -> None:
        self._touch(change.key)

    def on_bulk(self, _kind: object, keys: list[tuple[str, str]]) -> None:
        """Only alarms on the map are touched: the others (most of 200,000, typically) cost a lookup."""
        graph = self.topology.graph
        for key in keys:
            if key[0] in graph:
                self._touch(key)

    def _touch(self, key: tuple[str, str]) -> None:
        source = key[0]
        if source not in self.topology.graph:
            return  # off the map: neither a node nor a link of it (a link's ends are its nodes)
        _store(self.nodes, self.dirty_nodes, source, worst(self.engine.alarms_of(source)))
        alarm = self.engine.get(key)
        if key not in self._alarm_link:
            if alarm is None:
                return
            # which link an alarm is about is decided once (None: no link), not on every event of the alarm
            edge = self.topology.edge_for(source, alarm.attributes)
            self._alarm_link[key] = edge
            if edge is not None:
                self._link_alarms.setdefault(edge, set()).add(key)
        edge = self._alarm_link[key]
        if alarm is None:
            del self._alarm_link[key]
        if edge is None:
            return
        if alarm is None:
            self._link_alarms.get(edge, set()).discard(key)
        members = [a for k in self._link_alarms.get(edge, ()) if (a := self.engine.get(k)) is not None]
        _store(self.links, self.dirty_links, edge, worst(members))

    def node(self, node_id: str) -> ElementState:
        return self.nodes.get(node_id, NORMAL)

    def link(self, a: str, b: str) -> ElementState:
        return self.links.get((a, b) if a <= b else (b, a), NORMAL)

    def sites(self) -> dict[str, ElementState]:
        """Roll-up: each site's worst node."""
        out: dict[str, ElementState] = {}
        graph = self.topology.graph
        for node, st in self.nodes.items():
            site = graph.nodes[node].get("site")
            if not site:
                continue
            cur = out.get(site)
            if cur is None or (st.severity, st.unacked) > (cur.severity, cur.unacked):
                out[site] = ElementState(
                    st.severity,
                    st.unacked or (cur.unacked if cur else False),
                    st.consequence,
                    st.count + (cur.count if cur else 0),
                )
            else:
                out[site] = ElementState(cur.severity, cur.unacked or st.unacked, cur.consequence, cur.count + st.count)
        return out

    def take_dirty(self) -> tuple[set[str], set[Edge]]:
        nodes, links = self.dirty_nodes, self.dirty_links
        self.dirty_nodes, self.dirty_links = set(), set()
        return nodes, links
