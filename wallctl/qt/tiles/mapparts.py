"""The map's parts apart from the tile itself: the change feed shared by tiles on one topology, the palette, labels,
site areas and the legend. Labels of alarmed nodes are primary text, other labels and the legend secondary (see
wallctl.core.wall.legibility)."""

from __future__ import annotations

from weakref import WeakKeyDictionary

import networkx as nx
import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsWidget, QStyleOptionGraphicsItem, QWidget

from wallctl.core.severity import Severity
from wallctl.core.topology.model import Topology
from wallctl.core.topology.state import Edge
from wallctl.core.view.source import MapState
from wallctl.qt import theme


class DirtyFeed:
    """Hands every change of one topology state to each tile that draws it.

    ``MapState.take_dirty`` empties the state's dirty sets, so with two tiles on one file (the normal map and a
    whole-wall map with other options) the first tile's timer took every change and the second never drew them.
    """

    def __init__(self, state: MapState) -> None:
        self.state = state
        self.pending: dict[int, tuple[set[str], set[Edge]]] = {}

    def join(self, reader: object) -> None:
        self._drain()
        self.pending[id(reader)] = (set(), set())

    def leave(self, reader: object) -> None:
        self.pending.pop(id(reader), None)

    def take(self, reader: object) -> tuple[set[str], set[Edge]]:
        self._drain()
        out = self.pending.get(id(reader), (set(), set()))
        self.pending[id(reader)] = (set(), set())
        return out

    def _drain(self) -> None:
        nodes, links = self.state.take_dirty()
        if nodes or links:
            for n, ln in self.pending.values():
                n |= nodes
                ln |= links


_FEEDS: WeakKeyDictionary[MapState, DirtyFeed] = WeakKeyDictionary()


def dirty_feed(state: MapState) -> DirtyFeed:
    """The one feed of ``state``, shared by every tile drawing it."""
    feed = _FEEDS.get(state)
    if feed is None:
        feed = _FEEDS[state] = DirtyFeed(state)
    return feed


class Palette:
    """Brushes and pens built once: pyqtgraph's symbol atlas caches by brush identity."""

    def __init__(self) -> None:
        self.normal_brush = pg.mkBrush(QColor("#6c7a89"))
        self.normal_pen = pg.mkPen(QColor("#0b0f14"), width=1)
        self.on: dict[Severity, QBrush] = {s: pg.mkBrush(c) for s, c in theme.SEVERITY_COLORS.items()}
        self.off: dict[Severity, QBrush] = {}
        self.hollow: dict[Severity, QPen] = {}
        for s, c in theme.SEVERITY_COLORS.items():
            dim = QColor(c)
            dim.setAlphaF(0.25)
            self.off[s] = pg.mkBrush(dim)
            self.hollow[s] = pg.mkPen(c, width=3)
        self.dark_brush = pg.mkBrush(QColor("#1b2430"))
        self.white_pen = pg.mkPen(QColor("#ffffff"), width=2)


LABEL_FILL = QColor(0, 0, 0, 170)


class NodeLabel(pg.TextItem):  # type: ignore[misc]  # pyqtgraph has no type hints: its classes are Any
    """A map label (a node's or a site's name) whose box is drawn where its text is, placed by its top-left corner.

    pyqtgraph's ``TextItem`` sets the painter to its scene transform on its first paint in a scene, which is right
    only for a view at scale 1 over the scene's origin; every monitor view and the ``--png`` render are neither, so
    the box landed elsewhere (stray black rectangles over the map). Here the new transform is composed with the
    painter's own."""

    def __init__(
        self, text: str, primary: bool = True, *, color: QColor = theme.TEXT, fill: QColor | None = None
    ) -> None:
        super().__init__(text, color=color, anchor=(0, 0), fill=pg.mkBrush(fill if fill is not None else LABEL_FILL))
        self.primary = primary
        self.restyle()
        self._hooked: object | None = None

    def set_primary(self, primary: bool) -> None:
        """Primary type for an alarmed node's name, secondary for a calm one's (and a site's)."""
        if primary != self.primary:
            self.primary = primary
            self.restyle()

    def restyle(self) -> None:
        """Take the current text sizes (set for the wall's viewing distance); an alarmed node's name on top."""
        self.setFont(theme.primary_font(bold=True) if self.primary else theme.secondary_font(bold=True))
        self.setZValue(7 if self.primary else 6)

    def box_size(self) -> tuple[float, float]:
        """Width and height of the label's box in scene pixels (its text does not scale with the map)."""
        r = self.textItem.boundingRect()
        return r.width(), r.height()

    def paint(self, p: QPainter, *_args: object) -> None:
        scene = self.scene()
        if scene is not self._hooked:
            if isinstance(self._hooked, pg.GraphicsScene):
                self._hooked.sigPrepareForPaint.disconnect(self.updateTransform)
            if isinstance(scene, pg.GraphicsScene):
                scene.sigPrepareForPaint.connect(self.updateTransform)
            self._hooked = scene
            before = self.sceneTransform()
            self.updateTransform()
            p.setTransform(self.sceneTransform() * before.inverted()[0] * p.transform())
        p.setPen(self.border)
        p.setBrush(self.fill)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.drawPolygon(self.textItem.mapToParent(self.textItem.boundingRect()))


