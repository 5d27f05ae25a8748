"""What the wall's views read, as protocols: the controller's service satisfies them in the single-process wall, and
a display node's mirror of the wire satisfies them on a display PC. Views never see the service itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from wallctl.core.alarms.engine import Counts
from wallctl.core.alarms.flood import FloodDetector
from wallctl.core.clock import Clock
from wallctl.core.kpi import KpiBoard
from wallctl.core.measures.live import HealthFigures
from wallctl.core.severity import Severity
from wallctl.core.signal import Signal
from wallctl.core.topology.state import Edge, ElementState
from wallctl.core.view.diagnostics import Diagnostics
from wallctl.core.view.facts import WallFacts
from wallctl.core.view.rows import AlarmKey, ListRows
from wallctl.core.wall.presets import LayoutSet
from wallctl.core.wall.rules import Decision
from wallctl.core.wall.tiles import AlarmListOptions


class Picture(Protocol):
    """The summary numbers (the engine keeps them; a display node receives them)."""

    @property
    def flood(self) -> FloodDetector: ...
    def counts(self) -> Counts: ...
    def oldest_unacked(self) -> float | None: ...
    def set_aside_by_severity(self) -> Mapping[Severity, int]: ...


class MapState(Protocol):
    """The worst state per element of one map, and what changed since it was last asked."""

    @property
    def links(self) -> Mapping[Edge, ElementState]: ...
    def node(self, node_id: str) -> ElementState: ...
    def take_dirty(self) -> tuple[set[str], set[Edge]]: ...


class ListFeed(Protocol):
    """The rows of one alarm list, as of now (a ranking in the controller's process, the wire on a display)."""

    def rows(self) -> ListRows: ...
    def close(self) -> None: ...


class WallSource(Protocol):
    """Everything the scene, the banner and the tiles of a wall read, with specific change signals."""

    selected: AlarmKey | None
    state_changed: Signal[[]]  # the picture changed (coalesced per batch)
    decision_changed: Signal[[Decision]]
    layouts_changed: Signal[[LayoutSet]]
    diagnostics_changed: Signal[[]]

    @property
    def clock(self) -> Clock: ...
    @property
    def layouts(self) -> LayoutSet: ...
    @property
    def kpis(self) -> KpiBoard: ...
    @property
    def diagnostics(self) -> Diagnostics: ...
    @property
    def decision(self) -> Decision: ...
    @property
    def picture(self) -> Picture: ...
    def facts(self) -> WallFacts: ...
    def health(self) -> HealthFigures:
        """The alarm-health tile's figures: the load now against EEMUA 191's lines, today's bad actors."""
        ...

    def list_feed(self, options: AlarmListOptions) -> ListFeed: ...
    def map_state(self, file: str) -> MapState | None:
        """The state of the map a topology tile draws (``file`` as in its options; '' the configured topology)."""
        ...
