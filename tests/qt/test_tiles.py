"""Tiles rendered offscreen with real models fed by events: the map's pixels, focus zoom, the alarm list model,
live reload of layouts."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.qt.conftest import Wall
from wallctl.core.alarms.event import Event
from wallctl.core.severity import Severity
from wallctl.qt.alarm_model import AlarmTableModel
from wallctl.qt.shots import render_scene
from wallctl.qt.tiles.topology import TopologyTile

S = Severity
ROOT = Path(__file__).resolve().parents[2]


def pixel_near(img, x: float, y: float, radius: int = 6) -> list[QColor]:  # type: ignore[no-untyped-def]
    out = []
    for dx in range(-radius, radius + 1, 2):
        for dy in range(-radius, radius + 1, 2):
            px, py = int(x + dx), int(y + dy)
            if 0 <= px < img.width() and 0 <= py < img.height():
                out.append(QColor(img.pixel(px, py)))
    return out


def test_alarmed_node_is_drawn_in_its_severity_colour(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    tile = w.scene.placement["normal"]["map"]
    assert isinstance(tile, TopologyTile)
    w.service.ingest(Event("dc1-ups-1", "ups_on_battery", S.MAJOR, w.clock.now(), category="environment"))
    w.service.engine.ack(("dc1-ups-1", "ups_on_battery"))  # acknowledged: steady, no flashing
    tile.refresh()
    img = render_scene(w.scene, scale=1.0)
    pos = tile.node_scene_pos("dc1-ups-1")
    colours = pixel_near(img, pos.x(), pos.y())
    orange = [c for c in colours if c.red() > 200 and 120 < c.green() < 190 and c.blue() < 80]
    assert len(orange) >= 3, [c.name() for c in colours]
    calm = tile.node_scene_pos("dc1-ups-2")
    assert not [c for c in pixel_near(img, calm.x(), calm.y()) if c.red() > 200 and c.blue() < 80]


def test_unacknowledged_node_flashes_and_consequence_is_hollow(make_wall) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    tile: TopologyTile = w.scene.placement["normal"]["map"]
    w.service.ingest(Event("br05-rtr", "node_down", S.CRITICAL, w.clock.now(), category="network"))
    w.service.ingest(Event("br05-sw", "unreachable", S.MAJOR, w.clock.now(), category="network"))
    tile.refresh()
    i = tile.index["br05-rtr"]
    on = tile._brushes[i]
    tile._flash()
    assert tile._brushes[i] is not on  # flashing: the brush alternates
    j = tile.index["br05-sw"]
    assert tile._brushes[j] is tile.colors.dark_brush  # consequence: outline only
    assert tile._symbols[i] == "star" and tile._symbols[j] == "t"  # shape as a second cue
    assert "br05-rtr" in tile._labels and "dc1-core-2" not in tile._labels  # labels only where alarmed


def test_focus_zooms_onto_the_source_and_draws_the_path_to_root(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    tile: TopologyTile = w.scene.placement["incident"]["map"]
    whole = tile.vb.viewRect()
    w.service.ingest(Event("br05-rtr", "node_down", S.CRITICAL, w.clock.now(), category="network"))
    w.scene.apply(w.service.evaluate(force=True))
    assert tile.focused and tile.focus_target == "br05-rtr"
    x, y = tile.node_xy[tile.index["br05-rtr"]]
    qtbot.waitUntil(lambda: tile.vb.viewRect().width() < whole.width() * 0.6, timeout=3000)
    view = tile.vb.viewRect()
    assert view.contains(float(x), float(y))
    xs, _ = tile.path.getData()
    assert xs is not None and len(xs) >= 3  # root -> ... -> br05-rtr


def test_alarm_list_model_keeps_the_first_rows_in_list_order_and_counts_the_rest(qapp) -> None:  # type: ignore[no-untyped-def]
    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.clock import ManualClock
    from wallctl.core.signal import Signal
    from wallctl.core.view.rows import ROW_LIMIT, RankedFeed, sort_key

    engine = AlarmEngine(ManualClock())
    sevs = [S.WARNING, S.MINOR, S.MAJOR, S.CRITICAL]
    for i in range(10_000):
        engine.ingest(Event(f"n{i}", "t", sevs[i % 4], float(i)))
    model = AlarmTableModel(RankedFeed(engine), Signal("changed"))
    model.refresh()
    assert model.total == 10_000 and model.columnCount() == 8
    assert model.rowCount() == ROW_LIMIT < 10_000
    whole = sorted(engine, key=sort_key("priority"))
    assert [a.key for a, _ in model.rows] == [a.key for a in whole[:ROW_LIMIT]]
    first = model.alarm_at(0)
    assert first is not None and first.peak is S.CRITICAL
    assert model.data(model.index(0, 0)) == "critical"


def test_live_reload_applies_valid_saves_and_keeps_the_last_good_layout(
    make_wall, tmp_path: Path, qtbot: QtBot
) -> None:  # type: ignore[no-untyped-def]
    from wallctl.controller.build import load_config_layouts
    from wallctl.controller.reload import LayoutWatcher
    from wallctl.qt.loop import QtLoop

    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    w: Wall = make_wall(layouts=layouts)
    watcher = LayoutWatcher(layouts, lambda: load_config_layouts(w.core.config), w.service, QtLoop())
    mode_file = layouts / "modes" / "05-briefing.yaml"
    text = mode_file.read_text()
    mode_file.write_text(text.replace("Shift briefing - ECC main wall", "Briefing at 08:00"))
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=3000)
    assert time.monotonic() - t0 < 1.0  # a valid save is on the wall within a second
    opts = w.scene.layouts.tile_options[("briefing", "note")]
    assert opts.text == "Briefing at 08:00"
    mode_file.write_text(text.replace("row: 1, column: 0, columns: 2", "row: 1, column: 0, columns: 9"))
    qtbot.waitUntil(lambda: watcher.failures == 1, timeout=3000)
    assert w.scene.layouts.tile_options[("briefing", "note")].text == "Briefing at 08:00"  # last good kept
    errors = w.service.diagnostics.config_errors
    line = next(i for i, t in enumerate(mode_file.read_text().splitlines(), 1) if "name: map" in t)
    assert any(e.startswith(f"{mode_file}:{line}:5: region 'map'") and "off the 2x3 grid" in e for e in errors), errors


def test_five_thousand_node_map_renders_alarms_and_its_legend(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyqtgraph as pg

    from wallctl.bench.topogen import write_synthetic
    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.clock import ManualClock
    from wallctl.core.topology.files import load_topology
    from wallctl.core.topology.state import TopologyState
    from wallctl.core.wall.tiles import TopologyOptions

    topo = load_topology(write_synthetic(tmp_path / "big.yaml", 5000, 10_000))
    engine = AlarmEngine(ManualClock())
    state = TopologyState(topo, engine)
    scene = pg.GraphicsScene()
    tile = TopologyTile("Estate", TopologyOptions(), topo, state)
    scene.addItem(tile)
    tile.setGeometry(0, 0, 1920, 1080)
    scene.setSceneRect(0, 0, 1920, 1080)
    engine.ingest(Event("n2550", "down", S.CRITICAL, 0.0))
    engine.ack(("n2550", "down"))
    tile.refresh()
    img = render_scene(scene, scale=1.0)
    pos = tile.node_scene_pos("n2550")
    red = [c for c in pixel_near(img, pos.x(), pos.y(), radius=8) if c.red() > 200 and c.green() < 110]
    assert red, "the critical node is not drawn red"
    legend = tile.legend.mapRectToScene(tile.legend.rect())
    assert tile.geometry().contains(legend) and legend.width() > 100
    tile.shutdown()
    scene.clear()


def test_big_type_is_drawn(make_wall) -> None:  # type: ignore[no-untyped-def]
    """The clock's digits and the summary's numbers are big (over 100 px): they must reach the pixels."""
    w: Wall = make_wall()
    w.service.ingest(Event("r1", "down", S.CRITICAL, w.clock.now(), category="network"))
    img = render_scene(w.scene, scale=1.0)

    def samples(rect, test) -> int:  # type: ignore[no-untyped-def]
        return sum(
            1
            for x in range(int(rect.left()), int(rect.right()), 4)
            for y in range(int(rect.top()), int(rect.bottom()), 4)
            if test(QColor(img.pixel(x, y)))
        )

    clock = w.scene.placement["normal"]["clock"].geometry()
    digits = clock.adjusted(0, 40, 0, -clock.height() * 0.5)
    assert samples(digits, lambda c: c.lightness() > 200) > 300, "clock digits missing"
    summary = w.scene.placement["normal"]["summary"].geometry()
    critical_cell = QRectF(summary.left() + 12, summary.top() + 50, summary.width() / 4 - 24, summary.height() * 0.3)
    assert samples(critical_cell, lambda c: c.red() > 180 and c.green() < 90) > 100  # the red cell
    assert samples(critical_cell, lambda c: c.lightness() < 40) > 100, "the big '1' is missing"


def test_kpi_tile_draws_the_series_and_its_thresholds(qapp) -> None:  # type: ignore[no-untyped-def]
    import pyqtgraph as pg

    from wallctl.core.kpi import KpiBoard, KpiSpec
    from wallctl.core.wall.tiles import KpiOptions
    from wallctl.qt.tiles.charts import KpiTile

    board = KpiBoard(
        (
            KpiSpec("aisle", "t/a", unit=" C", warning_above=27, critical_above=30),
            KpiSpec("tps", "t/b", field="value", warning_below=200, critical_below=50),
        )
    )
    now = [1000.0]
    tile = KpiTile("KPIs", KpiOptions(series=("aisle", "tps"), minutes=5), board, lambda: now[0])
    scene = pg.GraphicsScene()
    scene.addItem(tile)
    tile.setGeometry(0, 0, 1200, 600)
    for v in (25.0, 27.5, 31.0):
        now[0] += 10
        board.series["aisle"].add(now[0], v)
    tile.refresh()
    _, ys = tile.curves["aisle"].getData()
    assert list(ys) == [25.0, 27.5, 31.0]
    lines = {it.value() for it in tile.plot.items if isinstance(it, pg.InfiniteLine)}
    assert {27, 30, 200, 50} <= lines
    img = render_scene(scene, scale=1.0)
    assert img.width() == 1200
    tile.shutdown()
    scene.clear()


def test_hovering_a_node_labels_it(make_wall) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    tile: TopologyTile = w.scene.placement["normal"]["map"]
    assert "dc1-core-2" not in tile._labels
    spot = tile.scatter.points()[tile.index["dc1-core-2"]]
    tile.scatter.sigHovered.emit(tile.scatter, [spot], None)
    assert "dc1-core-2" in tile._labels
    tile.scatter.sigHovered.emit(tile.scatter, [], None)
    assert "dc1-core-2" not in tile._labels


def test_a_focus_dropped_while_zooming_leaves_the_whole_map(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    """The zoom onto a target takes 450 ms; a mode switch back to normal within them (focus gone) showed the whole
    map for one frame, and the zoom still under way then carried the view back to the old target."""
    from PySide6.QtCore import QAbstractAnimation

    w: Wall = make_wall()
    tile: TopologyTile = w.scene.placement["incident"]["map"]
    whole = tile.vb.viewRect()
    tile.on_focus("br05-rtr")
    zoom = tile._anim
    assert zoom is not None and zoom.state() == QAbstractAnimation.State.Running
    tile.on_focus(None)
    qtbot.waitUntil(lambda: zoom.state() == QAbstractAnimation.State.Stopped, timeout=3000)
    view = tile.vb.viewRect()
    assert view.width() > whole.width() * 0.9 and view.contains(whole.center()), (view, whole)


def test_names_are_placed_once_the_zoom_is_done_not_at_each_step(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    """Placing 200 names took 5-9 ms; at every refresh of a 450 ms zoom they kept the display node busy when the
    next switch arrived. Names ride with their nodes meanwhile and are placed once the view stops."""
    from PySide6.QtCore import QAbstractAnimation

    w: Wall = make_wall()
    tile: TopologyTile = w.scene.placement["incident"]["map"]
    tile.settle()
    laid_out, start = tile._laid_out_at, tile.vb.viewRect()
    tile.on_focus("br05-rtr")
    zoom = tile._anim
    assert zoom is not None
    qtbot.waitUntil(lambda: tile.vb.viewRect() != start, timeout=1000)
    tile._labels_moved()  # as a repaint of the moving view says
    tile.refresh()
    assert zoom.state() == QAbstractAnimation.State.Running and tile.labels_pending
    assert tile._laid_out_at == laid_out  # not placed while zooming
    qtbot.waitUntil(lambda: zoom.state() == QAbstractAnimation.State.Stopped, timeout=3000)
    tile.refresh()
    assert not tile.labels_pending and tile._laid_out_at > laid_out


def test_a_command_can_pin_a_mode_focused_on_a_site(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    from wallctl.core.wire.commands import parse_command

    w: Wall = make_wall()
    tile: TopologyTile = w.scene.placement["incident"]["map"]
    whole = tile.vb.viewRect()
    err = w.service.execute(parse_command('{"action": "mode", "mode": "incident", "focus": "br07"}'), "mqtt")
    assert err is None
    w.scene.apply(w.service.evaluate(force=True))
    assert w.service.decision.focus_target == "br07" and tile.focus_target == "br07"
    qtbot.waitUntil(lambda: tile.vb.viewRect().width() < whole.width() * 0.5, timeout=3000)
    for n in ("br07-rtr", "br07-srv"):
        x, y = tile.node_xy[tile.index[n]]
        assert tile.vb.viewRect().contains(float(x), float(y))


def test_summary_numbers_of_any_width_stay_inside_their_cells(qapp) -> None:  # type: ignore[no-untyped-def]
    """5,000 warnings must read as '5000', not lose digits at the cell's edges (it did in a flood screenshot)."""
    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.clock import ManualClock
    from wallctl.core.signal import Signal
    from wallctl.core.wall.tiles import AlarmSummaryOptions
    from wallctl.qt.tiles.alarms import AlarmSummaryTile

    tile = AlarmSummaryTile("Summary", AlarmSummaryOptions(), AlarmEngine(ManualClock()), lambda: 0.0, Signal("c"))
    sevs = [S.CRITICAL, S.MAJOR, S.MINOR, S.WARNING]
    width, big_h = 1000.0, 300.0
    size = min(big_h * 0.62, width / len(sevs) * 0.5) / 1.333  # as the tile sizes them
    img = tile._render_cells(sevs, (0, 0, 0, 5000), width, big_h, size).toImage()
    cell_w = width / len(sevs)
    left, right = int(3 * cell_w + 6), int(4 * cell_w - 6)  # the warning cell
    dark = [  # the digits are dark on the warning colour
        x
        for x in range(left, right)
        for y in range(12, int(big_h * 0.6), 3)
        if QColor(img.pixel(x, y)).lightness() < 60
    ]
    assert dark, "the number is missing"
    assert min(dark) > left + 2 and max(dark) < right - 2, (min(dark), max(dark), left, right)
    assert max(dark) - min(dark) > (right - left) * 0.6, "four digits should fill most of the cell"
    tile.shutdown()


