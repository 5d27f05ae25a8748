"""Readable from the back of the room (issue 15, item 6), checked on pictures of the shipped modes.

The shipped wall (55" 1080p panels, read from 5 m) needs capitals of 37 px for primary text (16 arcminutes: alarm
rows, banner, summary figures, names of alarmed nodes) and 24 px for secondary text (10 arcminutes: captions, site
names, axis ticks, legend). Heights are measured in the rendered pixels, on capitals with flat tops and feet (no
overshoot): the rows between the first and last row where the glyph's ink covers more than half a pixel. Labels on
the maps must not overlap: each drawn label's box is compared with every other's.
"""

from __future__ import annotations

import itertools
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetricsF, QImage
from pytestqt.qtbot import QtBot

from tests.qt.conftest import Wall
from wallctl.core.wall.layout import WallSpec
from wallctl.core.wall.legibility import CAP_EM, DEFAULT_SIZES, LINE_EM, ROW_SPACING, TextSizes
from wallctl.core.wire.commands import Command
from wallctl.preview import feed_sample
from wallctl.qt import theme
from wallctl.qt.banner import banner_font
from wallctl.qt.shots import render_scene
from wallctl.qt.tiles.alarms import AlarmListTile, AlarmSummaryTile
from wallctl.qt.tiles.charts import AlarmRateTile
from wallctl.qt.tiles.mapparts import NodeLabel
from wallctl.qt.tiles.topology import TopologyTile

ROOT = Path(__file__).resolve().parents[2]
MODES = ("normal", "incident", "environment", "flood", "briefing", "deaf")


@pytest.fixture(autouse=True)
def default_sizes() -> Iterator[None]:
    yield
    theme.apply_wall(WallSpec(rows=1, columns=1))  # a wall at another distance leaves the shipped sizes behind


def show(w: Wall, mode: str, qtbot: QtBot) -> QImage:
    """The whole wall in ``mode``, its maps' labels placed, rendered at wall pixels."""
    assert w.service.execute(Command("mode", {"mode": mode, "pin_s": 86400}), "test") is None
    w.scene.apply(w.service.evaluate(force=True))
    tiles = w.scene.placement[mode].values()
    maps = [t for t in tiles if isinstance(t, TopologyTile)]
    for tile in maps:
        tile.refresh()
    lists = [t for t in tiles if isinstance(t, AlarmListTile)]
    qtbot.waitUntil(lambda: not any(t.labels_pending for t in maps) and all(t.model.rows for t in lists), timeout=2000)
    return render_scene(w.scene, scale=1.0)


FLAT = "BDEFHIKLMNPRT"  # capitals with flat tops and feet: their ink is the cap height, no overshoot


def flat_glyph(font: Any, text: str) -> tuple[float, float]:
    """Where the first flat capital of ``text`` is, from the text's left edge."""
    i = next(i for i, ch in enumerate(text) if ch in FLAT)
    return glyph_span(font, text, i)


def row_tag(tile: AlarmListTile, row: int = 0) -> QRectF:
    """The scene rectangle of a flat capital of the severity tag of the list's ``row`` (CRIT: its R)."""
    fb = theme.primary_font(bold=True, at_least_pt=tile.options.font_pt)
    row_h = QFontMetricsF(theme.primary_font(at_least_pt=tile.options.font_pt)).height() * ROW_SPACING
    alarm, depth = tile.model.rows[tile.first_row + row]
    a, b = flat_glyph(fb, theme.SEVERITY_TAGS[alarm.peak])
    c = tile.content_rect()
    x = c.x() + 8 + depth * QFontMetricsF(theme.primary_font(at_least_pt=tile.options.font_pt)).height() * 0.6
    return tile.mapRectToScene(QRectF(x + a, c.y() + row * row_h, b - a, row_h))


