"""A controller and two display nodes (three offscreen screens each) on a real broker: both nodes follow the
controller's mode and show their half of the wall; a display killed with kill -9 is an alarm until it is back; a
controller killed with kill -9 is said on every node within 3 s."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.support.mosquitto import Mosquitto
from tests.support.wall import ROOT, Observer, WallProcess, started, write_config

pytestmark = pytest.mark.e2e
NODES = ("top", "bottom")
_walls = itertools.count(1)


def two_node_layouts(tmp_path: Path) -> Path:
    """The shipped layouts with the top row of monitors on node 'top' and the bottom row on node 'bottom'."""
    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    wall = layouts / "wall.yaml"
    text = wall.read_text()
    for i in range(1, 7):
        node = "top" if i <= 3 else "bottom"
        text = text.replace(f"screen: WALL-{i}}}", f"screen: WALL-{i}, node: {node}}}")
    assert text.count("node: top") == 3 and text.count("node: bottom") == 3
    wall.write_text(text)
    return layouts


class Presence:
    """The retained ``displays/<node>`` messages, as the controller and a duty manager's console see them."""

    def __init__(self, port: int, prefix: str) -> None:
        self.prefix = f"{prefix}/displays/"
        self.latest: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(f"{self.prefix}+", qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.latest[msg.topic[len(self.prefix) :]] = json.loads(msg.payload)

    def of(self, node: str) -> dict[str, Any]:
        with self.lock:
            return dict(self.latest.get(node) or {})

    def wait(self, predicate: Callable[[Presence], bool], timeout: float, what: str) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if predicate(self):
                return time.monotonic() - t0
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; presence: {self.latest}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def display(cfg: Path, node: str, shots: Path) -> WallProcess:
    return WallProcess(
        cfg,
        command="display",
        args=("--node", node, "--screenshot", str(shots / f"{node}.png")),
        env={"QT_QPA_PLATFORM": "offscreen"},
    )


@pytest.fixture
def wall(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[dict[str, Any]]:
    # a wall of its own per test: the session broker keeps each wall's persistent session, and events published by
    # another test while this wall's controller was away would be delivered to it
    wall_id = f"nodes{next(_walls)}"
    cfg = write_config(tmp_path, wall_id=wall_id, port=mosquitto.port, layouts=two_node_layouts(tmp_path))
    obs = Observer(mosquitto.port, f"wallctl/{wall_id}")
    presence = Presence(mosquitto.port, f"wallctl/{wall_id}")
    ctl = WallProcess(cfg, args=("--no-audio",), command="controller").start()
    procs = {"controller": ctl}
    try:
        started(obs, ctl)
        for node in NODES:
            procs[node] = display(cfg, node, tmp_path).start()
        for node in NODES:
            presence.wait(
                lambda p, n=node: p.of(n).get("status") == "online" and p.of(n).get("mode") == "normal",
                30,
                f"display {node} online and painted; log:\n{procs[node].output()[-3000:]}",
            )
        yield {"cfg": cfg, "obs": obs, "presence": presence, "procs": procs, "dir": tmp_path}
    finally:
        for p in procs.values():
            p.stop()
        presence.close()
        obs.close()


def test_two_nodes_follow_the_controller_each_with_its_half_of_the_wall(wall: dict[str, Any]) -> None:
    obs, presence = wall["obs"], wall["presence"]
    for node in NODES:
        p = presence.of(node)
        assert p["screens"] == 3 and p["missing_screens"] == [] and p["controller"] == "ok", p
    obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", category="network")
    obs.wait(lambda o: o.state["mode"] == "incident", 10, "incident mode")
    seq = obs.state["seq"]
    for node in NODES:
        presence.wait(lambda p, n=node: p.of(n).get("mode") == "incident", 10, f"{node} painted incident")
    top, bottom = presence.of("top"), presence.of("bottom")
    assert top["state_seq"] >= seq - 5 and bottom["state_seq"] >= seq - 5
    assert abs(top["painted_at"] - bottom["painted_at"]) < 0.1, (top, bottom)  # in step (the bench measures)
    time.sleep(1.5)  # the next screenshot of each node
    for node in NODES:
        img = QImage(str(wall["dir"] / f"{node}.png"))
        assert not img.isNull() and img.width() > 2.5 * img.height(), (img.width(), img.height())  # 3 monitors
        colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
        assert len(colours) > 64, f"{node}: hardly any content ({len(colours)} colours)"


def test_a_killed_display_is_an_alarm_until_it_is_back(wall: dict[str, Any]) -> None:
    obs, presence, procs = wall["obs"], wall["presence"], wall["procs"]
    procs["bottom"].kill9()
    presence.wait(lambda p: p.of("bottom").get("status") == "offline", 5, "the last will")
    obs.wait(lambda o: o.alarm("display/bottom", "display_offline") is not None, 5, "display offline alarm")
    assert obs.alarm("display/bottom", "display_offline")["severity"] == "major"  # type: ignore[index]
    obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", category="network")
    obs.wait(lambda o: o.state["mode"] == "incident", 10, "the controller keeps going")
    procs["bottom"] = display(wall["cfg"], "bottom", wall["dir"]).start()
    presence.wait(lambda p: p.of("bottom").get("mode") == "incident", 30, "the full picture again")
    obs.wait(  # cleared: back to normal, still to be acknowledged (ISA-18.2: RTNUN) or gone
        lambda o: (o.alarm("display/bottom", "display_offline") or {"state": "RTNUN"})["state"] == "RTNUN",
        10,
        "alarm cleared",
    )


def test_a_killed_controller_is_said_on_every_node_within_3_s(wall: dict[str, Any]) -> None:
    presence, procs = wall["presence"], wall["procs"]
    procs["controller"].kill9()
    took = presence.wait(
        lambda p: all(p.of(n).get("controller") == "lost" for n in NODES), 3, "every node says controller lost"
    )
    assert took < 3


def children_of(pid: int) -> list[int]:
    out = []
    for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        out += [int(c), *children_of(int(c))]
    return out


def child_running(pid: int, command: str) -> int | None:
    for c in children_of(pid):
        try:
            if command.encode() in Path(f"/proc/{c}/cmdline").read_bytes().split(b"\0"):
                return c
        except OSError:
            continue
    return None


def test_run_supervises_the_controller_and_a_killed_one_loses_nothing(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """``wallctl run``: kill -9 of its controller is said on every node, the supervisor restarts it, and every QoS 1
    event sent before, during and after is accounted for exactly once."""
    cfg = write_config(tmp_path, wall_id="sup", port=mosquitto.port, layouts=two_node_layouts(tmp_path))
    obs = Observer(mosquitto.port, "wallctl/sup")
    presence = Presence(mosquitto.port, "wallctl/sup")
    pub = paho.Client(CallbackAPIVersion.VERSION2, client_id="sup-pub", clean_session=False)
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    run = WallProcess(cfg, args=("--no-audio",), env={"QT_QPA_PLATFORM": "offscreen"}).start()

    def send(i: int) -> None:
        body = {"source": f"s{i:03d}", "type": "t", "severity": "minor", "id": f"e{i}", "category": "system"}
        pub.publish(f"noc/events/system/s{i:03d}", json.dumps(body), qos=1).wait_for_publish(5)

    try:
        started(obs, run)
        for node in NODES:
            presence.wait(lambda p, n=node: p.of(n).get("controller") == "ok", 30, f"display {node} following")
        assert run.proc is not None
        first = child_running(run.proc.pid, "controller")
        assert first is not None
        for i in range(100):
            send(i)
        obs.wait(lambda o: o.state["alarms"]["active"] == 100, 20, "100 alarms")
        os.kill(first, signal.SIGKILL)
        presence.wait(lambda p: all(p.of(n).get("controller") == "lost" for n in NODES), 3, "lost on every node")
        for i in range(100, 200):  # while the controller is down: the broker keeps them in its session
            send(i)
        presence.wait(lambda p: all(p.of(n).get("controller") == "ok" for n in NODES), 20, "restarted")
        second = child_running(run.proc.pid, "controller")
        assert second is not None and second != first
        obs.wait(lambda o: o.state["alarms"]["active"] == 200, 30, "all 200 alarms after the restart")
        obs.wait(lambda o: o.alarms is not None and o.alarms["total"] == 200, 10, "alarm list")
        assert {a["count"] for a in obs.alarms["alarms"]} == {1}  # type: ignore[index]  # none twice
        assert "controller exited" in run.output()
    finally:
        assert run.stop() == 0
        presence.close()
        obs.close()
        pub.loop_stop()


def test_a_hotkey_on_one_node_switches_both_and_is_audited_with_the_node(
    wall: dict[str, Any], qtbot: QtBot, tmp_path: Path
) -> None:
    """The 'top' node's mode key, as its windows' shortcut calls it (the node runs in this process, on Qt's loop,
    against the real controller and the real 'bottom' node)."""
    from wallctl.core.clock import SystemClock
    from wallctl.core.wall.hotkeys import mode_hotkeys
    from wallctl.core.wire.mirror import WallMirror
    from wallctl.core.wire.setup_files import materialize
    from wallctl.display_app import DisplayApp, DisplayOptions
    from wallctl.qt.loop import QtLoop

    obs, presence = wall["obs"], wall["presence"]
    wall["procs"]["top"].stop()  # this process becomes node 'top'
    app = DisplayApp(DisplayOptions(config=wall["cfg"], node="top"))
    setup = app.fetch_setup()
    layouts, _ = materialize(setup, tmp_path / "node")
    app.mirror = WallMirror(SystemClock(), layouts, tuple(setup.kpis), setup.flood, maps=["estate"])
    app.link = app.make_link(QtLoop())
    app.link.start()
    try:
        qtbot.waitUntil(lambda: app.link.connected, timeout=10_000)
        key = mode_hotkeys(layouts.modes.values(), setup.reserved_hotkeys)["briefing"]
        app.hotkey_actions(layouts, setup.reserved_hotkeys, scene=None)[key]()
        qtbot.waitUntil(lambda: obs.state is not None and obs.state["mode"] == "briefing", timeout=10_000)
        assert obs.state["pinned"]["origin"] == "mqtt:display/top"  # type: ignore[index]
        presence.wait(lambda p: p.of("bottom").get("mode") == "briefing", 10, "the other node switched too")
    finally:
        app.link.stop()
    db = sqlite3.connect(wall["dir"] / "journal.sqlite3")
    rows = db.execute("SELECT origin, action, ok FROM audit WHERE action = 'mode'").fetchall()
    assert ("mqtt:display/top", "mode", 1) in rows, rows


def test_a_controller_restarted_with_another_map_is_followed_without_a_display_restart(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """A display node never keeps drawing a stale map: the new topology of a restarted controller rebuilds its maps."""
    topo = tmp_path / "estate.yaml"
    shutil.copy(ROOT / "topology" / "estate.yaml", topo)
    wall_id = f"maps{next(_walls)}"
    cfg = write_config(tmp_path, wall_id=wall_id, port=mosquitto.port)
    cfg.write_text(cfg.read_text().replace(f"topology: {ROOT / 'topology' / 'estate.yaml'}", f"topology: {topo}"))
    obs = Observer(mosquitto.port, f"wallctl/{wall_id}")
    presence = Presence(mosquitto.port, f"wallctl/{wall_id}")
    ctl = WallProcess(cfg, command="controller", args=("--no-audio",)).start()
    display = WallProcess(cfg, command="display", args=("--node", "main", "--windowed"))
    display.log = tmp_path / "display.log"
    try:
        started(obs, ctl)
        display.start()
        presence.wait(lambda p: bool(p.of("main").get("maps")), 30, "the display drawing")
        first = presence.of("main")["maps"]
        assert display.proc is not None
        pid = display.proc.pid
        text = topo.read_text().replace(
            "nodes:\n", "nodes:\n- {id: br13-rtr, label: Branch Suzhou rtr, kind: router, site: br01, x: 100, y: 900}\n"
        )
        topo.write_text(text)
        assert ctl.stop() == 0
        obs.forget()
        ctl = WallProcess(cfg, command="controller", args=("--no-audio",)).start()
        started(obs, ctl)
        presence.wait(lambda p: p.of("main").get("maps") not in (None, first), 30, "the new map on the display")
        obs.event("network/br13-rtr", source="br13-rtr", type="node_down", severity="critical", category="network")
        obs.wait(lambda o: o.state["mode"] == "incident", 10, "incident on the new node")
        presence.wait(lambda p: p.of("main").get("mode") == "incident", 10, "the display painted it")
        assert display.alive and display.proc is not None and display.proc.pid == pid  # the same process
        assert "Traceback" not in display.output()
    finally:
        display.stop()
        ctl.stop()
        obs.close()
        presence.client.loop_stop()
