"""The banner never cuts off its own warnings and meets WCAG AA contrast (issue 22, items 3 and 11).

With every monitor gone the banner once showed ``WALL S``, lost ``UNACK n``, drew ``UNACK 9`` red on maroon, and a
day-long pin read ``1439:59``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetricsF

from tests.qt.conftest import Wall
from wallctl.core.alarms.event import Event
from wallctl.core.severity import Severity
from wallctl.core.wire.commands import Command
from wallctl.qt import theme
from wallctl.qt.banner import BannerItem, Placed, banner_fields, banner_font, banner_items, countdown
from wallctl.qt.shots import render_scene

WIDTHS = (1920, 2560, 3840, 5782)  # one monitor to the whole bottom row: type at 16' holds ~50 characters a monitor


@pytest.fixture
def default_colors() -> Iterator[None]:
    yield
    theme.apply_colors({})


def troubled_wall(make_wall: Callable[..., Wall]) -> Wall:
    """One monitor of six, nine unacknowledged criticals, a pin, silence, a rejected event and no broker."""
    w = make_wall()
    w.screens.unplugged |= {f"WALL-{i}" for i in range(2, 7)}
    w.windows.remap()
    assert w.windows.notice == "WALL SCALED: 1 of 6 monitors present"
    s = w.service
    for i in range(1, 10):
        s.ingest(Event(f"br0{i}-rtr", "node_down", Severity.CRITICAL, w.clock.now(), category="network"))
    assert s.execute(Command("mode", {"mode": "incident"}), "hotkey") is None
    assert s.execute(Command("silence", {"seconds": 120}), "hotkey") is None
    s.reject("noc/events/x", "not_json", "payload is not JSON", b"{")
    s.set_link("down")
    s.evaluate(force=True)
    return w


def at_width(w: Wall, width: float) -> BannerItem:
    banner: BannerItem = w.scene.banners[0]
    banner.setGeometry(QRectF(banner.x(), banner.y(), width, banner.size().height()))
    return banner


def readable(item: Placed, scale: float) -> bool:
    """The whole text fits inside its box at the scale it is drawn with."""
    return QFontMetricsF(banner_font(scale)).horizontalAdvance(item.text) <= item.rect.width() + 0.5


@pytest.mark.parametrize("width", WIDTHS)
def test_missing_monitors_and_every_other_warning_are_shown_whole(make_wall: Callable[..., Wall], width: int) -> None:
    w = troubled_wall(make_wall)
    banner = at_width(w, width)
    placed, clock, scale = banner.place(w.clock.now())
    shown = [p.text for p in placed]
    if clock:  # the clock goes first when room is tight
        assert [(p.text, p.field.text) for p in placed if p.text != p.field.text] == []
        assert len(placed) == len(banner_items(w.source, w.clock.now(), w.scene.notice))
    for p in placed:
        assert p.text in (p.field.text, p.field.short), f"{p.text!r} is cut"
        assert readable(p, scale), f"{p.text!r} does not fit its box"
        assert banner.rect().contains(p.rect), f"{p.text!r} runs off the banner at {width}"
    assert all(a.rect.right() <= b.rect.left() for a, b in itertools.pairwise(placed)), "overlap"
    assert any(t.startswith(("WALL SCALED: 1 of 6", "SCALED: 1/6")) for t in shown), shown
    assert "UNACK 9" in shown and "BROKER DOWN" in shown, shown
    if width >= 2560:
        assert any(t.startswith("SILENCED") for t in shown) and any(t.startswith("PINNED") for t in shown), shown
    if width >= 3840:  # room for every warning and the mode
        warnings = [f for f in banner_items(w.source, w.clock.now(), w.scene.notice) if f.warning]
        assert len([p for p in placed if p.field.warning]) == len(warnings), shown
        assert shown[0].startswith("MODE INCIDENT"), shown


def test_a_calm_wide_banner_keeps_full_labels_and_the_clock(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    w.service.ingest(Event("dc1-app-01", "cpu_high", Severity.WARNING, w.clock.now(), category="system"))
    placed, clock, scale = at_width(w, 3840).place(w.clock.now())
    assert clock and scale == 1.0
    assert [p.text for p in placed] == [t for t, _ in banner_fields(w.source, w.clock.now())]


@pytest.mark.parametrize("width", (1280, 1920))
def test_every_colour_pair_on_the_banner_meets_wcag_aa(
    make_wall: Callable[..., Wall], width: int, default_colors: None
) -> None:
    w = troubled_wall(make_wall)
    banner = at_width(w, width)
    assert banner.background() == QColor("#3a0d0d")  # the maroon of an unacknowledged critical
    placed, _, _ = banner.place(w.clock.now())
    ratios = {p.text: theme.contrast_ratio(p.fg, p.bg) for p in placed}
    assert min(ratios.values()) >= 4.5, ratios
    assert theme.contrast_ratio(theme.TEXT, banner.background()) >= 4.5  # the clock's
    unack = next(p for p in placed if p.text == "UNACK 9")
    assert unack.bg == theme.SEVERITY_COLORS[Severity.CRITICAL] and unack.fg == QColor("#000000")
    img = render_scene(w.scene, scale=1.0, source=banner.mapRectToScene(unack.rect))
    assert QColor(img.pixel(3, img.height() // 2)) == unack.bg, "the badge is not drawn in its colour"
    dark = [x for x in range(img.width()) if QColor(img.pixel(x, img.height() // 2)).lightness() < 60]
    assert dark, "the badge's text is missing"


def test_configured_dark_severity_colours_still_get_readable_badges(
    make_wall: Callable[..., Wall], default_colors: None
) -> None:
    w = troubled_wall(make_wall)
    theme.apply_colors({"critical": "#8b0000", "major": "#1f3a93"})  # as the configuration's theme section would
    placed, _, _ = at_width(w, 1920).place(w.clock.now())
    unack = next(p for p in placed if p.text == "UNACK 9")
    assert unack.fg == QColor("#ffffff") and theme.contrast_ratio(unack.fg, unack.bg) >= 4.5


def test_contrast_ratio_is_wcag_2() -> None:
    black, white = QColor("#000000"), QColor("#ffffff")
    assert theme.contrast_ratio(black, white) == pytest.approx(21.0)
    assert theme.contrast_ratio(white, white) == pytest.approx(1.0)
    assert theme.contrast_ratio(QColor("#767676"), white) == pytest.approx(4.54, abs=0.01)  # WebAIM's AA grey
    for color in [*theme.DEFAULT_SEVERITY_COLORS.values(), QColor("#808080"), QColor("#3366ff")]:
        assert theme.contrast_ratio(theme.text_on(color), color) >= 4.5, color.name()


def test_a_day_long_pin_reads_in_hours_and_minutes(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    assert w.service.execute(Command("mode", {"mode": "briefing", "pin_s": 86400}), "hotkey") is None
    w.service.evaluate(force=True)
    w.clock.advance(0.5)
    texts = [t for t, _ in banner_fields(w.source, w.clock.now())]
    assert any(t.startswith("PINNED by hotkey 23 h 59 min ·") for t in texts), texts
    assert (countdown(59), countdown(899), countdown(3600), countdown(86399)) == (
        "0:59",
        "14:59",
        "1 h 00 min",
        "23 h 59 min",
    )
