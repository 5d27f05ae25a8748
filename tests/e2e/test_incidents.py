"""Incidents and escalation end to end: a real controller process on a real broker, telling a real SMTP server
(STARTTLS, login), a local HTTP SMS gateway and incident webhook, and a real Request Tracker 5."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.outside import SMTP_PASSWORD, HttpServer, MailServer
from tests.support.rt import RequestTrackerServer, available
from tests.support.wall import Observer, WallProcess, started, write_config

pytestmark = pytest.mark.e2e


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def steady(check: Callable[[], bool], seconds: float, what: str) -> None:
    """``check`` holds for the whole time (nothing more arrives)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check(), what
        time.sleep(0.05)


@pytest.fixture
def http() -> Iterator[HttpServer]:
    server = HttpServer().start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def rt() -> Iterator[RequestTrackerServer]:
    if not available():
        pytest.skip(
            "REQUEST TRACKER 5 IS NOT INSTALLED: the RT connector is NOT tested. `make test` installs it "
            "(tools/install-system-deps.sh test: request-tracker5 rt5-db-sqlite rt5-standalone dbconfig-no-thanks)"
        )
    server = RequestTrackerServer().setup().start()
    yield server
    server.close()


def controller(tmp_path: Path, mosquitto: Mosquitto, wall_id: str, extra: str, env: dict[str, str]) -> tuple[
    WallProcess, Observer
]:  # fmt: skip
    cfg = write_config(tmp_path, wall_id=wall_id, port=mosquitto.port, extra=extra)
    obs = Observer(mosquitto.port, f"wallctl/{wall_id}")
    wall = WallProcess(cfg, command="controller", args=("--no-audio",), env=env).start()
    started(obs, wall)
    return wall, obs


def test_unacknowledged_criticals_are_mailed_and_texted_and_a_flood_is_one_summary(
    tmp_path: Path, mosquitto: Mosquitto, http: HttpServer
) -> None:
    mail = MailServer(tmp_path).start()
    extra = f"""\
  flood_start_above: 4
escalation:
  timezone: UTC
  smtp: {{host: 127.0.0.1, port: {mail.port}, starttls: true, from: wall@example, username: wall,
         password_env: WALLCTL_TEST_SMTP_PASSWORD, ca_file: {mail.cert}}}
  sms: {{url: "{http.url}/send", body: '{{"to": "{{number}}", "text": "{{text}}"}}'}}
  rules:
    - {{match: {{severity: [critical]}}, after_s: 2, email: [duty@example], sms: ["+8613800000000"]}}
"""
    wall, obs = controller(tmp_path, mosquitto, "esc-e2e", extra, {"WALLCTL_TEST_SMTP_PASSWORD": SMTP_PASSWORD})
    try:
        obs.event("system/dc1-app-01", source="dc1-app-01", type="node_down", severity="critical", text="app down")
        obs.event("system/dc1-app-02", source="dc1-app-02", type="node_down", severity="critical", text="db down")
        obs.wait(lambda o: o.alarm("dc1-app-02", "node_down") is not None, 10, "alarm listed")
        obs.command(action="ack", source="dc1-app-02", type="node_down")  # before the delay: never told
        eventually(lambda: len(mail.messages) == 1, 15, f"one mail; log:\n{wall.output()[-2000:]}")
        m = mail.messages[0]
        assert "dc1-app-01" in m["Subject"] and "app down" in m.get_payload()
        assert "dc1-app-02" not in m.get_payload()
        assert m["To"] == "duty@example" and m["From"] == "wall@example"
        assert mail.tls_seen == [True] and mail.logins == ["wall"]  # STARTTLS, then the login from the environment
        eventually(lambda: len(http.posts("/send")) == 1, 10, "one SMS")
        sms = http.posts("/send")[0]
        assert sms["to"] == "+8613800000000" and "dc1-app-01" in sms["text"]
        steady(lambda: len(mail.messages) == 1, 3, "no second mail (no repeat_s, the other acknowledged)")

        for i in range(6):  # a flood: one summary, not six mails
            obs.event(f"system/h{i}", source=f"flood-host-{i}", type="node_down", severity="critical")
        obs.wait(lambda o: o.state is not None and o.state["flood"], 10, "flood")
        eventually(lambda: len(mail.messages) == 2, 15, "the flood's summary")
        assert "flood" in mail.messages[1]["Subject"]
        assert all(f"flood-host-{i}" in mail.messages[1].get_payload() for i in range(6))
        steady(lambda: len(mail.messages) == 2, 4, "one summary per flood")
        assert len(http.posts("/send")) == 2
    finally:
        wall.stop()
        obs.close()
        mail.stop()


