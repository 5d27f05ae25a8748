"""``wallctl report`` on the journal of a real controller (issue 19): events through the broker, one acknowledged,
the controller stopped, then the report as an operator would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.wall import ROOT, Observer, WallProcess, started, write_config

pytestmark = pytest.mark.e2e


def test_a_running_walls_journal_is_reported(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="report19", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/report19")
    ctl = WallProcess(cfg, command="controller", args=("--no-audio",)).start()
    try:
        started(obs, ctl)
        obs.event("system/dc1-app-01", source="dc1-app-01", type="cpu_high", severity="critical", category="system")
        obs.event("system/dc1-app-02", source="dc1-app-02", type="disk_full", severity="major", category="system")
        obs.wait(lambda o: o.state is not None and o.state["alarms"]["unacked"] >= 2, 10, "two alarms")
        obs.command(action="ack", source="dc1-app-01", type="cpu_high", request_id="ack-19")
        obs.wait(lambda o: any(r.get("request_id") == "ack-19" for r in o.results), 10, "ack reply")
        obs.event("system/dc1-app-01", source="dc1-app-01", type="cpu_high", severity="cleared", category="system")
        obs.wait(lambda o: o.alarm("dc1-app-01", "cpu_high") is None, 10, "cleared and gone")
    finally:
        assert ctl.stop() == 0
        obs.close()
    journal = tmp_path / "journal.sqlite3"
    res = subprocess.run(
        [sys.executable, "-m", "wallctl", "report", "--journal", str(journal), "--json", "-"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["raised"] >= 2
    assert data["alarms"] == 2  # both sounded (the shipped sound map has a sound for major and critical)
    keys = {(t["source"], t["type"]) for t in data["top10"]}
    assert {("dc1-app-01", "cpu_high"), ("dc1-app-02", "disk_full")} <= keys
    assert data["time_to_ack_s"]["count"] == 1 and data["never_acked"] == 1
    assert data["time_to_clear_s"]["count"] == 1
    assert data["actions"]["by_origin"].get("mqtt", 0) >= 1
