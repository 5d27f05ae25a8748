"""Sustained ingest through the whole pipeline (MQTT -> Event -> alarm engine -> journal -> state), next to a
bare paho subscriber on the same Mosquitto, speaking the same protocol, fed by the same publisher, in one run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from wallctl.bench.load import bare_subscriber
from wallctl.bench.mosquitto import Mosquitto
from wallctl.bench.result import Result
from wallctl.bench.wall import BenchWall


def _publish(port: int, n: int, qos: int, prefix: str, *, sources: int = 1000) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "wallctl.bench.load", str(port), str(n), str(qos), prefix, "0", str(sources)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return float(out.stdout.strip().splitlines()[-1])


def process_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest_baseline(broker: Mosquitto, n: int, qos: int, protocol: str) -> tuple[float, float]:
    """Events/s and CPU us/event of a bare subscriber that only counts, speaking the wall's protocol version.
    Run it before the wall connects: the wall would otherwise take the same events and share the CPU."""
    ready, done = threading.Event(), threading.Event()
    got: dict[str, float] = {}

    def baseline() -> None:
        got.update(bare_subscriber(broker.port, n, qos, ready, done, protocol))

    th = threading.Thread(target=baseline, daemon=True)
    th.start()
    ready.wait(10)
    t0 = _publish(broker.port, n, qos, "base")
    th.join(300)
    return got["n"] / max(1e-9, got["last"] - t0), got["cpu_s"] / n * 1e6


def bench_ingest(wall: BenchWall, n: int, qos: int, baseline: tuple[float, float]) -> list[Result]:
    """The same load through the running wall: publish to the wall's state saying it has counted every event."""
    assert wall.proc is not None
    base_rate, base_cpu_us = baseline
    wall.settle()
    before = wall.events()
    every, controller = wall.pids(), wall.pids("controller")
    cpu0 = {pid: process_cpu_s(pid) for pid in every}
    t0 = _publish(wall.port, n, qos, "wall")
    t_done = wall.wait_events(before + n)
    ours = n / max(1e-9, t_done - t0)
    spent = {pid: process_cpu_s(pid) - c for pid, c in cpu0.items()}
    cpu_us = sum(spent.values()) / n * 1e6
    ctl_us = sum(spent[p] for p in controller) / n * 1e6
    return [
        Result(
            f"ingest: events/s, whole pipeline (QoS {qos}, MQTT {wall.protocol})",
            ours,
            "events/s",
            base_rate,
            "bare paho subscriber, same broker, protocol, publisher",
            ">= 1.0x baseline",
            ratio_goal=1.0,
        ),
        Result(
            "ingest: CPU per event, the controller process",
            ctl_us,
            "us",
            base_cpu_us,
            "bare paho subscriber's CPU per event",
            "for information",
        ),
        Result(
            "ingest: CPU per event, every wall process (controller, displays)",
            cpu_us,
            "us",
            base_cpu_us,
            "bare paho subscriber's CPU per event",
            "for information",
        ),
        Result("ingest: wall resident memory after the run", wall.rss_mb(), "MB", None, "", "plateaus (see memory)"),
    ]
