"""The scenario simulator: publishes a command center's events (and a few operator commands) to MQTT.

A scenario is YAML: timed ``steps`` (an event to publish, or a command to send to the wall) that may loop, plus
``background`` noise drawn from the topology. Used by ``wallctl demo`` and by tests.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.core.files.spec import build_doc, spec
from wallctl.core.files.yamldoc import load_yaml

log = logging.getLogger("wallctl.simulator")


@dataclass(frozen=True)
class Step:
    at: float = spec("seconds from the start of the cycle", minimum=0)
    event: dict[str, Any] | None = spec("an event payload (the contract's fields)", default=None)
    command: dict[str, Any] | None = spec("a command for the wall's cmd topic", default=None)


@dataclass(frozen=True)
class NoiseEvent:
    type: str = spec("event type")
    category: str = spec("category")
    severities: tuple[str, ...] = spec("picked at random", default=("warning",))
    kinds: tuple[str, ...] = spec("node kinds it can come from", default=())
    text: str = spec("message; {source} is replaced", default="")


@dataclass(frozen=True)
class Background:
    per_minute: float = spec("noise events per minute", default=0.0, minimum=0)
    clear_after_s: float = spec("each noise alarm clears after this long", default=45.0, minimum=1)
    events: tuple[NoiseEvent, ...] = spec("what noise looks like", default=())


@dataclass(frozen=True)
class KpiFeed:
    topic: str = spec("topic to publish the value on")
    base: float = spec("mean value")
    amplitude: float = spec("swing of a slow sine wave", default=0.0)
    period_s: float = spec("period of the sine", default=120.0, minimum=1)
    noise: float = spec("random noise", default=0.0, minimum=0)
    every_s: float = spec("publish interval", default=2.0, minimum=0.1)
    field: str | None = spec("publish {field: value} JSON instead of a bare number", default=None)


@dataclass(frozen=True)
class Scenario:
    name: str = spec("scenario name")
    cycle_s: float = spec("length of one cycle", default=300.0, minimum=1)
    loop: bool = spec("start again after cycle_s", default=True)
    topic_prefix: str = spec("events go to <prefix>/<category>/<source>", default="noc/events")
    steps: tuple[Step, ...] = spec("the timeline", default=())
    background: Background = spec("random noise", default_factory=Background)
    kpis: tuple[KpiFeed, ...] = spec("KPI values published continuously", default=())


def load_scenario(path: str | Path) -> Scenario:
    return build_doc(Scenario, load_yaml(path))


class Simulator:
    def __init__(
        self,
        scenario: Scenario,
        host: str,
        port: int,
        *,
        cmd_topic: str | None = None,
        nodes: dict[str, str] | None = None,
        seed: int = 1,
        speed: float = 1.0,
        token: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.cmd_topic = cmd_topic
        self.token = token
        self.nodes = nodes or {}  # node id -> kind, for background noise
        self.rnd = random.Random(seed)
        self.speed = speed
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"wallctl-simulator-{seed}")
        self.host, self.port = host, port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0

    def start(self) -> None:
        self.client.connect(self.host, self.port)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.client.loop_stop()
        self.client.disconnect()

    def publish_event(self, payload: dict[str, Any]) -> None:
        body = dict(payload)
        body.setdefault("time", round(time.time(), 3))
        body.setdefault("id", f"sim-{self.rnd.getrandbits(48):012x}")
        topic = f"{self.scenario.topic_prefix}/{body.get('category', 'misc')}/{body['source']}"
        self.client.publish(topic, json.dumps(body), qos=1)
        self.published += 1

    def _run(self) -> None:
        sc = self.scenario
        steps = sorted(sc.steps, key=lambda s: s.at)
        noise_due = time.monotonic()
        pending_clears: list[tuple[float, dict[str, Any]]] = []
        threading.Thread(target=self._kpis, name="simulator-kpis", daemon=True).start()
        while not self._stop.is_set():
            start = time.monotonic()
            for step in steps:
                while not self._stop.is_set():
                    now = time.monotonic()
                    due = start + step.at / self.speed
                    noise_due, pending_clears = self._noise(now, noise_due, pending_clears)
                    if now >= due:
                        break
                    self._stop.wait(min(0.1, due - now))
                if self._stop.is_set():
                    return
                if step.event is not None:
                    self.publish_event(step.event)
                if step.command is not None and self.cmd_topic:
                    cmd = {**step.command, "actor": "simulator", "time": time.time()}
                    if self.token:
                        cmd["token"] = self.token
                    self.client.publish(self.cmd_topic, json.dumps(cmd), qos=1)
            end = start + sc.cycle_s / self.speed
            while not self._stop.is_set() and time.monotonic() < end:
                noise_due, pending_clears = self._noise(time.monotonic(), noise_due, pending_clears)
                self._stop.wait(0.1)
            if not sc.loop:
                return

    def _kpis(self) -> None:
        import math

        feeds = self.scenario.kpis
        due = {i: time.monotonic() for i in range(len(feeds))}
        t0 = time.monotonic()
        while feeds and not self._stop.is_set():
            now = time.monotonic()
            for i, f in enumerate(feeds):
                if now >= due[i]:
                    phase = 2 * math.pi * ((now - t0) * self.speed) / f.period_s
                    value = round(f.base + f.amplitude * math.sin(phase) + self.rnd.gauss(0, f.noise or 1e-9), 2)
                    payload = json.dumps({f.field: value}) if f.field else str(value)
                    self.client.publish(f.topic, payload, qos=0)
                    due[i] = now + f.every_s / self.speed
            self._stop.wait(0.1)

    def _noise(
        self, now: float, due: float, clears: list[tuple[float, dict[str, Any]]]
    ) -> tuple[float, list[tuple[float, dict[str, Any]]]]:
        bg = self.scenario.background
        keep = []
        for when, ev in clears:
            if now >= when:
                self.publish_event({**ev, "severity": "cleared", "id": None, "text": "back to normal"})
            else:
                keep.append((when, ev))
        if bg.per_minute <= 0 or not bg.events or now < due:
            return due, keep
        noise = self.rnd.choice(bg.events)
        candidates = [n for n, k in self.nodes.items() if not noise.kinds or k in noise.kinds]
        if candidates:
            source = self.rnd.choice(candidates)
            ev = {
                "source": source,
                "type": noise.type,
                "category": noise.category,
                "severity": self.rnd.choice(noise.severities),
                "text": noise.text.format(source=source),
            }
            self.publish_event(ev)
            keep.append((now + bg.clear_after_s / self.speed, {k: ev[k] for k in ("source", "type", "category")}))
        return now + self.rnd.expovariate(bg.per_minute / 60.0) / self.speed, keep
