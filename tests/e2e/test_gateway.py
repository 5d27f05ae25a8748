"""The tools a center already runs feed the wall with no glue (issue 16), end to end with the real senders:
Prometheus Alertmanager, Net-SNMP's snmptrapd and snmptrap, util-linux ``logger``, through ``wallctl gateway`` and a
real broker into a real controller."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.senders import Alertmanager, GatewayProcess, SnmpTrapd, http
from tests.support.wall import Observer, WallProcess, started, write_config

pytestmark = pytest.mark.e2e

IF_INDEX = "1.3.6.1.2.1.2.2.1.1.3"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2.3"
LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"


@pytest.fixture
def wall(tmp_path: Path, mosquitto: Mosquitto, request: pytest.FixtureRequest) -> Iterator[tuple[Path, Observer]]:
    """A controller on the session's broker, with a wall id of this test's own."""
    wall_id = "gw" + uuid.uuid4().hex[:8]
    cfg = write_config(tmp_path, wall_id=wall_id, port=mosquitto.port, **getattr(request, "param", {}))
    obs = Observer(mosquitto.port, f"wallctl/{wall_id}")
    ctl = WallProcess(cfg, command="controller", args=("--no-audio",)).start()
    try:
        started(obs, ctl)
        yield cfg, obs
    finally:
        assert ctl.stop() == 0
        obs.close()


def listed(obs: Observer, source: str, type_: str) -> dict[str, object] | None:
    return obs.alarm(source, type_)


def test_alertmanager_alerts_raise_and_clear_and_survive_a_gateway_outage(
    tmp_path: Path, wall: tuple[Path, Observer]
) -> None:
    cfg, obs = wall
    gw = GatewayProcess(cfg).start().ready()
    am = Alertmanager(tmp_path / "am", f"{gw.url}/alertmanager").start()
    try:
        am.alert({"alertname": "DiskFull", "instance": "db-1", "severity": "critical"}, summary="disk 97 % full")
        am.alert({"alertname": "HighLatency", "instance": "web-1", "severity": "warning"})
        obs.wait(lambda o: listed(o, "db-1", "DiskFull") is not None, 30, "DiskFull from Alertmanager")
        obs.wait(lambda o: listed(o, "web-1", "HighLatency") is not None, 30, "HighLatency from Alertmanager")
        disk = listed(obs, "db-1", "DiskFull")
        assert disk is not None and disk["severity"] == "critical" and disk["state"] == "UNACK"
        assert "disk 97 % full" in str(disk["text"])
        assert listed(obs, "web-1", "HighLatency")["severity"] == "warning"  # type: ignore[index]

        am.alert({"alertname": "DiskFull", "instance": "db-1", "severity": "critical"}, resolved=True)
        obs.wait(
            lambda o: (a := listed(o, "db-1", "DiskFull")) is None or a["severity"] == "cleared",
            30,
            "DiskFull resolved",
        )

        gw.kill9()  # the gateway is away: Alertmanager keeps the notification and retries
        am.alert({"alertname": "LinkFlap", "instance": "edge-2", "severity": "critical"})
        status, _ = http("GET", f"{am.url}/api/v2/alerts")
        assert status == 200
        gw = GatewayProcess(cfg, http_port=gw.http_port).start().ready()
        obs.wait(lambda o: listed(o, "edge-2", "LinkFlap") is not None, 40, "LinkFlap delivered by a retry")
    finally:
        am.stop()
        gw.stop()


def test_snmp_link_down_then_up_is_one_alarm_raised_then_cleared(tmp_path: Path, wall: tuple[Path, Observer]) -> None:
    cfg, obs = wall
    gw = GatewayProcess(cfg).start().ready()
    trapd = SnmpTrapd(tmp_path / "snmp", gw.url).start()
    try:
        trapd.trap(LINK_DOWN, f"{IF_INDEX} i 3", f"{IF_DESCR} s GigabitEthernet0/3")
        obs.wait(lambda o: bool(o.alarms and _snmp_alarms(o)), 30, "linkDown from snmptrapd")
        (down,) = _snmp_alarms(obs)
        assert down["severity"] == "major" and "GigabitEthernet0/3" in json.dumps(down)
        trapd.trap(LINK_UP, f"{IF_INDEX} i 3", f"{IF_DESCR} s GigabitEthernet0/3")
        obs.wait(lambda o: all(a["severity"] == "cleared" for a in _snmp_alarms(o)), 30, "linkUp clears it")
        assert len(_snmp_alarms(obs)) <= 1  # one alarm per interface: raised, then the same one cleared
    finally:
        trapd.stop()
        gw.stop()


def _snmp_alarms(obs: Observer) -> list[dict[str, object]]:
    return [a for a in (obs.alarms or {}).get("alarms", []) if "link_down" in str(a["type"])]


def test_logger_sends_syslog_with_mapped_severities(wall: tuple[Path, Observer]) -> None:
    cfg, obs = wall
    gw = GatewayProcess(cfg, syslog=True).start().ready()
    host = socket.gethostname()
    try:
        port = str(gw.syslog_port)
        base = ["logger", "--rfc5424", "-n", "127.0.0.1", "-P", port]
        subprocess.run([*base, "-d", "-p", "local0.crit", "-t", "bgpd", "BGP neighbor Down"], check=True)
        subprocess.run([*base, "-T", "-p", "daemon.err", "-t", "ntpd", "clock unsynchronised"], check=True)
        obs.wait(lambda o: o.alarm(host, "bgpd") is not None and o.alarm(host, "ntpd") is not None, 30, "syslog")
        bgp, ntp = obs.alarm(host, "bgpd"), obs.alarm(host, "ntpd")
        assert bgp is not None and bgp["severity"] == "critical" and "BGP neighbor Down" in str(bgp["text"])
        assert ntp is not None and ntp["severity"] == "major"
    finally:
        gw.stop()


def test_the_webhook_routes_answer_as_the_contract_says(wall: tuple[Path, Observer]) -> None:
    cfg, obs = wall
    gw = GatewayProcess(cfg).start().ready()
    try:
        event = {"source": "pdu-7", "type": "overload", "severity": "minor", "text": "phase B 92 %"}
        assert gw.post("/events", event) == (200, {"accepted": 1})
        assert gw.post("/events", event) == (200, {"accepted": 1})  # a sender's retry: same stable id
        obs.wait(lambda o: o.alarm("pdu-7", "overload") is not None, 20, "native event")
        obs.wait(lambda o: o.state["duplicate_events"] >= 1, 20, "the retry counted once, as a duplicate")
        assert obs.alarm("pdu-7", "overload")["count"] == 1  # type: ignore[index]

        status, body = gw.post("/alertmanager", {"status": "firing", "alerts": "not a list"})
        assert status == 400 and "alerts" in body["error"]
        status, body = gw.post("/events", {"source": "x", "type": "y", "severity": "catastrophic"})
        assert status == 400 and "catastrophic" in body["error"]
        status, body = gw.post("/events", b"x" * (2 * 1024 * 1024))
        assert status == 413 and "limit" in body["error"]
        status, health = http("GET", f"{gw.url}/healthz")
        assert status == 200 and health["broker"] == "connected"
        assert health["accepted"] == 2 and health["rejected"] == 3
    finally:
        gw.stop()


def test_a_token_guards_the_routes(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="gwtoken", port=mosquitto.port, extra="gateway: {token_env: GW_TOKEN}\n")
    missing = GatewayProcess(cfg).start()
    assert missing.wait_exit() == 2 and "GW_TOKEN" in missing.output()
    gw = GatewayProcess(cfg, env={"GW_TOKEN": "s3cret"}).start().ready()
    try:
        event = {"source": "ups-1", "type": "on_battery", "severity": "major"}
        status, body = gw.post("/events", event)
        assert status == 401 and "token" in body["error"]
        assert gw.post("/events", event, token="wrong")[0] == 401
        assert gw.post("/events", event, token="s3cret") == (200, {"accepted": 1})
    finally:
        gw.stop()


def test_the_gateway_answers_503_while_the_broker_is_away(tmp_path: Path, fresh_mosquitto: Mosquitto) -> None:
    cfg = write_config(tmp_path, wall_id="gwdown", port=fresh_mosquitto.port)
    gw = GatewayProcess(cfg).start().ready()
    event = {"source": "ups-2", "type": "on_battery", "severity": "major", "id": "ups-2-1"}
    try:
        fresh_mosquitto.stop()
        status, body = gw.post("/events", event)
        assert status == 503 and "retry" in body["error"]
        assert http("GET", f"{gw.url}/healthz")[0] == 503
        fresh_mosquitto.start()
        gw.ready(30)
        assert gw.post("/events", event) == (200, {"accepted": 1})
    finally:
        gw.stop()


@pytest.mark.parametrize(
    "wall",
    [{"mqtt_extra": "  subscriptions: [{filter: 'noc/events/#'}, {filter: 'grafana/alerts/#', profile: grafana}]"}],
    indirect=True,
)
def test_a_subscription_takes_grafanas_mqtt_contact_point_as_is(wall: tuple[Path, Observer]) -> None:
    _cfg, obs = wall
    body = {
        "receiver": "wall",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "CPUHigh", "instance": "app-3", "severity": "critical"},
                "annotations": {"summary": "CPU above 95 %"},
                "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "c0ffee",
            }
        ],
        "title": "[FIRING:1] CPUHigh",
        "state": "alerting",
        "message": "CPU above 95 %",
    }
    obs.raw("grafana/alerts/prod", json.dumps(body))
    obs.wait(lambda o: o.alarm("app-3", "CPUHigh") is not None, 20, "Grafana's alert on the wall")
    assert obs.alarm("app-3", "CPUHigh")["severity"] == "critical"  # type: ignore[index]
    obs.raw("grafana/alerts/prod", b"{not json")
    obs.wait(lambda o: o.state["rejected_events"] >= 1, 20, "a bad Grafana message rejected, counted")
