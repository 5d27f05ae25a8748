"""`wallctl bench --quick` runs end to end (real mosquitto, real wall process) and reports every figure with its
baseline, ratio and goal. Verdicts are not asserted: a shared CI machine is too noisy for that."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wallctl.bench.result import Result
from wallctl.bench.suite import format_table

ROOT = Path(__file__).resolve().parent.parent


def test_result_verdicts_and_table() -> None:
    faster = Result("a", 90.0, "events/s", 100.0, "bare", ">= 0.8x", ratio_goal=0.8)
    slower = Result("b", 60.0, "ms", None, "", "< 50 ms", max_goal=50)
    assert faster.ratio == 0.9 and faster.met is True and slower.met is False
    table = format_table([faster, slower])
    assert "0.90" in table and "met" in table and "MISSED" in table and "baseline: bare" in table


@pytest.mark.slow
@pytest.mark.e2e
# the whole quick suite (wall, nodes, scale, gateway, sites, standby, voice, outputs, report): ~3-4 min
@pytest.mark.timeout(620)
def test_quick_bench_runs_and_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "WALLCTL_CONFIG": str(ROOT / "config" / "wallctl.yaml")}
    res = subprocess.run(
        [sys.executable, "-m", "wallctl", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    names = [r["name"] for r in data["results"]]
    for fragment in [
        "engine ingest",
        "engine memory",
        "whole pipeline",
        "mode painted on 6 monitors",
        "mode switch alone",
        "during a",
        "first audio sample",
        "scale: command round trip p99",
        "scale: ack_all",
        "scale: restart to the restored picture",
        "gateway: Alertmanager webhooks",
        "gateway: one alert from its HTTP request",
        "sites: one event through a branch broker's bridge",
        "standby: kill -9 of the active controller",
        "voice: event -> first tone sample p99, voice on",
        "voice: event -> first speech sample p99",
        "outputs: event -> the stack light's buzzer coil written",
        "report: 100k journal transitions",
    ]:
        assert any(fragment in n for n in names), (fragment, names)
    import math

    # every figure is a measurement; only the memory growth may be zero or negative (a plateau, or memory given back)
    odd = [
        r
        for r in data["results"]
        if not math.isfinite(r["value"]) or (r["value"] <= 0 and not r["name"].startswith("memory: growth"))
    ]
    assert odd == [], odd
    assert data["machine"]["cores"] >= 1


def test_only_runs_the_named_sections_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    """``--only`` is how a change is re-measured without the whole suite: the engine section alone here."""
    out = tmp_path / "bench.json"
    env = {**os.environ, "WALLCTL_CONFIG": str(ROOT / "config" / "wallctl.yaml")}

    def bench(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "wallctl", "bench", "--quick", *args]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=env)

    res = bench("--only", "engine", "--json", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert list(data["seconds"]) == ["engine"]
    assert data["results"] and all(r["name"].startswith("engine") for r in data["results"])
    res = bench("--only", "scal")
    assert res.returncode == 2 and "unknown section 'scal'" in res.stderr and "scale" in res.stderr
