"""Start-up (process start to every monitor painted, next to a bare Qt window's start-up) and memory (resident
size after 100,000 distinct alarms, then along a 1,000,000-event flood: it must plateau)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from wallctl.bench.ingest import _publish
from wallctl.bench.result import Result
from wallctl.bench.wall import BenchWall

BARE_QT = """
import os, sys, time
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget(); w.resize(1920, 1080); w.show(); app.processEvents(); w.repaint()
print(time.time() - t0)
"""


def startup_s(wall: BenchWall, timeout: float = 60) -> float:
    """Start ``wall`` (WALLCTL_BENCH set) and return the seconds from process start to all monitors painted."""
    t0 = time.time()
    wall.start(timeout)
    return float(wall.wait_painted("startup", t0, timeout)["painted_at"]) - t0


def bare_qt_startup_s() -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", BARE_QT, str(time.time())], capture_output=True, text=True, env=env, check=True
    )
    return float(out.stdout.split()[-1])


def bench_startup(first_s: float, broker_port: int, *, quick: bool) -> list[Result]:
    """``first_s``: the start-up of the wall the suite is already running; the full run starts four more."""
    ours = [first_s]
    for _ in range(0 if quick else 4):
        wall = BenchWall(broker_port, env={"WALLCTL_BENCH": "1"}, wall_id="bench-start")
        try:
            ours.append(startup_s(wall))
        finally:
            wall.stop()
    bare = [bare_qt_startup_s() for _ in ours]
    return [
        Result(
            f"start-up: process start to all 6 monitors painted (best of {len(ours)})",
            min(ours) * 1000,
            "ms",
            min(bare) * 1000,
            "a bare PySide6 window's start-up",
            "< 5000 ms",
            max_goal=5000,
        )
    ]


def bench_memory(wall: BenchWall, idle_rss_mb: float, *, quick: bool) -> list[Result]:
    distinct = 10_000 if quick else 100_000
    flood = 40_000 if quick else 1_000_000
    wall.settle()
    before = wall.events()
    _publish(wall.port, distinct, 1, "mem", sources=distinct)
    wall.wait_events(before + distinct)
    after_alarms = wall.rss_mb()
    samples = []
    step = flood // 4
    for i in range(4):
        before = wall.events()
        _publish(wall.port, step, 1, f"mflood{i}", sources=1000)
        wall.wait_events(before + step)
        samples.append(wall.rss_mb())
    growth = (samples[-1] - samples[-2]) / max(samples[-2], 1e-9)
    return [
        Result(
            f"memory: resident size after {distinct:,} distinct alarms",
            after_alarms,
            "MB",
            idle_rss_mb,
            "the same wall just after start-up",
            "for information",
        ),
        Result(
            f"memory: growth over the last quarter of a {flood:,}-event flood",
            growth * 100,
            "%",
            None,
            f"RSS along the flood: {', '.join(f'{s:.0f}' for s in samples)} MB",
            "< 5 % (plateau)",
            max_goal=5,
        ),
    ]
