"""Branch sites without a broker: the whole inbound path (inbox, site watch, engine, annunciator, journal) on a
manual clock, messages handed in as the MQTT adapter would hand them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.support.wall import write_config
from wallctl.controller.build import build_core, inbox_policy
from wallctl.controller.inbox import Inbox
from wallctl.controller.journal_rows import alarm_from_json, alarm_to_json
from wallctl.controller.payloads import alarms_payload, state_payload
from wallctl.controller.service import WallService
from wallctl.core.alarms.alarm import AlarmState
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.sound.annunciator import NullSink

SITES = """\
sites:
  - {name: chengdu, topic_prefix: branch/chengdu/, heartbeat_s: 60, link_grace_s: 5}
  - {name: wuhan, topic_prefix: branch/wuhan/}
"""
STATE = "branch/chengdu/$bridge/state"
LINK = ("site/chengdu", "site_link_down")


Sink = NullSink  # records what it was asked to play


class Wall:
    """A wall's core fed like the controller feeds it: one message at a time, then its timers."""

    def __init__(self, tmp_path: Path, clock: ManualClock | None = None, extra: str = "", **kw: Any) -> None:
        self.clock = clock or ManualClock()
        self.sink = Sink()
        self.config = load_config(write_config(tmp_path, extra=SITES + extra, **kw))
        self.core = build_core(self.config, clock=self.clock, sink=self.sink)
        self.service: WallService = self.core.service
        self.service.set_link("connected")
        self.inbox = Inbox(self.service, inbox_policy(self.config, None))

    def message(self, topic: str, payload: str | bytes) -> None:
        body = payload.encode() if isinstance(payload, str) else payload
        self.inbox.handle(topic, body, received=self.clock.now())

    def event(self, topic: str, **fields: Any) -> None:
        self.message(topic, json.dumps(fields))

    def tick(self, seconds: float = 0.0) -> None:
        self.clock.advance(seconds)
        self.service.tick()

    def alarm(self, source: str, type_: str) -> dict[str, Any] | None:
        listed = alarms_payload(self.service, 1)["alarms"]
        return next((a for a in listed if a["source"] == source and a["type"] == type_), None)


