"""Event -> new mode painted on every monitor of the 3x2 wall, at rest and during a flood of other (warning and minor)
events; and the mode switch alone (moving the tiles). The baseline is the broker round trip of the same event to a bare
subscriber, measured in the same run: what any wall would pay before it can do anything."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.bench.load import DRAIN_QUIET_S, start_flood, stop_flood
from wallctl.bench.result import Result, latency_pair, percentile
from wallctl.bench.wall import BenchWall
from wallctl.core.config.settings import config_path, load_config


def fast_layouts(config: str | None = None) -> Path:
    """The shipped layouts with rules that react at once (no dwell, no hold-down) and no flood rule."""
    src = load_config(config_path(config))
    d = Path(tempfile.mkdtemp(prefix="wallctl-bench-layouts-")) / "layouts"
    shutil.copytree(src.resolve(src.model.layouts), d)
    rules = yaml.safe_load((d / "rules.yaml").read_text())
    kept = []
    for r in rules["rules"]:
        if r.get("when", {}).get("flood"):
            continue
        r["min_dwell_s"], r["hold_down_s"] = 0, 0
        kept.append(r)
    rules["rules"] = kept
    (d / "rules.yaml").write_text(yaml.safe_dump(rules))
    return d


def round_trip(port: int, n: int) -> list[float]:
    """Baseline: publish -> a bare subscriber receives it, same broker, same loop."""
    got = threading.Event()
    sub = paho.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = lambda *_a: got.set()
    sub.connect("127.0.0.1", port)
    sub.subscribe("bench/rtt", qos=1)
    sub.loop_start()
    pub = paho.Client(CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    time.sleep(0.3)
    out = []
    for _ in range(n):
        got.clear()
        t0 = time.time()
        pub.publish("bench/rtt", b"x", qos=1)
        got.wait(5)
        out.append(time.time() - t0)
        time.sleep(0.02)
    for c in (sub, pub):
        c.loop_stop()
        c.disconnect()
    return out


def bench_modes(wall: BenchWall, *, quick: bool) -> list[Result]:
    """``wall`` runs ``fast_layouts`` with WALLCTL_BENCH set, so it reports each mode painted on every monitor."""
    n = 10 if quick else 60

    def cycle(samples: list[float], switches: list[float], cycles: int, timeout: float) -> None:
        for i in range(cycles):
            for sev, mode in (("critical", "incident"), ("cleared", "normal")):
                t0 = wall.node_down(sev, f"m{i}")
                try:
                    info = wall.wait_painted(mode, t0, timeout)
                except TimeoutError:  # counted as a timeout-long sample: the figure shows it, the suite goes on
                    samples.append(timeout)
                    continue
                samples.append(info["painted_at"] - t0)
                switches.append(info["switch_s"])
                if mode == "normal":
                    wall.command("ack_all")
                time.sleep(0.3)  # at rest: the switch's follow-ups (map zoom, sound, lists) are over

    results: list[Result] = []
    rest: list[float] = []
    switch: list[float] = []
    cycle(rest, switch, n, 10.0)
    base = round_trip(wall.port, 2 * n)
    results += latency_pair(
        "event -> mode painted on 6 monitors, at rest", rest, base, "broker round trip to a bare subscriber", 100, 150
    )
    results.append(
        Result(
            "mode switch alone (tiles moved, p99)",
            percentile(switch, 0.99) * 1000,
            "ms",
            None,
            "",
            "< 16.7 ms (one frame)",
            max_goal=16.7,
        )
    )
    rate = 2000 if quick else 10_000
    flood = start_flood(wall.port, rate)
    try:
        time.sleep(1.0 if quick else 2.0)
        loaded: list[float] = []
        cycle(loaded, [], max(5, n // 4), 5.0)
    finally:
        stop_flood(flood)
    results += latency_pair(
        f"event -> mode painted during a {rate:,}/s flood", loaded, rest, "the same at rest", 250, 500
    )
    wall.command("ack_all")
    wall.settle(quiet_s=DRAIN_QUIET_S)
    return results
