"""The status banner: a strip at the foot of each monitor saying what the wall is doing and why."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsWidget, QStyleOptionGraphicsItem, QWidget

from wallctl.core.service import WallService
from wallctl.core.severity import Severity
from wallctl.core.signal import Subscriptions
from wallctl.qt import theme
from wallctl.qt.tiles.base import stop_timers

BANNER_H = 64


def banner_fields(service: WallService, now: float) -> list[tuple[str, QColor]]:
    """The banner's text, left to right, with a colour each (also used by tests and the preview)."""
    d = service.decision
    mode = service.layouts.modes.get(d.mode)
    title = mode.title if mode and mode.title else d.mode
    red, amber = QColor("#ff3b30"), QColor("#ff9f0a")
    out: list[tuple[str, QColor]] = [(f"MODE {d.mode.upper()}: {title}", theme.TEXT)]
    if d.pin is not None:
        left = max(0, int(d.pin.until - now))
        out.append((f"PINNED by {d.pin.origin} {left // 60}:{left % 60:02d} · rules: {d.rules_choice}", amber))
    else:
        out.append((f"by {'rule ' + d.reason if d.reason not in ('default',) else 'default'}", theme.MUTED))
    link = service.link.state
    out.append((f"BROKER {link.upper()}", theme.GOOD if link == "connected" else red))
    counts = service.engine.counts()
    sev = counts.highest
    out.append((f"UNACK {counts.unacked}", theme.severity_color(sev) if sev else theme.TEXT))
    aud = service.annunciator.audible
    if aud.self_test is not None:
        sound = service.annunciator.soundmap.sounds.get(aud.self_test)
        what = f" - {sound.description}" if sound is not None and sound.description else ""
        out.append((f"SOUND SELF-TEST ♪ {aud.self_test}{what}", amber))
    if aud.silenced_until is not None:
        left = max(0, int(aud.silenced_until - now))
        out.append((f"SILENCED {left // 60}:{left % 60:02d}", amber))
    elif aud.sound:
        out.append((f"♪ {aud.sound}", theme.TEXT))
    if service.engine.flood.active:
        out.append(("FLOOD", red))
    rejected = service.diagnostics.rejected_total
    if rejected:
        out.append((f"REJECTED {rejected}", amber))
    if service.diagnostics.device_errors or service.diagnostics.config_errors:
        out.append(("SEE DIAGNOSTICS (D)", red))
    return out


class BannerItem(QGraphicsWidget):
    def __init__(self, service: WallService, now: Callable[[], float], notice: Callable[[], str | None]) -> None:
        super().__init__()
        self.service = service
        self._now = now
        self._notice = notice
        self.setZValue(100)
        self._timer = QTimer()
        self._timer.timeout.connect(self.update)
        self._timer.start(1000)
        self.subs = Subscriptions()
        self.subs.add(service.state_changed, self._soon)
        self._soon_timer = QTimer()
        self._soon_timer.setSingleShot(True)
        self._soon_timer.timeout.connect(self.update)

    def shutdown(self) -> None:
        stop_timers(self)
        self.subs.disconnect_all()

    def _soon(self) -> None:
        if not self._soon_timer.isActive():
            self._soon_timer.start(250)

    def paint(self, p: QPainter, _o: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        r = self.rect()
        counts = self.service.engine.counts()
        bg = QColor("#0d1520")
        if counts.highest is not None and counts.highest >= Severity.CRITICAL and counts.unacked:
            bg = QColor("#3a0d0d")
        p.fillRect(r, bg)
        p.setPen(QPen(theme.PANEL_EDGE, 2))
        p.drawLine(r.topLeft(), r.topRight())
        now = self._now()
        x = r.x() + 18
        p.setFont(theme.font(20, bold=True))
        fm = p.fontMetrics()
        for text, color in banner_fields(self.service, now):
            p.setPen(color)
            w = fm.horizontalAdvance(text) + 34
            if x + w > r.right() - 180:
                break
            p.drawText(QRectF(x, r.y(), w, r.height()), Qt.AlignmentFlag.AlignVCenter, text)
            x += w
        notice = self._notice()
        if notice:
            p.setPen(QColor("#ff9f0a"))
            p.drawText(QRectF(x, r.y(), r.right() - 200 - x, r.height()), Qt.AlignmentFlag.AlignVCenter, notice)
        p.setPen(theme.TEXT)
        p.setFont(theme.font(22, bold=True, mono=True))
        p.drawText(
            r.adjusted(0, 0, -18, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            time.strftime("%H:%M:%S", time.localtime(now)),
        )


class BannerTile(QGraphicsWidget):
    """The banner as a tile of its own (big, for a monitor given over to status)."""

    kind = "banner"

    def __init__(self, service: WallService, now: Callable[[], float], font_pt: float) -> None:
        super().__init__()
        self.service = service
        self._now = now
        self.font_pt = font_pt
        self.title: str | None = None
        self._timer = QTimer()
        self._timer.timeout.connect(self.update)
        self._timer.start(1000)

    def set_focused(self, focused: bool, target: str | None) -> None:
        pass

    def paint(self, p: QPainter, _o: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        r = self.rect()
        p.fillRect(r, theme.PANEL)
        p.setFont(theme.font(self.font_pt, bold=True))
        line_h = self.font_pt * 1.333 * 1.5
        y = r.y() + 12
        for text, color in banner_fields(self.service, self._now()):
            p.setPen(color)
            p.drawText(QRectF(r.x() + 20, y, r.width() - 40, line_h), Qt.AlignmentFlag.AlignVCenter, text)
            y += line_h
