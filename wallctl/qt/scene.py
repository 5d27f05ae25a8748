"""The whole wall as one graphics scene, in wall pixels (bezel gaps included); every monitor window is a view
onto its own rectangle of it, so a region that spans monitors is one tile drawn across them.

Tiles are built once per distinct tile configuration and reused by every mode that shows them: switching mode
only moves, resizes, shows and hides items.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from wallctl.core.topology.model import Topology
from wallctl.core.view.source import WallSource
from wallctl.core.wall.layout import Cells, Mode, Rect, WallGeometry
from wallctl.core.wall.legibility import region_rect
from wallctl.core.wall.presets import LayoutSet
from wallctl.core.wall.rules import Decision
from wallctl.qt import theme
from wallctl.qt.banner import BannerItem, BannerTile
from wallctl.qt.keys_overlay import Binding
from wallctl.qt.tiles.alarms import AlarmListTile, AlarmSummaryTile
from wallctl.qt.tiles.base import Tile
from wallctl.qt.tiles.charts import AlarmRateTile, KpiTile
from wallctl.qt.tiles.diagnostics import DiagnosticsTile
from wallctl.qt.tiles.health import AlarmHealthTile
from wallctl.qt.tiles.simple import ClockTile, ImageTile, TextTile
from wallctl.qt.tiles.topology import TopologyTile


def qrect(r: Rect) -> QRectF:
    return QRectF(r.x, r.y, r.w, r.h)


class TileFactory:
    def __init__(self, source: WallSource, topologies: dict[str, Topology], layouts_dir: Path) -> None:
        """``topologies``: by the file a topology tile names ('' for the configured one)."""
        self.source = source
        self.topologies = topologies
        self.layouts_dir = layouts_dir
        self.built = 0
        self.bindings: list[Binding] = []  # the wall's keys (the composition root knows them), for diagnostics

    def key(self, region_type: str, options: Any, occurrence: int) -> tuple[Any, ...]:
        return (region_type, repr(options), occurrence)

    def build(self, tile_type: str, title: str | None, options: Any) -> Tile:
        s = self.source
        now = s.clock.now
        self.built += 1
        match tile_type:
            case "topology":
                file = options.file or ""
                state = s.map_state(file)
                assert state is not None, f"no topology for {file!r}"  # validation and the wire guarantee one
                return TopologyTile(title, options, self.topologies[file], state)
            case "alarm_list":
                return AlarmListTile(title, options, s.list_feed(options), lambda: s.selected, s.state_changed)
            case "alarm_summary":
                return AlarmSummaryTile(title, options, s.picture, now, s.state_changed)
            case "alarm_rate":
                return AlarmRateTile(title, options, s.picture.flood, now, s.state_changed)
            case "kpi":
                return KpiTile(title, options, s.kpis, now)
            case "clock":
                return ClockTile(title, options, now)
            case "alarm_health":
                return AlarmHealthTile(title, options, s.health, s.state_changed)
            case "text":
                return TextTile(title, options)
            case "image":
                return ImageTile(title, options, self.layouts_dir)
            case "diagnostics":
                return DiagnosticsTile(title, options, s, lambda: self.bindings)
            case "banner":
                return BannerTile(s, now, options.font_pt)  # type: ignore[return-value]
        raise ValueError(f"unknown tile type {tile_type!r}")  # validation makes this unreachable


class WallScene(pg.GraphicsScene):  # type: ignore[misc]  # pyqtgraph has no type hints: its classes are Any
    def __init__(self, source: WallSource, factory: TileFactory, layouts: LayoutSet) -> None:
        super().__init__()
        self.source = source
        self.factory = factory
        self.setBackgroundBrush(theme.BACKGROUND)
        self.tiles: dict[tuple[Any, ...], Tile] = {}
        self.placement: dict[str, dict[str, Tile]] = {}  # mode -> region -> tile
        self.banners: list[BannerItem] = []
        self.overlays: dict[str, Tile] = {}  # shown over the focus zone by a key: diagnostics, keys
        self.notice: str | None = None
        self.notice_short: str | None = None
        self.mode: str | None = None
        self.last_switch_s = 0.0
        self.set_layouts(layouts)

    # ---------------------------------------------------------------- layouts
    def set_topologies(self, topologies: dict[str, Topology]) -> None:
        """Maps drawn from new topology files (a display node after its controller restarted with another map):
        the map tiles are built again; everything else stays."""
        self.factory.topologies = topologies
        for key, tile in list(self.tiles.items()):
            if key[0] == "topology":
                tile.shutdown()
                self.removeItem(tile)
                del self.tiles[key]
        self.set_layouts(self.layouts)

    def set_layouts(self, layouts: LayoutSet) -> None:
        """Build what the new layouts need, reuse what they share with the old ones, drop the rest."""
        self.layouts = layouts
        self.geometry = WallGeometry(layouts.wall)
        resized = theme.apply_wall(layouts.wall)  # text sized for this wall's panels and viewing distance
        w, h = self.geometry.size
        self.setSceneRect(0, 0, w, h)
        wanted: dict[tuple[Any, ...], Tile] = {}
        placement: dict[str, dict[str, Tile]] = {}
        for mode in layouts.modes.values():
            seen: dict[tuple[str, str], int] = {}
            placement[mode.name] = {}
            for region in mode.regions:
                options = layouts.tile_options[(mode.name, region.name)]
                base = (region.tile.type, repr(options))
                occurrence = seen.get(base, 0)
                seen[base] = occurrence + 1
                key = self.factory.key(region.tile.type, options, occurrence)
                tile = wanted.get(key) or self.tiles.get(key)
                if tile is None:
                    tile = self.factory.build(region.tile.type, region.tile.title, options)
                    tile.hide()
                    self.addItem(tile)
                wanted[key] = tile
                placement[mode.name][region.name] = tile
        for key, tile in self.tiles.items():
            if key not in wanted:
                tile.shutdown()
                self.removeItem(tile)
        self.tiles = wanted
        self.placement = placement
        if resized:
            for tile in wanted.values():
                if isinstance(tile, Tile):
                    tile.relayout()
        self._place_banners()
        self.mode = None

    def _place_banners(self) -> None:
        for b in self.banners:
            b.shutdown()
            self.removeItem(b)
        self.banners = []
        wall, h = self.layouts.wall, theme.sizes().banner_h
        if wall.banner == "none":
            return
        # along the bottom row: one strip over its monitors (primary type leaves ~50 characters a panel); else
        # one banner a monitor
        rows = (
            [[(wall.rows - 1, c) for c in range(wall.columns)]]
            if wall.banner == "bottom_row"
            else [[cell] for cell in self.geometry.monitors()]
        )
        for cells in rows:
            panels = [self.geometry.monitor_rect(r, c) for r, c in cells]
            x0, bottom = panels[0].x, panels[0].bottom
            banner = BannerItem(self.source, self.source.clock.now, lambda: self.notice, lambda: self.notice_short)
            banner.setGeometry(QRectF(x0, bottom - h, panels[-1].right - x0, h))
            banner.panels = [(m.x - x0, m.right - x0) for m in panels]
            self.addItem(banner)
            self.banners.append(banner)

    # ---------------------------------------------------------------- modes
    def apply(self, decision: Decision) -> None:
        t0 = time.perf_counter()
        mode = self.layouts.modes.get(decision.mode)
        if mode is None:
            return
        if decision.mode != self.mode:
            self._show_mode(mode)
            self.mode = decision.mode
        for region in mode.regions:
            tile = self.placement[mode.name][region.name]
            tile.title = region.tile.title
            tile.set_focused(region.name == decision.focus_region, decision.focus_target)
        self.last_switch_s = time.perf_counter() - t0

    def _show_mode(self, mode: Mode) -> None:
        shown = set()
        for region in mode.regions:
            tile = self.placement[mode.name][region.name]
            tile.setGeometry(qrect(region_rect(self.geometry, region.cells, theme.sizes())))
            tile.title = region.tile.title
            tile.show()
            shown.add(id(tile))
        for tile in self.tiles.values():
            if id(tile) not in shown:
                tile.hide()

    # ---------------------------------------------------------------- overlays
    def toggle_overlay(self, name: str, build: Callable[[], Tile]) -> bool:
        """Show or hide the overlay ``name`` over the focus zone (built on first use), one at a time; returns
        whether it is now shown."""
        tile = self.overlays.get(name)
        if tile is None:
            tile = self.overlays[name] = build()
            tile.setZValue(50)
            tile.hide()
            self.addItem(tile)
        wall = self.layouts.wall
        zone = wall.focus_zone or Cells(0, 0, wall.rows, wall.columns)
        tile.setGeometry(qrect(self.geometry.cells_rect(zone)).adjusted(40, 40, -40, -120))
        show = not tile.isVisible()
        for other in self.overlays.values():
            other.hide()
        tile.setVisible(show)
        return show

    def dispose(self) -> None:
        """Tear everything down while Qt is still alive (Python's shutdown order is no place for Qt objects)."""
        items: list[Tile | BannerItem] = [*self.tiles.values(), *self.banners, *self.overlays.values()]
        for item in items:
            item.shutdown()
        self.clear()
        self.tiles = {}
        self.banners = []
        self.overlays = {}
        self.placement = {}

    def region_rect(self, mode: str, region: str) -> QRectF:
        m = self.layouts.modes[mode]
        r = m.region(region)
        assert r is not None
        return qrect(self.geometry.cells_rect(r.cells))

    def background(self) -> QColor:
        return theme.BACKGROUND