def ink_height(img: QImage, r: QRectF, fg: QColor | None = None) -> int:
    """Rows from the first to the last that hold ink in ``r`` (scene = image pixels): pixels nearer ``fg`` than the
    crop's most common colour (its background). ``fg`` None: whatever differs from the background by half of the
    largest difference found."""
    x0, x1, y0, y1 = int(r.left()), int(r.right()), int(r.top()), int(r.bottom())
    px = {(x, y): QColor(img.pixel(x, y)) for x in range(x0, x1) for y in range(y0, y1)}
    bg = Counter(c.rgb() for c in px.values()).most_common(1)[0][0]
    b = QColor(bg)

    def dist(c: QColor, d: QColor) -> float:
        return abs(c.red() - d.red()) + abs(c.green() - d.green()) + abs(c.blue() - d.blue())

    half = (dist(fg, b) if fg is not None else max(dist(c, b) for c in px.values())) / 2
    rows = sorted({y for (x, y), c in px.items() if dist(c, b) > half})
    return rows[-1] - rows[0] + 1 if rows else 0


def glyph_span(font: Any, text: str, index: int) -> tuple[float, float]:
    """Where the ``index``-th character of ``text`` starts and ends, from the text's left edge."""
    fm = QFontMetricsF(font)
    return fm.horizontalAdvance(text[:index]), fm.horizontalAdvance(text[: index + 1])


def scene_rect(item: Any, r: QRectF) -> QRectF:
    return item.mapRectToScene(r)


def test_the_wall_font_proportions_the_check_assumes_are_qts(qapp: Any) -> None:
    for bold, mono, px in itertools.product((False, True), (False, True), (33, 51, 100)):
        f = theme.primary_font(bold=bold, mono=mono)
        f.setPixelSize(px)
        fm = QFontMetricsF(f)
        assert fm.capHeight() == pytest.approx(CAP_EM * px, abs=1.0)
        assert fm.height() == pytest.approx(LINE_EM * px, abs=1.0)


