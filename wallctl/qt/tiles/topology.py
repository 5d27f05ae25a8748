"""The live topology map (pyqtgraph): one scatter item for all nodes, one curve per link state, repainted on a
timer from the core's dirty sets, never per message. Severity shows as colour, shape and label.

Names of alarmed nodes are primary text, site names and calm nodes' names secondary; all are placed so that none
overlaps another (see tiles/labels.py), and the legend runs along the map's foot, below it."""

from __future__ import annotations

import time
from html import escape
from typing import Any

import networkx as nx
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractAnimation, QEasingCurve, QPointF, QRectF, Qt, QTimer, QVariantAnimation
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem

from wallctl.core.severity import Severity
from wallctl.core.topology.model import Topology
from wallctl.core.topology.state import NORMAL, ElementState
from wallctl.core.view.source import MapState
from wallctl.core.wall.tiles import TopologyOptions
from wallctl.qt import theme
from wallctl.qt.tiles.base import Tile
from wallctl.qt.tiles.labels import Raster, layout
from wallctl.qt.tiles.mapparts import Legend, NodeLabel, Palette, SiteArea, dirty_feed, site_areas

NODE_SIZE = 14
ALARM_SIZE = 30
REFRESH_MS = 100
FLASH_MS = 500
EDGE_NORMAL = QColor("#3b4a5c")
MAX_LABELS = 200  # node names tried, most important first: more cannot be read on one wall anyway
ZOOM_S = 0.45  # the focus zoom onto a target ...
ZOOM_FRAME_S = 0.05  # ... in steps this far apart: each is a repaint of the map's monitors (25-35 ms on a loaded
# display node of three); at the animation's 60 Hz the zoom kept the node busy for its whole length, and a mode
# switch coming meanwhile waited for frames and for the CPU they took
LABEL_S = 0.3  # labels placed again at most this often as alarms come and go (a 5,000-node storm: ~40 ms each)


