"""The benchmark suite. Each figure is reported next to a baseline measured in the same run, and as a ratio,
because a wall PC is a noisy machine and absolute numbers mean little on their own."""

from __future__ import annotations

import json
import logging
import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from wallctl.bench.result import Result

log = logging.getLogger("wallctl.bench")


def _rate(fn: Callable[[int], None], n: int) -> float:
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def bench_engine(quick: bool) -> list[Result]:
    """Events per second through parse + alarm engine with 10,000 active alarms, vs JSON parsing alone."""
    import json as _json

    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.alarms.event import parse_event
    from wallctl.core.clock import ManualClock

    n = 20_000 if quick else 200_000
    sevs = ["warning", "minor", "major", "critical"]
    payloads = [
        _json.dumps(
            {"source": f"node-{i % 10_000}", "type": "cpu_high", "severity": sevs[i % 4], "category": "system"}
        ).encode()
        for i in range(n)
    ]
    clock = ManualClock()
    engine = AlarmEngine(clock)
    for p in payloads[:10_000]:
        engine.ingest(parse_event("noc/events/system/x", p, received=clock.now()))

    def full(k: int) -> None:
        for p in payloads[:k]:
            engine.ingest(parse_event("noc/events/system/x", p, received=clock.now()))

    def baseline(k: int) -> None:
        for p in payloads[:k]:
            _json.loads(p)

    ours = _rate(full, n)
    base = _rate(baseline, n)
    return [
        Result(
            "engine ingest (10k active alarms)", ours, "events/s", base, "json.loads alone", "not the limit of ingest"
        )
    ]


def format_table(results: list[Result]) -> str:
    """One line per figure: value and unit, baseline, ratio, goal and whether it is met."""
    w = max([len(r.name) for r in results] + [9])
    lines = [f"{'benchmark':{w}s} {'value':>18s} {'baseline':>12s} {'ratio':>7s}  {'goal':28s} verdict"]
    for r in results:
        value = f"{r.value:,.1f} {r.unit}"
        base = f"{r.baseline:,.1f}" if r.baseline is not None else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        verdict = {True: "met", False: "MISSED", None: "-"}[r.met]
        lines.append(f"{r.name:{w}s} {value:>18s} {base:>12s} {ratio:>7s}  {r.goal:28s} {verdict}")
        if r.baseline_name:
            lines.append(f"{'':{w}s}   baseline: {r.baseline_name}")
        if r.failed:
            lines.append(f"{'':{w}s}   failed: {r.failed}")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    """What the figures were measured on: they mean little without it."""
    import os

    def first(path: str, key: str) -> str:
        try:
            with open(path) as f:
                return next((line.split(":", 1)[1].strip() for line in f if line.startswith(key)), "")
        except OSError:
            return ""

    mem_kb = first("/proc/meminfo", "MemTotal").split(" ")[0]
    return {
        "node": platform.node(),
        "cpu": first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem_kb) / 1024**2, 1) if mem_kb.isdigit() else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def bench_engine_memory(quick: bool) -> list[Result]:
    """Memory the engine holds per alarm with 100,000 distinct alarms (the baseline: the same events as dicts)."""
    import gc
    import tracemalloc

    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.alarms.event import Event
    from wallctl.core.clock import ManualClock
    from wallctl.core.severity import Severity

    n = 20_000 if quick else 100_000
    events = [
        Event(f"node-{i}", "cpu_high", Severity.MINOR, 0.0, category="system", text="CPU above 90%") for i in range(n)
    ]
    gc.collect()
    tracemalloc.start()
    engine = AlarmEngine(ManualClock())
    for e in events:
        engine.ingest(e)
    ours, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    plain = {e.key: {"severity": e.severity.label, "text": e.text, "count": 1} for e in events}
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del plain, engine
    return [
        Result(
            f"engine memory per alarm ({n:,} distinct alarms)",
            ours / n,
            "bytes",
            base / n,
            "the same alarms as plain dicts",
            "bounded, no per-event growth",
        )
    ]


SECTIONS = (
    "engine",
    "wall process",
    "display nodes",
    "scale",
    "gateway",
    "sites",
    "standby",
    "voice",
    "outputs",
    "report",
    "topology",
)


def run_suite(*, quick: bool, json_path: Path | None, only: frozenset[str] = frozenset()) -> int:
    """Every section in turn, or those named in ``only`` (a developer re-measuring what they changed)."""
    m = machine()
    print(
        f"wallctl bench ({'quick' if quick else 'full'}) on {m['node']}: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB, {m['os']}, Python {m['python']}",
        flush=True,
    )
    from wallctl.bench.mosquitto import Mosquitto

    results: list[Result] = []
    timings: dict[str, float] = {}

    def section(name: str, fn: Callable[[], list[Result]]) -> None:
        assert name in SECTIONS, name  # what --only offers and what runs are the same names
        if only and name not in only:
            return
        t0 = time.perf_counter()
        try:
            results.extend(fn())
        except Exception as exc:  # the other sections still measure: a run is ~15 minutes of a shared machine
            log.exception("bench section %r failed", name)
            why = f"{type(exc).__name__}: {exc}"
            results.append(Result(f"{name}: the section failed", math.nan, "", None, "", "runs to the end", failed=why))
        timings[name] = time.perf_counter() - t0
        print(f"  {name} benchmarks done in {timings[name]:.1f} s", file=sys.stderr, flush=True)

    section("engine", lambda: bench_engine(quick) + bench_engine_memory(quick))
    broker = Mosquitto().start()
    try:
        from wallctl.bench.walls import bench_walls

        section("wall process", lambda: bench_walls(broker, quick=quick))
        from wallctl.bench.nodes import bench_nodes

        section("display nodes", lambda: bench_nodes(broker, quick=quick))
        from wallctl.bench.scale import bench_scale

        section("scale", lambda: bench_scale(broker, quick=quick))
        from wallctl.bench.gateway import bench_gateway

        section("gateway", lambda: bench_gateway(broker, quick=quick))
        from wallctl.bench.sites import bench_sites

        section("sites", lambda: bench_sites(broker, quick=quick))
        from wallctl.bench.standby import bench_standby

        section("standby", lambda: bench_standby(broker, quick=quick))
        from wallctl.bench.voice import bench_voice

        section("voice", lambda: bench_voice(broker, quick=quick))
        from wallctl.bench.outputs import bench_outputs

        section("outputs", lambda: bench_outputs(broker, quick=quick))
        from wallctl.bench.report import bench_report

        section("report", lambda: bench_report(quick=quick))
        from wallctl.bench.topo import bench_topology

        section("topology", lambda: bench_topology(quick=quick))
    finally:
        broker.stop()
    print(format_table(results))
    if json_path is not None:
        json_path.write_text(
            json.dumps(
                {
                    "quick": quick,
                    "machine": m,
                    "seconds": {k: round(v, 1) for k, v in timings.items()},
                    "results": [asdict(r) | {"ratio": r.ratio, "met": r.met} for r in results],
                },
                indent=2,
            )
        )
    return 1 if any(r.failed for r in results) else 0
