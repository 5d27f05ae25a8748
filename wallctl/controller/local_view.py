"""The views' source in the single-process wall: the service itself, seen through :class:`WallSource` (a display
node's source is its mirror of the wire instead; the views cannot tell)."""

from __future__ import annotations

from wallctl.controller.payloads import state_payload
from wallctl.controller.service import WallService
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.clock import Clock
from wallctl.core.kpi import KpiBoard
from wallctl.core.measures.live import HealthFigures
from wallctl.core.signal import Signal
from wallctl.core.topology.model import Topology
from wallctl.core.topology.state import TopologyState
from wallctl.core.view.diagnostics import Diagnostics
from wallctl.core.view.facts import WallFacts
from wallctl.core.view.rows import AlarmKey, ListRows, RankedFeed
from wallctl.core.wall.presets import LayoutSet
from wallctl.core.wall.rules import Decision
from wallctl.core.wall.tiles import AlarmListOptions


class _SharedFeed:
    """A list feed shared by every tile that shows the same alarms in the same order (six list tiles on the shipped
    modes kept six rankings, each paying for every change of every alarm); closed with its last user."""

    def __init__(self, view: LocalView, key: tuple[object, ...], feed: RankedFeed) -> None:
        self._view, self._key, self.feed = view, key, feed
        self.users = 0

    def rows(self) -> ListRows:
        return self.feed.rows()

    def close(self) -> None:
        self.users -= 1
        if self.users <= 0:
            self.feed.close()
            self._view._lists.pop(self._key, None)


class LocalView:
    def __init__(self, service: WallService, topologies: dict[str, Topology] | None = None) -> None:
        self.service = service
        self.topologies = topologies or {}
        self._maps: dict[str, TopologyState] = {}
        self._lists: dict[tuple[object, ...], _SharedFeed] = {}
        self.clock: Clock = service.clock
        self.kpis: KpiBoard = service.kpis
        self.diagnostics: Diagnostics = service.diagnostics
        self.state_changed: Signal[[]] = service.state_changed
        self.decision_changed: Signal[[Decision]] = service.decision_changed
        self.layouts_changed: Signal[[LayoutSet]] = service.layouts_changed
        self.diagnostics_changed: Signal[[]] = service.diagnostics_changed

    @property
    def layouts(self) -> LayoutSet:
        return self.service.layouts

    @property
    def selected(self) -> AlarmKey | None:
        return self.service.selected

    @selected.setter
    def selected(self, key: AlarmKey | None) -> None:
        self.service.selected = key

    @property
    def decision(self) -> Decision:
        return self.service.decision

    @property
    def picture(self) -> AlarmEngine:
        return self.service.engine

    def facts(self) -> WallFacts:
        """From the same payload the state topic carries, which is what a display node reads."""
        return WallFacts.from_state(state_payload(self.service, 0))

    def health(self) -> HealthFigures:
        return self.service.health.figures(self.service.clock.now())

    def list_feed(self, options: AlarmListOptions) -> _SharedFeed:
        key = (options.sort, options.filter, options.show_consequences)
        shared = self._lists.get(key)
        if shared is None:
            feed = RankedFeed(
                self.service.engine,
                options.sort,
                options.filter,
                self.service.parts.groups,
                group_consequences=options.show_consequences,
                backlog=self.service.backlog,
            )
            shared = self._lists[key] = _SharedFeed(self, key, feed)
        shared.users += 1
        return shared

    def map_state(self, file: str) -> TopologyState | None:
        state = self._maps.get(file)
        if state is None:
            topo = self.topologies.get(file)
            if topo is None:
                return None
            state = self._maps[file] = TopologyState(topo, self.service.engine)
        return state