class TopologyTile(Tile):
    kind = "topology"

    def __init__(self, title: str | None, options: TopologyOptions, topology: Topology, state: MapState) -> None:
        super().__init__(title, options)
        self.topology = topology
        self.state = state
        g = topology.graph
        if options.site:
            g = g.subgraph([n for n, d in g.nodes(data=True) if d.get("site") == options.site])
        self.graph = g
        self.ids: list[str] = list(g.nodes)
        self.index = {n: i for i, n in enumerate(self.ids)}
        pos = np.array([topology.positions.get(n, (0.0, 0.0)) for n in self.ids], dtype=float).reshape(-1, 2)
        self.node_xy = pos  # each node's position in map units, in the order of ``ids``
        self.colors = Palette()
        self.vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.04)
        self.vb.setParentItem(self)
        self.legend = Legend(self)
        self.vb.setMouseEnabled(False, False)
        self.vb.setBackgroundColor(theme.PANEL)
        self._labels_dirty = True  # names came or went: placed again within LABEL_S
        self._view_moved = True  # the view moved or resized: placed again at the next refresh
        self._laid_out_at = 0.0
        self._names_drawn = Raster(QRectF())  # where node names are drawn: a node raised there re-places them
        self.placed: dict[object, QRectF] = {}  # label -> where it is drawn, in scene pixels (tests look there)
        self._alarmed: set[int] = set()
        self._sites = site_areas(self.vb, self.graph, self.topology, self.node_xy)
        self.vb.sigTransformChanged.connect(self._labels_moved)
        self.vb.sigResized.connect(self._labels_moved)
        self.edges = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(EDGE_NORMAL, width=2), antialias=False)
        # the links rarely change: draw them from a cached pixmap instead of stroking 10,000 lines every frame
        self.edges.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.vb.addItem(self.edges)
        self.alarm_edges: dict[Severity, pg.PlotCurveItem] = {}
        for s in (Severity.WARNING, Severity.MINOR, Severity.MAJOR, Severity.CRITICAL):
            item = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen(theme.SEVERITY_COLORS[s], width=5))
            self.vb.addItem(item)
            self.alarm_edges[s] = item
        self.path = pg.PlotCurveItem(pen=pg.mkPen(theme.FOCUS, width=6, style=Qt.PenStyle.DashLine))
        self.vb.addItem(self.path)
        self.scatter = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=None)
        self.scatter.setZValue(2)  # over site names (z 1), under node names
        self.hovered: str | None = None
        self.scatter.sigHovered.connect(self._hover)
        self.vb.addItem(self.scatter)
        self._edge_array = self._edge_xy(list(g.edges))
        self.edges.setData(self._edge_array[:, 0], self._edge_array[:, 1])
        n = len(self.ids)
        self._symbols = np.array(["o"] * n, dtype=object)
        self._sizes = np.full(n, NODE_SIZE, dtype=float)
        self._brushes = np.array([self.colors.normal_brush] * n, dtype=object)
        self._pens = np.array([self.colors.normal_pen] * n, dtype=object)
        self.scatter.setData(pos=pos, symbol=self._symbols, size=self._sizes, brush=self._brushes, pen=self._pens)
        self._labels: dict[str, NodeLabel] = {}
        self._feed = dirty_feed(state)
        self._flash_on = True
        self._unacked: set[int] = set()
        self._auto_fit = True
        self.frames = 0
        self._refresh_timer = QTimer()
        self._refresh_timer.timeout.connect(self.refresh)
        self._refresh_timer.start(REFRESH_MS)
        self._flash_timer = QTimer()
        self._flash_timer.timeout.connect(self._flash)
        self._flash_timer.start(FLASH_MS)
        self._anim: QVariantAnimation | None = None
        self.apply_all()

    # ---------------------------------------------------------------- building
    def _edge_xy(self, edges: list[tuple[str, str]]) -> np.ndarray:
        if not edges:
            return np.zeros((0, 2))
        pairs = [(self.index[a], self.index[b]) for a, b in edges if a in self.index and b in self.index]
        idx = np.array(pairs, dtype=np.intp)
        if len(idx) == 0:
            return np.zeros((0, 2))
        return self.node_xy[idx.reshape(-1)]

    def layout_content(self, rect: QRectF) -> None:
        """Fit the map to its new rectangle. Its names are placed again at the next refresh, not here: a mode switch
        resizes the map inside the frame every display node must show at the same instant, and placing 200 names
        was a fifth of that frame's work. Meanwhile each name stays beside its node (names are anchored in map
        units), only not yet kept clear of the others."""
        legend_h = self.legend.fit(rect.width())
        self.legend.setPos(rect.left(), rect.bottom() - legend_h)
        self.vb.setGeometry(rect.adjusted(0, 0, 0, -legend_h))
        if self._auto_fit:
            self.vb.autoRange(padding=0.04)
        self.vb.updateMatrix()  # drawn right: a picture taken before the loop turns would show the old transform
        self._view_moved = True

    def relayout(self) -> None:
        for label in [*self._labels.values(), *(a.label for a in self._sites)]:
            label.restyle()
        self._labels_dirty = True
        super().relayout()

    def shutdown(self) -> None:
        super().shutdown()
        self._feed.leave(self)

    # ---------------------------------------------------------------- live state
    def refresh(self) -> None:
        nodes, links = self._feed.take(self)
        if nodes:
            self._apply_nodes(nodes)
        if links:
            self._apply_links()
        if nodes or links:
            self.frames += 1
        if self._zooming:
            return  # names ride along with their nodes; they are kept clear of each other once the zoom is done
        if self._view_moved or (self._labels_dirty and time.monotonic() - self._laid_out_at >= LABEL_S):
            self.layout_labels()

    @property
    def _zooming(self) -> bool:
        return self._anim is not None and self._anim.state() == QAbstractAnimation.State.Running

    def settle(self) -> None:
        if self.labels_pending:
            self.layout_labels()

    @property
    def labels_pending(self) -> bool:
        """Whether labels wait to be placed again (tests wait for this before looking)."""
        return self._labels_dirty or self._view_moved

    def apply_all(self) -> None:
        self._feed.join(self)
        self._apply_nodes(set(self.ids))
        self._apply_links()

    def _apply_nodes(self, nodes: set[str]) -> None:
        changed, raised = [], []
        for n in nodes:
            i = self.index.get(n)
            if i is None:
                continue
            st = self.state.node(n)
            if st.alarmed and i not in self._alarmed:
                raised.append(i)
            self._style(i, st)
            self._label(n, st)
            changed.append(i)
        self._push(changed)
        if raised:
            self._uncover(raised)

    def _uncover(self, indices: list[int]) -> None:
        """Hide the names placed over nodes that have just been raised (placed again within LABEL_S): an alarmed
        node is never under a name, and a storm of raises costs no more placing than LABEL_S allows."""
        m = self.vb.childGroup.sceneTransform()
        for i in indices:
            c, r = m.map(QPointF(float(self.node_xy[i, 0]), float(self.node_xy[i, 1]))), ALARM_SIZE / 2 + 2
            symbol = QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r)
            if not self._names_drawn.hits(symbol):
                continue
            for key in [k for k, rect in self.placed.items() if isinstance(k, str) and rect.intersects(symbol)]:
                del self.placed[key]
                self._labels[key].hide()
                self._labels_dirty = True

    def _push(self, indices: list[int]) -> None:
        """Write the styles of the changed spots only (pyqtgraph's setBrush/setPen rebuild every spot: ~6 ms each
        at 5,000 nodes); the spot atlas re-renders just the spots whose source rectangle is cleared."""
        if not indices:
            return
        idx = np.asarray(indices, dtype=int)
        data = self.scatter.data
        data["symbol"][idx] = self._symbols[idx]
        data["size"][idx] = self._sizes[idx]
        data["pen"][idx] = self._pens[idx]
        data["brush"][idx] = self._brushes[idx]
        data["sourceRect"]["w"][idx] = 0
        self.scatter.updateSpots(data)

    def _style(self, i: int, st: ElementState) -> None:
        pal = self.colors
        if st.alarmed:
            self._alarmed.add(i)
        else:
            self._alarmed.discard(i)
        if not st.alarmed:
            self._symbols[i], self._sizes[i] = "o", NODE_SIZE
            self._brushes[i], self._pens[i] = pal.normal_brush, pal.normal_pen
            if st.unacked:  # returned to normal, unacknowledged: green ring
                self._pens[i] = pal.hollow[Severity.CLEARED]
                self._sizes[i] = NODE_SIZE + 6
            self._unacked.discard(i)
            if st.unacked:
                self._unacked.add(i)
            return
        self._symbols[i] = theme.SEVERITY_SYMBOLS[st.severity]
        self._sizes[i] = ALARM_SIZE if not st.consequence else ALARM_SIZE * 0.75
        if st.consequence:  # a consequence: outline only, so the cause stands out
            self._brushes[i], self._pens[i] = pal.dark_brush, pal.hollow[st.severity]
        else:
            on = self._flash_on or not st.unacked
            self._brushes[i] = pal.on[st.severity] if on else pal.off[st.severity]
            self._pens[i] = pal.white_pen
        if st.unacked and not st.consequence:
            self._unacked.add(i)
        else:
            self._unacked.discard(i)

    def _hover(self, _item: object, points: list[Any], _ev: object) -> None:
        """A designer's pointer over a node (the preview; the wall has no cursor): label it while hovered, and
        show what its file says about it as the tooltip."""
        node = self.ids[points[0].index()] if len(points) else None
        if node == self.hovered:
            return
        self.vb.setToolTip(self.tip(node) if node is not None else "")
        previous, self.hovered = self.hovered, node
        for n in (previous, node):
            if n is not None:
                self._label(n, self.state.node(n))

    def tip(self, node: str) -> str:
        """The hovered node's name over what its file says about it (escaped: GraphML values are anyone's text)."""
        rows = "".join(f"<br>{escape(k)}: {escape(v)}" for k, v in self.topology.details(node))
        return f"<b>{escape(str(self.graph.nodes[node].get('label', node)))}</b>{rows}"

    def _label(self, node: str, st: ElementState) -> None:
        want = (
            node == self.hovered
            or self.options.labels == "all"
            or (self.options.labels == "alarmed" and (st.alarmed or node == self.focus_target))
        )
        have = self._labels.get(node)
        if want and have is None:
            text = NodeLabel(str(self.graph.nodes[node].get("label", node)), primary=st.alarmed)
            text.hide()  # until placed
            self.vb.addItem(text)
            self._labels[node] = text
            self._labels_dirty = True
        elif want and have is not None and have.primary != st.alarmed:
            have.set_primary(st.alarmed)
            self._labels_dirty = True
        elif not want and have is not None:
            self.vb.removeItem(have)
            del self._labels[node]
            self._labels_dirty = True

    def _labels_moved(self, *_args: object) -> None:
        self._view_moved = True

    def _label_rank(self, node: str) -> tuple[object, ...]:
        """Which name is placed first: causes before consequences, worse before milder, unacknowledged first."""
        st = self.state.node(node)
        return (not st.alarmed, st.consequence, -int(st.severity), not st.unacked, node != self.focus_target, node)

    def layout_labels(self) -> None:
        """Place every label where it overlaps no other label and no alarmed node (tiles/labels.py); what finds no
        room is hidden. Done again when the view moves or labels come and go, at most once a refresh."""
        self.vb.updateMatrix()  # first: a matrix brought up to date says the view moved, which this placing answers
        self._labels_dirty = self._view_moved = False
        self._laid_out_at = time.monotonic()
        m = self.vb.childGroup.sceneTransform()
        x, y = self.node_xy[:, 0], self.node_xy[:, 1]
        xy = np.column_stack((m.m11() * x + m.m21() * y + m.dx(), m.m12() * x + m.m22() * y + m.dy()))
        alarmed = np.zeros(len(self.ids), dtype=bool)
        alarmed[list(self._alarmed)] = True
        names = []
        for node in sorted(self._labels, key=self._label_rank)[:MAX_LABELS]:
            label = self._labels[node]
            names.append((node, self.index[node], *label.box_size(), label.primary))
        sites = [(area, m.mapRect(area.area), *self._site_widths(area)) for area in self._sites]
        bounds = self.vb.sceneBoundingRect()
        self.placed = layout(names, sites, xy, self._sizes / 2, alarmed, bounds)
        self._names_drawn = Raster(bounds)
        for key, box in self.placed.items():
            if isinstance(key, str):
                self._names_drawn.add(box.left(), box.top(), box.right(), box.bottom())
        from_scene = m.inverted()[0]
        for key, label in [*self._labels.items(), *((a, a.label) for a in self._sites)]:
            r = self.placed.get(key)
            if r is not None and isinstance(key, SiteArea):
                label.setText(key.text if abs(r.width() - key.full_w) < 0.5 else key.short)
            if r is not None:
                label.setPos(from_scene.map(r.topLeft()))
            label.setVisible(r is not None)

    def _site_widths(self, area: SiteArea) -> tuple[list[float], float]:
        """A site name's box widths, in full and shortened, and its height."""
        label = area.label
        w, h = label.box_size()
        fm = QFontMetricsF(label.textItem.font())
        bare = w - fm.horizontalAdvance(label.textItem.toPlainText())
        area.full_w = bare + fm.horizontalAdvance(area.text)
        return ([area.full_w, bare + fm.horizontalAdvance(area.short)] if area.short != area.text else [area.full_w]), h

    def _apply_links(self) -> None:
        by_sev: dict[Severity, list[tuple[str, str]]] = {s: [] for s in self.alarm_edges}
        for (a, b), st in self.state.links.items():
            if st.alarmed and a in self.index and b in self.index:
                by_sev[max(Severity.WARNING, st.severity)].append((a, b))
        for sev, item in self.alarm_edges.items():
            xy = self._edge_xy(by_sev[sev])
            item.setData(xy[:, 0], xy[:, 1]) if len(xy) else item.setData([], [])

    def _flash(self) -> None:
        if not self._unacked:
            return
        self._flash_on = not self._flash_on
        blinking = list(self._unacked)
        for i in blinking:
            self._style(i, self.state.node(self.ids[i]))
        self._push(blinking)

    # ---------------------------------------------------------------- focus
    def on_focus(self, target: str | None) -> None:
        if target is not None and target not in self.index and self.options.zoom_on_focus:
            members = [n for n, d in self.graph.nodes(data=True) if d.get("site") == target]
            if members:  # a site: show all of it
                self._auto_fit = False
                pts = self.node_xy[[self.index[n] for n in members]]
                (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
                pad = max(x1 - x0, y1 - y0, 300.0) * 0.15
                self.path.setData([], [])
                self._animate_to(QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad))
                return
        if target is None or target not in self.index or not self.options.zoom_on_focus:
            self.path.setData([], [])
            self._auto_fit = True
            self._animate_to(None)
            return
        self._auto_fit = False
        self._animate_to(self.focus_rect(target))
        root = self.topology.root
        if root is not None and root in self.graph and nx.has_path(self.graph, root, target):
            route = nx.shortest_path(self.graph, root, target)
            xy = self.node_xy[[self.index[n] for n in route]]
            self.path.setData(xy[:, 0], xy[:, 1])
        for n in list(self._labels):
            self._label(n, self.state.node(n))
        self._label(target, self.state.node(target) if target in self.graph else NORMAL)

    def focus_rect(self, target: str) -> QRectF:
        """The area to show for a target: its site (the branch, the data center), else it and its neighbours."""
        g = self.graph
        site = g.nodes[target].get("site")
        info = self.topology.sites.get(site) if site else None
        if site and (info is None or info.kind != "wan"):
            near = [n for n, d in g.nodes(data=True) if d.get("site") == site]
        else:
            near = [target, *g.neighbors(target)]
        pts = self.node_xy[[self.index[n] for n in near if n in self.index]]
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = max(x1 - x0, 1300.0) * 1.3, max(y1 - y0, 700.0) * 1.3  # some context around it
        return QRectF(cx - w / 2, cy - h / 2, w, h)

    def _animate_to(self, rect: QRectF | None) -> None:
        if self._anim is not None:  # a zoom still under way must not carry the view back to its old target
            self._anim.stop()
            self._anim = None
        if rect is None:
            self.vb.autoRange(padding=0.04)
            return
        start = self.vb.viewRect()
        anim = QVariantAnimation()
        anim.setDuration(round(ZOOM_S * 1000))
        anim.setStartValue(0.0)
        anim.setEndValue(1.0)
        anim.setEasingCurve(QEasingCurve.Type.InOutCubic)

        stepped = [float("-inf")]

        def step(t: float) -> None:
            now = time.monotonic()
            if t < 1.0 and now - stepped[0] < ZOOM_FRAME_S - 0.005:  # a tick a little early still steps
                return  # the animation ticks at the screen's rate; the map moves at ZOOM_FRAME_S
            stepped[0] = now
            r = QRectF(
                start.x() + (rect.x() - start.x()) * t,
                start.y() + (rect.y() - start.y()) * t,
                start.width() + (rect.width() - start.width()) * t,
                start.height() + (rect.height() - start.height()) * t,
            )
            self.vb.setRange(rect=r, padding=0)

        anim.valueChanged.connect(step)
        anim.finished.connect(self._labels_moved)  # names placed for where the zoom ended
        anim.start()
        self._anim = anim

    def node_scene_pos(self, node: str) -> Any:
        """Where ``node`` is drawn, in scene coordinates (tests look at the pixels there)."""
        i = self.index[node]
        return self.vb.mapViewToScene(pg.Point(float(self.node_xy[i, 0]), float(self.node_xy[i, 1])))