def test_primary_text_on_the_shipped_modes_has_16_arcminute_capitals(
    make_wall: Callable[..., Wall], qtbot: QtBot
) -> None:
    w = make_wall()
    feed_sample(w.service)
    s = theme.sizes()
    assert (s.primary_cap, s.secondary_cap) == (37, 24) and s == DEFAULT_SIZES
    seen: dict[str, list[int]] = {}
    for mode in MODES:
        img = show(w, mode, qtbot)
        for region, tile in w.scene.placement[mode].items():
            where = f"{mode}/{region}"
            if isinstance(tile, AlarmListTile):  # the first row's severity tag
                seen.setdefault("alarm row", []).append(h := ink_height(img, row_tag(tile), theme.TEXT))
                assert h >= s.primary_cap, f"{where}: alarm row capitals {h} px"
                assert QFontMetricsF(theme.primary_font(at_least_pt=tile.options.font_pt)).capHeight() >= s.primary_cap
            elif isinstance(tile, AlarmSummaryTile):  # CRITICAL under the first big number, and the big number
                c = tile.content_rect()
                big_h = c.height() * 0.55
                size = min(big_h * 0.62, c.width() / 4 * 0.5) / 1.333  # as the tile sizes its figures
                cell = QRectF(c.x() + 6, c.y() + 6, c.width() / 4 - 12, big_h - 12)
                font = theme.primary_font(bold=True, at_least_pt=size * 0.26)
                x0, x1 = flat_glyph(font, "CRITICAL")
                left = cell.center().x() - QFontMetricsF(font).horizontalAdvance("CRITICAL") / 2
                label = QRectF(left + x0, cell.top() + cell.height() * 0.7 + 2, x1 - x0, cell.height() * 0.3 - 4)
                seen.setdefault("summary label", []).append(
                    h := ink_height(img, scene_rect(tile, label), QColor("#000000"))
                )
                assert h >= s.primary_cap, f"{where}: severity label {h} px"
                figure = scene_rect(tile, cell.adjusted(2, 2, -2, -cell.height() * 0.3))  # '1': flat foot, sloped top
                seen.setdefault("summary figure", []).append(h := ink_height(img, figure, QColor("#000000")))
                assert h >= s.primary_cap, f"{where}: figure {h} px"
                line = QRectF(c.x() + 12, c.y() + big_h + 8, 0, 0)  # 'Unacknowledged': its U
                font = theme.primary_font(at_least_pt=0)
                _, u = glyph_span(font, "U", 0)
                line.setSize(QRectF(0, 0, u, QFontMetricsF(font).height() * 1.6).size())
                seen.setdefault("summary counts", []).append(h := ink_height(img, scene_rect(tile, line), theme.TEXT))
                assert h >= s.primary_cap - 1, f"{where}: counts line {h} px"  # U's foot is round: one row of it
            elif isinstance(tile, TopologyTile):
                for node, r in tile.placed.items():
                    label = tile._labels.get(node) if isinstance(node, str) else None
                    if label is None or not label.primary:
                        continue
                    text = label.textItem.toPlainText()
                    if not any(ch in FLAT for ch in text):
                        continue
                    margin = label.textItem.document().documentMargin()
                    x0, x1 = flat_glyph(label.textItem.font(), text)
                    glyph = QRectF(r.left() + margin + x0, r.top(), x1 - x0, r.height())
                    seen.setdefault("alarmed node name", []).append(h := ink_height(img, glyph, theme.TEXT))
                    assert h >= s.primary_cap, f"{where}: name of {node} {h} px"
        for banner in w.scene.banners:
            placed, _, scale = banner.place(w.clock.now())
            assert scale == 1.0, f"{mode}: the banner shrank its type"
            unack = next(p for p in placed if p.text.startswith("UNACK"))
            a, b = glyph_span(banner_font(scale), unack.text, 1)  # its N
            fm = QFontMetricsF(banner_font(scale))
            left = unack.rect.center().x() - fm.horizontalAdvance(unack.text) / 2
            glyph = banner.mapRectToScene(QRectF(left + a, unack.rect.top(), b - a, unack.rect.height()))
            seen.setdefault("banner", []).append(h := ink_height(img, glyph, unack.fg))
            assert h >= s.primary_cap, f"{mode}: banner capitals {h} px"
    assert set(seen) == {
        "alarm row",
        "summary label",
        "summary figure",
        "summary counts",
        "alarmed node name",
        "banner",
    }, seen
    print({k: (min(v), max(v)) for k, v in seen.items()})


def test_secondary_text_has_10_arcminute_capitals(make_wall: Callable[..., Wall], qtbot: QtBot) -> None:
    w = make_wall()
    feed_sample(w.service)
    img = show(w, "normal", qtbot)
    s = theme.sizes()
    tiles = w.scene.placement["normal"]
    clock = tiles["clock"]  # caption 'Time': its T
    _, t = glyph_span(theme.secondary_font(bold=True), "T", 0)
    title = scene_rect(clock, QRectF(16, 6, t, s.title_h))
    assert (h := ink_height(img, title, theme.MUTED)) >= s.secondary_cap, f"caption {h} px"
    m = tiles["map"]
    assert isinstance(m, TopologyTile)
    site = next(a for a in m._sites if a.text.startswith("Head-office"))
    r = m.placed[site]
    _, x1 = glyph_span(site.label.textItem.font(), "H", 0)
    margin = site.label.textItem.document().documentMargin()
    assert (h := ink_height(img, QRectF(r.left() + margin, r.top(), x1, r.height()), theme.MUTED)) >= s.secondary_cap
    legend = m.legend
    entries, _ = legend.flow(legend.rect().width())
    _, note, box = entries[-1]
    assert note.startswith(theme.FIRST_OUT_TAG)
    _, x1 = glyph_span(theme.secondary_font(), note, 0)  # the 1 of 1ST
    assert (
        h := ink_height(img, legend.mapRectToScene(QRectF(box.left(), box.top(), x1, box.height())), theme.MUTED)
    ) >= s.secondary_cap
    rate = tiles["rate"]
    assert isinstance(rate, AlarmRateTile)
    axis = rate.plot.getAxis("left")
    assert QFontMetricsF(axis.style["tickFont"]).capHeight() >= s.secondary_cap
    area = axis.mapRectToScene(axis.boundingRect())
    digit = QFontMetricsF(axis.style["tickFont"]).horizontalAdvance("0")
    column = QRectF(area.right() - 13 - digit, area.top(), digit, area.height())  # the tick labels' last digits
    runs = ink_runs(img, column, theme.TEXT)
    assert len(runs) >= 3 and min(runs) >= s.secondary_cap and max(runs) <= s.secondary_cap + 3, runs