def test_incidents_through_the_webhook_come_back_on_the_alarms(
    tmp_path: Path, mosquitto: Mosquitto, http: HttpServer
) -> None:
    extra = f"""\
incidents:
  connector: webhook
  url: {http.url}/hooks
  match: {{severity: [critical, major]}}
  open_after_s: 0
"""
    wall, obs = controller(tmp_path, mosquitto, "inc-e2e", extra, {})
    try:
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", text="router down")
        eventually(lambda: len(http.posts("/hooks")) == 1, 10, f"the open; log:\n{wall.output()[-2000:]}")
        opened = http.posts("/hooks")[0]
        assert opened["action"] == "open" and opened["consequences"] == []
        assert opened["alarm"] == {"source": "br05-rtr", "type": "node_down", "severity": "critical",
                                   "state": "UNACK", "text": "router down", "site": None}  # fmt: skip
        obs.wait(lambda o: (o.alarm("br05-rtr", "node_down") or {}).get("incident") == http.reply, 10, "incident shown")
        obs.event("network/br05-sw", source="br05-sw", type="unreachable", severity="major")
        eventually(lambda: len(http.posts("/hooks")) == 2, 10, "the update")
        update = http.posts("/hooks")[1]
        assert update["action"] == "update" and update["key"] == opened["key"]
        assert update["consequences"] == [["br05-sw", "unreachable"]]  # rides on the cause's incident
        obs.wait(lambda o: (o.alarm("br05-sw", "unreachable") or {}).get("incident") == http.reply, 10, "on both")

        http.stop()  # the ITSM is down for a while
        obs.event("system/dc1-app-01", source="dc1-app-01", type="node_down", severity="critical", text="app down")
        time.sleep(3)  # retried meanwhile (connection refused), visible in the problems count
        obs.wait(lambda o: o.state is not None and o.state["problems"] >= 1, 5, "the failure on diagnostics")
        http.start()
        eventually(lambda: any(p["alarm"]["source"] == "dc1-app-01" for p in http.posts("/hooks")), 20, "late open")
        steady(lambda: [p["alarm"]["source"] for p in http.posts("/hooks")].count("dc1-app-01") == 1, 3, "once")

        obs.event("network/br05-sw", source="br05-sw", type="unreachable", severity="cleared")
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="cleared")
        eventually(lambda: http.posts("/hooks")[-1]["action"] == "resolve", 10, "the resolve")
        assert http.posts("/hooks")[-1]["key"] == opened["key"]
    finally:
        wall.stop()
        obs.close()


def test_request_tracker_tickets_follow_the_alarms(
    tmp_path: Path, mosquitto: Mosquitto, rt: RequestTrackerServer
) -> None:
    before = {t["id"] for t in rt.tickets()}
    extra = f"""\
incidents:
  connector: request_tracker
  url: {rt.url}
  queue: General
  token_env: WALLCTL_TEST_RT_TOKEN
  match: {{severity: [critical, major]}}
  poll_s: 1
"""
    wall, obs = controller(tmp_path, mosquitto, "rt-e2e", extra, {"WALLCTL_TEST_RT_TOKEN": rt.token})

    def new_tickets() -> list[dict[str, object]]:
        return [t for t in rt.tickets() if t["id"] not in before]

    try:
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", text="router down")
        eventually(lambda: len(new_tickets()) == 1, 20, f"a ticket; log:\n{wall.output()[-2000:]}")
        ticket = new_tickets()[0]
        assert ticket["Subject"] == "br05-rtr: router down"
        tid = str(ticket["id"])
        obs.wait(lambda o: ((o.alarm("br05-rtr", "node_down") or {}).get("incident") or {}).get("id") == tid, 10,
                 "the ticket on the alarm")  # fmt: skip
        shown = obs.alarm("br05-rtr", "node_down")
        assert shown is not None and shown["incident"] == {"id": tid, "owner": "Nobody", "status": "new"}

        obs.event("network/br05-sw", source="br05-sw", type="unreachable", severity="major", text="switch lost")
        eventually(
            lambda: any("br05-sw" in str(h.get("Content", "")) or h.get("Type") == "Comment" for h in rt.history(tid)),
            15, "the consequence as a comment",
        )  # fmt: skip
        assert len(new_tickets()) == 1  # not a ticket of its own

        rt.api("PUT", f"/ticket/{tid}", {"Owner": "root"})  # the staff takes it in RT
        obs.wait(lambda o: ((o.alarm("br05-rtr", "node_down") or {}).get("incident") or {}).get("owner") == "root",
                 15, "the owner on the wall")  # fmt: skip

        rt.stop()  # RT down for a while
        obs.event("system/dc1-app-01", source="dc1-app-01", type="node_down", severity="critical", text="app down")
        time.sleep(3)
        rt.start()
        eventually(lambda: any(t["Subject"] == "dc1-app-01: app down" for t in new_tickets()), 40, "the late ticket")
        steady(lambda: sum(t["Subject"] == "dc1-app-01: app down" for t in new_tickets()) == 1, 3, "only one")

        obs.event("network/br05-sw", source="br05-sw", type="unreachable", severity="cleared")
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="cleared")
        eventually(lambda: rt.api("GET", f"/ticket/{tid}")["Status"] == "resolved", 20, "resolved in RT")
    finally:
        wall.stop()
        obs.close()
