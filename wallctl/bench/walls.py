"""The benchmarks of the real wall process, run one after the other against a single wall: one process start is
~1 s of the quick run's minute, and a wall that has already taken floods is the wall users have.

Order matters: the latency figures come first, on a quiet wall; the throughput and memory runs, which leave
thousands of alarms behind, come last. The ingest baseline runs before the wall connects, so it has the machine."""

from __future__ import annotations

from wallctl.bench.audio import bench_audio, null_alsa
from wallctl.bench.ingest import bench_ingest, ingest_baseline
from wallctl.bench.life import bench_memory, bench_startup, startup_s
from wallctl.bench.modes import bench_modes, fast_layouts
from wallctl.bench.mosquitto import Mosquitto
from wallctl.bench.result import Result
from wallctl.bench.wall import BenchWall


def bench_walls(broker: Mosquitto, *, quick: bool) -> list[Result]:
    wall = BenchWall(
        broker.port, layouts=fast_layouts(), env={"WALLCTL_BENCH": "1", "ALSA_CONFIG_PATH": null_alsa()}, audio=True
    )
    n_ingest, qos = (15_000 if quick else 100_000), 1
    baseline = ingest_baseline(broker, n_ingest, qos, wall.protocol)
    try:
        first = startup_s(wall)
        idle_rss = wall.rss_mb()
        results = bench_modes(wall, quick=quick)
        results += bench_audio(wall, quick=quick)
        results += bench_ingest(wall, n_ingest, qos, baseline)
        results += bench_memory(wall, idle_rss, quick=quick)
    finally:
        wall.stop()
    return bench_startup(first, broker.port, quick=quick) + results