def ink_runs(img: QImage, r: QRectF, fg: QColor) -> list[int]:
    """Heights of the separate blocks of ink rows in ``r``, from top to bottom (each tick label is one)."""
    rows = []
    for y in range(int(r.top()), int(r.bottom())):
        if any(
            abs(QColor(img.pixel(x, y)).lightness() - fg.lightness()) < 60 for x in range(int(r.left()), int(r.right()))
        ):
            rows.append(y)
    runs, start = [], None
    for prev, y in itertools.pairwise([None, *rows, None]):
        if start is None and y is not None:
            start = y
        elif y is None or (prev is not None and y != prev + 1):
            if start is not None and prev is not None:
                runs.append(prev - start + 1)
            start = y
    return [n for n in runs if n > 4]


def test_no_label_overlaps_another_on_any_shipped_map(make_wall: Callable[..., Wall], qtbot: QtBot) -> None:
    w = make_wall()
    feed_sample(w.service)
    for mode in MODES:
        img = show(w, mode, qtbot)
        for region, tile in w.scene.placement[mode].items():
            if not isinstance(tile, TopologyTile):
                continue
            where = f"{mode}/{region}"
            labels: list[tuple[str, NodeLabel]] = [(n, lb) for n, lb in tile._labels.items() if lb.isVisible()]
            labels += [(a.site, a.label) for a in tile._sites if a.label.isVisible()]
            drawn = {name: lb.sceneBoundingRect() for name, lb in labels}
            placed = {(k if isinstance(k, str) else k.site): r for k, r in tile.placed.items()}
            assert set(drawn) == set(placed), where
            view = tile.vb.sceneBoundingRect()
            for name, r in drawn.items():
                assert abs(r.left() - placed[name].left()) < 1.5 and abs(r.top() - placed[name].top()) < 1.5, name
                assert view.contains(r.adjusted(1, 1, -1, -1)), f"{where}: {name} runs off the map"
                fill = QColor(img.pixel(int(r.left()) + 2, int(r.center().y())))
                assert fill.lightness() < 60, f"{where}: {name}'s box is not drawn where it is ({fill.name()})"
            clashes = [(a, b) for (a, ra), (b, rb) in itertools.combinations(drawn.items(), 2) if ra.intersects(rb)]
            assert not clashes, f"{where}: labels overlap: {clashes}"
            legend = tile.legend.mapRectToScene(tile.legend.rect())
            assert not any(r.intersects(legend) for r in drawn.values()), f"{where}: a label under the legend"
            causes = [
                n
                for n in ("br05-rtr", "dc1-ups-1", "dc1-fw-2")
                if tile.vb.sceneBoundingRect().contains(tile.node_scene_pos(n))
            ]
            assert all(n in drawn for n in causes), f"{where}: alarmed nodes unnamed: {set(causes) - set(drawn)}"
            if mode == "normal":  # the branch names along the map's foot ran into each other: all are there now
                sites = [a.site for a in tile._sites if a.label.isVisible()]
                assert len(sites) == len(tile._sites), (
                    f"{where}: sites unnamed: {set(a.site for a in tile._sites) - set(sites)}"
                )


