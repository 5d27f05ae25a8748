"""The status banner: a strip at the foot of each monitor saying what the wall is doing and why.

Warnings come before decoration. When the strip is too narrow the banner drops the clock, then shortens labels, then
leaves out what is not a warning, then uses a smaller type; a warning is shown whole or (last resort, least important
first) not at all, never cut mid-word. Warnings are badges: text in black or white, whichever reads better on the
warning's colour, so every pair meets WCAG AA (4.5:1) whatever colours the configuration chooses.

Its type is primary text: capitals of 16 arcminutes at the wall's viewing distance (smaller only as the last step
before a warning would be left out). At that size one 55" panel holds about 50 characters, so along the wall's
bottom row the banner is one strip across the monitors, its fields flowed from panel to panel and never across a
bezel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsWidget, QStyleOptionGraphicsItem, QWidget

from wallctl.core.severity import Severity
from wallctl.core.signal import Subscriptions
from wallctl.core.view.source import WallSource
from wallctl.core.wall.legibility import BANNER_PAD
from wallctl.qt import theme
from wallctl.qt.tiles.alarms import duration_text
from wallctl.qt.tiles.base import stop_timers

GAP = 22  # between fields
PAD = 12  # inside a badge, left and right
SCALES = (1.0, 0.85, 0.72)  # type sizes tried before a warning is left out (below 1.0: under 16 arcminutes)
Segment = tuple[float, float]  # a stretch of the banner on one panel (left, right), in the banner's coordinates
RED, AMBER = QColor("#ff3b30"), QColor("#ff9f0a")
CALM_BG, ALARM_BG = QColor("#0d1520"), QColor("#3a0d0d")


@dataclass(frozen=True)
class Field:
    """One piece of the banner. ``short`` replaces ``text`` when room is tight (None: a non-warning is then left
    out); ``rank`` orders what goes last (higher stays longer)."""

    text: str
    color: QColor
    warning: bool = False
    short: str | None = None
    rank: int = 0


@dataclass(frozen=True)
class Placed:
    """A field as drawn: its text, where, and the colours that text is drawn with (tests compute their contrast)."""

    text: str
    rect: QRectF
    fg: QColor
    bg: QColor
    field: Field


def countdown(seconds: float) -> str:
    """``14:59`` under an hour; ``23 h 59 min`` beyond, where minutes:seconds (``1439:59``) reads as nonsense."""
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else duration_text(s)


def banner_items(
    source: WallSource, now: float, notice: str | None = None, notice_short: str | None = None
) -> list[Field]:
    """The banner's fields, left to right (also used by the banner tile, the preview and tests)."""
    f = source.facts()
    mode = source.layouts.modes.get(f.mode)
    title = mode.title if mode and mode.title else f.mode
    out = [Field(f"MODE {f.mode.upper()}: {title}", theme.TEXT, short=f"MODE {f.mode.upper()}", rank=5)]
    if f.controller != "ok":  # a display node whose controller fell silent: the picture may be old
        out.append(Field("CONTROLLER LOST: PICTURE STALE", RED, warning=True, short="CONTROLLER LOST", rank=10))
    if f.controllers:  # hot standby: which controller has the wall, and whether the other could take it over
        active = next((cid for cid, role in f.controllers if role == "active"), "none")
        others = [(cid, role) for cid, role in f.controllers if cid != active]
        if any(role == "offline" for _, role in others):
            down = ", ".join(cid for cid, role in others if role == "offline")
            out.append(Field(f"CTL {active} · STANDBY {down} DOWN", AMBER, warning=True, short="NO STANDBY", rank=6))
        else:
            out.append(Field(f"CTL {active} · standby ok", theme.MUTED, short=f"CTL {active}", rank=1))
    if f.pin_until is not None:
        left = countdown(f.pin_until - now)
        text = f"PINNED by {f.pin_origin} {left} · rules: {f.rules_mode}"
        out.append(Field(text, AMBER, warning=True, short=f"PINNED {left}", rank=4))
    else:
        out.append(Field(f"by {'rule ' + f.reason if f.reason != 'default' else 'default'}", theme.MUTED))
    if notice:
        out.append(Field(notice, AMBER, warning=True, short=notice_short, rank=9))
    link = f.broker
    if link == "connected":
        out.append(Field("BROKER CONNECTED", theme.GOOD, short="BROKER OK", rank=3))
    elif link == "none":  # the preview: no broker, not a lost one
        out.append(Field("BROKER NONE", theme.MUTED, short="NO BROKER", rank=1))
    else:
        out.append(Field(f"BROKER {link.upper()}", RED, warning=True, rank=8))
    if f.unacked:
        color = theme.severity_color(f.highest) if f.highest is not None else AMBER
        out.append(Field(f"UNACK {f.unacked}", color, warning=True, rank=7))
    else:
        out.append(Field("UNACK 0", theme.TEXT, rank=4))
    if f.self_test is not None:
        what = f" - {f.self_test_text}" if f.self_test_text else ""
        text = f"SOUND SELF-TEST ♪ {f.self_test}{what}"
        out.append(Field(text, AMBER, warning=True, short=f"SELF-TEST ♪ {f.self_test}", rank=2))
    if f.silenced_until is not None:
        out.append(Field(f"SILENCED {countdown(f.silenced_until - now)}", AMBER, warning=True, rank=5))
    elif f.sound and f.audio_ok:  # nothing is heard from a failed device: no note on it
        out.append(Field(f"♪ {f.sound}", theme.TEXT, short="♪", rank=2))
    if f.flood:
        out.append(Field("FLOOD", RED, warning=True, rank=6))
    if f.rejected:
        out.append(Field(f"REJECTED {f.rejected}", AMBER, warning=True, short=f"REJ {f.rejected}", rank=3))
    if f.journal != "ok":  # alarms are not kept across a restart (off) or are held in memory (failing)
        out.append(Field(f"JOURNAL {f.journal.upper()}", RED, warning=True, rank=8))
    if not f.audio_ok:
        out.append(Field("SOUND DEVICE FAILED", RED, warning=True, short="NO SOUND", rank=8))
    elif not f.voice_ok:  # the tones go on; the room no longer hears what happened
        out.append(Field("VOICE FAILED", RED, warning=True, short="NO VOICE", rank=7))
    if f.commands_open:
        out.append(Field("COMMANDS WITHOUT TOKEN", AMBER, warning=True, short="NO TOKEN", rank=3))
    if f.problems:
        out.append(Field("SEE DIAGNOSTICS (D)", RED, warning=True, short="DIAG (D)", rank=4))
    return out


