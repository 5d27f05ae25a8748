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


def test_a_failing_section_is_reported_and_the_others_still_measure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A section that raises (a flood that ended early, a wall that exited) is a MISSED line saying why, the exit
    status says so, and the sections after it still measure: a full run is a quarter of an hour of a shared VM."""
    from wallctl.bench import suite

    def broken(quick: bool) -> list[Result]:
        raise RuntimeError("the flood ended before the switches measured under it did")

    monkeypatch.setattr(suite, "bench_engine", broken)
    out = tmp_path / "bench.json"
    assert suite.run_suite(quick=True, json_path=out, only=frozenset({"engine", "report"})) == 1
    data = json.loads(out.read_text())
    failed = [r for r in data["results"] if r["failed"]]
    assert [r["name"] for r in failed] == ["engine: the section failed"]
    assert failed[0]["met"] is False and "RuntimeError: the flood ended" in failed[0]["failed"]
    assert any(r["name"].startswith("report:") and r["value"] > 0 for r in data["results"])
    assert set(data["seconds"]) == {"engine", "report"}


def test_load_packets_are_the_events_they_say() -> None:
    """The load generator writes packets from templates: each is a well-formed PUBLISH of event ``i``, its own id."""
    from wallctl.bench.load import Packets

    packets = Packets(1, "f", 3, ("warning", "minor"))
    seen = set()
    for i in (0, 2, 3, 5, 6, 65535, 10**9 + 7):
        raw = packets[i]
        assert raw[0] == 0x32  # PUBLISH, QoS 1
        size, mul, at = 0, 1, 1
        while True:  # the remaining length
            size += (raw[at] & 0x7F) * mul
            mul, at = mul * 128, at + 1
            if not raw[at - 1] & 0x80:
                break
        assert len(raw) - at == size
        tlen = int.from_bytes(raw[at : at + 2], "big")
        topic = raw[at + 2 : at + 2 + tlen].decode()
        mid = int.from_bytes(raw[at + 2 + tlen : at + 4 + tlen], "big")
        body = json.loads(raw[at + 4 + tlen :])
        assert topic == f"noc/events/system/f{i % 3:05d}" == f"noc/events/system/{body['source']}"
        assert body["severity"] == ("warning", "minor")[(i // 3) % 2] and int(body["id"][2:]) == i
        assert mid == i % 65535 + 1
        seen.add(body["id"])
    assert len(seen) == 7
