"""What display nodes draw, kept current by the controller and published on ``<prefix>/view/...`` (retained).

Each message is a whole, bounded projection: the first rows of each alarm list of the layouts (one message per
distinct list, shared by every tile that shows the same alarms in the same order), the summary picture, the worst
state per element of each map, the KPI series. A change publishes only the projections it changed, at most ten
times a second each, so a display joins from the retained messages within a second whatever the number of alarms,
and one alarm's change costs a few small messages, not a re-sent list.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wallctl.controller.link import LoopHooks, Timer
from wallctl.controller.service import WallService
from wallctl.core.signal import Subscriptions
from wallctl.core.topology.model import Topology
from wallctl.core.topology.state import TopologyState
from wallctl.core.view.rows import RankedFeed
from wallctl.core.wall.presets import LayoutSet, layout_files
from wallctl.core.wall.tiles import AlarmListOptions
from wallctl.core.wire.strict import dumps_strict
from wallctl.core.wire.view import (
    VIEW_ROWS,
    Setup,
    encode_diagnostics,
    encode_health,
    encode_kpis,
    encode_map,
    encode_picture,
    encode_rows,
    encode_setup,
    list_id,
)

MIN_INTERVAL_S = 0.1
COST_SHARE = 10  # the views take a tenth of the main loop at most: a flush that cost 25 ms waits 250 ms for the next
KPI_INTERVAL_S = 1.0
Publish = Callable[[str, str], None]  # (topic below the prefix, payload): retained, QoS 1


def map_name(file: str) -> str:
    """A map's name on the wire: ``estate`` for the configured topology, else the tile's file (no topic levels)."""
    return file.replace("/", ":") if file else "estate"


class ViewPublisher:
    def __init__(
        self,
        service: WallService,
        topologies: dict[str, Topology],
        loop: LoopHooks,
        publish: Publish,
        setup: Callable[[], Setup] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``setup``: what a display needs to build the scene, read again when the layouts change."""
        self._now = monotonic
        self._cost_s = 0.0  # what the last flush took: during a flood the lists' rows cost 10-25 ms
        self.service = service
        self.publish = publish
        self._setup = setup
        self._diagnostics_due = True
        engine = service.engine
        self.maps = {map_name(f): TopologyState(t, engine) for f, t in topologies.items()}
        self.lists: dict[str, RankedFeed] = {}
        self.seq = 0  # one sequence for all view messages of this controller run (with its epoch)
        self._last: dict[str, str] = {}  # topic -> the content last published (without seq and time)
        self._last_flush = 0.0
        self._last_kpi = 0.0
        self._timer = Timer(loop, self.flush)
        self._kpi_timer = Timer(loop, self.flush)
        self.set_layouts(service.layouts)
        self._subs = Subscriptions()
        self._subs.add(engine.changed, self._dirty)
        self._subs.add(engine.bulk_changed, self._dirty)
        self._subs.add(service.state_changed, self._dirty)
        self._subs.add(service.layouts_changed, self.set_layouts)
        self._subs.add(service.diagnostics_changed, self._diagnostics_dirty)
        self._subs.add(service.decision_changed, self._decided)
        self.published = 0

    def set_layouts(self, layouts: LayoutSet) -> None:
        """One ranking per distinct list of the layouts (sort, filter, grouping)."""
        wanted: dict[str, AlarmListOptions] = {}
        for opts in layouts.tile_options.values():
            if isinstance(opts, AlarmListOptions):
                wanted.setdefault(list_id(opts.sort, opts.filter, opts.show_consequences), opts)
        self._setup_due = True
        for name in set(self.lists) - set(wanted):
            self.lists.pop(name).close()
            self._last.pop(f"view/lists/{name}", None)
        engine, groups = self.service.engine, self.service.parts.groups
        for name, o in wanted.items():
            if name not in self.lists:
                self.lists[name] = RankedFeed(
                    engine,
                    o.sort,
                    o.filter,
                    groups,
                    group_consequences=o.show_consequences,
                    limit=VIEW_ROWS,
                    backlog=self.service.backlog,
                )
        self._dirty()

    def _diagnostics_dirty(self) -> None:
        self._diagnostics_due = True
        self._dirty()

    def _decided(self, _decision: object) -> None:
        """A new decision (a mode switch, a focus): the views go out with its state, not up to 100 ms later. Display
        nodes switch 40 ms after the decision; views arriving at that instant made one node decode them before its
        paint and the other after."""
        self.flush()

    def _dirty(self, *_args: Any) -> None:
        if self._timer.active:
            return
        interval = max(MIN_INTERVAL_S, COST_SHARE * self._cost_s)
        self._timer.start(max(0.0, self._last_flush + interval - self._now()))

    def flush(self) -> None:
        """Publish every projection whose content changed since it was last published; the next change arms the
        next flush, spaced by what this one cost."""
        self._timer.stop()
        self._last_flush = t0 = self._now()
        try:
            self._flush()
        finally:
            self._cost_s = self._now() - t0

    def _flush(self) -> None:
        s = self.service
        e, now = s.engine, s.clock.now()
        if self._setup is not None and self._setup_due:
            self._setup_due = False
            self._send("view/setup", encode_setup(self._setup(), seq=0, now=now))
        if self._diagnostics_due:  # encoded when they changed, not on every flush of a flood
            self._diagnostics_due = False
            self._send("view/diagnostics", encode_diagnostics(s.diagnostics, seq=0, now=now))
        for name, feed in self.lists.items():
            rows = encode_rows(feed.rows(), seq=0, now=now, list_name=name, incident_of=s.incident_of)
            self._send(f"view/lists/{name}", rows)
        self._send(
            "view/picture",
            encode_picture(
                e.counts(),
                dict(e.set_aside_by_severity()),
                e.oldest_unacked(),
                e.flood.active,
                e.flood.per_minute,
                seq=0,
                now=now,
            ),
        )
        for name, state in self.maps.items():
            if state.dirty_nodes or state.dirty_links or f"view/map/{name}" not in self._last:
                state.dirty_nodes.clear()
                state.dirty_links.clear()
                self._send(f"view/map/{name}", encode_map(state, seq=0, now=now, name=name))
        if self._now() - self._last_kpi >= KPI_INTERVAL_S:
            self._last_kpi = self._now()
            self._send("view/kpis", encode_kpis(s.kpis, seq=0, now=now))
            self._send("view/health", encode_health(s.health.figures(now), seq=0, now=now))  # sent when it changed
        if not self._kpi_timer.active:  # the KPI charts and the alarm-health figures move with time, too
            self._kpi_timer.start(KPI_INTERVAL_S)

    def republish(self) -> None:
        """Send every projection again, changed or not (a standby controller that took the wall over computed
        them all along, but sent nothing: the retained messages are still its predecessor's)."""
        self._last.clear()
        self._setup_due = self._diagnostics_due = True
        self._last_kpi = 0.0
        for state in self.maps.values():
            state.dirty_nodes.clear()
            state.dirty_links.clear()
        self.flush()

    def _send(self, topic: str, body: dict[str, Any]) -> None:
        """Publish ``body`` if its content changed. It is encoded once: the sequence, time and epoch are spliced
        in front of the content compared (a flood's lists were encoded twice per flush)."""
        content = dumps_strict({k: v for k, v in body.items() if k not in ("seq", "time")})
        if self._last.get(topic) == content:
            return
        self._last[topic] = content
        self.seq += 1
        head = [f'"seq": {self.seq}', f'"epoch": {dumps_strict(round(self.service.started, 3))}']
        if "time" in body:
            head.append(f'"time": {dumps_strict(body["time"])}')
        inner = content[1:-1]
        self.publish(topic, "{" + ", ".join([*head, inner] if inner else head) + "}")
        self.published += 1

    def close(self) -> None:
        self._timer.stop()
        self._kpi_timer.stop()
        self._subs.disconnect_all()
        for feed in self.lists.values():
            feed.close()


def read_setup_files(
    layouts_dir: Path, topologies: dict[str, Path], source_key: str | None = None
) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, str]]]:
    """The texts a :class:`Setup` carries, read from the controller's folders, and how the topologies' node ids
    are read (``source_key``: the display must key its maps as the controller does)."""
    layouts = {
        str(p.relative_to(layouts_dir)): p.read_text(encoding="utf-8") for p in layout_files(layouts_dir) if p.exists()
    }
    assets = {}
    for p in sorted(layouts_dir.rglob("*")):
        if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg", ".svg") and p.stat().st_size <= 2_000_000:
            assets[str(p.relative_to(layouts_dir))] = base64.b64encode(p.read_bytes()).decode()
    topos = {}
    for key, path in topologies.items():
        cache = path.with_name(path.name + ".positions.json")
        topos[key] = {
            "name": path.name,
            "text": path.read_text(encoding="utf-8"),
            "positions": cache.read_text(encoding="utf-8") if cache.exists() else "",
            "source_key": source_key or "",
        }
    return layouts, assets, topos