def test_type_grows_with_the_viewing_distance(make_wall: Callable[..., Wall], qtbot: QtBot, tmp_path: Path) -> None:
    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    wall = layouts / "wall.yaml"
    text = wall.read_text()
    assert "  viewing_distance_m: 5" in text
    wall.write_text(text.replace("  viewing_distance_m: 5", "  viewing_distance_m: 8"))
    w = make_wall(layouts=layouts)
    feed_sample(w.service)
    s: TextSizes = theme.sizes()
    assert s.distance_m == 8 and s.primary_cap == 60
    img = show(w, "normal", qtbot)
    tile = w.scene.placement["normal"]["list"]
    assert isinstance(tile, AlarmListTile)
    box = row_tag(tile)
    assert ink_height(img, box, theme.TEXT) >= 60
    assert w.scene.banners[0].size().height() == s.banner_h > DEFAULT_SIZES.banner_h


def test_a_resized_map_places_its_names_at_the_next_refresh(qapp: Any) -> None:
    """A mode switch gives the map another region inside the frame every node shows at one instant: the names are
    placed again at the next refresh, not in that frame; a still picture places them before it is taken."""
    import pyqtgraph as pg

    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.clock import ManualClock
    from wallctl.core.topology.files import load_topology
    from wallctl.core.topology.state import TopologyState
    from wallctl.core.wall.tiles import TopologyOptions

    topo = load_topology(ROOT / "topology" / "estate.yaml")
    scene = pg.GraphicsScene()
    tile = TopologyTile("Estate", TopologyOptions(labels="all"), topo, TopologyState(topo, AlarmEngine(ManualClock())))
    scene.addItem(tile)
    scene.setSceneRect(0, 0, 3840, 2000)
    tile.setGeometry(0, 0, 1920, 2000)
    tile.refresh()
    before = dict(tile.placed)
    assert before and not tile.labels_pending
    tile.setGeometry(0, 0, 3840, 2000)
    assert tile.labels_pending and tile.placed == before
    tile.refresh()
    wide = dict(tile.placed)
    assert not tile.labels_pending and wide != before
    tile.setGeometry(0, 0, 1920, 2000)
    render_scene(scene, 0.25)
    assert not tile.labels_pending and tile.placed != wide


def test_a_node_raised_under_a_name_is_uncovered_at_once(qapp: Any, qtbot: QtBot) -> None:
    """Names are placed again at most every 0.3 s as alarms come and go; a name over a node that has just been
    raised is taken away in the same refresh, and the node's own name placed soon after."""
    import pyqtgraph as pg

    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.alarms.event import Event
    from wallctl.core.clock import ManualClock
    from wallctl.core.severity import Severity
    from wallctl.core.topology.files import load_topology
    from wallctl.core.topology.state import TopologyState
    from wallctl.core.wall.tiles import TopologyOptions

    topo = load_topology(ROOT / "topology" / "estate.yaml")
    engine = AlarmEngine(ManualClock())
    scene = pg.GraphicsScene()
    tile = TopologyTile("Estate", TopologyOptions(labels="all"), topo, TopologyState(topo, engine))
    scene.addItem(tile)
    scene.setSceneRect(0, 0, 1920, 2000)
    tile.setGeometry(0, 0, 1920, 2000)
    tile.refresh()
    assert not tile.labels_pending

    def symbol(n: str) -> QRectF:
        p = tile.node_scene_pos(n)
        return QRectF(p.x() - 17, p.y() - 17, 34, 34)

    def names_over(n: str) -> list[str]:  # node names (drawn over the nodes; site names are drawn under them)
        return [k for k, r in tile.placed.items() if isinstance(k, str) and k != n and r.intersects(symbol(n))]

    covered = next(n for n in tile.ids if names_over(n))
    engine.ingest(Event(covered, "down", Severity.CRITICAL, 0.0))
    engine.ack((covered, "down"))
    tile.refresh()  # within 0.3 s of the last placing: names are not placed again, the covering one goes
    assert names_over(covered) == []
    img = render_scene(scene, scale=1.0)
    c = tile.node_scene_pos(covered)
    red = [
        (dx, dy)
        for dx in range(-6, 7, 2)
        for dy in range(-6, 7, 2)
        if QColor(img.pixel(int(c.x() + dx), int(c.y() + dy))).red() > 200
    ]
    assert len(red) > 10, "the raised node is hidden"
    qtbot.waitUntil(lambda: (tile.refresh(), covered in tile.placed)[1], timeout=2000)
    assert tile._labels[covered].primary and tile._labels[covered].isVisible()
    tile.shutdown()
    scene.clear()


