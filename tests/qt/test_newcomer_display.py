"""A calm wall looks calm, and its marks are explained (issue 22, items 2 and 11).

After the only alarm was shelved the summary showed a bright "1 MAJOR" beside the list's "No active alarms"; the
list's "1ST" was explained nowhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from tests.qt.conftest import Wall
from wallctl.core.alarms.event import Event
from wallctl.core.severity import Severity
from wallctl.core.wire.commands import Command
from wallctl.qt import theme
from wallctl.qt.shots import render_scene
from wallctl.qt.tiles.alarms import AlarmSummaryTile

S = Severity
CELLS = [S.CRITICAL, S.MAJOR, S.MINOR, S.WARNING]  # the summary's cells, left to right


def lit_cells(w: Wall, tile: AlarmSummaryTile) -> list[Severity]:
    """The cells drawn in their full severity colour (a zero is drawn at 12 % of it)."""
    content = tile.mapRectToScene(tile.content_rect())
    img: QImage = render_scene(w.scene, scale=1.0, source=content)
    cell_w = img.width() / len(CELLS)
    lit = []
    for i, sev in enumerate(CELLS):
        want = theme.severity_color(sev)
        area = QRectF(i * cell_w + 12, 12, cell_w - 24, img.height() * 0.55 - 24)
        close = sum(
            1
            for x in range(int(area.left()), int(area.right()), 6)
            for y in range(int(area.top()), int(area.bottom()), 6)
            if max(abs(c - d) for c, d in zip(QColor(img.pixel(x, y)).getRgb()[:3], want.getRgb()[:3], strict=True))
            < 40
        )
        if close > 20:
            lit.append(sev)
    return lit


def test_shelved_and_suppressed_alarms_leave_the_big_numbers_for_the_small_line(
    make_wall: Callable[..., Wall], qtbot: QtBot
) -> None:
    w = make_wall()
    s = w.service
    tile = w.scene.placement["normal"]["summary"]
    assert isinstance(tile, AlarmSummaryTile) and tile.isVisible()
    s.ingest(Event("dc1-ups-1", "ups_on_battery", S.MAJOR, w.clock.now(), category="environment"))
    s.ingest(Event("dc1-app-01", "cpu_high", S.WARNING, w.clock.now(), category="system"))
    qtbot.waitUntil(lambda: lit_cells(w, tile) == [S.MAJOR, S.WARNING], timeout=3000)
    assert s.execute(Command("shelve", {"source": "dc1-ups-1", "type": "ups_on_battery", "seconds": 600}), "t") is None
    assert s.execute(Command("out_of_service", {"source": "dc1-app-01", "type": "cpu_high"}), "t") is None
    qtbot.waitUntil(lambda: lit_cells(w, tile) == [], timeout=3000)  # calm: nothing annunciated
    counts = s.engine.counts()
    assert counts.by_severity, "the contract still counts them as active"
    assert tile.standing(counts, CELLS) == (0, 0, 0, 0)
    line = tile.small_line(counts)
    assert "Shelved 1" in line and "Suppressed 1" in line and "Unacknowledged 0" in line, line
    s.ingest(Event("dc1-ups-1", "ups_on_battery", S.CRITICAL, w.clock.now(), category="environment"))
    s.ingest(Event("dc1-db-03", "replication_lag", S.MINOR, w.clock.now(), category="system"))
    qtbot.waitUntil(lambda: lit_cells(w, tile) == [S.MINOR], timeout=3000)  # the shelved one stays aside
    assert s.execute(Command("unshelve", {"source": "dc1-ups-1", "type": "ups_on_battery"}), "t") is None
    qtbot.waitUntil(lambda: lit_cells(w, tile) == [S.CRITICAL, S.MINOR], timeout=3000)


def flood(engine: Any, clock: Any) -> None:
    for i in range(12):  # above 10 new alarms in 10 minutes: a flood, its first alarm marked
        engine.ingest(Event(f"n{i}", "down", S.MAJOR, clock.now()))
        clock.advance(10)
    assert engine.flood.active


def test_the_alarm_list_says_what_1st_means_when_it_shows_one(qapp: Any) -> None:
    from wallctl.core.alarms.alarm import Flag
    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.clock import ManualClock
    from wallctl.core.signal import Signal
    from wallctl.core.view.rows import RankedFeed
    from wallctl.core.wall.tiles import AlarmListOptions
    from wallctl.qt.tiles.alarms import AlarmListTile

    clock = ManualClock(start=1_800_000_000.0)
    engine = AlarmEngine(clock)
    engine.ingest(Event("quiet", "t", S.MINOR, clock.now()))
    tile = AlarmListTile("Alarms", AlarmListOptions(), RankedFeed(engine), lambda: None, Signal("changed"))
    tile.model.refresh()
    assert tile.first_out_note(capacity=30) is None
    flood(engine, clock)
    tile.model.refresh()
    assert any(Flag.FIRST_OUT in a.flags for a, _ in tile.model.rows)
    assert tile.first_out_note(capacity=30) == f"{theme.FIRST_OUT_TAG} = first out: the alarm that began the flood"
    marked = next(i for i, (a, _) in enumerate(tile.model.rows) if Flag.FIRST_OUT in a.flags)
    tile.first_row = marked + 1
    assert tile.first_out_note(capacity=3) is None, "the marked row is scrolled away"
    tile.shutdown()


def test_the_map_legend_explains_1st_inside_its_frame(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    tile = w.scene.placement["normal"]["map"]
    legend = tile.legend
    note = next(n for n in legend.NOTES if n.startswith(theme.FIRST_OUT_TAG))
    assert "first out" in note
    frame = legend.mapRectToScene(legend.rect())
    img = render_scene(w.scene, scale=1.0, source=frame)
    last_row = [  # the last note's line, near the legend's foot: its text reaches the pixels
        x
        for x in range(img.width())
        for y in range(img.height() - 30, img.height() - 8)
        if QColor(img.pixel(x, y)).lightness() > 110
    ]
    assert len(last_row) > 30, "the last note is not drawn inside the legend"
