"""The control-room theme: dark, high contrast, severity colours that stay apart for colour-blind eyes.

Colour is never the only cue: each severity also has a shape (on the map) and a label (in lists).
Colours after Okabe & Ito's colour-blind-safe palette, brightened for a dark wall.
"""

from __future__ import annotations

import functools

from PySide6.QtGui import QColor, QFont, QFontMetricsF

from wallctl.core.severity import Severity
from wallctl.core.wall.layout import WallSpec
from wallctl.core.wall.legibility import DEFAULT_SIZES, TextSizes, text_sizes

BACKGROUND = QColor("#0b0f14")
PANEL = QColor("#121922")
PANEL_EDGE = QColor("#2a3644")
TEXT = QColor("#e8edf2")
MUTED = QColor("#8a97a6")
FOCUS = QColor("#f0e442")  # the focus region's frame
GOOD = QColor("#3fb27f")

SEVERITY_COLORS: dict[Severity, QColor] = {
    Severity.CRITICAL: QColor("#ff3b30"),  # red
    Severity.MAJOR: QColor("#ff9f0a"),  # orange (Okabe-Ito vermillion/orange family)
    Severity.MINOR: QColor("#f0e442"),  # yellow
    Severity.WARNING: QColor("#56b4e9"),  # sky blue
    Severity.INDETERMINATE: QColor("#cc79a7"),  # reddish purple
    Severity.CLEARED: QColor("#3fb27f"),  # green
}
# second cue on the map: a shape per severity (pyqtgraph symbol names)
SEVERITY_SYMBOLS: dict[Severity, str] = {
    Severity.CRITICAL: "star",
    Severity.MAJOR: "t",  # triangle
    Severity.MINOR: "d",  # diamond
    Severity.WARNING: "s",  # square
    Severity.INDETERMINATE: "p",
    Severity.CLEARED: "o",
}
SEVERITY_TAGS: dict[Severity, str] = {
    Severity.CRITICAL: "CRIT",
    Severity.MAJOR: "MAJ",
    Severity.MINOR: "MIN",
    Severity.WARNING: "WARN",
    Severity.INDETERMINATE: "IND",
    Severity.CLEARED: "CLR",
}
FIRST_OUT_TAG = "1ST"  # the alarm list's mark for the first alarm of a flood (explained in the map's legend)
FONT_FAMILY = "DejaVu Sans"


DEFAULT_SEVERITY_COLORS = dict(SEVERITY_COLORS)


def apply_colors(colors: dict[str, str]) -> None:
    """Severity colours from the configuration (validated as #rrggbb there); before any tile is built."""
    SEVERITY_COLORS.clear()
    SEVERITY_COLORS.update(DEFAULT_SEVERITY_COLORS)
    for name, value in colors.items():
        SEVERITY_COLORS[Severity.parse(name)] = QColor(value)


def font(pt: float, *, bold: bool = False, mono: bool = False) -> QFont:
    """A font at ``pt`` points (at 96 dpi, in scene pixels): for sizes a layout asks for; the wall's own text is
    sized by visual angle (:func:`primary_font`, :func:`secondary_font`)."""
    return _font(max(6, round(pt * 1.333)), bold, mono)


def _font(px: int, bold: bool, mono: bool) -> QFont:
    f = QFont("DejaVu Sans Mono" if mono else FONT_FAMILY)
    f.setPixelSize(px)
    f.setBold(bold)
    return f


_sizes = [DEFAULT_SIZES]  # the running wall's, set with its layouts (as apply_colors sets the colours)


def sizes() -> TextSizes:
    """Cap heights the wall's text needs at its viewing distance (``wall.viewing_distance_m``)."""
    return _sizes[0]


def apply_wall(wall: WallSpec) -> bool:
    """Size text for ``wall`` (panel pitch, viewing distance); before its tiles paint. Whether the sizes changed."""
    new = text_sizes(wall)
    changed, _sizes[0] = new != _sizes[0], new
    return changed


def cap_font(cap_px: float, *, bold: bool = False, mono: bool = False, at_least_pt: float = 0) -> QFont:
    """The wall's font with capitals at least ``cap_px`` scene pixels tall (or ``at_least_pt``, when larger)."""
    return _font(max(_cap_px(cap_px, bold, mono), round(at_least_pt * 1.333)), bold, mono)


@functools.lru_cache(maxsize=64)
def _cap_px(cap_px: float, bold: bool, mono: bool) -> int:
    px = sizes().font_px(cap_px)
    while QFontMetricsF(_font(px, bold, mono)).capHeight() < cap_px - 0.01:  # should the font round otherwise
        px += 1
    return px


def primary_font(*, bold: bool = False, mono: bool = False, at_least_pt: float = 0) -> QFont:
    """Alarm rows, the banner, summary figures, labels of alarmed nodes: 16 arcminutes at the viewing distance."""
    return cap_font(sizes().primary_cap, bold=bold, mono=mono, at_least_pt=at_least_pt)


def secondary_font(*, bold: bool = False, mono: bool = False, at_least_pt: float = 0) -> QFont:
    """Titles, axis ticks, legends, calm node labels, footers: 10 arcminutes at the viewing distance."""
    return cap_font(sizes().secondary_cap, bold=bold, mono=mono, at_least_pt=at_least_pt)


def severity_color(sev: Severity) -> QColor:
    return SEVERITY_COLORS[sev]


def luminance(color: QColor) -> float:
    """Relative luminance (WCAG 2): how bright a colour looks, 0 black to 1 white."""

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(color.redF()) + 0.7152 * lin(color.greenF()) + 0.0722 * lin(color.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio, 1 to 21; text needs 4.5 (AA) to be read reliably."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_on(color: QColor) -> QColor:
    """Black or white text, whichever contrasts more with ``color`` (one of them always reaches 4.5:1)."""
    black, white = QColor("#000000"), QColor("#ffffff")
    return black if contrast_ratio(black, color) >= contrast_ratio(white, color) else white
