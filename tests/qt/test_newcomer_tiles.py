"""Every tile variant shows alarms raised after it was built (issue 22, item 1).

A whole-wall map with ``labels: all`` once sat beside the normal mode's map on the same topology file; the normal
map took every change and the other never drew them. Each variant here is a mode of its own next to the shipped
modes (so the shipped map is always there to compete), pinned, and looked at in pixels after the alarms arrive.
Clock, text, image and KPI tiles draw no alarms and are not in this list.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from tests.qt.conftest import Wall
from wallctl.core.alarms.event import Event
from wallctl.core.severity import Severity
from wallctl.core.wall.tiles import TopologyOptions
from wallctl.core.wire.commands import Command
from wallctl.qt.shots import render_scene
from wallctl.qt.tiles.topology import TopologyTile

ROOT = Path(__file__).resolve().parents[2]
NODES = ("br10-rtr", "br10-ups")  # in site br10, so the site variants show them too


def layouts_with(tmp_path: Path, tile_type: str, options: dict[str, Any]) -> Path:
    """The shipped layouts plus one mode, ``variant``, whose only region is the given tile over the whole wall."""
    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    shutil.copy(ROOT / "topology" / "estate.yaml", layouts / "estate-copy.yaml")
    tile = {"type": tile_type, "title": "Variant", "options": options}
    region = {"name": "v", "row": 0, "column": 0, "rows": 2, "columns": 3, "tile": tile}
    (layouts / "modes" / "90-variant.yaml").write_text(json.dumps({"name": "variant", "regions": [region]}))
    return layouts


def show_variant(w: Wall) -> Any:
    err = w.service.execute(Command("mode", {"mode": "variant", "pin_s": 86400}), "test")
    assert err is None, err
    w.scene.apply(w.service.evaluate(force=True))
    return w.scene.placement["variant"]["v"]


def raise_alarms(w: Wall, category: str = "network") -> None:
    for node in NODES:
        w.service.ingest(Event(node, "cpu_high", Severity.CRITICAL, w.clock.now(), category=category))


def shot(w: Wall, tile: Any) -> QImage:
    return render_scene(w.scene, scale=1.0, source=tile.sceneBoundingRect())


def red(c: Any) -> Any:
    """Each predicate takes a QColor or :class:`Pixels` (numpy arrays): ``&``, not ``and``, for both."""
    return (c.red() > 120) & (c.red() > 2.5 * c.green()) & (c.red() > 2.5 * c.blue())


def blue(c: Any) -> Any:
    return (c.blue() > 60) & (c.blue() > 1.5 * c.red())


def amber(c: Any) -> Any:
    return (c.red() > 200) & (c.green() > 120) & (c.green() < 190) & (c.blue() < 80)


class Pixels:
    """Every ``step``-th pixel of an image, each channel an array: a 5,760 px wide tile's pixels read one QColor at a
    time took 3.6 s on a slow VM, longer than the 3 s a test waits for a change (it looked once, too early)."""

    def __init__(self, img: QImage, step: int) -> None:
        img = img.convertToFormat(QImage.Format.Format_RGB32)
        argb = np.frombuffer(img.constBits(), np.uint32, img.sizeInBytes() // 4)
        argb = argb.reshape(img.height(), img.bytesPerLine() // 4)[::step, : img.width() : step].astype(np.int32)
        self._r, self._g, self._b = (argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF

    def red(self) -> Any:
        return self._r

    def green(self) -> Any:
        return self._g

    def blue(self) -> Any:
        return self._b


def count(img: QImage, test: Callable[[Any], Any], step: int = 3) -> int:
    return int(np.count_nonzero(test(Pixels(img, step))))


def red_near(w: Wall, tile: TopologyTile, node: str) -> int:
    img = shot(w, tile)
    origin = tile.sceneBoundingRect().topLeft()
    pos = tile.node_scene_pos(node) - origin
    return sum(
        1
        for dx in range(-8, 9, 2)
        for dy in range(-8, 9, 2)
        if 0 <= pos.x() + dx < img.width()
        and 0 <= pos.y() + dy < img.height()
        and red(QColor(img.pixel(int(pos.x() + dx), int(pos.y() + dy))))
    )


TOPOLOGY_VARIANTS = [
    {"labels": "none"},
    {"labels": "alarmed"},
    {"labels": "all"},
    {"labels": "none", "site": "br10"},
    {"labels": "alarmed", "site": "br10"},
    {"labels": "all", "site": "br10"},
    {"labels": "all", "file": "estate-copy.yaml"},
    {"zoom_on_focus": False},
]


@pytest.mark.parametrize("options", TOPOLOGY_VARIANTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_every_map_variant_draws_alarms_raised_after_it_was_built(
    make_wall: Callable[..., Wall], tmp_path: Path, qtbot: QtBot, options: dict[str, Any]
) -> None:
    w = make_wall(layouts=layouts_with(tmp_path, "topology", options))
    tile = show_variant(w)
    assert isinstance(tile, TopologyTile) and tile.options == TopologyOptions(**options)
    qtbot.wait(250)  # the wall runs a while before anything happens: the other maps' timers fire too
    assert all(red_near(w, tile, n) == 0 for n in NODES), "the nodes were red before any alarm"
    raise_alarms(w)
    for node in NODES:
        w.service.engine.ack((node, "cpu_high"))  # steady colour: no blinking between two looks
    for other in w.scene.tiles.values():  # the other maps' frames come first (their timers' turn, made certain)
        if isinstance(other, TopologyTile) and other is not tile:
            other.refresh()
    qtbot.waitUntil(lambda: all(red_near(w, tile, n) >= 3 for n in NODES), timeout=3000)


ALARM_TILE_VARIANTS: list[tuple[str, dict[str, Any], Callable[[Any], Any]]] = [
    ("alarm_list", {}, red),
    ("alarm_list", {"filter": {"categories": ["network"]}}, red),
    ("alarm_list", {"sort": "time"}, red),
    ("alarm_list", {"sort": "state"}, red),
    ("alarm_list", {"show_consequences": False}, red),
    ("alarm_list", {"font_pt": 12}, red),
    ("alarm_summary", {}, red),
    ("alarm_summary", {"font_pt": 20}, red),
    ("alarm_rate", {"hours": 1}, blue),
    ("banner", {"font_pt": 30}, red),
]


@pytest.mark.parametrize(
    ("tile_type", "options", "colour"),
    ALARM_TILE_VARIANTS,
    ids=[f"{t}-{json.dumps(o)}" for t, o, _ in ALARM_TILE_VARIANTS],
)
def test_every_alarm_tile_variant_shows_alarms_raised_after_it_was_built(
    make_wall: Callable[..., Wall],
    tmp_path: Path,
    qtbot: QtBot,
    tile_type: str,
    options: dict[str, Any],
    colour: Callable[[Any], Any],
) -> None:
    w = make_wall(layouts=layouts_with(tmp_path, tile_type, options))
    tile = show_variant(w)
    qtbot.wait(250)
    before = count(shot(w, tile), colour)
    raise_alarms(w)
    qtbot.waitUntil(lambda: count(shot(w, tile), colour) > before + 20, timeout=3000)


def test_diagnostics_tile_shows_rejections_made_after_it_was_built(
    make_wall: Callable[..., Wall], tmp_path: Path, qtbot: QtBot
) -> None:
    w = make_wall(layouts=layouts_with(tmp_path, "diagnostics", {"font_pt": 20}))
    tile = show_variant(w)
    qtbot.wait(250)
    before = count(shot(w, tile), amber)
    w.service.reject("noc/events/x", "not_json", "payload is not JSON", b"{")
    qtbot.waitUntil(lambda: count(shot(w, tile), amber) > before + 20, timeout=3000)


def test_labels_on_every_node_draw_no_boxes_away_from_their_nodes(qapp: Any, tmp_path: Path) -> None:
    """``preview --png`` with ``labels: all``: each label's dark box is where its label is placed, none strays."""
    import pyqtgraph as pg

    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.clock import ManualClock
    from wallctl.core.topology.files import load_topology
    from wallctl.core.topology.state import TopologyState

    topo = load_topology(ROOT / "topology" / "estate.yaml")
    state = TopologyState(topo, AlarmEngine(ManualClock()))
    scene = pg.GraphicsScene()
    tile = TopologyTile("Estate", TopologyOptions(labels="all"), topo, state)
    scene.addItem(tile)
    scene.setSceneRect(0, 0, 3840, 2160)
    tile.setGeometry(0, 0, 3840, 2160)
    scale = 0.5  # as the preview renders; the first paint of each label happens here
    img = render_scene(scene, scale=scale)
    boxes = [tile.placed[n] for n in tile.ids if n in tile.placed]  # where each shown label is placed, scene px
    legend = tile.legend.mapRectToScene(tile.legend.rect())

    def box(c: QColor) -> bool:  # black at 170/255 over the panel or a site's area (darker than the background)
        return c.red() <= 10 and c.green() <= 13 and c.blue() <= 16

    stray = [
        (x, y)
        for x in range(0, img.width(), 4)
        for y in range(0, img.height(), 4)
        if box(QColor(img.pixel(x, y)))
        and not legend.contains(x / scale, y / scale)
        and not any(b.adjusted(-2, -2, 2, 2).contains(x / scale, y / scale) for b in boxes)  # a box is its label's
    ]
    labelled = [  # the box is drawn where its label was placed (its left margin, beside the text)
        b
        for b in boxes
        if any(box(QColor(img.pixel(int(b.left() * scale) + 1, int(b.center().y() * scale) + dy))) for dy in (-2, 0, 2))
    ]
    tile.shutdown()
    scene.clear()
    assert not stray, f"{len(stray)} dark samples far from any label, e.g. {stray[:5]}"
    assert len(labelled) > len(tile.ids) / 2, "the labels' boxes are missing where their labels are"
