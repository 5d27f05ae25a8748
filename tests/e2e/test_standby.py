"""Hot standby (issue 17): two real controllers of one wall on one broker, each with its own journal and session;
exactly one active. kill -9 of the active one under a steady QoS 1 stream, and a network partition of it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.support.alsa import AlsaCapture
from tests.support.mosquitto import Mosquitto
from tests.support.proxy import CuttableProxy
from tests.support.wall import Observer, WallProcess, write_config

pytestmark = pytest.mark.e2e
TAKE_OVER_S = 3.0


def controller(cfg: Path, cid: str, role: str, alsa: AlsaCapture | None = None) -> WallProcess:
    args = ("--id", cid, "--role", role, "--journal", str(cfg.parent / f"journal-{cid}.sqlite3"))
    proc = WallProcess(
        cfg, command="controller", args=args if alsa else (*args, "--no-audio"), env=alsa.env if alsa else None
    )
    proc.log = cfg.parent / f"controller-{cid}.log"
    return proc.start()


def roles(obs: Observer) -> dict[str, str]:
    return dict((obs.state or {}).get("controllers") or {})


def alarm(obs: Observer, source: str, type_: str) -> dict[str, object]:
    found = obs.alarm(source, type_)
    assert found is not None, f"{source}/{type_} not listed"
    return found


def test_kill9_of_the_active_controller_under_a_stream(tmp_path: Path, mosquitto: Mosquitto) -> None:
    wall_id = "sb" + uuid.uuid4().hex[:6]
    cfg = write_config(tmp_path, wall_id=wall_id, port=mosquitto.port)
    alsa_a, alsa_b = AlsaCapture(tmp_path / "alsa-a"), AlsaCapture(tmp_path / "alsa-b")
    obs = Observer(mosquitto.port, f"wallctl/{wall_id}")
    a = controller(cfg, "a", "primary", alsa_a)
    b = controller(cfg, "b", "standby", alsa_b)
    try:
        obs.wait(lambda o: roles(o) == {"a": "active", "b": "standby"}, 20, "a active, b standby")
        assert obs.state is not None and obs.state["controller"] == "a"

        # the operator's picture: a sounding critical, an acknowledged major, a pinned mode
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", id="crit-1")
        obs.event("system/db-7", source="db-7", type="disk_full", severity="major", id="maj-1")
        obs.wait(lambda o: o.alarm("db-7", "disk_full") is not None, 10, "both alarms listed")
        obs.command(action="ack", source="db-7", type="disk_full", request_id="ack-1")
        obs.command(action="mode", mode="briefing", pin_s=600, request_id="pin-1")
        obs.wait(lambda o: {r.get("request_id") for r in o.results} >= {"ack-1", "pin-1"}, 10, "replies")
        assert [r["request_id"] for r in obs.results].count("ack-1") == 1  # the standby answers nothing
        obs.wait(lambda o: alarm(o, "db-7", "disk_full")["state"] == "ACKED", 10, "acknowledged")
        deadline = time.monotonic() + 10
        while not alsa_a.captures() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alsa_a.captures(), "the active controller sounded nothing"
        assert not alsa_b.captures(), "the standby sounded"

        n, sent = 300, []

        def stream() -> None:  # a steady QoS 1 stream, 150 per second, every event an alarm of its own
            for i in range(n):
                obs.event("system/tick", source=f"tick-{i}", type="tick", severity="warning", id=f"tick-{i}")
                sent.append(i)
                time.sleep(1 / 150)

        t = threading.Thread(target=stream)
        t.start()
        while len(sent) < n // 3:
            time.sleep(0.01)
        a.kill9()
        killed = time.monotonic()
        obs.wait(lambda o: (o.state or {}).get("controller") == "b", 10, "b takes over")
        take_over = time.monotonic() - killed
        t.join()
        assert take_over < TAKE_OVER_S, take_over
        obs.wait(lambda o: roles(o).get("a") == "offline", 5, "a shown offline")

        obs.wait(lambda o: o.state["alarms"]["active"] == n + 2, 30, "every event once, on b")
        obs.wait(lambda o: o.alarms is not None and len(o.alarms["alarms"]) == n + 2, 10, "b's alarm list")
        assert obs.alarms is not None
        ticks = [x for x in obs.alarms["alarms"] if x["type"] == "tick"]
        assert len(ticks) == n and all(x["count"] == 1 for x in ticks)  # none lost, none doubled
        assert alarm(obs, "db-7", "disk_full")["state"] == "ACKED"  # b applied the acknowledgement too
        assert obs.state["pinned"] is not None and obs.state["pinned"]["mode"] == "briefing"
        assert obs.state["mode"] == "briefing"
        deadline = time.monotonic() + 10  # the unacknowledged critical sounds again, now from b
        while not alsa_b.captures() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alsa_b.captures(), "the new active controller did not take the horn over"

        a = controller(cfg, "a", "primary", alsa_a)  # back: joins as standby, does not take the wall back
        obs.wait(lambda o: roles(o) == {"a": "standby", "b": "active"}, 20, "a back as standby")
        time.sleep(1.5)  # longer than the settle and claim graces: a must still not have claimed
        assert roles(obs) == {"a": "standby", "b": "active"} and obs.state["controller"] == "b"
    finally:
        a.stop()
        b.stop()
        obs.close()


def test_a_partitioned_active_controller_is_replaced_and_does_not_fight(tmp_path: Path, mosquitto: Mosquitto) -> None:
    wall_id = "sp" + uuid.uuid4().hex[:6]
    proxy = CuttableProxy(mosquitto.port)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cfg_a = write_config(tmp_path / "a", wall_id=wall_id, port=proxy.port)  # a reaches the broker through the proxy
    cfg_b = write_config(tmp_path / "b", wall_id=wall_id, port=mosquitto.port)
    obs = Observer(mosquitto.port, f"wallctl/{wall_id}")
    a = controller(cfg_a, "a", "primary")
    b = controller(cfg_b, "b", "standby")
    try:
        obs.wait(lambda o: roles(o) == {"a": "active", "b": "standby"}, 20, "a active")
        obs.event("system/x", source="x-1", type="probe", severity="minor", id="p-1")
        obs.wait(lambda o: o.alarm("x-1", "probe") is not None, 10, "listed")
        proxy.partition()
        cut = time.monotonic()
        obs.wait(lambda o: (o.state or {}).get("controller") == "b", 10, "b takes over")
        assert time.monotonic() - cut < TAKE_OVER_S
        obs.event("system/x", source="x-2", type="probe", severity="minor", id="p-2")  # while a is away
        obs.wait(lambda o: o.alarm("x-2", "probe") is not None, 10, "b publishes")
        time.sleep(2)  # a partition that lasts: a keeps retrying behind the cut
        with obs.lock:
            healed_at = len(obs.states)
        proxy.heal()
        obs.wait(lambda o: roles(o) == {"a": "standby", "b": "active"}, 20, "a back as standby")
        time.sleep(2)  # longer than the settle and claim graces: a fight would show by now
        with obs.lock:
            after = obs.states[healed_at:]
        assert after and all(s.get("controller") == "b" for s in after), after  # only b publishes the state
        seqs = [s["seq"] for s in after]
        assert seqs == sorted(seqs)
        obs.command(action="ack", source="x-2", type="probe", request_id="ack-x2")
        obs.wait(lambda o: alarm(o, "x-2", "probe")["state"] == "ACKED", 10, "acknowledged on b")
        assert [r["request_id"] for r in obs.results].count("ack-x2") == 1
        a_log = json.dumps(a.output()[-4000:])
        assert "now ACTIVE" not in a_log.split("now standby")[-1]  # a never claimed again after it came back
    finally:
        a.stop()
        b.stop()
        obs.close()
        proxy.close()
