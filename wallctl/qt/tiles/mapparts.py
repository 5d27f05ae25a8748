"""The map's parts apart from the tile itself: the change feed shared by tiles on one topology, node labels, and the
legend."""

from __future__ import annotations

from weakref import WeakKeyDictionary

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsWidget, QStyleOptionGraphicsItem, QWidget

from wallctl.core.severity import Severity
from wallctl.core.topostate import Edge, TopologyState
from wallctl.qt import theme


class DirtyFeed:
    """Hands every change of one topology state to each tile that draws it.

    ``TopologyState.take_dirty`` empties the state's dirty sets, so with two tiles on one file (the normal map and a
    whole-wall map with other options) the first tile's timer took every change and the second never drew them.
    """

    def __init__(self, state: TopologyState) -> None:
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


_FEEDS: WeakKeyDictionary[TopologyState, DirtyFeed] = WeakKeyDictionary()


def dirty_feed(state: TopologyState) -> DirtyFeed:
    """The one feed of ``state``, shared by every tile drawing it."""
    feed = _FEEDS.get(state)
    if feed is None:
        feed = _FEEDS[state] = DirtyFeed(state)
    return feed


class NodeLabel(pg.TextItem):
    """A node label whose dark box is drawn where its text is.

    pyqtgraph's ``TextItem`` sets the painter to its scene transform on its first paint in a scene, which is right
    only for a view at scale 1 over the scene's origin; every monitor view and the ``--png`` render are neither, so
    the box landed elsewhere (stray black rectangles over the map). Here the new transform is composed with the
    painter's own."""

    def __init__(self, text: str) -> None:
        super().__init__(text, color=theme.TEXT, anchor=(0.5, -0.6), fill=pg.mkBrush(0, 0, 0, 170))
        self.setFont(theme.font(13, bold=True))
        self._hooked: object | None = None

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
    """What colour, shape, fill and blinking mean on the map (colour is never the only cue)."""

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

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setZValue(10)
        self.resize(330, 24 * (len(self.ROWS) + len(self.NOTES)) + 16)

    def paint(self, p: QPainter, _o: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(11, 15, 20, 215))
        p.setFont(theme.font(10, bold=True))
        y = 12.0
        for sev, text in self.ROWS:
            path = Symbols[theme.SEVERITY_SYMBOLS[sev]]
            p.save()
            p.translate(20, y + 8)
            p.scale(16, 16)
            p.setPen(QPen(QColor("#ffffff"), 0.08))
            p.setBrush(theme.SEVERITY_COLORS[sev])
            p.drawPath(path)
            p.restore()
            p.setPen(theme.TEXT)
            p.drawText(QRectF(40, y, 280, 18), Qt.AlignmentFlag.AlignVCenter, text)
            y += 24
        p.setFont(theme.font(9))
        for note in self.NOTES:
            p.setPen(theme.MUTED)
            p.drawText(QRectF(12, y, 310, 18), Qt.AlignmentFlag.AlignVCenter, note)
            y += 24
