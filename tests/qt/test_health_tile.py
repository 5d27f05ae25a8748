"""The alarm-health tile on a wall: it says the room's load in EEMUA 191's words and names today's bad actors."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QImage

from tests.qt.conftest import Wall
from wallctl.core.alarms.event import Event
from wallctl.core.severity import Severity
from wallctl.core.wall.tiles import AlarmHealthOptions
from wallctl.core.wire.commands import parse_command
from wallctl.qt.tiles.health import AlarmHealthTile


def test_the_tile_shows_the_load_and_the_bad_actors(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    tile = w.scene.factory.build("alarm_health", "Alarm health", AlarmHealthOptions(top=3))
    assert isinstance(tile, AlarmHealthTile)
    tile.resize(900, 500)
    assert tile.lines()[0] == "0 alarms in the last 10 min: ACCEPTABLE"
    for _ in range(3):  # one sensor that keeps coming back, each occurrence annunciated (not chattering: 70 s apart)
        w.service.ingest(Event("dc1-temp-1", "temp_high", Severity.MAJOR, w.clock.now(), category="environment"))
        w.service.ingest(Event("dc1-temp-1", "temp_high", Severity.CLEARED, w.clock.now() + 1, category="environment"))
        w.service.execute(parse_command('{"action": "ack", "source": "dc1-temp-1", "type": "temp_high"}'), "test")
        w.clock.advance(70)
    for i in range(9):  # and a burst of others
        w.service.ingest(Event(f"br0{i + 1}-rtr", "probe", Severity.MAJOR, w.clock.now(), category="network"))
    lines = tile.lines()
    assert lines[0].endswith(": FLOOD") and lines[3] == "most frequent today:"
    assert "dc1-temp-1" in lines[4] and len(lines) == 7  # three bad actors, the worst first
    img = QImage(900, 500, QImage.Format.Format_RGB32)
    img.fill(0)
    from PySide6.QtGui import QPainter

    p = QPainter(img)
    tile.paint_content(p, tile.content_rect())
    p.end()
    y = int(tile.content_rect().y() + 14)  # through the gauge
    colours = {img.pixel(x, y) for x in range(0, 900, 5)}
    assert 0xFFFF3B30 in colours, sorted(hex(c) for c in colours)  # filled in the flood's red
