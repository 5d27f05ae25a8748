"""The whole path, for real: MQTT event -> alarm -> mode switch -> state topic -> sound through ALSA."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.alsa import AlsaCapture
from tests.support.mosquitto import Mosquitto
from tests.support.wall import Observer, WallProcess, write_config

pytestmark = pytest.mark.e2e


def test_event_switches_mode_publishes_state_and_sounds(
    tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture
) -> None:
    cfg = write_config(tmp_path, wall_id="slice", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/slice")
    wall = WallProcess(cfg, env=alsa.env).start()
    try:
        obs.wait(
            lambda o: o.status == "online" and o.state is not None and o.state["broker"] == "connected",
            what="wall online",
        )
        assert obs.state is not None and obs.state["mode"] == "normal"
        assert obs.state["alarms"]["active"] == 0
        t_event = time.time()
        obs.event(
            "network/br05-rtr",
            source="br05-rtr",
            type="node_down",
            severity="critical",
            text="branch router down",
            id="evt-1",
        )
        obs.wait(lambda o: o.state["mode"] == "incident", what="incident mode")
        st = obs.state
        assert st["highest"] == "critical"
        assert st["alarms"]["unacked"] == 1 and st["alarms"]["by_severity"] == {"critical": 1}
        assert st["focus"] == {"region": "map", "target": "br05-rtr"}
        assert st["reason"] == "critical-network"
        assert st["audible"]["sound"] == "network_high"
        obs.wait(lambda o: o.alarm("br05-rtr", "node_down") is not None, what="alarm listed")
        listed = obs.alarm("br05-rtr", "node_down")
        assert listed is not None and listed["state"] == "UNACK" and listed["severity"] == "critical"
        # the sound: the network class (523 Hz fundamental), high priority (10-pulse burst), through ALSA
        deadline = time.monotonic() + 10
        while not alsa.captures() and time.monotonic() < deadline:
            time.sleep(0.05)
        caps = alsa.captures()
        assert caps, f"nothing was played; wall log:\n{wall.output()[-3000:]}"
        first = caps[0]
        assert first.started >= t_event - 0.5
        assert abs(first.fundamental() - 523.25) < 8, first.fundamental()
        assert first.pulses() == 10
        # acknowledge over MQTT: the horn stops, the alarm is ACKED, the mode holds (critical still standing)
        obs.command(action="ack", source="br05-rtr", type="node_down", request_id="r1")
        obs.wait(lambda o: any(r.get("request_id") == "r1" for r in o.results), what="command reply")
        assert next(r for r in obs.results if r["request_id"] == "r1") == {
            "request_id": "r1",
            "ok": True,
            "error": None,
        }
        obs.wait(lambda o: o.state["alarms"]["unacked"] == 0 and o.state["audible"]["sound"] is None, what="acked")
        assert obs.state["mode"] == "incident"
    finally:
        code = wall.stop()
        obs.close()
    assert code == 0, wall.output()[-3000:]
