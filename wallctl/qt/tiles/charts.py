"""Alarm-rate chart (EEMUA 191 lines) and KPI chart tiles, drawn with pyqtgraph.

Ticks, axis names, line labels and legends are secondary text (10 arcminutes at the viewing distance); the FLOOD
warning is primary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetricsF, QPainter

from wallctl.core.alarms.flood import FloodDetector
from wallctl.core.kpi import KpiBoard
from wallctl.core.severity import Severity
from wallctl.core.signal import Signal
from wallctl.core.wall.tiles import AlarmRateOptions, KpiOptions
from wallctl.qt import theme
from wallctl.qt.tiles.base import Tile


class _Axis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph has no type hints: its classes are Any
    """An axis that also draws in a picture of the scene taken without a view (``preview --png``): pyqtgraph
    measures it in device pixels and drew nothing when no view showed it; and that keeps the size its ticks need
    (style_axes) while its tile is hidden: pyqtgraph made a hidden axis 0 px wide and, without a view, kept it so."""

    def deviceTransform_(self) -> Any:
        t = super().deviceTransform_()
        return t if t is not None else self.sceneTransform()

    def _updateWidth(self) -> None:  # pyqtgraph sized an axis to nothing while its tile was hidden, for good
        if self.fixedWidth is None:
            super()._updateWidth()
        else:
            self.setMinimumWidth(self.fixedWidth)
            self.setMaximumWidth(self.fixedWidth)
            self.picture = None

    def _updateHeight(self) -> None:
        if self.fixedHeight is None:
            super()._updateHeight()
        else:
            self.setMinimumHeight(self.fixedHeight)
            self.setMaximumHeight(self.fixedHeight)
            self.picture = None


class _TimeAxis(_Axis):
    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        import time

        return [time.strftime("%H:%M", time.localtime(v)) for v in values]


def style_axes(plot: pg.PlotItem) -> None:
    """Axes in the theme's colours with ticks in secondary type (pyqtgraph's default 9 pt is unreadable at 5 m)."""
    font = theme.secondary_font()
    for ax in ("left", "bottom"):
        a = plot.getAxis(ax)
        a.setPen(pg.mkPen(theme.MUTED))
        a.setTextPen(pg.mkPen(theme.TEXT))
        a.setStyle(tickFont=font, tickTextOffset=8)
        a.label.setFont(font)
    # room for ticks and the axis name from the first paint (pyqtgraph widens an axis only after drawing it once,
    # too small, and then let the name run into the ticks)
    fm = QFontMetricsF(font)
    plot.getAxis("bottom").setHeight(fm.height() + 16)
    plot.getAxis("left").setWidth(fm.horizontalAdvance("0000") + fm.height() + 24)


class AlarmRateTile(Tile):
    kind = "alarm_rate"

    def __init__(
        self,
        title: str | None,
        options: AlarmRateOptions,
        flood: FloodDetector,
        now: Callable[[], float],
        changed: Signal[[]] | None = None,
    ) -> None:
        super().__init__(title, options)
        self.flood = flood
        self._now = now
        self.plot = pg.PlotItem(axisItems={"bottom": _TimeAxis(orientation="bottom"), "left": _Axis("left")})
        self.plot.setParentItem(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        pol = flood.policy
        self.target = pg.InfiniteLine(
            pos=1,
            angle=0,
            pen=pg.mkPen(theme.GOOD, width=2, style=Qt.PenStyle.DashLine),
            label="target 1",
            labelOpts={"color": theme.GOOD.name(), "position": 0.05},
        )
        self.flood_line = pg.InfiniteLine(
            pos=pol.start_above,
            angle=0,
            pen=pg.mkPen(theme.SEVERITY_COLORS[max(theme.SEVERITY_COLORS)], width=2),
            label=f"flood {pol.start_above}",
            labelOpts={"color": "#ff3b30", "position": 0.05},
        )
        self.plot.addItem(self.target)
        self.plot.addItem(self.flood_line)
        self.restyle()
        fill = QColor(theme.SEVERITY_COLORS[max(theme.SEVERITY_COLORS)])
        fill.setAlphaF(0.2)
        self.curve = self.plot.plot(
            [], [], pen=pg.mkPen("#56b4e9", width=3), fillLevel=0, brush=pg.mkBrush(86, 180, 233, 50)
        )
        self._timer = QTimer()
        self._timer.timeout.connect(self.refresh)
        self._timer.start(5000)
        # a new alarm reaches the chart within a second, not at the next 5 s tick; a burst costs one redraw
        self._soon = QTimer()
        self._soon.setSingleShot(True)
        self._soon.timeout.connect(self.refresh)
        if changed is not None:
            self.subs.add(changed, self._on_change)
        self.refresh()

    def restyle(self) -> None:
        """Text in the current sizes (for the wall's viewing distance): ticks, the axis name, the lines' labels."""
        style_axes(self.plot)
        size = {"font-size": f"{theme.secondary_font().pixelSize()}px"}
        self.plot.setLabel("left", "new alarms / 10 min", color=theme.TEXT.name(), **size)
        for line in (self.target, self.flood_line):
            line.label.setFont(theme.secondary_font(bold=True))

    def relayout(self) -> None:
        self.restyle()
        super().relayout()

    def _on_change(self) -> None:
        if not self._soon.isActive():
            self._soon.start(1000)

    def refresh(self) -> None:
        xs, ys = self.flood.rate_series(self._now(), self.options.hours)
        self.curve.setData(xs, ys)
        top = max([*ys, self.flood.policy.start_above + 2])
        self.plot.setYRange(0, top * 1.1, padding=0)
        if xs:
            self.plot.setXRange(xs[0], xs[-1], padding=0)
        self.update()

    def layout_content(self, rect: QRectF) -> None:
        self.plot.setGeometry(rect)

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        if self.flood.active:
            p.setFont(theme.primary_font(bold=True))
            p.setPen(QColor("#ff3b30"))
            p.drawText(rect.adjusted(0, 4, -16, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, "FLOOD")


class KpiTile(Tile):
    """Live KPI series from MQTT with their threshold lines; redrawn once a second, not per message."""

    kind = "kpi"
    COLORS = ("#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#f0e442", "#d55e00")

    def __init__(self, title: str | None, options: KpiOptions, board: KpiBoard, now: Callable[[], float]) -> None:
        super().__init__(title, options)
        self.board = board
        self._now = now
        self.names = [n for n in options.series if n in board.series] or list(board.series)[:4]
        self.plot = pg.PlotItem(axisItems={"bottom": _TimeAxis(orientation="bottom"), "left": _Axis("left")})
        self.plot.setParentItem(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.legend = self.plot.addLegend(offset=(10, 10), labelTextColor=theme.TEXT.name())
        self.restyle()
        self.curves: dict[str, pg.PlotDataItem] = {}
        for i, name in enumerate(self.names):
            spec_ = board.series[name].spec
            color = self.COLORS[i % len(self.COLORS)]
            label = f"{name} ({spec_.unit})" if spec_.unit else name
            self.curves[name] = self.plot.plot([], [], pen=pg.mkPen(color, width=3), name=label)
            for limit, sev in (
                (spec_.warning_above, "warning"),
                (spec_.critical_above, "critical"),
                (spec_.warning_below, "warning"),
                (spec_.critical_below, "critical"),
            ):
                if limit is not None:
                    line_color = theme.SEVERITY_COLORS[Severity.parse(sev)]
                    self.plot.addItem(
                        pg.InfiniteLine(
                            pos=limit, angle=0, pen=pg.mkPen(line_color, width=2, style=Qt.PenStyle.DashLine)
                        )
                    )
        self._timer = QTimer()
        self._timer.timeout.connect(self.refresh)
        self._timer.start(1000)
        self.refresh()

    def restyle(self) -> None:
        """Ticks and the legend in the current sizes (for the wall's viewing distance)."""
        style_axes(self.plot)
        self.legend.setLabelTextSize(f"{theme.secondary_font().pixelSize()}px")

    def relayout(self) -> None:
        self.restyle()
        super().relayout()

    def refresh(self) -> None:
        now = self._now()
        window = self.options.minutes * 60
        for name, curve in self.curves.items():
            pts = [(t, v) for t, v in self.board.series[name].points if t >= now - window]
            curve.setData([t for t, _ in pts], [v for _, v in pts])
        self.plot.setXRange(now - window, now, padding=0)

    def layout_content(self, rect: QRectF) -> None:
        self.plot.setGeometry(rect)

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        if not self.names:
            p.setPen(theme.MUTED)
            p.setFont(theme.secondary_font())
            p.drawText(
                rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, "No KPI series configured (config: kpis)"
            )
