"""Branch sites over real bridges: three Mosquitto instances (the head office and two branches, each branch
configured with the section ``wallctl bridge-config`` prints and reaching the head office through a WAN link the
test cuts) and a real controller process watching them."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bridges import Branch, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.wall import Observer, WallProcess, started, write_config

pytestmark = pytest.mark.e2e
GRACE_S = 2.0
SITES = f"""\
sites:
  - {{name: chengdu, topic_prefix: branch/chengdu/, heartbeat_s: 3600, link_grace_s: {GRACE_S}}}
  - {{name: wuhan, topic_prefix: branch/wuhan/, link_grace_s: {GRACE_S}}}
"""


@pytest.fixture
def head() -> Iterator[Mosquitto]:
    broker = Mosquitto().start()
    yield broker
    broker.stop()


def journal_audible(journal: Path, source: str, type_: str) -> bool | None:
    """Whether the controller's journal says the alarm takes part in the horn (read beside the running wall)."""
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5) as db:
        row = db.execute("SELECT data FROM alarms WHERE source = ? AND type = ?", (source, type_)).fetchone()
    return None if row is None else bool(json.loads(row[0])[13])


def test_branch_events_reach_the_wall_tagged_and_an_outage_is_seen_and_caught_up(
    tmp_path: Path, head: Mosquitto
) -> None:
    wall_id = f"sites{uuid.uuid4().hex[:6]}"
    cfg = write_config(tmp_path, wall_id=wall_id, port=head.port, extra=SITES)
    journal = tmp_path / "journal.sqlite3"
    chengdu = Branch(cfg, "chengdu", head.port)
    wuhan = Branch(cfg, "wuhan", head.port)
    obs = Observer(head.port, f"wallctl/{wall_id}")
    ctl = WallProcess(cfg, command="controller", args=("--no-audio",)).start()
    try:
        started(obs, ctl)
        obs.wait(
            lambda o: all(o.state["sites"][s]["link"] == "up" for s in ("chengdu", "wuhan")), 15, "both bridges up"
        )

        # live events from both branches, each tagged with its site; the head office's own stay untagged
        chengdu.publish("network/cd-rtr-1", source="cd-rtr-1", type="node_down", severity="major", id="c1")
        wuhan.publish("network/wh-rtr-1", type="node_down", severity="major", id="w1")  # source from the topic
        obs.event("network/dc1-rtr-1", source="dc1-rtr-1", type="link_down", severity="minor", id="h1")
        obs.wait(
            lambda o: o.alarm("wh-rtr-1", "node_down") is not None and o.alarm("dc1-rtr-1", "link_down") is not None,
            10,
            "events listed",
        )
        obs.wait(lambda o: o.alarm("cd-rtr-1", "node_down") is not None, 10, "chengdu's event")
        assert obs.alarm("cd-rtr-1", "node_down")["site"] == "chengdu"  # type: ignore[index]
        assert obs.alarm("wh-rtr-1", "node_down")["site"] == "wuhan"  # type: ignore[index]
        assert obs.alarm("dc1-rtr-1", "link_down")["site"] is None  # type: ignore[index]
        obs.command(action="ack_all")
        obs.wait(lambda o: o.state["alarms"]["unacked"] == 0 and o.state["audible"]["sound"] is None, 10, "quiet")

        # chengdu's WAN link is cut: its bridge's last will says so, the wall raises the site's alarm
        cut = time.monotonic()
        chengdu.wan.cut()
        obs.wait(lambda o: o.alarm("site/chengdu", "site_link_down") is not None, GRACE_S + 8, "chengdu link alarm")
        raised_after = time.monotonic() - cut
        link = obs.alarm("site/chengdu", "site_link_down")
        assert link is not None and link["severity"] == "critical" and link["state"] == "UNACK"
        assert link["text"].startswith("branch chengdu: link down since ") and link["site"] == "chengdu"
        assert GRACE_S - 0.5 <= raised_after <= GRACE_S + 5, raised_after
        obs.command(action="ack_all")
        obs.wait(lambda o: o.state["audible"]["sound"] is None, 10, "the link alarm acknowledged")

        # meanwhile at chengdu: a UPS goes on battery and back (raised and cleared during the outage), a router
        # goes down and stays down; the branch broker queues it all for the bridge, one event twice
        ups = {"source": "cd-ups-1", "type": "ups_on_battery", "category": "power"}
        chengdu.publish("power/cd-ups-1", **ups, severity="critical", id="b1", time=time.time())
        chengdu.publish("power/cd-ups-1", **ups, severity="cleared", id="b2", time=time.time())
        router = {"source": "cd-rtr-2", "type": "node_down", "severity": "major", "id": "b3", "time": time.time()}
        chengdu.publish("network/cd-rtr-2", **router)
        chengdu.publish("network/cd-rtr-2", **router)
        assert obs.alarm("cd-ups-1", "ups_on_battery") is None  # nothing crosses while the link is down

        chengdu.wan.restore()  # the bridge reconnects (restart_timeout 1 1) and delivers the queue
        obs.wait(lambda o: o.alarm("site/chengdu", "site_link_down") is None, 15, "chengdu's link back")
        obs.wait(lambda o: o.alarm("cd-rtr-2", "node_down") is not None, 10, "the queued router alarm")
        obs.wait(lambda o: o.state["audible"]["sound"] == "network_medium", 10, "the standing router alarm sounds")
        ups_alarm, router_alarm = obs.alarm("cd-ups-1", "ups_on_battery"), obs.alarm("cd-rtr-2", "node_down")
        assert ups_alarm is not None and ups_alarm["state"] == "RTNUN" and ups_alarm["count"] == 1
        assert ups_alarm["site"] == "chengdu"
        assert router_alarm is not None and router_alarm["state"] == "UNACK" and router_alarm["count"] == 1
        # the UPS came and went during the outage: applied, never sounded (the horn never had it)
        wait_for(lambda: journal_audible(journal, "cd-rtr-2", "node_down") is True, 10, "journal written")
        assert journal_audible(journal, "cd-ups-1", "ups_on_battery") is False
        assert not any(s["audible"]["sound"] == "environment_high" for s in obs.states)
        assert obs.state["duplicate_events"] == 1
        assert obs.state["sites"]["chengdu"]["replayed"] == 4  # as received: the second copy too
        obs.command(action="ack_all")

        # wuhan's broker stops: its bridge's will says so at once, the alarm follows after the grace
        stop = time.monotonic()
        wuhan.broker.stop()
        obs.wait(lambda o: o.alarm("site/wuhan", "site_link_down") is not None, GRACE_S + 8, "wuhan link alarm")
        assert time.monotonic() - stop <= GRACE_S + 5
        # it comes back while its WAN link is still down, its monitoring queues an event there, and the broker
        # restarts once more (persistence keeps the queue); then the link returns and the event arrives, once
        wuhan.wan.cut()
        wuhan.broker.start()
        wuhan.publish("network/wh-sw-1", type="node_down", severity="minor", id="w2", time=time.time())
        wuhan.broker.stop()
        wuhan.broker.start()
        assert obs.alarm("wh-sw-1", "node_down") is None
        wuhan.wan.restore()
        obs.wait(lambda o: o.alarm("wh-sw-1", "node_down") is not None, 15, "wuhan's queued event")
        obs.wait(lambda o: o.alarm("site/wuhan", "site_link_down")["state"] == "RTNUN", 10, "wuhan's link back")  # type: ignore[index]
        sw = obs.alarm("wh-sw-1", "node_down")
        assert sw is not None and sw["site"] == "wuhan" and sw["count"] == 1
        assert obs.state["duplicate_events"] == 1
    finally:
        assert ctl.stop() == 0
        obs.close()
        chengdu.close()
        wuhan.close()