def banner_fields(service: WallSource, now: float) -> list[tuple[str, QColor]]:
    """The banner's full texts with their colours, left to right."""
    return [(f.text, f.color) for f in banner_items(service, now)]


# what each step keeps: (clock shown, non-warnings shortened, warnings shortened, non-warnings but the mode dropped)
_STEPS = ((True, False, False, False), (False, False, False, False), (False, True, False, False),
          (False, True, True, False), (False, True, True, True))  # fmt: skip


def banner_font(scale: float = 1.0) -> QFont:
    """The banner's type: primary text, bold; ``scale`` below 1 only as a last resort."""
    f = theme.primary_font(bold=True)
    f.setPixelSize(max(6, round(f.pixelSize() * scale)))
    return f


def pack(widths: list[float], segments: list[Segment], gap: float) -> list[float] | None:
    """The left edge of each width, in order, none running past its segment's end (a field never straddles a
    bezel); None when they do not all fit."""
    if not segments:
        return None
    xs, i, x = [], 0, segments[0][0]
    for w in widths:
        while x + w > segments[i][1]:
            i += 1
            if i == len(segments):
                return None
            x = segments[i][0]
        xs.append(x)
        x += w + gap
    return xs


def fit(
    fields: list[Field], segments: list[Segment], measure: Callable[[str, float], float], clock_w: float
) -> tuple[list[tuple[str, Field, float]], bool, float]:
    """Which texts fit in ``segments`` (the last one with or without a clock ``clock_w`` wide at its end), at which
    type scale, and where each starts."""

    def place(chosen: list[tuple[str, Field]], scale: float, clock: bool) -> list[float] | None:
        segs = [*segments[:-1], (segments[-1][0], segments[-1][1] - clock_w)] if clock and segments else segments
        widths = [measure(t, scale) + (2 * PAD * scale if f.warning else 0) for t, f in chosen]
        return pack(widths, segs, GAP * scale)

    chosen: list[tuple[str, Field]] = []
    for scale in SCALES:
        for clock, short_info, short_warn, drop_info in _STEPS:
            chosen = []
            for f in fields:
                shorten = short_warn if f.warning else short_info
                if not f.warning and ((drop_info and f.rank < 5) or (shorten and f.short is None)):
                    continue
                chosen.append((f.short if shorten and f.short else f.text, f))
            xs = place(chosen, scale, clock)
            if xs is not None:
                return [(t, f, x) for (t, f), x in zip(chosen, xs, strict=True)], clock, scale
    scale = SCALES[-1]
    while len(chosen) > 1 and place(chosen, scale, False) is None:  # last resort: leave out whole, least important
        chosen.remove(min(chosen, key=lambda c: (c[1].warning, c[1].rank)))
    xs = place(chosen, scale, False) or [segments[0][0] if segments else 0.0] * len(chosen)
    return [(t, f, x) for (t, f), x in zip(chosen, xs, strict=True)], False, scale