def test_an_event_under_a_site_prefix_is_filled_from_its_topic_and_tagged_with_its_site(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    w.event("branch/chengdu/noc/events/network/cd-rtr-1", type="link_down", severity="major", id="e1")
    w.event("noc/events/network/dc1-rtr-1", type="link_down", severity="major", id="e2")
    branch, head = w.alarm("cd-rtr-1", "link_down"), w.alarm("dc1-rtr-1", "link_down")
    assert branch is not None and branch["site"] == "chengdu" and branch["category"] == "network"
    assert head is not None and head["site"] is None
    assert w.sink.played == ["network_medium"]  # a branch's live alarm sounds like any other
    sites = state_payload(w.service, 1)["sites"]
    assert sites["chengdu"]["link"] == "unknown" and sites["wuhan"]["replayed"] == 0


def test_a_silent_site_is_a_critical_link_alarm_until_it_speaks_again(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    w.tick(59)
    assert w.alarm(*LINK) is None
    w.tick(2)  # 61 s without a word from chengdu (wuhan has no heartbeat: only its bridge is watched)
    alarm = w.alarm(*LINK)
    assert alarm is not None and alarm["severity"] == "critical" and alarm["site"] == "chengdu"
    assert alarm["text"].startswith("branch chengdu: silent since ") and "60 s" in alarm["text"]
    assert w.alarm("site/wuhan", "site_link_down") is None
    assert w.sink.played[-1] == "feed_lost"
    w.event("branch/chengdu/noc/events/system/cd-hb", type="heartbeat", severity="indeterminate")
    w.tick(0.05)
    alarm = w.alarm(*LINK)
    assert alarm is not None and alarm["state"] == "RTNUN" and alarm["text"].startswith("branch chengdu: back")


def test_a_bridge_down_longer_than_its_grace_is_an_alarm_and_its_return_clears_it(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    w.message(STATE, "1")
    w.message(STATE, "0")
    w.tick(4)
    assert w.alarm(*LINK) is None  # within link_grace_s: a reconnect raises nothing
    w.tick(1.5)
    alarm = w.alarm(*LINK)
    assert alarm is not None and alarm["text"].startswith("branch chengdu: link down since ")
    assert state_payload(w.service, 1)["sites"]["chengdu"]["link"] == "down"
    w.tick(120)  # silent too by now: still one alarm, still saying the link is down
    assert w.alarm(*LINK)["count"] == 1  # type: ignore[index]
    w.message(STATE, "1")
    w.tick(0.05)
    assert w.alarm(*LINK)["state"] == "RTNUN"  # type: ignore[index]
    w.tick(59)  # the bridge's return is a fresh start for the heartbeat
    assert w.alarm(*LINK)["state"] == "RTNUN"  # type: ignore[index]


def outage(w: Wall, *, ack: bool = True) -> float:
    """chengdu's link goes down for ten minutes (its alarm acknowledged: the horn is free); returns when."""
    w.message(STATE, "1")
    w.tick(1)
    down = w.clock.now()
    w.message(STATE, "0")
    w.tick(600)
    if ack:
        w.service.engine.ack(LINK)
    return down


def test_the_backlog_of_an_outage_is_applied_once_and_only_what_still_stands_sounds(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    down = outage(w)
    played = list(w.sink.played)
    assert played == ["feed_lost"]  # the link alarm
    w.message(STATE, "1")  # the bridge is back: what chengdu queued meanwhile follows, in order
    ups = "branch/chengdu/noc/events/power/cd-ups-1"
    w.event(
        ups, source="cd-ups-1", type="ups_on_battery", severity="critical", category="power", id="b1", time=down + 60
    )
    w.event(
        ups, source="cd-ups-1", type="ups_on_battery", severity="cleared", category="power", id="b2", time=down + 90
    )
    rtr = "branch/chengdu/noc/events/network/cd-rtr-2"
    w.event(rtr, type="node_down", severity="major", id="b3", time=down + 120)
    w.event(rtr, type="node_down", severity="major", id="b3", time=down + 120)  # the bridge delivering it again
    assert w.sink.played == played  # nothing of the backlog sounds while it is being delivered
    ups, rtr = w.alarm("cd-ups-1", "ups_on_battery"), w.alarm("cd-rtr-2", "node_down")
    assert ups is not None and ups["state"] == "RTNUN" and ups["count"] == 1 and ups["site"] == "chengdu"
    assert rtr is not None and rtr["state"] == "UNACK" and rtr["count"] == 1
    st = state_payload(w.service, 1)
    assert st["duplicate_events"] == 1 and st["sites"]["chengdu"]["replayed"] == 4  # as received, the repeat too
    assert st["sites"]["chengdu"]["catching_up"] is True and st["audible"]["sound"] is None
    w.tick(0.5)
    assert w.alarm(*LINK) is None  # back, and acknowledged before: gone
    assert w.sink.played == played  # still catching up
    w.tick(0.6)  # a second without backlog: caught up; the router, still down and unacknowledged, sounds now
    assert w.sink.played == [*played, "network_medium"]
    assert state_payload(w.service, 2)["audible"]["sound"] == "network_medium"
    assert w.service.engine.get(("cd-ups-1", "ups_on_battery")).audible is False  # type: ignore[union-attr]
    w.event("branch/chengdu/noc/events/power/cd-ups-2", type="ups_on_battery", severity="critical", time=w.clock.now())
    assert w.sink.played[-1] == "environment_high"  # live again: sounds at once


def test_the_first_event_stamped_after_the_return_ends_the_catch_up(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    down = outage(w)
    w.message(STATE, "1")
    w.event("branch/chengdu/noc/events/network/cd-sw-1", type="node_down", severity="minor", time=down + 5)
    w.event("branch/chengdu/noc/events/network/cd-sw-2", type="node_down", severity="major", time=w.clock.now())
    assert w.sink.played[-1] == "network_medium"  # live: at once
    assert state_payload(w.service, 1)["sites"]["chengdu"]["catching_up"] is False
    w.tick(0.05)  # the backlog's standing alarm is no longer held back
    assert w.service.engine.get(("cd-sw-1", "node_down")).audible is True  # type: ignore[union-attr]


def test_events_without_their_own_time_are_live_even_during_a_catch_up(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    outage(w)
    w.message(STATE, "1")
    w.event("branch/chengdu/noc/events/network/cd-sw-3", type="node_down", severity="major")
    assert w.sink.played[-1] == "network_medium"
    assert state_payload(w.service, 1)["sites"]["chengdu"]["replayed"] == 0


def test_events_arriving_while_the_bridge_was_said_down_prove_it_is_back(tmp_path: Path) -> None:
    """The bridge's '1' and its backlog travel on different topics: if the backlog comes first, it is still one."""
    w = Wall(tmp_path)
    down = outage(w)
    w.event("branch/chengdu/noc/events/network/cd-sw-4", type="node_down", severity="major", time=down + 30)
    w.event("branch/chengdu/noc/events/network/cd-sw-4", type="node_down", severity="cleared", time=down + 40)
    w.message(STATE, "1")
    w.tick(2)
    assert w.sink.played == ["feed_lost"]  # the link alarm's; nothing of the switch's, nor a ring-back for its clear
    assert w.alarm(*LINK) is None


def test_a_link_alarm_kept_by_the_journal_stands_until_the_site_is_back(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    outage(w, ack=False)
    assert w.alarm(*LINK)["state"] == "UNACK"  # type: ignore[index]
    w.service.flush_journal()
    assert w.core.journal is not None
    w.core.journal.close()
    again = Wall(tmp_path, clock=w.clock)  # the wall restarts; the outage goes on
    again.tick(30)
    assert again.alarm(*LINK)["state"] == "UNACK"  # type: ignore[index]
    assert again.alarm(*LINK)["site"] == "chengdu"  # type: ignore[index]
    again.message(STATE, "1")
    again.tick(0.05)
    assert again.alarm(*LINK)["state"] == "RTNUN"  # type: ignore[index]


def test_journal_rows_carry_the_site_and_rows_written_before_sites_still_load(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    w.event("branch/chengdu/noc/events/network/cd-rtr-1", type="link_down", severity="major")
    alarm = w.service.engine.get(("cd-rtr-1", "link_down"))
    assert alarm is not None
    row = alarm_to_json(alarm)
    assert alarm_from_json("cd-rtr-1", "link_down", row).site == "chengdu"
    old = json.dumps(json.loads(row)[:18])  # the row format before sites
    back = alarm_from_json("cd-rtr-1", "link_down", old)
    assert back.site is None and back.state is AlarmState.UNACK and back.count == alarm.count


def test_a_rule_on_the_link_alarm_focuses_the_topology_site_of_the_same_name(tmp_path: Path, layouts: Path) -> None:
    rules = layouts / "rules.yaml"
    rules.write_text(
        rules.read_text()
        + """\
  - name: branch-deaf
    priority: 320
    when: {types: [site_link_down], groups: [br05]}
    mode: incident
    focus_target: site
    min_dwell_s: 5
    hold_down_s: 5
"""
    )
    clock = ManualClock()
    w = Wall(
        tmp_path,
        clock=clock,
        layouts=layouts,
        extra="  - {name: br05, topic_prefix: branch/chengdu-br05/, link_grace_s: 0}\n",
    )
    w.message("branch/chengdu-br05/$bridge/state", "0")
    w.tick(0.1)
    decision = w.service.evaluate(force=True)
    assert (decision.mode, decision.reason, decision.focus_target) == ("incident", "branch-deaf", "br05")
    alarm = w.alarm("site/br05", "site_link_down")  # named as the topology names the site
    assert alarm is not None and alarm["text"].startswith("Branch Chengdu: link down since ")


def test_a_profiled_subscription_applies_under_a_site_prefix_too(tmp_path: Path) -> None:
    """A branch's Grafana publishing Alertmanager JSON over MQTT: the profile is chosen on the topic without the
    prefix, and its alarms are the site's."""
    w = Wall(
        tmp_path,
        mqtt_extra='  subscriptions: [{filter: "noc/events/#"}, {filter: "grafana/alerts/#", profile: grafana}]',
    )
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(w.clock.now()))
    alert = {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "instance": "cd-db-1", "severity": "critical"},
        "annotations": {"summary": "disk full"},
        "startsAt": stamp,
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "f1",
    }
    w.message("branch/chengdu/grafana/alerts/x", json.dumps({"version": "4", "status": "firing", "alerts": [alert]}))
    alarm = w.alarm("cd-db-1", "DiskFull")
    assert alarm is not None and alarm["site"] == "chengdu" and alarm["severity"] == "critical"
    assert state_payload(w.service, 1)["rejected_events"] == 0


def test_a_branch_clock_running_behind_holds_sound_back_for_a_minute_at_most(tmp_path: Path) -> None:
    w = Wall(tmp_path)
    outage(w)
    w.message(STATE, "1")
    behind = 120.0  # chengdu's clock: two minutes slow, so its live events look older than the link's return
    for second in range(0, 60, 1):  # a busy branch: an event every second, none stamped after the return
        w.event(
            "branch/chengdu/noc/events/system/cd-app-1",
            type=f"probe_{second}",
            severity="warning",
            time=w.clock.now() - behind,
        )
        w.tick(0.5)
        w.tick(0.5)
    assert state_payload(w.service, 1)["sites"]["chengdu"]["catching_up"] is False  # ended by the 60 s cap
    played = len(w.sink.played)
    w.event(
        "branch/chengdu/noc/events/network/cd-rtr-9", type="node_down", severity="major", time=w.clock.now() - behind
    )
    assert len(w.sink.played) == played + 1  # live again, skewed clock and all
