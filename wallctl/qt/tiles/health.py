"""The alarm-health tile (issue 19): is the room's alarm load one an operator can cope with, and who makes the noise.

The last 10 minutes' annunciations against EEMUA 191's lines (1 acceptable, 2 manageable, above 10 a flood) as a
gauge in the level's colour, the last hour's mean, and today's top bad actors: the alarms a manager should have
fixed at their source. Words, not only colours: the level is written out.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from wallctl.core.measures.live import HealthFigures
from wallctl.core.signal import Signal
from wallctl.core.wall.tiles import AlarmHealthOptions
from wallctl.qt import theme
from wallctl.qt.tiles.base import Tile

LEVEL_COLORS = {
    "acceptable": theme.GOOD,
    "manageable": QColor("#f0e442"),
    "over-demanding": QColor("#ff9f0a"),
    "flood": QColor("#ff3b30"),
}
GAUGE_MAX = 12.0  # per 10 minutes: the flood line (10) sits near the end


class AlarmHealthTile(Tile):
    kind = "alarm_health"

    def __init__(
        self, title: str | None, options: AlarmHealthOptions, figures: Callable[[], HealthFigures], changed: Signal[[]]
    ) -> None:
        super().__init__(title, options)
        self.figures = figures
        self.subs.add(changed, self.update)

    def lines(self) -> list[str]:
        """The tile's text, top to bottom (also what the tests read)."""
        h = self.figures()
        o: AlarmHealthOptions = self.options
        out = [
            f"{h.last_10min} alarms in the last 10 min: {h.level.upper()}",
            f"last hour: {h.mean_10min_hour:g} per 10 min  ·  today: {h.total_24h}",
            "target ≤ 1 per 10 min · manageable ≤ 2 · flood > 10 (EEMUA 191)",
        ]
        if h.top:
            out.append("most frequent today:")
            out += [f"{n:>5}  {source}  {type_}" for source, type_, n in h.top[: o.top]]
        return out

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        h = self.figures()
        color = LEVEL_COLORS.get(h.level, theme.TEXT)
        lines = self.lines()
        gauge_h = max(18.0, rect.height() * 0.12)
        gauge = QRectF(rect.x() + 8, rect.y() + 8, rect.width() - 16, gauge_h)
        p.fillRect(gauge, theme.PANEL_EDGE)
        fill = gauge.adjusted(0, 0, -gauge.width() * (1 - min(h.last_10min, GAUGE_MAX) / GAUGE_MAX), 0)
        p.fillRect(fill, color)
        p.setPen(theme.TEXT)
        for mark in (1, 2, 10):  # EEMUA 191's lines on the gauge
            x = gauge.x() + gauge.width() * mark / GAUGE_MAX
            p.drawLine(int(x), int(gauge.top()), int(x), int(gauge.bottom()))
        y = gauge.bottom() + 8
        p.setFont(theme.primary_font(bold=True))
        p.setPen(color)
        head = QRectF(rect.x() + 8, y, rect.width() - 16, rect.height() * 0.16)
        p.drawText(head, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, lines[0])
        p.setFont(theme.secondary_font())
        p.setPen(theme.TEXT)
        rest = QRectF(rect.x() + 8, head.bottom() + 4, rect.width() - 16, rect.bottom() - head.bottom() - 4)
        p.drawText(rest, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, "\n".join(lines[1:]))