class BannerItem(QGraphicsWidget):
    def __init__(
        self,
        service: WallSource,
        now: Callable[[], float],
        notice: Callable[[], str | None],
        notice_short: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__()
        self.service = service
        self._now = now
        self._notice = notice
        self._notice_short = notice_short
        self.setZValue(100)
        self.panels: list[Segment] = []  # the monitors it runs along, in its own coordinates (empty: one panel)
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

    def background(self) -> QColor:
        f = self.service.facts()
        critical = f.highest is not None and f.highest >= Severity.CRITICAL
        return ALARM_BG if critical and f.unacked else CALM_BG

    def place(self, now: float) -> tuple[list[Placed], bool, float]:
        """What is drawn where: the placed fields, whether the clock is shown, and the type scale."""
        r = self.rect()
        fields = banner_items(self.service, now, self._notice(), self._notice_short())

        def measure(text: str, scale: float) -> float:
            return QFontMetricsF(banner_font(scale)).horizontalAdvance(text)

        clock_w = QFontMetricsF(theme.primary_font(bold=True, mono=True)).horizontalAdvance("00:00:00") + GAP
        chosen, clock, scale = fit(fields, self.segments(), measure, clock_w)
        bg = self.background()
        placed = []
        for text, f, x in chosen:
            w = measure(text, scale) + (2 * PAD * scale if f.warning else 0)
            rect = QRectF(r.x() + x, r.y() + BANNER_PAD - 3, w, r.height() - 2 * BANNER_PAD + 6)
            fg = theme.text_on(f.color) if f.warning else f.color
            placed.append(Placed(text, rect, fg, f.color if f.warning else bg, f))
        return placed, clock, scale

    def segments(self) -> list[Segment]:
        """Where fields may go: each panel's stretch of the banner, inside a margin, within its current width."""
        w = self.rect().width()
        panels = self.panels or [(0.0, w)]
        return [(max(a, 0) + GAP, min(b, w) - GAP) for a, b in panels if min(b, w) - max(a, 0) > 2 * GAP]

    def paint(self, p: QPainter, _o: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        r = self.rect()
        p.fillRect(r, self.background())
        p.setPen(QPen(theme.PANEL_EDGE, 2))
        p.drawLine(r.topLeft(), r.topRight())
        now = self._now()
        placed, clock, scale = self.place(now)
        p.setFont(banner_font(scale))
        for item in placed:
            if item.field.warning:
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(item.bg)
                p.drawRoundedRect(item.rect, 6, 6)
            p.setPen(item.fg)
            p.drawText(item.rect, Qt.AlignmentFlag.AlignCenter, item.text)
        if clock:
            p.setPen(theme.TEXT)
            p.setFont(theme.primary_font(bold=True, mono=True))
            p.drawText(
                r.adjusted(0, 0, -GAP, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                time.strftime("%H:%M:%S", time.localtime(now)),
            )


class BannerTile(QGraphicsWidget):
    """The banner as a tile of its own (big, for a monitor given over to status): one field a line, warnings as
    badges as on the strip."""

    kind = "banner"

    def __init__(self, service: WallSource, now: Callable[[], float], font_pt: float) -> None:
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

    def shutdown(self) -> None:
        stop_timers(self)

    def paint(self, p: QPainter, _o: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        r = self.rect()
        p.fillRect(r, theme.PANEL)
        font = theme.primary_font(bold=True, at_least_pt=self.font_pt)
        p.setFont(font)
        fm = QFontMetricsF(font)
        line_h = fm.height() * 1.5
        y = r.y() + 12
        for f in banner_items(self.service, self._now()):
            text = f.text if fm.horizontalAdvance(f.text) + 2 * PAD <= r.width() - 40 else (f.short or f.text)
            box = QRectF(r.x() + 20, y + 3, min(fm.horizontalAdvance(text) + 2 * PAD, r.width() - 40), line_h - 6)
            if f.warning:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(f.color)
                p.drawRoundedRect(box, 6, 6)
            p.setPen(theme.text_on(f.color) if f.warning else f.color)
            p.drawText(box.adjusted(PAD, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)
            y += line_h
