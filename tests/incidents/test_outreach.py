"""Incidents and escalation decided over a service with a manual clock: when a mail goes, when none does, one summary
per flood, one incident per cause with its consequences, resolve on clear, and an outbox that survives a restart
without sending anything twice."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.incidents.support import Rig
from tests.support.wall import ROOT
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity
from wallctl.core.wire.commands import parse_command

S = Severity
ESCALATION = """
escalation:
  timezone: UTC
  smtp: {host: 127.0.0.1, port: 2525, starttls: false, from: wall@example}
  sms: {url: "http://127.0.0.1:9/send", body: '{"to": "{number}", "text": "{text}"}'}
  rules:
    - {match: {severity: [critical]}, after_s: 300, email: [duty@example], sms: ["+8613800000000"], repeat_s: 900}
"""
INCIDENTS = """
incidents:
  connector: webhook
  url: http://127.0.0.1:9/hooks
  match: {severity: [critical, major]}
  open_after_s: 0
"""


def raise_(rig: Rig, source: str, type_: str, severity: Severity = S.CRITICAL, text: str = "down") -> None:
    rig.service.ingest(Event(source, type_, severity, rig.clock.now(), category="network", text=text))


def ack(rig: Rig, source: str, type_: str) -> None:
    rig.service.execute(parse_command(f'{{"action": "ack", "source": "{source}", "type": "{type_}"}}'), "mqtt")


def test_an_unacknowledged_critical_is_mailed_once_after_the_delay(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ESCALATION)
    raise_(rig, "dc1-app-01", "node_down", text="app server down")
    rig.run(299)
    assert rig.sender.sent == []
    rig.run(2)
    mails, sms = rig.sender.of("email"), rig.sender.of("sms")
    assert len(mails) == 1 and len(sms) == 1
    assert mails[0]["to"] == ["duty@example"] and "dc1-app-01" in mails[0]["subject"]
    assert "app server down" in mails[0]["text"]
    assert sms[0]["number"] == "+8613800000000" and "dc1-app-01" in sms[0]["text"]
    rig.run(800)
    assert len(rig.sender.of("email")) == 1  # repeat_s: 900
    rig.run(120)
    assert len(rig.sender.of("email")) == 2  # still unacknowledged: told again
    actions = [e.action for e in rig.journal.audit_log()] if rig.journal else []
    assert actions.count("send_email") == 2 and "escalate_email" in actions
    rig.close()


def test_an_acknowledgement_before_the_delay_sends_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ESCALATION)
    raise_(rig, "dc1-app-01", "node_down")
    rig.run(200)
    ack(rig, "dc1-app-01", "node_down")
    rig.run(2000)
    assert rig.sender.sent == []
    rig.close()


def test_a_minor_alarm_is_not_escalated(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ESCALATION)
    raise_(rig, "dc1-app-01", "cpu_high", S.MINOR)
    rig.run(1000)
    assert rig.sender.sent == []
    rig.close()


def test_a_flood_sends_one_summary(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ESCALATION)
    for i in range(30):
        raise_(rig, f"host-{i:02d}", "node_down")
    assert rig.service.engine.flood.active
    rig.run(400)
    mails = rig.sender.of("email")
    assert len(mails) == 1, [m["subject"] for m in mails]
    assert "flood" in mails[0]["subject"] and "30 alarms" in mails[0]["subject"]
    assert len(rig.sender.of("sms")) == 1
    rig.close()


def test_alarms_due_together_go_in_one_message(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ESCALATION)
    raise_(rig, "dc1-app-01", "node_down")
    raise_(rig, "dc1-app-02", "node_down")
    rig.run(301)
    mails = rig.sender.of("email")
    assert len(mails) == 1 and "2 alarms" in mails[0]["subject"]
    rig.close()


def test_quiet_hours_hold_messages_and_the_roster_adds_who_is_on_duty(tmp_path: Path) -> None:
    extra = ESCALATION.replace(
        "repeat_s: 900}",
        'quiet: {from: "00:00", to: "06:00"}, roster: [{from: "06:00", to: "18:00", email: [day@example]}]}',
    )
    start = 1_800_000_000 - 1_800_000_000 % 86400  # 00:00 UTC
    from wallctl.core.clock import ManualClock

    rig = Rig(tmp_path, extra, ManualClock(start + 5 * 3600))  # 05:00, quiet
    raise_(rig, "dc1-app-01", "node_down")
    rig.run(3000, step=10)  # until 05:50
    assert rig.sender.sent == []
    rig.run(700, step=10)  # past 06:00: sent, to the rule's and the shift's addresses
    mails = rig.sender.of("email")
    assert len(mails) == 1 and mails[0]["to"] == ["duty@example", "day@example"]
    rig.close()


def test_one_incident_per_cause_with_its_consequences_then_resolved(tmp_path: Path) -> None:
    rig = Rig(tmp_path, INCIDENTS)
    rig.sender.ref = {"id": "INC-7", "owner": "alice", "status": "open"}
    raise_(rig, "br05-rtr", "node_down", text="router down")
    rig.run(1)
    raise_(rig, "br05-sw", "unreachable", S.MAJOR)
    raise_(rig, "br05-srv", "service_down", S.MAJOR)
    rig.run(1)
    posts = rig.sender.of("incident")
    assert [p["action"] for p in posts] == ["open", "update"]
    assert posts[0]["alarm"] == {
        "source": "br05-rtr",
        "type": "node_down",
        "severity": "critical",
        "state": "UNACK",
        "text": "router down",
        "site": None,
    }
    assert posts[1]["consequences"] == [["br05-srv", "service_down"], ["br05-sw", "unreachable"]]
    assert len({p["key"] for p in posts}) == 1
    from wallctl.controller.payloads import alarms_payload

    listed = {(a["source"], a["type"]): a for a in alarms_payload(rig.service, 1)["alarms"]}
    assert listed[("br05-rtr", "node_down")]["incident"] == {"id": "INC-7", "owner": "alice", "status": "open"}
    assert listed[("br05-sw", "unreachable")]["incident"]["id"] == "INC-7"  # a consequence shows its cause's
    for src, typ in (("br05-sw", "unreachable"), ("br05-srv", "service_down"), ("br05-rtr", "node_down")):
        raise_(rig, src, typ, S.CLEARED)
    rig.run(1)
    assert rig.sender.of("incident")[-1]["action"] == "resolve"
    assert alarms_payload(rig.service, 2)["alarms"][0]["incident"] is None
    rig.close()


def test_open_after_waits_for_an_acknowledgement(tmp_path: Path) -> None:
    rig = Rig(tmp_path, INCIDENTS.replace("open_after_s: 0", "open_after_s: 60"))
    raise_(rig, "dc1-app-01", "node_down")
    rig.run(30)
    ack(rig, "dc1-app-01", "node_down")
    raise_(rig, "dc1-app-02", "node_down")
    rig.run(59)
    assert rig.sender.sent == []
    rig.run(2)
    assert [(p["action"], p["alarm"]["source"]) for p in rig.sender.of("incident")] == [("open", "dc1-app-02")]
    rig.close()


def test_a_server_down_gets_everything_once_when_back(tmp_path: Path) -> None:
    rig = Rig(tmp_path, INCIDENTS)
    rig.sender.fail = "connection refused"
    raise_(rig, "dc1-app-01", "node_down")
    rig.run(1)
    raise_(rig, "dc1-app-01", "node_down", S.CLEARED)
    rig.run(600, step=5)  # retried with back-off, the resolve waiting behind the open
    assert rig.sender.sent == []
    assert any("not sent" in e for e in rig.service.diagnostics.device_errors)
    failures = [e for e in rig.journal.audit_log() if e.action == "send_incident"] if rig.journal else []
    assert failures and not any(e.ok for e in failures) and failures[0].error == "connection refused"
    rig.sender.fail = None
    rig.run(120, step=5)
    assert [p["action"] for p in rig.sender.of("incident")] == ["open", "resolve"]
    rig.close()


def test_the_outbox_survives_a_restart_and_sends_nothing_twice(tmp_path: Path) -> None:
    rig = Rig(tmp_path, INCIDENTS + ESCALATION)
    rig.sender.fail = "down"
    raise_(rig, "dc1-app-01", "node_down")
    rig.run(1)
    rig.close()  # the open is queued, not sent
    rig2 = Rig(tmp_path, INCIDENTS + ESCALATION, rig.clock)
    assert len(rig2.outbox.items) == 1
    rig2.run(302)
    assert [p["action"] for p in rig2.sender.of("incident")] == ["open"]  # once: not opened again
    assert len(rig2.sender.of("email")) == 1
    rig2.close()
    rig3 = Rig(tmp_path, INCIDENTS + ESCALATION, rig.clock)
    rig3.run(10)
    assert rig3.sender.sent == []  # the mail decided again after the restart has the same key: not sent again
    assert rig3.outreach.tracker is not None and len(rig3.outreach.tracker.open) == 1
    rig3.close()


def test_the_wall_follows_an_incident_declared_major(tmp_path: Path) -> None:
    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    rules = layouts / "rules.yaml"
    rules.write_text(
        rules.read_text().replace(
            "rules:\n",
            "rules:\n  - {name: major-incident, mode: incident, priority: 1000, min_dwell_s: 0, hold_down_s: 0,\n"
            "     when: {incident_status: [major]}}\n",
            1,
        )
    )
    rig = Rig(tmp_path, INCIDENTS, layouts=layouts)
    rig.sender.ref = {"id": "INC-9", "owner": "bob", "status": "open"}
    raise_(rig, "dc1-db-03", "replication_lag", S.MAJOR, text="lag")
    rig.run(1)
    assert rig.service.evaluate(force=True).reason != "major-incident"
    rig.outreach._set_ref(rig.sender.of("incident")[0]["key"], {"id": "INC-9", "owner": "bob", "status": "Major"})
    assert rig.service.decision.mode == "incident" and rig.service.decision.reason == "major-incident"
    rig.close()


def test_hot_standby_decides_alike_and_never_sends_again_what_the_active_one_sent(tmp_path: Path) -> None:
    """Two controllers of one wall see the same alarms: the same incident key on both (the one taking over updates
    the other's ticket), and the standby sends nothing, then or when it takes over, of what it decided meanwhile."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    clock = ManualClock()
    active = Rig(tmp_path / "a", INCIDENTS + ESCALATION, clock=clock)
    is_active = False
    standby = Rig(tmp_path / "b", INCIDENTS + ESCALATION, clock=clock, active=lambda: is_active)
    for rig in (active, standby):
        rig.service.ingest(Event("br05-rtr", "node_down", S.CRITICAL, 1_799_999_000.0, category="network"))
    for _ in range(400):  # past the escalation delay: the active one mails, the standby does not
        active.run(0)
        standby.run(1)
    assert [p["action"] for p in active.sender.of("incident")] == ["open"]
    assert active.sender.of("email") and not standby.sender.sent
    key = active.sender.of("incident")[0]["key"]
    assert key.endswith(":br05-rtr:node_down:1799999000")  # from the occurrence, not from when it was decided
    assert standby.outreach.tracker is not None
    assert [inc.key for inc in standby.outreach.tracker.open.values()] == [key]
    is_active = True  # the active one is gone: the standby takes the wall over
    standby.run(1)
    assert not standby.sender.sent  # nothing decided while standby is sent again
    standby.service.ingest(Event("br05-rtr", "node_down", S.CLEARED, clock.now(), category="network"))
    standby.run(1)
    assert [(p["action"], p["key"]) for p in standby.sender.of("incident")] == [("resolve", key)]
    active.close()
    standby.close()
