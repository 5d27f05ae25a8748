"""The headless controller (``wallctl controller``) as a real process on a real broker: it imports no Qt (looked up
in the running process's memory map), ingests, switches the mode, sounds through ALSA, answers commands, reloads
its layouts live and stops cleanly on SIGTERM. Its QoS 1 accounting across kill -9 is the ingestion test's, run
against both commands (tests/e2e/test_ingestion.py)."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.alsa import AlsaCapture
from tests.support.mosquitto import Mosquitto
from tests.support.wall import ROOT, Observer, WallProcess, started, write_config
from wallctl.controller.build import load_config_layouts
from wallctl.core.config.settings import load_config
from wallctl.core.severity import Severity
from wallctl.core.wall.tiles import AlarmListOptions
from wallctl.core.wire.view import VIEW_ROWS, decode_health, decode_map, decode_picture, decode_rows, list_id

pytestmark = pytest.mark.e2e
QT_LIBRARIES = ("PySide6", "shiboken6", "libQt6", "pyqtgraph")


def mapped_files(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[-1] for line in f if len(line.split()) >= 6}


def result(obs: Observer, request_id: str) -> dict[str, object]:
    obs.wait(lambda o: any(r.get("request_id") == request_id for r in o.results), 10, f"reply to {request_id}")
    return next(r for r in obs.results if r.get("request_id") == request_id)


def test_the_controller_runs_the_wall_without_qt(tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture) -> None:
    cfg = write_config(tmp_path, wall_id="ctl", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/ctl")
    ctl = WallProcess(cfg, env=alsa.env, command="controller").start()
    try:
        started(obs, ctl)
        assert ctl.proc is not None
        files = mapped_files(ctl.proc.pid)
        assert any("python" in f or "libpython" in f for f in files)  # the map is the interpreter's
        assert not [f for f in files if any(q in f for q in QT_LIBRARIES)]
        assert obs.state is not None and obs.state["mode"] == "normal"
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", category="network")
        obs.wait(lambda o: o.state["mode"] == "incident" and o.state["alarms"]["unacked"] >= 1, 10, "incident mode")
        obs.wait(lambda o: o.alarm("br05-rtr", "node_down") is not None, 10, "alarm listed")
        deadline = time.monotonic() + 10
        while not alsa.captures() and time.monotonic() < deadline:
            time.sleep(0.05)
        caps = alsa.captures()
        assert caps and caps[0].pulses() >= 2, "the controller sounded nothing"
        assert obs.state["audible"]["sound"] is not None
        obs.command(action="ack", source="br05-rtr", type="node_down", request_id="ack-1")
        assert result(obs, "ack-1") == {"request_id": "ack-1", "ok": True, "error": None}
        obs.wait(lambda o: o.state["alarms"]["unacked"] == 0 and o.state["audible"]["sound"] is None, 10, "quiet")
        obs.command(action="mode", mode="no-such-mode", request_id="bad-1")
        reply = result(obs, "bad-1")
        assert reply["ok"] is False and "unknown mode 'no-such-mode'" in str(reply["error"])
        assert not [f for f in mapped_files(ctl.proc.pid) if any(q in f for q in QT_LIBRARIES)]  # still none
    finally:
        assert ctl.stop() == 0
        obs.close()


def test_a_saved_layout_reaches_the_controller(tmp_path: Path, mosquitto: Mosquitto) -> None:
    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    cfg = write_config(tmp_path, wall_id="ctlreload", port=mosquitto.port, layouts=layouts)
    obs = Observer(mosquitto.port, "wallctl/ctlreload")
    ctl = WallProcess(cfg, args=("--no-audio",), command="controller").start()
    try:
        started(obs, ctl)
        obs.command(action="mode", mode="nightwatch", request_id="before")
        assert result(obs, "before")["ok"] is False  # no such mode yet
        text = (layouts / "modes" / "05-briefing.yaml").read_text()
        (layouts / "modes" / "07-nightwatch.yaml").write_text(
            text.replace("name: briefing", "name: nightwatch").replace("hotkey: F5\n", "")
        )
        deadline = time.monotonic() + 5
        ok = False
        n = 0
        while not ok and time.monotonic() < deadline:  # applied within a second or so of the save
            n += 1
            obs.command(action="mode", mode="nightwatch", request_id=f"after-{n}")
            ok = bool(result(obs, f"after-{n}")["ok"])
            if not ok:
                time.sleep(0.2)
        assert ok, ctl.output()[-2000:]
        obs.wait(lambda o: o.state["mode"] == "nightwatch", 5, "the new mode on the state topic")
        (layouts / "rules.yaml").write_text("rules: [\n")  # a broken save: the last good layout stays
        time.sleep(1.5)
        obs.command(action="mode", mode="nightwatch", pin_s=60, request_id="still")
        assert result(obs, "still")["ok"] is True
        assert "layout reload failed" in ctl.output()
    finally:
        assert ctl.stop() == 0
        obs.close()


def test_sigterm_stops_the_controller_within_two_seconds(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="ctlterm", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/ctlterm")
    ctl = WallProcess(cfg, args=("--no-audio",), command="controller").start()
    try:
        started(obs, ctl)
        for i in range(50):
            obs.event(f"system/s{i}", source=f"s{i}", type="cpu_high", severity="minor", category="system")
        obs.wait(lambda o: o.state["alarms"]["active"] == 50, 10, "50 alarms")
        assert ctl.proc is not None
        t0 = time.monotonic()
        ctl.proc.send_signal(signal.SIGTERM)
        code = ctl.proc.wait(5)
        assert code == 0 and time.monotonic() - t0 < 2.0
        obs.wait(lambda o: o.status == "offline", 5, "offline on the status topic")
    finally:
        ctl.stop()
        obs.close()
    again = WallProcess(cfg, args=("--no-audio",), command="controller").start()
    obs = Observer(mosquitto.port, "wallctl/ctlterm")
    try:
        started(obs, again)
        obs.wait(lambda o: o.state["alarms"]["active"] == 50, 10, "the 50 alarms restored from the journal")
    finally:
        assert again.stop() == 0
        obs.close()


class ViewWatcher:
    """Keeps the latest message of each ``view/...`` topic, as a display node joining would read them."""

    def __init__(self, port: int, prefix: str) -> None:
        self.prefix = f"{prefix}/view/"
        self.latest: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(f"{self.prefix}#", qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.latest[msg.topic[len(self.prefix) :]] = json.loads(msg.payload)

    def get(self, topic: str) -> dict[str, Any] | None:
        with self.lock:
            return self.latest.get(topic)

    def wait(self, predicate: Callable[[ViewWatcher], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; topics: {sorted(self.latest)}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_the_controller_publishes_what_displays_draw(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="ctlview", port=mosquitto.port)
    layouts = load_config_layouts(load_config(cfg))
    lists = {
        list_id(o.sort, o.filter, o.show_consequences)
        for o in layouts.tile_options.values()
        if isinstance(o, AlarmListOptions)
    }
    assert len(lists) >= 2  # the shipped modes list alarms in more than one way
    obs = Observer(mosquitto.port, "wallctl/ctlview")
    ctl = WallProcess(cfg, args=("--no-audio",), command="controller").start()
    views = ViewWatcher(mosquitto.port, "wallctl/ctlview")
    try:
        started(obs, ctl)
        views.wait(lambda v: all(v.get(f"lists/{n}") for n in lists) and v.get("map/estate") is not None, 10, "views")
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", category="network")
        views.wait(lambda v: "br05-rtr" in v.get("map/estate")["nodes"], 10, "the node on the map")  # type: ignore[index]
        node = decode_map(views.get("map/estate")).nodes["br05-rtr"]  # type: ignore[arg-type]
        assert node.severity is Severity.CRITICAL and node.unacked
        for i in range(1500):  # more alarms than any list sends
            obs.client.publish(
                f"noc/events/system/h{i}",
                json.dumps({"source": f"h{i}", "type": "cpu_high", "severity": "minor", "category": "system"}),
                qos=1,
            )
        obs.wait(lambda o: o.state["alarms"]["active"] == 1501, 30, "1501 alarms")
        views.wait(lambda v: decode_picture(v.get("picture")).counts.active == 1501, 10, "the picture")  # type: ignore[arg-type]
        for name in lists:  # a filtered list may show none of these: every one is bounded
            assert len(decode_rows(views.get(f"lists/{name}")).rows) <= VIEW_ROWS  # type: ignore[arg-type]
        priority = decode_rows(views.get(f"lists/{list_id('priority', None, True)}"))  # type: ignore[arg-type]
        assert priority.total == 1501 and len(priority.rows) == VIEW_ROWS
        assert priority.rows[0][0].key == ("br05-rtr", "node_down")  # the critical first
        assert sum(n for _, n in priority.beyond) == 1501 - VIEW_ROWS
        views.wait(lambda v: (v.get("health") or {}).get("last_10min", 0) >= 1501, 10, "the alarm-health figures")
        health = decode_health(views.get("health"))  # type: ignore[arg-type]
        assert health.level == "flood" and len(health.top) == 5  # the tile's load and bad actors, bounded
        sizes = [len(json.dumps(b)) for b in views.latest.values()]
        assert max(sizes) < 64_000, sizes  # bounded by what a wall draws, not by 1,501 alarms
        seq_before = views.get("map/estate")["seq"]  # type: ignore[index]
        obs.command(action="ack", source="br05-rtr", type="node_down")
        views.wait(lambda v: not decode_map(v.get("map/estate")).nodes["br05-rtr"].unacked, 10, "acknowledged")  # type: ignore[arg-type]
        assert views.get("map/estate")["seq"] > seq_before  # type: ignore[index]
    finally:
        views.close()
        assert ctl.stop() == 0
        obs.close()


def test_a_critical_event_overtakes_a_backlog_of_warnings(
    tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture
) -> None:
    """A controller 20,000 warnings behind (stopped while a flood queued for it) raises the critical alarm that came
    after them before it has applied them, and then applies every one of them, none twice."""
    import os

    from wallctl.bench.load import publish

    n = 20_000
    cfg = write_config(tmp_path, wall_id="ahead", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/ahead")
    ctl = WallProcess(cfg, env=alsa.env, command="controller").start()
    try:
        started(obs, ctl)
        assert ctl.proc is not None and obs.state is not None
        before = obs.state["events"]
        os.kill(ctl.proc.pid, signal.SIGSTOP)
        try:
            publish(mosquitto.port, n, 1, prefix="w", sources=500, sevs=("warning", "minor"))
            obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", id="crit-1")
        finally:
            os.kill(ctl.proc.pid, signal.SIGCONT)
        seen: list[int] = []

        def critical(o: Observer) -> bool:
            return o.state["alarms"]["by_severity"].get("critical", 0) == 1 and not seen.append(o.state["events"])

        obs.wait(critical, 20, "the critical alarm")
        assert seen[0] - before < n // 2, f"raised once {seen[0] - before} of the {n + 1} events were applied"
        obs.wait(lambda o: o.state["events"] >= before + n + 1, 60, "every event applied")
        assert obs.state["events"] == before + n + 1 and obs.state["duplicate_events"] == 0
        assert obs.state["rejected_events"] == 0 and obs.state["highest"] == "critical"
    finally:
        assert ctl.stop() == 0
        obs.close()
