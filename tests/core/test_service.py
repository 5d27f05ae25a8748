"""The wall service: commands with their audit trail, the state payload of the contract, link and feed alarms,
restore after restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.wall import write_config
from wallctl.controller.build import build_core
from wallctl.controller.payloads import alarms_payload, state_payload
from wallctl.controller.service import WallService
from wallctl.core.alarms.alarm import list_order
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.severity import Severity
from wallctl.core.view.rows import sort_key
from wallctl.core.wire.commands import CommandError, parse_command

S = Severity


class Sink:
    def __init__(self) -> None:
        self.played: list[str] = []

    def play(self, sound: object, volume: float) -> None:
        self.played.append(sound.name)  # type: ignore[attr-defined]

    def stop(self) -> None:
        pass


def make(tmp_path: Path, clock: ManualClock | None = None, extra: str = "") -> tuple[WallService, ManualClock]:
    clock = clock or ManualClock()
    cfg = load_config(write_config(tmp_path, extra=extra))
    core = build_core(cfg, clock=clock, sink=Sink())
    core.service.set_link("connected")
    return core.service, clock


def cmd(service: WallService, text: str, token: str | None = None) -> str | None:
    return service.execute(parse_command(text, token=token), "mqtt", "nms-1")


def test_state_payload_follows_the_contract(tmp_path: Path) -> None:
    s, clock = make(tmp_path)
    s.ingest(Event("br05-rtr", "node_down", S.CRITICAL, clock.now(), category="network"))
    s.ingest(Event("dc1-app-01", "cpu_high", S.MINOR, clock.now(), category="system"))
    s.evaluate(force=True)
    st = state_payload(s, 7)
    assert set(st) >= {
        "wall_id",
        "seq",
        "time",
        "mode",
        "focus",
        "pinned",
        "alarms",
        "highest",
        "flood",
        "audible",
        "broker",
        "rejected_events",
    }
    assert st["seq"] == 7 and st["mode"] == "incident" and st["pinned"] is None and st["highest"] == "critical"
    assert st["alarms"] == {
        "active": 2,
        "unacked": 2,
        "shelved": 0,
        "suppressed": 0,
        "by_severity": {"critical": 1, "minor": 1},
    }
    assert st["audible"] == {
        "sound": "network_high",
        "silenced_until": None,
        "device": "ok",
        "self_test": None,
        "self_test_text": "",
        "voice": "off",  # no speech engine attached here (tests/e2e/test_voice.py has one)
    }
    assert st["broker"] == "connected" and st["rejected_events"] == 0
    json.dumps(st)
    alarms = alarms_payload(s, 3)
    assert [a["source"] for a in alarms["alarms"]] == ["br05-rtr", "dc1-app-01"]
    assert set(alarms["alarms"][0]) >= {
        "source",
        "type",
        "severity",
        "state",
        "count",
        "first",
        "last",
        "text",
        "category",
        "flags",
        "cause",
    }


def test_commands_are_obeyed_and_audited(tmp_path: Path) -> None:
    s, clock = make(tmp_path)
    s.ingest(Event("r1", "down", S.MAJOR, clock.now(), category="network"))
    assert cmd(s, '{"action": "ack", "source": "r1", "type": "down", "request_id": 1}') is None
    assert (
        cmd(s, '{"action": "ack", "source": "r1", "type": "down"}') == "alarm r1/down is already acknowledged (ACKED)"
    )
    assert cmd(s, '{"action": "shelve", "source": "r1", "type": "down", "seconds": 60}') is None
    assert cmd(s, '{"action": "unshelve", "source": "r1", "type": "down"}') is None
    assert cmd(s, '{"action": "silence", "seconds": 30}') is None
    assert cmd(s, '{"action": "mode", "mode": "briefing", "pin_s": 60}') is None
    assert s.decision.mode == "briefing" and s.decision.pin is not None
    assert cmd(s, '{"action": "mode", "mode": "nope"}').startswith("unknown mode 'nope'")  # type: ignore[union-attr]
    assert cmd(s, '{"action": "release"}') is None
    assert cmd(s, '{"action": "release"}') == "no mode is pinned"
    assert cmd(s, '{"action": "ack_all"}') == "nothing to acknowledge"
    log = s.journal.audit_log()  # type: ignore[union-attr]
    assert [(e.action, e.ok) for e in log] == [
        ("ack", True),
        ("ack", False),
        ("shelve", True),
        ("unshelve", True),
        ("silence", True),
        ("mode", True),
        ("mode", False),
        ("release", True),
        ("release", False),
        ("ack_all", False),
    ]
    assert all(e.origin == "mqtt" and e.actor == "nms-1" for e in log)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"action": "ack"}', "action 'ack' needs field 'source'"),
        ('{"action": "fly"}', "unknown action 'fly'"),
        ('{"action": "silence", "seconds": -1}', "must be a finite number above 0"),
        ('{"action": "silence", "seconds": "ten"}', "must be a number"),
        ('{"action": "release", "extra": 1}', "does not take extra"),
        ("not json", "command is not JSON"),
    ],
)
def test_bad_commands_are_refused_with_reasons(text: str, error: str) -> None:
    with pytest.raises(CommandError, match=error):
        parse_command(text)


def test_token_is_required_when_configured() -> None:
    with pytest.raises(CommandError, match="missing or wrong token") as info:
        parse_command('{"action": "ack_all", "request_id": "q"}', token="s3cret")
    assert info.value.request_id == "q"
    with pytest.raises(CommandError, match="missing or wrong token"):
        parse_command('{"action": "ack_all", "token": "guess"}', token="s3cret")
    assert parse_command('{"action": "ack_all", "token": "s3cret"}', token="s3cret").action == "ack_all"


def test_new_critical_breaks_a_pin(tmp_path: Path) -> None:
    s, clock = make(tmp_path)
    cmd(s, '{"action": "mode", "mode": "briefing"}')
    s.ingest(Event("r1", "down", S.MAJOR, clock.now(), category="network"))
    assert s.evaluate(force=True).mode == "briefing"
    s.ingest(Event("r2", "down", S.CRITICAL, clock.now(), category="network"))
    assert s.evaluate(force=True).mode == "incident"
    assert any(e.action == "pin_broken" for e in s.journal.audit_log())  # type: ignore[union-attr]


def test_link_down_longer_than_grace_is_an_alarm_and_switches_the_wall(tmp_path: Path) -> None:
    s, clock = make(tmp_path)  # link_grace_s: 2 in the test config
    s.set_link("disconnected")
    clock.advance(1)
    s.tick()
    assert s.engine.get((s.link_source, "broker_link_down")) is None
    clock.advance(1.5)
    s.tick()
    alarm = s.engine.get((s.link_source, "broker_link_down"))
    assert alarm is not None and alarm.severity is S.CRITICAL
    assert s.decision.mode == "deaf"
    s.set_link("connected")
    s.tick()
    assert s.engine.get((s.link_source, "broker_link_down")).state.value == "RTNUN"  # type: ignore[union-attr]


def test_stale_feed_alarm(tmp_path: Path) -> None:
    s, clock = make(tmp_path, extra="heartbeats:\n  - {source: nms-1, interval_s: 60}\n")
    clock.advance(30)
    s.ingest(Event("nms-1", "heartbeat", S.CLEARED, clock.now()))
    clock.advance(59)
    s.tick()
    assert s.engine.get(("nms-1", "feed_stale")) is None
    clock.advance(2)
    s.tick()
    alarm = s.engine.get(("nms-1", "feed_stale"))
    assert alarm is not None and alarm.severity is S.MAJOR and "nms-1" in alarm.text
    s.ingest(Event("nms-1", "heartbeat", S.CLEARED, clock.now()))
    s.tick()
    assert s.engine.get(("nms-1", "feed_stale")).in_alarm is False  # type: ignore[union-attr]


def test_restart_restores_alarms_acks_pin_and_silence(tmp_path: Path) -> None:
    clock = ManualClock()
    s, _ = make(tmp_path, clock)
    s.ingest(Event("a", "t", S.CRITICAL, clock.now(), category="network"))
    s.ingest(Event("b", "t", S.MAJOR, clock.now()))
    cmd(s, '{"action": "ack", "source": "b", "type": "t"}')
    cmd(s, '{"action": "mode", "mode": "briefing", "pin_s": 600}')
    cmd(s, '{"action": "silence", "seconds": 120}')
    s.flush_journal()
    before = (state_payload(s, 1), alarms_payload(s, 1))
    s.journal.close()  # type: ignore[union-attr]
    s2, _ = make(tmp_path, clock)
    after = (state_payload(s2, 1), alarms_payload(s2, 1))
    for state in (before[0], after[0]):
        del state["events"]  # events applied by this process: a counter, not part of the picture
    assert after == before


def test_a_change_at_rest_is_decided_at_once_and_a_stream_is_throttled(tmp_path: Path) -> None:
    s, clock = make(tmp_path)
    decisions: list[str] = []
    s.decision_changed.connect(lambda d: decisions.append(d.mode))
    s.evaluate(force=True)
    clock.advance(1)
    s.tick()  # the timer evaluation (dwell, hold-down, pins) has just run ...
    clock.advance(0.01)
    s.ingest(Event("br05-rtr", "node_down", S.CRITICAL, clock.now(), category="network"))
    assert s.evaluate().mode == "incident"  # ... yet a new critical 10 ms later switches the wall now
    evaluations = 0
    original = s.rules.evaluate

    def counting(**kw: bool) -> object:
        nonlocal evaluations
        evaluations += 1
        return original(**kw)

    s.rules.evaluate = counting  # type: ignore[method-assign]
    for i in range(100):  # a stream of changes over one second: at most EVAL_INTERVAL_S apart
        clock.advance(0.01)
        s.ingest(Event(f"r{i}", "down", S.MAJOR, clock.now(), category="network"))
        s.evaluate()
    assert 1 <= evaluations <= 1 / s.EVAL_INTERVAL_S + 1
    clock.advance(s.EVAL_INTERVAL_S)
    s.tick()  # what the throttle held back is decided by the next tick
    assert s.evaluate() is s.decision and not s._eval_due


def test_the_alarms_payload_is_bounded_most_important_first(tmp_path: Path) -> None:
    clock = ManualClock()
    core = build_core(load_config(write_config(tmp_path, mqtt_extra="  alarms_topic_max: 5")), clock=clock, sink=Sink())
    s = core.service
    for i in range(11):
        s.ingest(Event(f"n{i:02d}", "t", S.MINOR, clock.now()))
        clock.advance(1)
    s.ingest(Event("core", "t", S.CRITICAL, clock.now()))
    s.engine.ack(("n10", "t"))
    payload = alarms_payload(s, 1)
    assert payload["total"] == 12 and payload["truncated"] is True
    assert len(payload["alarms"]) == 5
    assert payload["alarms"][0]["source"] == "core"  # unacknowledged and critical first
    assert "n10" not in [a["source"] for a in payload["alarms"]]  # acknowledged: after every unacknowledged one
    assert [a["source"] for a in payload["alarms"][1:]] == ["n09", "n08", "n07", "n06"]  # then newest


def test_ack_all_over_many_alarms_runs_in_slices_and_answers_once(tmp_path: Path) -> None:
    from wallctl.controller.longwork import BULK_INLINE, PENDING
    from wallctl.core.wire.commands import Command

    s, clock = make(tmp_path)
    n = BULK_INLINE * 3
    for i in range(n):
        s.ingest(Event(f"n{i:05d}", "t", S.MAJOR if i % 2 else S.CRITICAL, clock.now()))
    s.ingest(Event("n00001", "t", S.CLEARED, clock.now()))  # RTNUN: acknowledged means gone
    s.tick()
    assert s.annunciator.audible.sound is not None
    outcome: list[str | None] = []
    assert s.execute(Command("ack_all", {}), "mqtt", "op", on_done=outcome.append) is PENDING
    s.ingest(Event("late", "t", S.CRITICAL, clock.now()))  # after the command: not acknowledged unseen
    slices, replied_at = 0, 0
    while s.work():
        slices += 1
        assert len(outcome) <= 1
        if outcome and not replied_at:
            replied_at = slices
            assert s.backlog  # the order of the lists is caught up after the reply, not before it
    assert outcome == [None] and replied_at > 1  # one reply, when every alarm is acknowledged
    assert not s.backlog and s.ranking.behind == 0
    assert [a.key for a in s.ranking] == [a.key for a in sorted(s.engine, key=lambda a: (list_order(a), a.key))]
    counts = s.engine.counts()
    assert counts.unacked == 1 and s.engine.get(("late", "t")).state.value == "UNACK"  # type: ignore[union-attr]
    assert s.engine.get(("n00001", "t")) is None
    assert counts.active == n  # n - 1 acknowledged + late
    assert sum(1 for e in s.journal.audit_log() if e.action == "ack_all") == 1  # type: ignore[union-attr]
    s.journal.flush()  # type: ignore[union-attr]
    s.journal.close()  # type: ignore[union-attr]
    s2, _ = make(tmp_path, clock)
    assert s2.engine.counts().unacked == 1 and len(s2.engine) == n


def test_a_small_ack_all_during_a_large_one_s_re_ranking_leaves_that_to_its_slices(tmp_path: Path) -> None:
    """The inline ``ack_all`` places its own few keys at once, but never what a large one left for a display's list
    to re-rank: placing 200,000 keys in one go would be the very stall the slices avoid."""
    from wallctl.controller.longwork import BULK_INLINE, PENDING
    from wallctl.core.view.rows import RankedFeed
    from wallctl.core.wire.commands import Command

    s, clock = make(tmp_path)
    feed = RankedFeed(s.engine, "priority", backlog=s.backlog)  # a list that display nodes draw
    for i in range(3 * BULK_INLINE):
        s.ingest(Event(f"n{i:05d}", "t", S.MAJOR, clock.now()))
    assert s.execute(Command("ack_all", {}), "mqtt") is PENDING
    while s.acting:
        s.work()
    while s.ranking.behind:  # the alarms topic's order is placed first, the list's after it
        s.backlog.step()
    behind = feed.ranking.behind
    assert behind > 0
    s.ingest(Event("late", "t", S.CRITICAL, clock.now()))
    assert s.execute(Command("ack_all", {}), "mqtt") is None  # inline: one alarm
    assert s.engine.counts().unacked == 0
    assert 0 < feed.ranking.behind <= behind + 1  # not placed in one go...
    while s.work():
        pass
    assert not s.backlog  # ...but by the slices
    expected = sorted(s.engine, key=lambda a: (sort_key("priority")(a), a.key))
    assert [a.key for a in feed.ranking] == [a.key for a in expected]
    feed.close()
