"""One branch site against the head office (issue 17): the latency an event gains on its way through a branch
broker and its bridge, against the same event published straight to the head office's broker, in the same run and
to the same wall."""

from __future__ import annotations

import json
import time
import uuid

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.bench.mosquitto import Mosquitto
from wallctl.bench.result import Result, latency_pair
from wallctl.bench.wall import BenchWall
from wallctl.core.config.bridge import BridgeOptions, bridge_section
from wallctl.core.config.sites import Site

SITE = Site("bench", "branch/bench/")


def _client(port: int) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-branch-{uuid.uuid4().hex[:8]}")
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def measure(broker: Mosquitto, probes: int) -> tuple[list[float], list[float]]:
    """(direct, through the bridge): seconds from the publish to the wall's state counting the event."""
    wall = BenchWall(broker.port, wall_id=f"site{uuid.uuid4().hex[:6]}")
    wall.config.write_text(
        wall.config.read_text() + f"sites:\n  - {{name: {SITE.name}, topic_prefix: {SITE.topic_prefix}}}\n"
    )
    section = bridge_section(
        SITE, ["noc/events/#"], f"127.0.0.1:{broker.port}", BridgeOptions(keepalive_s=5, restart_base_s=1)
    )
    branch = Mosquitto(extra_conf=section).start()
    head = local = None
    try:
        wall.start()
        wall.wait(lambda s: s.get("sites", {}).get(SITE.name, {}).get("link") == "up", 30)
        head, local = _client(broker.port), _client(branch.port)
        direct: list[float] = []
        bridged: list[float] = []
        for i in range(probes):
            for client, out, tag in ((head, direct, "d"), (local, bridged, "b")):
                wall.settle(0.2)
                before = wall.events()
                body = {"source": f"lat-{tag}{i}", "type": "probe", "severity": "minor", "id": f"site-{tag}{i}"}
                t0 = time.time()
                client.publish("noc/events/bench/lat", json.dumps(body), qos=1)
                out.append(wall.wait(lambda s, b=before: s.get("events", 0) > b, 10) - t0)
        return direct, bridged
    finally:
        for c in (head, local):
            if c is not None:
                c.loop_stop()
                c.disconnect()
        wall.stop()
        branch.stop()


def bench_sites(broker: Mosquitto, *, quick: bool) -> list[Result]:
    direct, bridged = measure(broker, 20 if quick else 100)
    # the hop's cost is the difference to the baseline beside it (a difference of medians, noise included, can be
    # negative on loopback: it is not a figure of its own)
    return [
        *latency_pair(
            "sites: one event through a branch broker's bridge to the wall's state",
            bridged,
            direct,
            "the same event published to the head office's broker",
            goal_p50_ms=100,
            goal_p99_ms=250,
        ),
    ]
