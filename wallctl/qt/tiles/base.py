"""What every tile shares: a dark panel, a caption, the focus frame, and a focus target it may react to.

Captions are secondary text, sized by visual angle at the wall's viewing distance (see wallctl.core.wall.legibility)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractAnimation, QRectF, Qt, QTimer
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsWidget, QStyleOptionGraphicsItem, QWidget

from wallctl.core.signal import Subscriptions
from wallctl.qt import theme


def stop_timers(obj: object) -> None:
    for value in vars(obj).values():
        if isinstance(value, QTimer | QAbstractAnimation):
            value.stop()


class Tile(QGraphicsWidget):
    """Base tile. Subclasses paint in :meth:`paint_content` or place child items in :meth:`layout_content`."""

    kind = "tile"

    def __init__(self, title: str | None = None, options: Any = None) -> None:
        super().__init__()
        self.title = title
        self.options = options
        self.focused = False
        self.focus_target: str | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.subs = Subscriptions()

    # ---------------------------------------------------------------- API used by the wall
    def shutdown(self) -> None:
        """Stop timers and animations, and drop subscriptions, before the tile goes (no calls into dead items)."""
        stop_timers(self)
        self.subs.disconnect_all()

    def set_focused(self, focused: bool, target: str | None) -> None:
        changed = focused != self.focused or target != self.focus_target
        self.focused, self.focus_target = focused, target
        if changed:
            self.on_focus(target if focused else None)
            self.update()

    def on_focus(self, target: str | None) -> None:
        """React to a focus target (the topology zooms to it); most tiles only show the frame."""

    def settle(self) -> None:
        """Finish what is put off to the next refresh, before a still picture is taken without the loop turning."""

    def content_rect(self) -> QRectF:
        r = self.rect().adjusted(6, 6, -6, -6)
        if self.title:
            r.setTop(r.top() + theme.sizes().title_h)
        return r

    def relayout(self) -> None:
        """Place children again: after the text sizes changed (another viewing distance), as after a resize."""
        self.layout_content(self.content_rect())
        self.update()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.layout_content(self.content_rect())

    def layout_content(self, rect: QRectF) -> None:
        """Place child items (pyqtgraph views) in ``rect``."""

    # ---------------------------------------------------------------- painting
    def paint(self, p: QPainter, _opt: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        r = self.rect()
        p.fillRect(r, theme.PANEL)
        p.setPen(QPen(theme.PANEL_EDGE, 2))
        p.drawRect(r.adjusted(1, 1, -1, -1))
        if self.title:
            p.setFont(theme.secondary_font(bold=True))
            p.setPen(theme.MUTED)
            p.drawText(r.adjusted(16, 6, -16, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.title)
        p.save()
        p.setClipRect(self.content_rect())
        self.paint_content(p, self.content_rect())
        p.restore()
        if self.focused:
            p.setPen(QPen(theme.FOCUS, 6))
            p.drawRect(r.adjusted(3, 3, -3, -3))

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        pass
