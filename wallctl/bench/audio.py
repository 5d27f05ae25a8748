"""Event -> first audio sample handed to the device (simpleaudio into ALSA's null device), next to the broker
round trip of the same event to a bare subscriber, measured in the same run."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.bench.modes import _round_trip
from wallctl.bench.mosquitto import Mosquitto
from wallctl.bench.result import Result, latency_pair
from wallctl.bench.wall import BenchWall


def null_alsa() -> str:
    conf = Path(tempfile.mkdtemp(prefix="wallctl-bench-alsa-")) / "asound.conf"
    conf.write_text("pcm.!default {\n  type null\n}\n")
    return str(conf)


def bench_audio(broker: Mosquitto, *, quick: bool) -> list[Result]:
    n = 10 if quick else 60
    wall = BenchWall(broker.port, env={"WALLCTL_BENCH": "1", "ALSA_CONFIG_PATH": null_alsa()}, wall_id="bench-audio")
    sounded: list[float] = []
    lock = threading.Lock()
    sub = paho.Client(CallbackAPIVersion.VERSION2)

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with lock:
            sounded.append(json.loads(msg.payload)["at"])

    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe(f"{wall.prefix}/bench/sounded", qos=0)
    sub.loop_start()
    pub = paho.Client(CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    samples: list[float] = []
    try:
        wall.start(audio=True)
        time.sleep(1.5)
        for i in range(n):
            t0 = time.time()
            body = {"source": f"audio-{i}", "type": "node_down", "severity": "critical", "category": "network"}
            pub.publish(f"noc/events/network/audio-{i}", json.dumps(body), qos=1)
            deadline = time.time() + 5
            got = None
            while time.time() < deadline and got is None:
                with lock:
                    got = next((t for t in sounded if t >= t0), None)
                time.sleep(0.001)
            samples.append((got or deadline) - t0)
            pub.publish(f"{wall.prefix}/cmd", json.dumps({"action": "ack_all"}), qos=1)  # quiet again
            time.sleep(0.4)
        base = _round_trip(broker.port, n)
    finally:
        wall.stop()
        for c in (sub, pub):
            c.loop_stop()
            c.disconnect()
    return latency_pair(
        "event -> first audio sample to the device", samples, base, "broker round trip to a bare subscriber", 50, 50
    )
