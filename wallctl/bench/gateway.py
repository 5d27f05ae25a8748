"""The gateway against the native MQTT path, in the same run (issue 16): throughput of Alertmanager-sized batches,
and the latency one alert adds from the HTTP request to the wall's retained state."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from wallctl.bench.ingest import _publish
from wallctl.bench.mosquitto import Mosquitto, free_port
from wallctl.bench.result import Result, latency_pair
from wallctl.bench.wall import BenchWall

BATCH = 25  # alerts per webhook: a busy Alertmanager group
CLIENTS = 4  # Alertmanager sends groups in parallel


def _alerts(prefix: str, start: int, n: int) -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "BenchAlert", "instance": f"{prefix}{i}", "severity": "warning"},
            "annotations": {"summary": "bench"},
            "startsAt": now,
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": f"{prefix}{i:x}",
        }
        for i in range(start, start + n)
    ]
    return json.dumps({"version": "4", "status": "firing", "receiver": "wall", "alerts": alerts}).encode()


def _post(url: str, body: bytes) -> None:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        if resp.status != 200:
            raise RuntimeError(f"the gateway answered {resp.status}")


class BenchGateway:
    def __init__(self, config: Path, broker_port: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / "gateway.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "wallctl",
                    "gateway",
                    "--config",
                    str(config),
                    "--broker",
                    f"127.0.0.1:{broker_port}",
                    "--http",
                    f"127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the gateway did not start; log: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _through_gateway(gw: BenchGateway, prefix: str, n: int) -> None:
    batches = [(i, min(BATCH, n - i)) for i in range(0, n, BATCH)]
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not batches:
                    return
                start, size = batches.pop()
            _post(f"{gw.url}/alertmanager", _alerts(prefix, start, size))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def measure(broker: Mosquitto, n: int, probes: int) -> dict[str, Any]:
    wall = BenchWall(broker.port, wall_id=f"gw{uuid.uuid4().hex[:6]}")
    gw = None
    try:
        wall.start()
        gw = BenchGateway(wall.config, broker.port)
        out: dict[str, Any] = {}
        base = wall.events()
        t0 = time.time()
        _publish(wall.port, n, 1, "native-", sources=n)
        wall.wait_events(base + n)
        out["native_rate"] = n / (time.time() - t0)
        wall.command("ack_all")
        base = wall.events()
        t0 = time.time()
        _through_gateway(gw, "gw-", n)
        wall.wait_events(base + n)
        out["gateway_rate"] = n / (time.time() - t0)
        wall.command("ack_all")
        native, via = [], []
        for i in range(probes):
            wall.settle(0.2)
            before = wall.events()
            t0 = time.time()
            wall.publish(
                "noc/events/bench/lat", {"source": f"lat-n{i}", "type": "probe", "severity": "minor", "id": f"n{i}"}
            )
            native.append(wall.wait(lambda s, b=before: s.get("events", 0) > b, 10) - t0)
            wall.settle(0.2)  # past the state's 50 ms coalescing, as the native probe is: the same start for both
            before = wall.events()
            t0 = time.time()
            _post(f"{gw.url}/alertmanager", _alerts(f"lat-g{i}-", 0, 1))
            via.append(wall.wait(lambda s, b=before: s.get("events", 0) > b, 10) - t0)
        out["native_latency"], out["gateway_latency"] = native, via
        return out
    finally:
        if gw is not None:
            gw.stop()
        wall.stop()


def bench_gateway(broker: Mosquitto, *, quick: bool) -> list[Result]:
    n = 2_000 if quick else 20_000
    got = measure(broker, n, 20 if quick else 100)
    return [
        Result(
            f"gateway: Alertmanager webhooks ({BATCH} alerts each, {CLIENTS} senders) to the wall's count",
            got["gateway_rate"],
            "events/s",
            got["native_rate"],
            "the same number of native events on MQTT",
            "for information",
        ),
        *latency_pair(
            "gateway: one alert from its HTTP request to the wall's state",
            got["gateway_latency"],
            got["native_latency"],
            "one native event on MQTT to the wall's state",
            goal_p50_ms=100,
            goal_p99_ms=250,
        ),
    ]