def test_the_banner_runs_along_the_bottom_row_and_no_field_crosses_a_bezel(make_wall: Callable[..., Wall]) -> None:
    """At 16 arcminutes a panel holds ~50 characters: the banner is one strip over the bottom row's monitors, each
    field on one panel (a bezel through a word cuts it)."""
    from wallctl.core.alarms.event import Event
    from wallctl.core.severity import Severity

    w = make_wall()
    for i in range(1, 10):
        w.service.ingest(Event(f"br0{i}-rtr", "node_down", Severity.CRITICAL, w.clock.now(), category="network"))
    assert w.service.execute(Command("silence", {"seconds": 120}), "hotkey") is None
    w.service.reject("noc/events/x", "not_json", "payload is not JSON", b"{")
    w.service.set_link("down")
    w.scene.apply(w.service.evaluate(force=True))
    [banner] = w.scene.banners
    geo, wall = w.scene.geometry, w.scene.layouts.wall
    monitors = [geo.monitor_rect(wall.rows - 1, c) for c in range(wall.columns)]
    strip = banner.sceneBoundingRect()
    assert strip.left() == monitors[0].x and strip.right() == monitors[-1].right
    assert strip.height() == theme.sizes().banner_h
    placed, clock, scale = banner.place(w.clock.now())
    assert scale == 1.0 and clock, "the whole row holds every field at 16 arcminutes, and the clock"
    texts = [p.text for p in placed]
    assert {"BROKER DOWN", "UNACK 9", "REJECTED 1"} <= set(texts) and any(t.startswith("SILENCED") for t in texts)
    for p in placed:
        r = banner.mapRectToScene(p.rect)
        assert any(m.x <= r.left() and r.right() <= m.right for m in monitors), f"{p.text!r} crosses a bezel"


def test_chart_ticks_are_drawn_in_a_picture_of_a_tile_built_hidden(qapp: Any) -> None:
    """``preview --png`` renders without a view, and the scene builds every tile hidden: the axes had no ticks."""
    import pyqtgraph as pg

    from wallctl.core.kpi import KpiBoard, KpiSpec
    from wallctl.core.wall.tiles import KpiOptions
    from wallctl.qt.tiles.charts import KpiTile

    board = KpiBoard((KpiSpec("aisle", "t/a", unit=" C", warning_above=27, critical_above=30),))
    tile = KpiTile("KPIs", KpiOptions(series=("aisle",), minutes=5), board, lambda: 1000.0)
    tile.hide()
    scene = pg.GraphicsScene()
    scene.addItem(tile)
    scene.setSceneRect(0, 0, 1200, 600)
    tile.setGeometry(0, 0, 1200, 600)
    tile.refresh()  # its once-a-second refresh while hidden (another mode on the wall) sets the axes' ranges
    qapp.processEvents()
    tile.show()
    img = render_scene(scene, scale=1.0)
    axis = tile.plot.getAxis("left")
    area = axis.mapRectToScene(axis.boundingRect())
    digit = QFontMetricsF(axis.style["tickFont"]).horizontalAdvance("0")
    runs = ink_runs(img, QRectF(area.right() - 13 - digit, area.top(), digit, area.height()), theme.TEXT)
    tile.shutdown()
    scene.clear()
    assert area.width() > 100 and len(runs) >= 3, (area, runs)
