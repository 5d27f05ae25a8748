"""MQTT ingestion against a real Mosquitto: nothing lost or doubled across kill -9 and broker restarts, bad
payloads rejected with reasons, retained replay stays quiet, commands need their token."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.alsa import AlsaCapture
from tests.support.mosquitto import Mosquitto
from tests.support.wall import Observer, WallProcess, started, write_config

pytestmark = pytest.mark.e2e


def publisher(port: int, client_id: str) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    c.reconnect_delay_set(1, 2)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def send(c: paho.Client, source: str, eid: str, severity: str = "minor", type_: str = "t") -> paho.MQTTMessageInfo:
    body = {"source": source, "type": type_, "severity": severity, "id": eid, "category": "system"}
    return c.publish(f"noc/events/system/{source}", json.dumps(body), qos=1)


def alarm_counts(obs: Observer) -> dict[str, int]:
    assert obs.alarms is not None
    return {a["source"]: a["count"] for a in obs.alarms["alarms"] if a["type"] == "t"}


@pytest.mark.parametrize("command", ["run", "controller"])
def test_kill9_and_restart_accounts_for_every_event_exactly_once(
    tmp_path: Path, mosquitto: Mosquitto, command: str
) -> None:
    """The single-process wall and the headless controller alike: QoS 1 acknowledged only after the commit."""
    cfg = write_config(tmp_path, wall_id=f"k9{command}", port=mosquitto.port)
    obs = Observer(mosquitto.port, f"wallctl/k9{command}")
    pub = publisher(mosquitto.port, f"k9-publisher-{command}")
    wall = WallProcess(cfg, args=("--no-audio",), command=command).start()
    try:
        started(obs, wall)
        for i in range(100):  # A: a hundred alarms, one event each
            send(pub, f"a{i:03d}", f"A{i}")
        obs.wait(lambda o: o.state["alarms"]["active"] == 100, 20, "batch A")
        obs.command(action="ack", source="a007", type="t", request_id="ack7")  # acknowledged before the crash
        obs.wait(lambda o: any(r.get("request_id") == "ack7" and r["ok"] for r in o.results), 10, "ack")
        time.sleep(0.3)  # the journal commits every 100 ms
        for i in range(100):  # B: a second event on each, and the wall dies while they arrive
            send(pub, f"a{i:03d}", f"B{i}")
        time.sleep(0.05)
        wall.kill9()
        for i in range(100):  # C: while the wall is dead (the broker keeps them in its session)
            send(pub, f"c{i:03d}", f"C{i}").wait_for_publish(5)
        for i in range(20):  # and redeliveries of A by an over-eager source: same ids, counted once
            send(pub, f"a{i:03d}", f"A{i}").wait_for_publish(5)
        obs.forget()  # the killed wall's retained state and status are not the new one's word
        wall = WallProcess(cfg, args=("--no-audio",), command=command).start()
        started(obs, wall)
        obs.wait(lambda o: o.state["alarms"]["active"] == 200, 30, "batches B and C after restart")
        obs.wait(lambda o: o.alarms is not None and len(alarm_counts(o)) == 200, 10, "alarm list")
        counts = alarm_counts(obs)
        assert {s: n for s, n in counts.items() if s.startswith("a")} == {f"a{i:03d}": 2 for i in range(100)}
        assert {s: n for s, n in counts.items() if s.startswith("c")} == {f"c{i:03d}": 1 for i in range(100)}
        states = {a["source"]: a["state"] for a in obs.alarms["alarms"]}  # type: ignore[index]
        assert states["a007"] == "ACKED" and states["a008"] == "UNACK"  # the acknowledgement survived kill -9
    finally:
        wall.stop()
        obs.close()
        pub.loop_stop()


def test_broker_restart_under_a_steady_stream_loses_nothing(tmp_path: Path, fresh_mosquitto: Mosquitto) -> None:
    broker = fresh_mosquitto
    cfg = write_config(tmp_path, wall_id="br", port=broker.port)
    obs = Observer(broker.port, "wallctl/br")
    wall = WallProcess(cfg, args=("--no-audio",)).start()
    pub = publisher(broker.port, "br-publisher")
    try:
        started(obs, wall)
        n = 0
        t_end = time.monotonic() + 8
        restarted = False
        while time.monotonic() < t_end:
            send(pub, f"s{n:04d}", f"S{n}")
            n += 1
            if not restarted and n == 200:
                broker.stop()  # persistence saved on a clean stop
                time.sleep(3.0)  # longer than link_grace_s (2 s): the wall must raise its link alarm
                broker.start()
                restarted = True
            time.sleep(0.01)
        obs.wait(
            lambda o: o.state is not None and o.state["broker"] == "connected" and o.state["alarms"]["active"] >= n,
            30,
            f"all {n} events after the restart",
        )
        obs.wait(lambda o: o.alarm("wallctl/br", "broker_link_down") is not None, 10, "link alarm listed")
        link = obs.alarm("wallctl/br", "broker_link_down")
        assert link is not None and link["state"] == "RTNUN"  # raised while deaf, cleared on reconnect
        assert link["peak"] == "critical"
        obs.wait(lambda o: len(alarm_counts(o)) == n, 10, "every event listed")
        assert set(alarm_counts(obs).values()) == {1}
        assert "broker link disconnected" in wall.output()
    finally:
        wall.stop()
        obs.close()
        pub.loop_stop()


BAD = [
    (b"{not json", "not_json"),
    (b"\xff\xfe\x00garbage", "not_utf8"),
    (b'["a list"]', "not_object"),
    (b'{"source": "x", "type": 7, "severity": "minor"}', "wrong_type"),
    (b'{"source": "x", "type": "t", "severity": "apocalyptic"}', "unknown_severity"),
    (b'{"source": "x", "severity": "minor"}', "missing_field"),
    (json.dumps({"source": "x", "type": "t", "severity": "minor", "text": "x" * 70_000}).encode(), "too_large"),
]


def test_bad_payloads_are_rejected_counted_and_the_wall_keeps_running(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="bad", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/bad")
    wall = WallProcess(cfg, args=("--no-audio",)).start()
    try:
        started(obs, wall)
        for payload, _ in BAD:
            obs.raw("noc/events/system/x", payload)
        obs.event("system/ok1", source="ok1", type="t", severity="major")
        obs.wait(
            lambda o: o.state["rejected_events"] == len(BAD) and o.state["alarms"]["active"] == 1,
            15,
            "rejections counted",
        )
        assert obs.state["rejected_by_reason"] == {reason: 1 for _, reason in BAD}
        assert wall.alive
        log = wall.output()
        for _, reason in BAD:
            assert f": {reason}: " in log  # each logged with its reason
    finally:
        assert wall.stop() == 0
        obs.close()


def test_retained_replay_rebuilds_the_picture_without_sounding(
    tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture
) -> None:
    topic = "noc/events/network/rt-old"
    c = paho.Client(CallbackAPIVersion.VERSION2)
    c.connect("127.0.0.1", mosquitto.port)
    c.loop_start()
    c.publish(
        topic, json.dumps({"source": "rt-old", "type": "node_down", "severity": "critical"}), qos=1, retain=True
    ).wait_for_publish(5)
    cfg = write_config(tmp_path, wall_id="ret", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/ret")
    wall = WallProcess(cfg, env=alsa.env).start()
    try:
        started(obs, wall)
        obs.wait(lambda o: o.alarm("rt-old", "node_down") is not None, 15, "retained alarm listed")
        assert obs.alarm("rt-old", "node_down")["state"] == "UNACK"  # type: ignore[index]
        time.sleep(2.0)
        assert alsa.captures() == []  # rebuilt, not announced
        assert obs.state["audible"]["sound"] is None
        obs.event("network/rt-new", source="rt-new", type="node_down", severity="critical")  # live: it sounds
        deadline = time.monotonic() + 10
        while not alsa.captures() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(alsa.captures()) >= 1
    finally:
        wall.stop()
        obs.close()
        c.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)  # clear the retained message
        c.loop_stop()


def test_commands_need_the_token_and_are_always_answered(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="tok", port=mosquitto.port, mqtt_extra="  command_token_env: WALL_TOKEN")
    obs = Observer(mosquitto.port, "wallctl/tok")
    wall = WallProcess(cfg, env={"WALL_TOKEN": "s3cret"}, args=("--no-audio",)).start()
    try:
        started(obs, wall)
        obs.command(action="mode", mode="briefing", request_id="no-token")
        obs.command(action="mode", mode="briefing", request_id="bad-token", token="guess")
        obs.command(action="mode", mode="briefing", request_id="good", token="s3cret", pin_s=60)
        obs.command(action="mode", mode="nope", request_id="bad-mode", token="s3cret")
        obs.raw("wallctl/tok/cmd", b"{broken", qos=1)
        obs.wait(lambda o: len(o.results) == 5, 10, "five replies")
        by_id = {r["request_id"]: r for r in obs.results}
        assert by_id["no-token"] == {"request_id": "no-token", "ok": False, "error": "refused: missing or wrong token"}
        assert by_id["bad-token"]["ok"] is False
        assert by_id["good"] == {"request_id": "good", "ok": True, "error": None}
        assert by_id["bad-mode"]["ok"] is False and "unknown mode 'nope'" in by_id["bad-mode"]["error"]
        assert by_id[None]["ok"] is False and "not JSON" in by_id[None]["error"]
        obs.wait(lambda o: o.state["mode"] == "briefing" and o.state["pinned"] is not None, 5, "pinned briefing")
    finally:
        wall.stop()
        obs.close()
    import sqlite3

    rows = (
        sqlite3.connect(tmp_path / "journal.sqlite3")
        .execute("SELECT origin, action, ok, error FROM audit ORDER BY id")
        .fetchall()
    )
    refused = [r for r in rows if r[1] == "refused"]
    assert len(refused) == 3 and all(r[0] == "mqtt" and r[2] == 0 for r in refused)
    assert ("mqtt", "mode", 1, None) in rows


def test_mqtt_311_works_too(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="v311", port=mosquitto.port, mqtt_extra='  protocol: "3.1.1"')
    obs = Observer(mosquitto.port, "wallctl/v311")
    wall = WallProcess(cfg, args=("--no-audio",)).start()
    try:
        started(obs, wall)
        obs.event("network/r9", source="r9", type="node_down", severity="critical")
        obs.wait(lambda o: o.state["mode"] == "incident", 10, "incident over 3.1.1")
    finally:
        wall.stop()
        obs.close()


def test_tls_with_server_name_check(tmp_path: Path) -> None:
    broker = Mosquitto()
    certs = broker.dir / "certs"  # readable by the mosquitto user it drops to
    certs.mkdir()
    certs.chmod(0o755)

    def ossl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=certs, check=True, capture_output=True)

    def self_signed_ca(name: str, stem: str) -> None:
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{stem}.key", "-out", f"{stem}.pem")  # fmt: skip

    self_signed_ca("wallctl test CA", "ca")
    ossl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"
    )
    (certs / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    )
    for f in ("ca.pem", "server.pem", "server.key"):
        (certs / f).chmod(0o644)
    broker.conf.write_text(
        broker.conf.read_text() + f"cafile {certs / 'ca.pem'}\ncertfile {certs / 'server.pem'}\n"
        f"keyfile {certs / 'server.key'}\n"
    )
    broker.start()
    try:
        cfg = write_config(
            tmp_path,
            wall_id="tls",
            port=broker.port,
            mqtt_extra=f"  host: localhost\n  tls: {{ca_file: {certs / 'ca.pem'}, check_hostname: true}}",
        )
        cfg.write_text(cfg.read_text().replace("  host: 127.0.0.1\n", "", 1))
        wall = WallProcess(cfg, args=("--no-audio", "--duration", "6")).start()
        deadline = time.monotonic() + 10
        while "broker link connected" not in wall.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "broker link connected" in wall.output(), wall.output()[-2000:]
        wall.stop()
        # a broker whose certificate our CA did not sign is refused: the wall stays deaf and says so
        self_signed_ca("other CA", "other")
        (tmp_path / "other").mkdir()
        cfg2 = write_config(
            tmp_path / "other",
            wall_id="tls2",
            port=broker.port,
            mqtt_extra=f"  tls: {{ca_file: {certs / 'other.pem'}, check_hostname: true}}",
        )
        cfg2.write_text(cfg2.read_text().replace("  host: 127.0.0.1\n", "  host: localhost\n", 1))
        wall2 = WallProcess(cfg2, args=("--no-audio", "--duration", "5")).start()
        time.sleep(4.5)
        out = wall2.output()
        wall2.stop()
        assert "broker link connected" not in out
        assert "CERTIFICATE_VERIFY_FAILED" in out or "certificate verify failed" in out, out[-2000:]
    finally:
        broker.stop()


def test_credentials_come_from_the_environment(tmp_path: Path) -> None:
    broker = Mosquitto()
    pw = broker.dir / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(pw), "wall", "pa55word"], check=True, capture_output=True)
    pw.chmod(0o644)
    broker.conf.write_text(
        broker.conf.read_text().replace("allow_anonymous true", "allow_anonymous false") + f"password_file {pw}\n"
    )
    broker.start()
    try:
        cfg = write_config(
            tmp_path,
            wall_id="cred",
            port=broker.port,
            mqtt_extra="  username: wall\n  password_env: WALL_MQTT_PASSWORD",
        )
        good = WallProcess(cfg, env={"WALL_MQTT_PASSWORD": "pa55word"}, args=("--no-audio", "--duration", "4")).start()
        good.wait_exit()
        assert "broker link connected" in good.output(), good.output()[-1500:]
        (tmp_path / "bad").mkdir()
        cfg2 = write_config(
            tmp_path / "bad",
            wall_id="cred2",
            port=broker.port,
            mqtt_extra="  username: wall\n  password_env: WALL_MQTT_PASSWORD",
        )
        bad = WallProcess(cfg2, env={"WALL_MQTT_PASSWORD": "wrong"}, args=("--no-audio", "--duration", "4")).start()
        bad.wait_exit()
        out = bad.output()
        assert "broker link connected" not in out
        assert "broker refused the connection" in out and ("Not authorized" in out or "Bad user name" in out), out[
            -1500:
        ]
    finally:
        broker.stop()


def test_state_is_published_promptly_and_coalesced(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="co", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/co")
    wall = WallProcess(cfg, args=("--no-audio",)).start()
    pub = publisher(mosquitto.port, "co-publisher")
    try:
        started(obs, wall)
        time.sleep(1.0)
        with obs.lock:
            obs.states.clear()
        t0 = time.time()
        send(pub, "single", "single-1").wait_for_publish(5)
        obs.wait(lambda o: any(s["alarms"]["active"] >= 1 for s in o.states), 5, "first state after one event")
        with obs.lock:
            first = next(s for s in obs.states if s["alarms"]["active"] >= 1)
        assert first["time"] - t0 < 0.5  # within 50 ms of the change on the wall (plus the broker round trip)
        with obs.lock:
            obs.states.clear()
        t0 = time.time()
        for i in range(3000):  # a burst far faster than 20 states a second
            send(pub, f"burst{i % 500}", f"burst-{i}")
        obs.wait(lambda o: bool(o.states) and o.states[-1]["events"] >= 3001, 30, "burst applied")
        time.sleep(0.3)
        with obs.lock:
            states = list(obs.states)
        span = states[-1]["time"] - states[0]["time"]
        assert len(states) <= 20 * span + 2, (len(states), span)  # at most 20 publications per second
        seqs = [s["seq"] for s in states]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # seq increases by one per publication
    finally:
        wall.stop()
        obs.close()
        pub.loop_stop()


def test_kpi_values_over_mqtt_raise_threshold_alarms(tmp_path: Path, mosquitto: Mosquitto) -> None:
    extra = (
        "  - {name: aisle, topic: noc/kpi/aisle, unit: ' C', warning_above: 27, critical_above: 30,"
        " source: dc1-temp-1, category: environment}\n"
    )
    cfg = write_config(tmp_path, wall_id="kpi", port=mosquitto.port, kpis=extra)
    obs = Observer(mosquitto.port, "wallctl/kpi")
    wall = WallProcess(cfg, args=("--no-audio",)).start()
    try:
        started(obs, wall)
        for v in (25.0, 26.5, 31.2):
            obs.raw("noc/kpi/aisle", str(v))
        obs.wait(lambda o: o.alarm("dc1-temp-1", "kpi_threshold") is not None, 10, "KPI alarm")
        alarm = obs.alarm("dc1-temp-1", "kpi_threshold")
        assert alarm is not None and alarm["severity"] == "critical" and "aisle = 31.2 C" in alarm["text"]
        obs.wait(lambda o: o.state["focus"]["target"] == "dc1-temp-1", 10, "the wall focuses the hot aisle's sensor")
        obs.raw("noc/kpi/aisle", b"hot")  # not a number: rejected with its reason, nothing else happens
        obs.wait(lambda o: o.state["rejected_by_reason"].get("bad_kpi") == 1, 10, "bad KPI counted")
    finally:
        wall.stop()
        obs.close()


def test_mqtt5_command_with_response_topic_is_answered_there(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """Events (no MQTT 5 properties: the fast decoder) and a request/response command (properties: paho's decoder)
    on the same MQTT 5 link."""
    from paho.mqtt.enums import MQTTProtocolVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    cfg = write_config(tmp_path, wall_id="rr", port=mosquitto.port)
    obs = Observer(mosquitto.port, "wallctl/rr")
    replies: list[tuple[str, bytes, bytes | None]] = []
    req = paho.Client(CallbackAPIVersion.VERSION2, client_id="rr-requester", protocol=MQTTProtocolVersion.MQTTv5)
    req.on_message = lambda _c, _u, m: replies.append(
        (m.topic, m.payload, getattr(m.properties, "CorrelationData", None))
    )
    req.connect("127.0.0.1", mosquitto.port)
    req.subscribe("ops/replies/#", qos=1)
    req.loop_start()
    wall = WallProcess(cfg, args=("--no-audio",)).start()
    try:
        started(obs, wall)
        obs.event(
            "network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", category="network", id="r-1"
        )
        obs.wait(lambda o: (o.alarm("br05-rtr", "node_down") or {}).get("state") == "UNACK", 10, "event listed")
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "ops/replies/console-1"
        props.CorrelationData = b"corr-42"
        body = json.dumps({"action": "ack", "source": "br05-rtr", "type": "node_down", "request_id": "q1"})
        req.publish("wallctl/rr/cmd", body, qos=1, properties=props).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while not replies and time.monotonic() < deadline:
            time.sleep(0.02)
        assert replies, "no reply on the response topic"
        topic, payload, correlation = replies[0]
        assert topic == "ops/replies/console-1" and correlation == b"corr-42"
        assert json.loads(payload) == {"request_id": "q1", "ok": True, "error": None}
        obs.wait(lambda o: (o.alarm("br05-rtr", "node_down") or {}).get("state") == "ACKED", 10, "acknowledged")
    finally:
        wall.stop()
        req.loop_stop()
        req.disconnect()
        obs.close()
