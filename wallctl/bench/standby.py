"""Hot standby (issue 17): how long the wall is without an active controller when the active one is killed,
against the same wall with one controller, killed and started again (what a supervisor does), in the same run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.bench.mosquitto import Mosquitto
from wallctl.bench.result import Result, latency_pair
from wallctl.bench.wall import BenchWall


class _States:
    """The wall's state topic, as a display would follow it."""

    def __init__(self, port: int, prefix: str) -> None:
        self.lock = threading.Lock()
        self.states: list[tuple[float, dict[str, Any]]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-standby-{uuid.uuid4().hex[:6]}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"{prefix}/state", qos=0)
        self.client.loop_start()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.states.append((time.time(), json.loads(msg.payload)))

    def wait(self, predicate: Any, after: float, timeout: float = 30) -> float:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hit = next((t for t, s in self.states if t >= after and predicate(s)), None)
            if hit is not None:
                return hit
            time.sleep(0.005)
        raise TimeoutError("no such state")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _controller(config: Path, port: int, cid: str | None, role: str = "primary") -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "wallctl", "controller", "--config", str(config), "--broker", f"127.0.0.1:{port}"]
    args += ["--no-audio", "--journal", str(config.parent / f"journal-{cid or 'single'}.sqlite3")]
    args += ["--id", cid, "--role", role] if cid else []
    log = (config.parent / f"controller-{cid or 'single'}.log").open("ab")
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))


def _kill(proc: subprocess.Popen[bytes]) -> float:
    proc.send_signal(signal.SIGKILL)
    t = time.time()
    proc.wait()
    return t


def measure(broker: Mosquitto, kills: int) -> tuple[list[float], list[float]]:
    wall = BenchWall(broker.port, wall_id=f"sb{uuid.uuid4().hex[:6]}")  # its config and folder; no process
    states = _States(broker.port, wall.prefix)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        single = []
        for _ in range(max(3, kills // 4)):  # the baseline: one controller, killed and started again
            p = _controller(wall.config, broker.port, None)
            t0 = time.time()
            states.wait(lambda s, t=t0: s.get("controller") is None and s.get("epoch", 0) > t, t0)
            killed = _kill(p)
            p = _controller(wall.config, broker.port, None)
            single.append(states.wait(lambda s, k=killed: s.get("epoch", 0) > k, killed) - killed)
            _kill(p)
        procs["a"] = _controller(wall.config, broker.port, "a", "primary")
        procs["b"] = _controller(wall.config, broker.port, "b", "standby")
        t0 = time.time()
        states.wait(lambda s: (s.get("controllers") or {}).get("b") == "standby" and s["controller"] == "a", t0)
        takeovers = []
        for _ in range(kills):
            active = str(states.states[-1][1]["controller"])
            other = "b" if active == "a" else "a"
            killed = _kill(procs[active])
            takeovers.append(states.wait(lambda s, o=other: s.get("controller") == o, killed) - killed)
            procs[active] = _controller(wall.config, broker.port, active, "primary" if active == "a" else "standby")
            states.wait(lambda s, a=active: (s.get("controllers") or {}).get(a) == "standby", killed)
        return takeovers, single
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        states.close()


def bench_standby(broker: Mosquitto, *, quick: bool) -> list[Result]:
    takeovers, single = measure(broker, 5 if quick else 20)
    return latency_pair(
        "standby: kill -9 of the active controller to the other's first state",
        takeovers,
        single,
        "one controller, killed and started again (a supervisor's restart)",
        goal_p50_ms=3000,
        goal_p99_ms=3000,
    )
