"""The topology tile at 5,000 nodes / 10,000 links with 1,000 node-state changes a second: frame time of the
throttled, palette-based repaint next to the naive way (re-setting the whole graph per change), in one run;
and the time from reading the file to the first frame."""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from wallctl.bench.result import Result, latency_pair
from wallctl.bench.topogen import write_synthetic


def bench_topology(*, quick: bool, nodes: int = 5000, links: int = 10_000) -> list[Result]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from wallctl.qt.platform import prepare_qt_environment

    prepare_qt_environment()
    app = QApplication.instance() or QApplication([])
    import pyqtgraph as pg

    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.alarms.event import Event
    from wallctl.core.clock import ManualClock
    from wallctl.core.severity import Severity
    from wallctl.core.topology.files import load_topology
    from wallctl.core.topology.state import TopologyState
    from wallctl.core.wall.tiles import TopologyOptions
    from wallctl.qt.tiles.topology import TopologyTile
    from wallctl.qt.views import SceneView

    path = write_synthetic(Path(tempfile.mkdtemp(prefix="wallctl-bench-topo-")) / "big.yaml", nodes, links)
    t0 = time.perf_counter()
    topo = load_topology(path)
    clock = ManualClock()
    engine = AlarmEngine(clock)
    state = TopologyState(topo, engine)
    scene = pg.GraphicsScene()
    tile = TopologyTile("bench", TopologyOptions(labels="none"), topo, state)
    scene.addItem(tile)
    tile.setGeometry(0, 0, 1920, 1080)
    view = SceneView(scene)
    view.resize(1920, 1080)
    view.setSceneRect(0, 0, 1920, 1080)
    view.show()
    app.processEvents()
    view.viewport().repaint()
    first_frame = time.perf_counter() - t0
    rnd = random.Random(1)
    ids = list(topo.graph.nodes)
    sevs = [Severity.CLEARED, Severity.WARNING, Severity.MINOR, Severity.MAJOR, Severity.CRITICAL]
    frames = 20 if quick else 150
    per_frame = 100  # 1,000 changes/s at 10 frames/s (the tile repaints every 100 ms)

    def changes() -> None:
        for _ in range(per_frame):
            clock.advance(0.001)
            engine.ingest(Event(rnd.choice(ids), "down", rnd.choice(sevs), clock.now()))

    ours: list[float] = []
    for _ in range(frames):
        changes()
        t = time.perf_counter()
        tile.refresh()
        view.viewport().repaint()
        ours.append(time.perf_counter() - t)
    naive: list[float] = []
    sc = tile.scatter
    for _ in range(2 if quick else 10):
        t = time.perf_counter()
        for _ in range(per_frame):  # the naive way: every change re-sets the whole graph
            clock.advance(0.001)
            engine.ingest(Event(rnd.choice(ids), "down", rnd.choice(sevs), clock.now()))
            state.take_dirty()
            sc.setData(pos=tile.node_xy, symbol=tile._symbols, size=tile._sizes, brush=tile._brushes, pen=tile._pens)
        view.viewport().repaint()
        naive.append(time.perf_counter() - t)
    tile.shutdown()
    view.close()
    scene.clear()
    label = f"{nodes:,} nodes / {links:,} links, 1,000 changes/s"
    return [
        *latency_pair(f"topology frame time, {label}", ours, naive, "naive: whole graph re-set per change", 33, 33),
        Result(
            f"topology load to first frame, {nodes:,} nodes",
            first_frame * 1000,
            "ms",
            None,
            "",
            "< 2000 ms",
            max_goal=2000,
        ),
    ]
