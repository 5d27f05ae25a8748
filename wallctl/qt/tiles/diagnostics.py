"""The diagnostics view: rejected events with their reasons, configuration errors, device errors, exceptions."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetricsF, QPainter

from wallctl.core.view.source import WallSource
from wallctl.core.wall.tiles import DiagnosticsOptions
from wallctl.qt import theme
from wallctl.qt.keys_overlay import HELP_KEY, Binding
from wallctl.qt.tiles.base import Tile


def diagnostics_lines(source: WallSource, bindings: Sequence[Binding] = ()) -> list[tuple[str, QColor]]:
    d = source.diagnostics
    red, amber = QColor("#ff3b30"), QColor("#ff9f0a")
    out: list[tuple[str, QColor]] = []
    link = source.facts().broker
    out.append((f"Broker link: {link}", theme.GOOD if link == "connected" else red))
    for err in d.config_errors:
        out.append((f"CONFIG  {err}", red))
    for err in d.device_errors:
        out.append((f"DEVICE  {err}", red))
    for err in d.exceptions:
        out.append((f"ERROR   {err}", red))
    if d.rejected_by_reason:
        reasons = ", ".join(f"{r}: {n}" for r, n in d.rejected_by_reason.most_common())
        out.append((f"Rejected events: {d.rejected_total}  ({reasons})", amber))
    for r in reversed(d.recent_rejected):
        stamp = time.strftime("%H:%M:%S", time.localtime(r.time))
        out.append((f"  {stamp} {r.topic}: {r.reason}: {r.detail}", theme.TEXT))
    if len(out) == 1:
        out.append(("No rejected events, configuration errors or device errors.", theme.GOOD))
    if bindings:
        out.append((f"Keys ({HELP_KEY} shows them on the wall):", theme.MUTED))
        width = max(len(b.key) for b in bindings)
        out += [(f"  {b.key:<{width}}  {b.what}", theme.TEXT) for b in bindings]
    return out


class DiagnosticsTile(Tile):
    kind = "diagnostics"

    def __init__(
        self,
        title: str | None,
        options: DiagnosticsOptions,
        service: WallSource,
        bindings: Callable[[], Sequence[Binding]] = tuple,
    ) -> None:
        super().__init__(title, options)
        self.service = service
        self.bindings = bindings
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.update)
        self.subs.add(service.diagnostics_changed, self._soon)

    def _soon(self) -> None:
        if not self._timer.isActive():
            self._timer.start(200)

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        f = theme.secondary_font(mono=True, at_least_pt=self.options.font_pt)
        p.setFont(f)
        line_h = QFontMetricsF(f).height() * 1.2
        y = rect.y()
        for text, color in diagnostics_lines(self.service, self.bindings()):
            if y + line_h > rect.bottom():
                break
            p.setPen(color)
            p.drawText(QRectF(rect.x() + 8, y, rect.width() - 16, line_h), Qt.AlignmentFlag.AlignVCenter, text)
            y += line_h
