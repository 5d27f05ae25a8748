"""Foreign GraphML on the map: each kind of file draws, and a pointer over a node shows its label and the attributes
its file carried, on the controller's wall and on a display node (which re-reads the files sent in view/setup)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import networkx as nx
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsView
from pytestqt.qtbot import QtBot

from tests.support.wall import write_config
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.clock import ManualClock
from wallctl.core.topology.files import load_topology
from wallctl.core.topology.model import Topology
from wallctl.core.topology.state import TopologyState
from wallctl.core.wall.tiles import TopologyOptions
from wallctl.qt.tiles.topology import TopologyTile
from wallctl.qt.views import SceneView

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "graphml"
W, H = 1280, 720
NODE_GREY = QColor("#6c7a89")  # the map's calm node
Show = Callable[[Topology], tuple[TopologyTile, QGraphicsView]]


@pytest.fixture
def show(qtbot: QtBot) -> Iterator[Show]:
    """Puts a topology on a map tile in a real view (shown, offscreen) and tears it down afterwards."""
    made: list[tuple[TopologyTile, pg.GraphicsScene]] = []

    def factory(topo: Topology) -> tuple[TopologyTile, QGraphicsView]:
        scene = pg.GraphicsScene()
        tile = TopologyTile(
            "Map", TopologyOptions(labels="none"), topo, TopologyState(topo, AlarmEngine(ManualClock()))
        )
        scene.addItem(tile)
        scene.setSceneRect(0, 0, W, H)
        tile.setGeometry(0, 0, W, H)
        view = SceneView(scene)  # a view pyqtgraph's items accept (the preview's and the wall's kind)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setFrameShape(QGraphicsView.Shape.NoFrame)
        view.setFixedSize(W, H)
        view.setMouseTracking(True)
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        view.notify_items()
        made.append((tile, scene))
        return tile, view

    yield factory
    for tile, scene in made:
        tile.shutdown()
        scene.clear()


def at(view: QGraphicsView, tile: TopologyTile, node: str) -> QPoint:
    """Where ``node`` is drawn in the view."""
    where: QPoint = view.mapFromScene(tile.node_scene_pos(node))
    return where


def drawn(img: QImage, p: QPoint) -> bool:
    """A calm node's grey within a few pixels of ``p`` (the panel behind it is near black)."""
    for dx in range(-3, 4):
        for dy in range(-3, 4):
            c = img.pixelColor(p.x() + dx, p.y() + dy)
            if (
                abs(c.red() - NODE_GREY.red()) + abs(c.green() - NODE_GREY.green()) + abs(c.blue() - NODE_GREY.blue())
                < 40
            ):
                return True
    return False


def move(qtbot: QtBot, view: QGraphicsView, to: QPoint) -> None:
    """The pointer arrives at ``to`` from a little way off (pyqtgraph hovers on a move within the view)."""
    for step in (QPoint(-3, -3), QPoint(0, 0)):
        QTest.mouseMove(view.viewport(), to + step)
        qtbot.wait(20)


def networkx_file(tmp_path: Path) -> Path:
    path = tmp_path / "as.graphml"
    nx.write_graphml(nx.random_internet_as_graph(1000, seed=1), path)
    return path


