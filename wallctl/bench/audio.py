"""Event -> first audio sample handed to the device (simpleaudio into ALSA's null device), next to the broker
round trip of the same event to a bare subscriber, measured in the same run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from wallctl.bench.modes import round_trip
from wallctl.bench.result import Result, latency_pair
from wallctl.bench.wall import BenchWall


def null_alsa() -> str:
    conf = Path(tempfile.mkdtemp(prefix="wallctl-bench-alsa-")) / "asound.conf"
    conf.write_text("pcm.!default {\n  type null\n}\n")
    return str(conf)


def bench_audio(wall: BenchWall, *, quick: bool) -> list[Result]:
    """``wall`` runs with audio into ``null_alsa()`` and WALLCTL_BENCH set, so it reports each sound's first sample."""
    n = 10 if quick else 60
    samples: list[float] = []
    for i in range(n):
        t0 = time.time()
        body = {"source": f"audio-{i}", "type": "node_down", "severity": "critical", "category": "network"}
        wall.publish(f"noc/events/network/audio-{i}", body)
        try:
            samples.append(wall.wait_sounded(t0, 5.0) - t0)
        except TimeoutError:  # counted as a timeout-long sample: the figure shows it, the suite goes on
            samples.append(5.0)
        wall.command("ack_all")  # quiet again
        time.sleep(0.25)
    base = round_trip(wall.port, n)
    return latency_pair(
        "event -> first audio sample to the device", samples, base, "broker round trip to a bare subscriber", 50, 50
    )
