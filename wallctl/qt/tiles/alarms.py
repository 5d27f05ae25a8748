"""Alarm list and alarm summary tiles: big type, high contrast, unacknowledged rows flashing (ISA-18.1).

Rows, figures and severity labels are primary text: their capitals subtend 16 arcminutes at the wall's viewing
distance whatever ``font_pt`` a layout asks for (a larger ``font_pt`` is honoured); footers are secondary text."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QPixmap

from wallctl.core.alarms.alarm import AlarmState, Flag
from wallctl.core.alarms.engine import Counts
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.severity import ACTIVE_SEVERITIES, Severity
from wallctl.core.signal import Signal
from wallctl.core.view.rows import row_notes
from wallctl.core.view.source import ListFeed, Picture
from wallctl.core.wall.legibility import ROW_SPACING
from wallctl.core.wall.tiles import AlarmListOptions, AlarmSummaryOptions
from wallctl.qt import theme
from wallctl.qt.alarm_model import AlarmTableModel
from wallctl.qt.tiles.base import Tile

FLASH_MS = 500  # unacknowledged rows: 1 Hz; first-out: 2 Hz


class AlarmListTile(Tile):
    kind = "alarm_list"

    def __init__(
        self,
        title: str | None,
        options: AlarmListOptions,
        feed: ListFeed,
        selected: Callable[[], AlarmKey | None],
        changed: Signal[[]],
    ) -> None:
        super().__init__(title, options)
        self.model = AlarmTableModel(feed, changed)
        self.model.modelReset.connect(self.update)
        self.model.refresh()
        self._selected = selected
        self._phase = 0
        self._flash = QTimer()
        self._flash.timeout.connect(self._blink)
        self._flash.start(FLASH_MS // 2)
        self.first_row = 0

    def shutdown(self) -> None:
        super().shutdown()
        self.model.close()

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self.model.set_active(True)

    def hideEvent(self, event: object) -> None:
        super().hideEvent(event)  # type: ignore[arg-type]
        self.model.set_active(False)

    def _blink(self) -> None:
        if not self.isVisible():
            return
        self._phase = (self._phase + 1) % 4
        rows = self.model.rows[:60]
        unacked = [a for a, _ in rows if a.state in (AlarmState.UNACK, AlarmState.RTNUN)]
        fast = any(Flag.FIRST_OUT in a.flags for a in unacked)
        if unacked and (fast or self._phase % 2 == 0):  # 1 Hz blink repaints twice a second; first-out 2 Hz
            self.update()

    def footer(self, capacity: int) -> str:
        """How many are listed, hidden and below the fold (counting the rows the list keeps no longer)."""
        rows, hidden, total = self.model.rows, self.model.hidden, self.model.total
        text = f"{total} listed" if total <= len(rows) else f"first {len(rows)} of {total} listed"
        if hidden["shelved"] or hidden["suppressed"]:
            text += f"   ·   {hidden['shelved']} shelved   ·   {hidden['suppressed']} suppressed"
        more = total - self.first_row - min(capacity, len(rows) - self.first_row)
        if more > 0:
            text += f"   ·   {more} more below"
        return text

    def first_out_note(self, capacity: int) -> str | None:
        """What the '1ST' mark means, while a row on screen carries it."""
        shown = self.model.rows[self.first_row : self.first_row + capacity]
        if any(Flag.FIRST_OUT in a.flags and not depth for a, depth in shown):
            return f"{theme.FIRST_OUT_TAG} = first out: the alarm that began the flood"
        return None

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        o: AlarmListOptions = self.options
        f = theme.primary_font(at_least_pt=o.font_pt)
        fb = theme.primary_font(bold=True, at_least_pt=o.font_pt)
        fm, fbm = QFontMetricsF(f), QFontMetricsF(fb)
        row_h = fm.height() * ROW_SPACING
        rows = self.model.rows
        body = QRectF(rect.x(), rect.y(), rect.width(), rect.height() - row_h)
        capacity = max(0, int(body.height() // row_h))
        sel = self._selected()
        if sel is not None:
            idx = self.model.row_of(sel)
            if idx >= 0 and not (self.first_row <= idx < self.first_row + capacity):
                self.first_row = max(0, idx - capacity // 2)
        self.first_row = min(self.first_row, max(0, len(rows) - capacity))
        if not rows:
            p.setPen(theme.GOOD)
            p.setFont(theme.primary_font(bold=True, at_least_pt=o.font_pt * 1.4))
            p.drawText(body, Qt.AlignmentFlag.AlignCenter, "No active alarms")
        tag_w = max(fbm.horizontalAdvance(t) for t in theme.SEVERITY_TAGS.values()) + 18
        state_w = fm.horizontalAdvance("RTNUN ") + 16
        src_w = min(body.width() * 0.28, fm.horizontalAdvance("M" * 14))
        indent = fm.height() * 0.6
        on = self._phase < 2
        fast_on = self._phase % 2 == 0
        for i, (alarm, depth) in enumerate(rows[self.first_row : self.first_row + capacity]):
            y = body.y() + i * row_h
            r = QRectF(body.x(), y, body.width(), row_h - 3)
            sev = alarm.peak
            color = theme.severity_color(sev)
            unacked = alarm.state in (AlarmState.UNACK, AlarmState.RTNUN)
            first_out = Flag.FIRST_OUT in alarm.flags
            lit = (fast_on if first_out else on) if unacked else True
            bg = QColor(color)
            bg.setAlphaF(0.55 if (unacked and lit) else 0.16)
            if alarm.state is AlarmState.RTNUN:
                bg = QColor(theme.GOOD)
                bg.setAlphaF(0.35 if lit else 0.12)
            p.fillRect(r, bg)
            if sel == alarm.key:
                p.setPen(QPen(theme.TEXT, 3))
                p.drawRect(r.adjusted(1, 1, -1, -1))
            x = r.x() + 8 + depth * indent
            p.fillRect(QRectF(r.x(), r.y(), 8, r.height()), color)
            p.setFont(fb)
            p.setPen(theme.TEXT)
            p.drawText(QRectF(x, y, tag_w, row_h), Qt.AlignmentFlag.AlignVCenter, theme.SEVERITY_TAGS[sev])
            x += tag_w
            p.setFont(f)
            p.drawText(QRectF(x, y, state_w, row_h), Qt.AlignmentFlag.AlignVCenter, alarm.state.value)
            x += state_w
            prefix = "↳ " if depth else (f"{theme.FIRST_OUT_TAG} " if first_out else "")
            p.setFont(fb)
            p.drawText(
                QRectF(x, y, src_w, row_h),
                Qt.AlignmentFlag.AlignVCenter,
                fbm.elidedText(prefix + alarm.source, Qt.TextElideMode.ElideRight, src_w - 8),
            )
            x += src_w
            p.setFont(f)
            count = f" ×{alarm.count}" if alarm.count > 1 else ""
            tail = time.strftime("%H:%M:%S", time.localtime(alarm.last))
            text = f"{alarm.type}{count} — {alarm.text}" if alarm.text else f"{alarm.type}{count}"
            text += row_notes(alarm)
            tail_w = fm.horizontalAdvance(tail) + 12
            p.drawText(
                QRectF(x, y, r.right() - x - tail_w, row_h),
                Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(text, Qt.TextElideMode.ElideRight, r.right() - x - tail_w - 8),
            )
            p.setPen(theme.MUTED)
            p.drawText(
                QRectF(r.right() - tail_w, y, tail_w - 6, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                tail,
            )
        p.setPen(theme.MUTED)
        p.setFont(theme.secondary_font())
        p.drawText(
            QRectF(rect.x() + 8, rect.bottom() - row_h, rect.width() - 16, row_h),
            Qt.AlignmentFlag.AlignVCenter,
            "   ·   ".join(t for t in (self.footer(capacity), self.first_out_note(capacity)) if t),
        )


class AlarmSummaryTile(Tile):
    kind = "alarm_summary"

    def __init__(
        self,
        title: str | None,
        options: AlarmSummaryOptions,
        picture: Picture,
        now: Callable[[], float],
        changed: Signal[[]],
    ) -> None:
        super().__init__(title, options)
        self.engine = picture
        self._now = now
        self._dirty_timer = QTimer()
        self._dirty_timer.setSingleShot(True)
        self._dirty_timer.timeout.connect(self.update_now)
        self._pending = False
        self.subs.add(changed, self._on_change)
        self._cells_key: tuple[object, ...] | None = None
        self._cells = QPixmap()
        self._oldest: float | None = None
        self._oldest_stale = True  # asked of the engine again after a change, at most once a second
        self._oldest_at = float("-inf")
        self._age_timer = QTimer()
        self._age_timer.timeout.connect(self.update)
        self._age_timer.start(1000)

    def _on_change(self, *_args: object) -> None:
        self._oldest_stale = True
        if not self._pending:
            self._pending = True
            self._dirty_timer.start(400)

    def update_now(self) -> None:
        self._pending = False
        self.update()

    def _render_cells(
        self, sevs: list[Severity], numbers: tuple[int, ...], width: float, big_h: float, size: float
    ) -> QPixmap:
        pix = QPixmap(max(1, round(width)), max(1, round(big_h)))
        pix.fill(theme.PANEL)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        cell_w = width / len(sevs)
        for i, (sev, n) in enumerate(zip(sevs, numbers, strict=True)):
            cell = QRectF(i * cell_w + 6, 6, cell_w - 12, big_h - 12)
            color = theme.severity_color(sev)
            bg = QColor(color)
            bg.setAlphaF(0.85 if n else 0.12)
            p.fillRect(cell, bg)
            p.setPen(theme.text_on(color) if n else theme.MUTED)
            text = str(n)
            big = theme.primary_font(bold=True, at_least_pt=size)
            wide = QFontMetricsF(big).horizontalAdvance(text)
            if wide > cell.width() * 0.92:  # 5,000 warnings must read as 5000, not lose its edges
                big = theme.primary_font(bold=True, at_least_pt=size * cell.width() * 0.92 / wide)
            p.setFont(big)
            p.drawText(cell.adjusted(0, 0, 0, -cell.height() * 0.22), Qt.AlignmentFlag.AlignCenter, text)
            label_font = theme.primary_font(bold=True, at_least_pt=size * 0.26)
            label = sev.label.upper()
            if QFontMetricsF(label_font).horizontalAdvance(label) > cell.width() - 8:  # narrow cells: 'CRIT'
                label = theme.SEVERITY_TAGS[sev]
            p.setFont(label_font)
            p.drawText(cell.adjusted(0, cell.height() * 0.7, 0, 0), Qt.AlignmentFlag.AlignCenter, label)
        p.end()
        return pix

    def oldest_unacked_age(self) -> float | None:
        t = time.monotonic()
        if self._oldest_stale and t - self._oldest_at >= 1.0:
            self._oldest = self.engine.oldest_unacked()  # O(log n): a scan of 200,000 alarms took 100-200 ms
            self._oldest_stale, self._oldest_at = False, t
        return None if self._oldest is None else max(0.0, self._now() - self._oldest)

    def standing(self, counts: Counts, sevs: list[Severity]) -> tuple[int, ...]:
        """The big numbers: active alarms by severity less the shelved and suppressed ones, which the small line
        counts apart (a shelved major beside 'No active alarms' made a calm wall look alarmed)."""
        aside = self.engine.set_aside_by_severity()  # kept by the engine: no scan of every alarm per change
        return tuple(max(0, counts.by_severity.get(s.label, 0) - aside[s]) for s in sevs)

    def small_line(self, counts: Counts) -> str:
        """Under the big numbers: what they leave out (shelved, suppressed) and how old the oldest is."""
        age = self.oldest_unacked_age()
        age_txt = "—" if age is None else duration_text(age)
        flood = "  ·  FLOOD" if self.engine.flood.active else ""
        return (
            f"Unacknowledged {counts.unacked}   ·   Shelved {counts.shelved}   ·   Suppressed {counts.suppressed}"
            f"{flood}\nOldest unacknowledged: {age_txt}"
        )

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        counts = self.engine.counts()
        sevs: list[Severity] = [s for s in ACTIVE_SEVERITIES if s is not Severity.INDETERMINATE]
        big_h = rect.height() * 0.55
        size = min(big_h * 0.62, rect.width() / len(sevs) * 0.5) / 1.333
        numbers = self.standing(counts, sevs)
        key = (numbers, round(rect.width()), round(big_h), theme.sizes())
        if self._cells_key != key:  # big glyphs are drawn as paths: render them once per change, not per paint
            self._cells = self._render_cells(sevs, numbers, rect.width(), big_h, size)
            self._cells_key = key
        p.drawPixmap(QPointF(rect.x(), rect.y()), self._cells)
        lines = QRectF(rect.x() + 12, rect.y() + big_h + 8, rect.width() - 24, rect.height() - big_h - 8)
        text = self.small_line(counts)
        p.setPen(theme.TEXT)
        p.setFont(theme.primary_font(at_least_pt=size * 0.3))
        p.drawText(lines, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, text)


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``23 h 59 min``: a duration read from across the room."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
