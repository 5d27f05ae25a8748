"""Every key the wall answers to, listed on the wall itself: the README is not in the control room.

``?`` shows the list over the focus zone; the diagnostics view lists the same bindings. They come from the running
configuration (``operator.hotkeys``, with the descriptions the config schema carries) and the modes' keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPen

from wallctl.core.config.settings import HotkeyConfig
from wallctl.core.wall.hotkeys import normalize_hotkey
from wallctl.core.wall.presets import LayoutSet
from wallctl.qt import theme
from wallctl.qt.tiles.base import Tile

HELP_KEY = "?"


@dataclass(frozen=True)
class Binding:
    key: str  # as pressed, normalised (``Shift+A``)
    what: str
    mode: str | None = None  # the mode the key switches to, if it is a mode key


def key_bindings(hotkeys: HotkeyConfig, mode_keys: dict[str, str], layouts: LayoutSet) -> list[Binding]:
    """The operator keys of ``hotkeys`` in the config's order, then one key per mode, then the help key."""
    out = [
        Binding(normalize_hotkey(getattr(hotkeys, f.name)), f.metadata.get("doc") or f.name) for f in fields(hotkeys)
    ]
    for mode, key in mode_keys.items():
        m = layouts.modes.get(mode)
        out.append(Binding(key, f"mode {mode}: {m.title}" if m is not None and m.title else f"mode {mode}", mode))
    out.append(Binding(HELP_KEY, "show or hide this list of keys"))
    return out


class KeysTile(Tile):
    """The bindings in two columns, operator keys left and modes right, each key in a box read from afar."""

    kind = "keys"

    def __init__(self, title: str | None, bindings: Callable[[], list[Binding]], font_pt: float = 22) -> None:
        super().__init__(title, None)
        self.bindings = bindings
        self.font_pt = font_pt

    def columns(self) -> tuple[list[Binding], list[Binding]]:
        rows = self.bindings()
        return [b for b in rows if b.mode is None], [b for b in rows if b.mode is not None]

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        operator, modes = self.columns()
        if not operator and not modes:
            p.setPen(theme.MUTED)
            p.setFont(theme.secondary_font(at_least_pt=self.font_pt))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "No key bindings known to this view")
            return
        key_font = theme.secondary_font(bold=True, mono=True, at_least_pt=self.font_pt)
        text_font = theme.secondary_font(at_least_pt=self.font_pt)
        key_w = max(QFontMetricsF(key_font).horizontalAdvance(b.key) for b in operator + modes) + 28
        line_h = QFontMetricsF(text_font).height() * 1.45
        if (len(operator) + len(modes) + 1) * line_h + 16 <= rect.height():  # one column: no description cut
            columns, col_w = [[*operator, None, *modes]], rect.width()
        else:
            columns, col_w = [list(operator), list(modes)], rect.width() / 2
        for col, rows in enumerate(columns):
            x = rect.x() + 16 + col * col_w
            for i, b in enumerate(rows):
                y = rect.y() + 8 + i * line_h
                if b is None or y + line_h > rect.bottom():  # None: the gap between operator and mode keys
                    continue
                box = QRectF(x, y + 4, key_w, line_h - 8)
                p.setPen(QPen(theme.FOCUS, 2))
                p.setBrush(theme.BACKGROUND)
                p.drawRoundedRect(box, 6, 6)
                p.setFont(key_font)
                p.setPen(theme.TEXT)
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, b.key)
                p.setFont(text_font)
                text = QRectF(x + key_w + 16, y, col_w - key_w - 48, line_h)
                elided = QFontMetricsF(text_font).elidedText(b.what, Qt.TextElideMode.ElideRight, text.width())
                p.drawText(text, Qt.AlignmentFlag.AlignVCenter, elided)
