"""The wall with a very large standing picture (issue 15): 200,000 active alarms must not freeze the room.

Each size gets a fresh wall process and journal: N distinct alarms arrive, then the wall is probed as an operator
would use it. Figures at the large size are reported against the same figures at 1,000 alarms, measured in the
same run: command round trip (p50/p99), the longest main-loop stall while commands and ``ack_all`` run,
``ack_all`` to its reply, restart (SIGTERM, start) to the restored picture, resident memory."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.bench.ingest import _publish
from wallctl.bench.mosquitto import Mosquitto
from wallctl.bench.result import Result, percentile
from wallctl.bench.wall import BenchWall


class Probe:
    """Commands with request ids and the wall's replies and loop reports, timed on this side."""

    def __init__(self, port: int, prefix: str) -> None:
        self.prefix = prefix
        self.replies: dict[str, float] = {}
        self.loop: list[tuple[float, float]] = []  # (arrival, the wall's longest stall in that second, ms)
        self._lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(f"{prefix}/cmd/result", 1), (f"{prefix}/bench/loop", 0)])
        self.client.loop_start()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        now = time.time()
        body = json.loads(msg.payload)
        with self._lock:
            if msg.topic.endswith("/cmd/result"):
                self.replies[str(body.get("request_id"))] = now
            else:
                self.loop.append((now, float(body["max_late_ms"])))

    def round_trip(self, body: dict[str, Any], timeout: float = 60) -> float:
        rid = uuid.uuid4().hex
        t0 = time.time()
        self.client.publish(f"{self.prefix}/cmd", json.dumps({**body, "request_id": rid}), qos=1)
        deadline = t0 + timeout
        while time.time() < deadline:
            with self._lock:
                if rid in self.replies:
                    return self.replies[rid] - t0
            time.sleep(0.001)
        raise TimeoutError(f"no reply to {body} within {timeout:g} s")

    def worst_stall_ms(self, since: float, until: float) -> float:
        with self._lock:
            return max((ms for t, ms in self.loop if since <= t <= until + 1.5), default=0.0)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def measure(broker: Mosquitto, n: int, probes: int) -> dict[str, float]:
    wall = BenchWall(broker.port, env={"WALLCTL_BENCH": "1"}, wall_id=f"scale{n}")
    try:
        wall.start()
        _publish(wall.port, n, 1, f"scale{n}-", sources=n)
        wall.wait_events(n)
        wall.wait(lambda s: s["alarms"]["active"] >= n, 120)
        probe = Probe(broker.port, wall.prefix)
        time.sleep(1.5)  # the alarms topic and list refreshes that the flood left due
        t0 = time.time()
        trips = []
        for i in range(probes):
            trips.append(probe.round_trip({"action": "mode", "mode": "briefing" if i % 2 else "normal", "pin_s": 60}))
            time.sleep(0.05)
        ack_all = probe.round_trip({"action": "ack_all"})
        wall.wait(lambda s: s["alarms"]["unacked"] == 0, 60)
        time.sleep(1.5)  # what ack_all left due: the alarms topic, the list, the journal flush
        stall = probe.worst_stall_ms(t0, time.time())
        rss = wall.rss_mb()
        wall.settle()
        time.sleep(0.5)  # the last journal flush
        epoch = wall.latest()["epoch"]
        wall.stop()
        wall.states.clear()
        t1 = time.time()
        wall.start()
        wall.wait(lambda s: s.get("epoch") != epoch and s["alarms"]["active"] >= n, 120)  # the new process's
        restart = time.time() - t1
        probe.close()
        return {
            "p50": percentile(trips, 0.5) * 1000,
            "p99": percentile(trips, 0.99) * 1000,
            "ack_all": ack_all * 1000,
            "stall": stall,
            "restart": restart,
            "rss": rss,
        }
    finally:
        wall.stop()


def bench_scale(broker: Mosquitto, *, quick: bool) -> list[Result]:
    big = 20_000 if quick else 200_000
    probes = 30 if quick else 100
    small = measure(broker, 1000, probes)
    large = measure(broker, big, probes)
    at = f"with {big:,} active alarms"
    base = "the same wall with 1,000 alarms"
    return [
        Result(f"scale: command round trip p50 {at}", large["p50"], "ms", small["p50"], base, "for information"),
        Result(f"scale: command round trip p99 {at}", large["p99"], "ms", small["p99"], base, "< 200 ms", max_goal=200),
        Result(
            f"scale: longest main-loop stall {at} (commands, ack_all)",
            large["stall"],
            "ms",
            small["stall"],
            base,
            "< 100 ms",
            max_goal=100,
        ),
        Result(
            f"scale: ack_all to its reply {at}", large["ack_all"], "ms", small["ack_all"], base, "< 1 s", max_goal=1000
        ),
        Result(
            f"scale: restart to the restored picture {at}",
            large["restart"],
            "s",
            small["restart"],
            base,
            "< 5 s",
            max_goal=5,
        ),
        Result(f"scale: resident memory {at}", large["rss"], "MB", small["rss"], base, "for information"),
    ]