class Legend(QGraphicsWidget):
    """What colour, shape, fill and blinking mean on the map (colour is never the only cue): a strip along the
    map's foot, in secondary type, flowed over as many lines as its width needs. The map is drawn above it, so the
    legend never covers a node or a name."""

    ROWS = [
        (Severity.CRITICAL, "critical"),
        (Severity.MAJOR, "major"),
        (Severity.MINOR, "minor"),
        (Severity.WARNING, "warning"),
    ]
    NOTES = [
        "outline only: consequence of a failure upstream",
        "blinking: not acknowledged",
        "green ring: back to normal, not acknowledged",
        f"{theme.FIRST_OUT_TAG} in the alarm list: first out, began the flood",
    ]
    PAD = 10

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setZValue(10)

    def _entries(self) -> list[tuple[Severity | None, str]]:
        return [*self.ROWS, *((None, n) for n in self.NOTES)]

    def flow(self, width: float) -> tuple[list[tuple[Severity | None, str, QRectF]], float]:
        """Each entry's rectangle (symbol and text) flowed into ``width``, and the height it takes."""
        bold, plain = QFontMetricsF(theme.secondary_font(bold=True)), QFontMetricsF(theme.secondary_font())
        line_h = plain.height() * 1.2
        sym = plain.capHeight() * 1.3
        gap = plain.horizontalAdvance("M") * 1.5
        x, y = float(self.PAD), float(self.PAD)
        out: list[tuple[Severity | None, str, QRectF]] = []
        for sev, text in self._entries():
            w = (sym + 10 + bold.horizontalAdvance(text)) if sev is not None else plain.horizontalAdvance(text)
            if x > self.PAD and x + w > width - self.PAD:
                x, y = self.PAD, y + line_h
            out.append((sev, text, QRectF(x, y, w, line_h)))
            x += w + gap
        return out, y + line_h + self.PAD

    def fit(self, width: float) -> float:
        """Take ``width`` and the height the entries need there; returns that height."""
        _, h = self.flow(width)
        self.resize(width, h)
        return h

    def paint(self, p: QPainter, _o: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(11, 15, 20, 215))
        entries, _ = self.flow(self.rect().width())
        bold, plain = theme.secondary_font(bold=True), theme.secondary_font()
        sym = QFontMetricsF(plain).capHeight() * 1.3
        for sev, text, r in entries:
            if sev is None:
                p.setFont(plain)
                p.setPen(theme.MUTED)
                p.drawText(r, Qt.AlignmentFlag.AlignVCenter, text)
                continue
            p.save()
            p.translate(r.left() + sym / 2, r.center().y())
            p.scale(sym, sym)
            p.setPen(QPen(QColor("#ffffff"), 0.08))
            p.setBrush(theme.SEVERITY_COLORS[sev])
            p.drawPath(Symbols[theme.SEVERITY_SYMBOLS[sev]])
            p.restore()
            p.setFont(bold)
            p.setPen(theme.TEXT)
            p.drawText(r.adjusted(sym + 10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)


SITE_FILL = QColor(18, 25, 34, 200)  # the panel's colour: links behind a site's name do not cross its letters


class SiteArea:
    """A site's shaded area (map units) and its name, shortened when room is tight ('Branch Chengdu': 'Chengdu')."""

    def __init__(self, site: str, area: QRectF, text: str, short: str) -> None:
        self.site, self.area, self.text, self.short = site, area, text, short
        self.label = NodeLabel(text, primary=False, color=theme.MUTED, fill=SITE_FILL)
        self.label.setZValue(1)  # under the nodes: a site's name never hides one
        self.full_w = 0.0  # the full name's width, as last measured


def site_areas(vb: pg.ViewBox, graph: nx.Graph, topology: Topology, pos: np.ndarray) -> list[SiteArea]:
    """A shaded area around each site's nodes in ``vb``, with the site's name (placed later, with the labels)."""
    by_site: dict[str, list[int]] = {}
    for i, n in enumerate(graph.nodes):
        site = graph.nodes[n].get("site")
        if site:
            by_site.setdefault(site, []).append(i)
    out = []
    for site, idx in by_site.items():
        info = topology.sites.get(site)
        if info is not None and info.kind == "wan":
            continue  # carriers and clouds sit between sites: no area around them
        (x0, y0), (x1, y1) = pos[idx].min(axis=0) - 45, pos[idx].max(axis=0) + 45
        rect = QGraphicsRectItem(QRectF(x0, y0 - 30, x1 - x0, y1 - y0 + 30))
        rect.setPen(QPen(QColor("#2a3644"), 0))
        rect.setBrush(QColor(255, 255, 255, 10))
        vb.addItem(rect)
        label = info.label if info is not None else site
        kind = f"{info.kind} " if info is not None else ""
        short = label[len(kind) :] if kind and label.lower().startswith(kind) else label
        area = SiteArea(site, rect.rect(), label, short)
        vb.addItem(area.label)
        out.append(area)
    return out
