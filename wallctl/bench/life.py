"""Start-up (process start to every monitor painted, next to a bare Qt window's start-up) and memory (resident
size after 100,000 distinct alarms, then along a 1,000,000-event flood: it must plateau)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.bench.ingest import _publish
from wallctl.bench.mosquitto import Mosquitto
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


def bench_startup(broker: Mosquitto, *, quick: bool) -> list[Result]:
    runs = 1 if quick else 5
    ours: list[float] = []
    for _ in range(runs):
        got: list[float] = []
        done = threading.Event()
        wall = BenchWall(broker.port, env={"WALLCTL_BENCH": "1"}, wall_id="bench-start")
        sub = paho.Client(CallbackAPIVersion.VERSION2)

        def on_message(
            _c: object, _u: object, msg: paho.MQTTMessage, got: list[float] = got, done: threading.Event = done
        ) -> None:
            info = json.loads(msg.payload)
            if info.get("mode") == "startup":
                got.append(info["painted_at"])
                done.set()

        sub.on_message = on_message
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe(f"{wall.prefix}/bench/painted", qos=1)
        sub.loop_start()
        time.sleep(0.2)
        t0 = time.time()
        try:
            wall.start()
            done.wait(60)
        finally:
            wall.stop()
            sub.loop_stop()
            sub.disconnect()
        if got:
            ours.append(got[0] - t0)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    bare = [
        float(
            subprocess.run(
                [sys.executable, "-c", BARE_QT, str(time.time())], capture_output=True, text=True, env=env, check=True
            ).stdout.split()[-1]
        )
        for _ in range(runs)
    ]
    return [
        Result(
            "start-up: process start to all 6 monitors painted",
            min(ours or [60.0]) * 1000,
            "ms",
            min(bare) * 1000,
            "a bare PySide6 window's start-up",
            "< 5000 ms",
            max_goal=5000,
        )
    ]


def bench_memory(broker: Mosquitto, *, quick: bool) -> list[Result]:
    distinct = 10_000 if quick else 100_000
    flood = 40_000 if quick else 1_000_000
    wall = BenchWall(broker.port, wall_id="bench-mem")
    try:
        wall.start()
        base_rss = wall.rss_mb()
        before = wall.latest().get("events", 0)
        _publish(broker.port, distinct, 1, "mem", sources=distinct)
        wall.wait(lambda s: s.get("events", 0) >= before + distinct, 600)
        after_alarms = wall.rss_mb()
        samples = []
        step = flood // 4
        for i in range(4):
            before = wall.latest().get("events", 0)
            _publish(broker.port, step, 1, f"flood{i}", sources=1000)
            wall.wait(lambda s, b=before: s.get("events", 0) >= b + step, 900)
            samples.append(wall.rss_mb())
    finally:
        wall.stop()
    growth = (samples[-1] - samples[-2]) / max(samples[-2], 1e-9)
    return [
        Result(
            f"memory: resident size after {distinct:,} distinct alarms",
            after_alarms,
            "MB",
            base_rss,
            "the same wall idle, before",
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
