"""Text, clock and image tiles. A layout's ``font_pt`` is honoured down to secondary size (10 arcminutes at the
viewing distance); the clock's digits fill their tile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter

from wallctl.core.wall.tiles import ClockOptions, ImageOptions, TextOptions
from wallctl.qt import theme
from wallctl.qt.tiles.base import Tile

_ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "center": Qt.AlignmentFlag.AlignHCenter,
    "right": Qt.AlignmentFlag.AlignRight,
}


class TextTile(Tile):
    kind = "text"

    def __init__(self, title: str | None, options: TextOptions) -> None:
        super().__init__(title, options)

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        o: TextOptions = self.options
        p.setFont(theme.secondary_font(bold=True, at_least_pt=o.font_pt))
        p.setPen(theme.TEXT)
        p.drawText(
            rect.adjusted(20, 10, -20, -10),
            _ALIGN[o.align] | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
            o.text,
        )


class ClockTile(Tile):
    kind = "clock"

    def __init__(self, title: str | None, options: ClockOptions, now: Any) -> None:
        super().__init__(title, options)
        self._now = now
        self._tz = ZoneInfo(options.timezone) if options.timezone else None
        self._timer = QTimer()
        self._timer.timeout.connect(self.update)
        self._timer.start(1000 if options.seconds else 10_000)

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        o: ClockOptions = self.options
        t = dt.datetime.fromtimestamp(self._now(), tz=self._tz) if self._tz else dt.datetime.fromtimestamp(self._now())
        main = t.strftime("%H:%M:%S" if o.seconds else "%H:%M")
        size = min(rect.height() * 0.42, rect.width() / 5.6) / 1.333
        p.setPen(theme.TEXT)
        p.setFont(theme.font(size, bold=True, mono=True))
        top = QRectF(rect.x(), rect.y(), rect.width(), rect.height() * 0.62)
        p.drawText(top, Qt.AlignmentFlag.AlignCenter, main)
        p.setFont(theme.secondary_font(at_least_pt=size * 0.28))
        p.setPen(theme.MUTED)
        lines = [t.strftime("%A %d %B %Y")]
        if o.utc_line:
            lines.append("UTC " + dt.datetime.fromtimestamp(self._now(), tz=dt.UTC).strftime("%H:%M:%S"))
        bottom = QRectF(rect.x(), rect.y() + rect.height() * 0.6, rect.width(), rect.height() * 0.4)
        p.drawText(bottom, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, "\n".join(lines))


class ImageTile(Tile):
    kind = "image"

    def __init__(self, title: str | None, options: ImageOptions, base: Path) -> None:
        super().__init__(title, options)
        path = (base / options.path).resolve()
        self.image = QImage(str(path))
        self.error = None if not self.image.isNull() else f"cannot load image {path}"

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        if self.error:
            p.setPen(theme.MUTED)
            p.setFont(theme.secondary_font())
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.error)
            return
        target = rect
        if self.options.keep_aspect:
            img_ratio = self.image.width() / max(1, self.image.height())
            w = min(rect.width(), rect.height() * img_ratio)
            h = w / img_ratio
            target = QRectF(rect.center().x() - w / 2, rect.center().y() - h / 2, w, h)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(target, self.image)
