"""Operator surfaces rendered offscreen with real models fed by events: banner, diagnostics, rate chart, text and
image tiles, the diagnostics hotkey, and severity colours from the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage

from tests.qt.conftest import Wall
from wallctl.core.alarms.event import Event
from wallctl.core.severity import Severity
from wallctl.core.wall.tiles import ImageOptions, TextOptions
from wallctl.qt.banner import banner_fields
from wallctl.qt.shots import render_scene
from wallctl.qt.tiles.diagnostics import diagnostics_lines

S = Severity


def texts(fields: list[tuple[str, QColor]]) -> list[str]:
    return [t for t, _ in fields]


def test_banner_says_what_the_wall_does_and_why(make_wall) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    s = w.service
    s.ingest(Event("br05-rtr", "node_down", S.CRITICAL, w.clock.now(), category="network"))
    s.evaluate(force=True)
    fields = texts(banner_fields(w.source, w.clock.now()))
    assert fields[0].startswith("MODE INCIDENT") and "by rule critical-network" in fields
    assert "BROKER CONNECTED" in fields and "UNACK 1" in fields and "♪ network_high" in fields
    w.hotkeys["F5"]()  # pin briefing
    w.hotkeys["S"]()  # silence
    s.reject("noc/events/x", "not_json", "payload is not JSON", b"{")
    fields = texts(banner_fields(w.source, w.clock.now()))
    assert any(f.startswith("PINNED by hotkey 15:00 · rules: incident") for f in fields), fields
    assert any(f.startswith("SILENCED 2:00") for f in fields) and "REJECTED 1" in fields


def test_diagnostics_list_rejections_and_errors_and_the_hotkey_shows_them(make_wall) -> None:  # type: ignore[no-untyped-def]
    from wallctl.qt.overlay import toggle_diagnostics

    w: Wall = make_wall()
    s = w.service
    s.reject("noc/events/x", "unknown_severity", "severity 'bad' is not one of ...", b"{}")
    s.set_config_errors(["layouts/rules.yaml:3:11: rule 'r1' names unknown mode 'nope'"])
    s.report_device_error("audio device error playing 'network_high': Error opening PCM device")
    lines = texts(diagnostics_lines(w.source))
    assert lines[0] == "Broker link: connected"
    assert "CONFIG  layouts/rules.yaml:3:11: rule 'r1' names unknown mode 'nope'" in lines
    assert any(t.startswith("DEVICE  audio device error") for t in lines)
    assert any("unknown_severity: 1" in t for t in lines)
    assert toggle_diagnostics(w.scene) is True
    assert toggle_diagnostics(w.scene) is False


def test_alarm_rate_chart_counts_new_alarms_per_ten_minutes(make_wall) -> None:  # type: ignore[no-untyped-def]
    from wallctl.qt.tiles.charts import AlarmRateTile

    w: Wall = make_wall()
    for i in range(12):
        w.service.ingest(Event(f"n{i}", "t", S.MINOR, w.clock.now()))
        w.clock.advance(20)
    tile = w.scene.placement["normal"]["rate"]
    assert isinstance(tile, AlarmRateTile)
    tile.refresh()
    _, ys = tile.curve.getData()
    assert max(ys) == 12 and w.service.engine.flood.active
    assert tile.flood_line.value() == 10 and tile.target.value() == 1


def test_text_and_image_tiles_draw(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyqtgraph as pg

    from wallctl.qt.tiles.simple import ImageTile, TextTile

    img = QImage(40, 20, QImage.Format.Format_RGB32)
    img.fill(QColor("#00ff00"))
    img.save(str(tmp_path / "logo.png"))
    scene = pg.GraphicsScene()
    text = TextTile(None, TextOptions(text="SHIFT BRIEFING", font_pt=60))
    image = ImageTile("Logo", ImageOptions(path="logo.png"), tmp_path)
    missing = ImageTile("Logo", ImageOptions(path="nope.png"), tmp_path)
    for i, t in enumerate((text, image, missing)):
        scene.addItem(t)
        t.setGeometry(QRectF(0, i * 400, 800, 380))
    scene.setSceneRect(0, 0, 800, 1200)
    out = render_scene(scene, scale=1.0)
    lit = sum(1 for x in range(0, 800, 4) for y in range(100, 300, 4) if QColor(out.pixel(x, y)).lightness() > 200)
    assert lit > 100  # the text
    assert QColor(out.pixel(400, 600)).green() > 200  # the image, letterboxed in the middle
    assert missing.error is not None and "cannot load image" in missing.error
    scene.clear()


@pytest.fixture
def red_critical():  # type: ignore[no-untyped-def]
    from wallctl.qt import theme

    yield
    theme.apply_colors({})  # back to the defaults for the other tests


def test_severity_colours_come_from_the_config(make_wall, red_critical, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from wallctl.core.config.settings import load_config
    from wallctl.qt import theme

    cfg = tmp_path / "theme.yaml"
    cfg.write_text("theme:\n  severity_colors: {critical: '#ff00ff'}\n")
    theme.apply_colors(load_config(cfg).model.theme.severity_colors)
    assert theme.SEVERITY_COLORS[S.CRITICAL].name() == "#ff00ff"
    assert theme.SEVERITY_COLORS[S.MAJOR].name() == "#ff9f0a"  # the others keep their defaults


def test_bad_theme_colours_are_refused(tmp_path: Path) -> None:
    from wallctl.core.config.settings import load_config
    from wallctl.core.files.yamldoc import ConfigError

    cfg = tmp_path / "theme.yaml"
    cfg.write_text("theme:\n  severity_colors: {critical: red, huge: '#000000'}\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert "is not a severity" in str(info.value) or "is not a #rrggbb colour" in str(info.value)
