"""Load generation and bare-paho baselines for the benchmarks; run as a separate process so the publisher does
not share the interpreter (and its GIL) with what is measured."""

from __future__ import annotations

import json
import sys
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion


def payloads(
    n: int, sources: int = 1000, prefix: str = "b", sevs: tuple[str, ...] = ("warning", "minor", "major", "critical")
) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        src = f"{prefix}{i % sources:05d}"
        body = {
            "source": src,
            "type": "cpu_high",
            "severity": sevs[(i // sources) % len(sevs)],
            "category": "system",
            "id": f"{prefix}-{i}",
        }
        out.append((f"noc/events/system/{src}", json.dumps(body).encode()))
    return out


def publish(
    port: int,
    n: int,
    qos: int,
    prefix: str = "b",
    rate: float = 0.0,
    sources: int = 1000,
    sevs: tuple[str, ...] = ("warning", "minor", "major", "critical"),
) -> float:
    """Publish n events (as fast as possible, or at ``rate`` per second); returns the time the first went out."""
    msgs = payloads(n, sources=sources, prefix=prefix, sevs=sevs)
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{prefix}")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    t0 = time.time()
    last = None
    for i, (topic, body) in enumerate(msgs):
        if last is not None and i % 20_000 == 0:
            last.wait_for_publish(120)  # MQTT packet ids are 16-bit: never have 65,535 messages outstanding
        last = c.publish(topic, body, qos=qos)
        if rate:
            due = t0 + (i + 1) / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
    if last is not None:
        last.wait_for_publish(120)
    time.sleep(0.2)
    c.loop_stop()
    c.disconnect()
    return t0


def bare_subscriber(
    port: int, n: int, qos: int, ready: threading.Event, done: threading.Event, protocol: str = "5"
) -> dict[str, float]:
    """The baseline: a paho subscriber that only counts what arrives (same protocol version as the wall)."""
    got = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(_c: paho.Client, _u: object, _m: paho.MQTTMessage) -> None:
        now = time.time()
        if got["n"] == 0:
            got["first"] = now
        got["n"] += 1
        got["last"] = now
        if got["n"] >= n:
            done.set()

    version = MQTTProtocolVersion.MQTTv5 if protocol == "5" else MQTTProtocolVersion.MQTTv311
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=version)
    c.on_message = on_message
    c.on_subscribe = lambda *_a: ready.set()
    c.connect("127.0.0.1", port)
    c.subscribe("noc/events/#", qos=qos)
    c.loop_start()
    t_cpu = time.process_time()
    done.wait(300)
    c.loop_stop()
    c.disconnect()
    got["cpu_s"] = time.process_time() - t_cpu  # the bench process is otherwise idle while it waits (the
    # publisher is a process of its own)
    return got


if __name__ == "__main__":
    port, n, qos = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) > 4 else "b"
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    sources = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
    sevs = tuple(sys.argv[7].split(",")) if len(sys.argv) > 7 else ("warning", "minor", "major", "critical")
    print(publish(port, n, qos, prefix, rate, sources, sevs), flush=True)