def test_alarm_list_footer_counts_every_alarm_not_only_the_rows_kept(qapp) -> None:  # type: ignore[no-untyped-def]
    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.clock import ManualClock
    from wallctl.core.wall.tiles import AlarmListOptions
    from wallctl.qt.tiles.alarms import AlarmListTile

    engine = AlarmEngine(ManualClock())
    for i in range(12):
        engine.ingest(Event(f"n{i}", "t", S.MINOR, float(i)))
    from wallctl.core.signal import Signal
    from wallctl.core.view.rows import ROW_LIMIT, RankedFeed

    tile = AlarmListTile("Alarms", AlarmListOptions(), RankedFeed(engine), lambda: None, Signal("changed"))
    tile.model.refresh()
    assert tile.footer(capacity=30) == "12 listed"
    assert tile.footer(capacity=10) == "12 listed   ·   2 more below"
    for i in range(12, 5000):
        engine.ingest(Event(f"n{i}", "t", S.MINOR, float(i)))
    tile.model.refresh()
    assert tile.footer(capacity=36) == f"first {ROW_LIMIT} of 5000 listed   ·   4964 more below"
    tile.shutdown()


def test_the_focus_zoom_moves_the_map_in_a_few_steps_not_at_every_animation_tick(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    """Each step of the zoom repaints the map's monitors (25-35 ms on a loaded node of three); at the animation's
    60 Hz the zoom kept a display node busy for its whole 450 ms. It moves at ZOOM_FRAME_S and ends on its target."""
    from PySide6.QtCore import QAbstractAnimation

    w: Wall = make_wall()
    tile: TopologyTile = w.scene.placement["incident"]["map"]
    steps: list[object] = []
    tile.vb.sigRangeChanged.connect(lambda *_a: steps.append(tile.vb.viewRect()))
    tile.on_focus("br05-rtr")
    zoom = tile._anim
    assert zoom is not None
    qtbot.waitUntil(lambda: zoom.state() == QAbstractAnimation.State.Stopped, timeout=3000)
    assert 3 <= len(steps) <= 12, len(steps)  # 0.45 s in 50 ms steps (at every 60 Hz tick: ~27)
    target = tile.focus_rect("br05-rtr")
    view = tile.vb.viewRect()
    assert abs(view.width() - target.width()) < 1 and view.contains(target.center())