@pytest.mark.parametrize("name", ["networkx", "yed-groups.graphml", "zoo-abilene.graphml"])
def test_each_foreign_file_loads_and_draws_its_nodes(show: Show, tmp_path: Path, name: str) -> None:
    path = networkx_file(tmp_path) if name == "networkx" else Path(shutil.copy(FIXTURES / name, tmp_path / name))
    topo = load_topology(path, warnings=[])
    tile, view = show(topo)
    img = view.grab().toImage()
    assert img.width() == W and img.height() == H
    nodes = list(topo.nodes)[:: max(1, len(topo.nodes) // 60)]
    missing = [n for n in nodes if not drawn(img, at(view, tile, n))]
    assert not missing, f"{len(missing)} of {len(nodes)} sampled nodes not drawn, e.g. {missing[:5]}"
    panel = sum(img.pixelColor(x, y) == QColor("#121922") for x in range(0, W, 8) for y in range(0, H, 8))
    assert panel < (W // 8) * (H // 8)  # not an empty panel


def test_hovering_a_node_shows_its_label_and_kept_attributes(show: Show, qtbot: QtBot, tmp_path: Path) -> None:
    topo = load_topology(shutil.copy(FIXTURES / "zoo-abilene.graphml", tmp_path / "zoo.graphml"))
    tile, view = show(topo)
    seattle = next(n for n in topo.nodes if topo.node(n)["label"] == "Seattle")
    move(qtbot, view, at(view, tile, seattle))
    qtbot.waitUntil(lambda: tile.hovered == seattle, timeout=3000)
    tip = tile.vb.toolTip()
    assert tip.startswith("<b>Seattle</b>")
    assert "<br>Country: United States" in tip and "<br>Internal: 1" in tip and "<br>kind: other" in tip
    empty = view.mapFromScene(tile.vb.sceneBoundingRect().bottomLeft()) + QPoint(20, -20)  # the map, no node
    assert all((at(view, tile, n) - empty).manhattanLength() > 40 for n in topo.nodes)
    move(qtbot, view, empty)
    qtbot.waitUntil(lambda: tile.hovered is None, timeout=3000)
    assert tile.vb.toolTip() == ""


def test_hover_text_from_a_file_is_escaped(show: Show, tmp_path: Path) -> None:
    path = tmp_path / "evil.graphml"
    path.write_text(
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><key id="n" for="node" attr.name="note"/>'
        '<key id="l" for="node" attr.name="label"/><graph><node id="a"><data key="l">&lt;i&gt;A</data>'
        '<data key="n">&lt;img src="x"&gt; &amp; co</data></node></graph></graphml>'
    )
    tile, _ = show(load_topology(path))
    tile._hover(tile.scatter, list(tile.scatter.points()), None)
    assert (
        tile.vb.toolTip() == "<b>&lt;i&gt;A</b><br>id: a<br>kind: other<br>note: &lt;img src=&quot;x&quot;&gt; &amp; co"
    )


def test_kept_attributes_reach_a_display_node_through_view_setup(show: Show, tmp_path: Path) -> None:
    """The controller sends the file's text in view/setup; the display re-reads it with the same loader."""
    from wallctl.controller.build import reserved_hotkeys
    from wallctl.controller.views import read_setup_files
    from wallctl.core.config.settings import load_config
    from wallctl.core.wire.setup_files import materialize
    from wallctl.core.wire.view import Setup, decode_setup, encode_setup

    cfg = load_config(write_config(tmp_path))
    zoo = Path(shutil.copy(FIXTURES / "zoo-abilene.graphml", tmp_path / "zoo.graphml"))
    layouts, assets, topologies = read_setup_files(ROOT / "layouts", {"": zoo})
    setup = Setup(
        layouts, assets, topologies, list(cfg.model.kpis), cfg.model.engine.policy().flood, reserved_hotkeys(cfg), {}
    )
    wire = json.loads(json.dumps(encode_setup(setup, seq=1, now=0.0)))
    _, maps = materialize(decode_setup(wire), tmp_path / "display")
    topo = maps[""]
    denver = next(n for n in topo.nodes if topo.node(n)["label"] == "Denver")
    assert topo.node(denver)["attributes"]["Country"] == "United States"
    assert topo.positions[denver] == (-104.9847, -39.73915)
    tile, _ = show(topo)
    spot = next(p for p in tile.scatter.points() if tile.ids[p.index()] == denver)
    tile._hover(tile.scatter, [spot], None)
    assert "<b>Denver</b>" in tile.vb.toolTip() and "Country: United States" in tile.vb.toolTip()
