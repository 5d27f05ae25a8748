"""ISA-18.2 lifecycle: every transition, including the odd ones, with a stepped clock."""

from __future__ import annotations

import pytest

from wallctl.core.alarms.alarm import AlarmState, Flag
from wallctl.core.alarms.engine import AlarmEngine, ChangeKind, CorrelationGroup, EnginePolicy, OperatorError
from wallctl.core.alarms.event import Event
from wallctl.core.alarms.match import AlarmMatch
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity

S = Severity


def ev(source: str = "sw1", type_: str = "link_down", sev: Severity = S.MAJOR, **kw: object) -> Event:
    return Event(source, type_, sev, kw.pop("time", 0.0), **kw)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(clock: ManualClock) -> AlarmEngine:
    return AlarmEngine(clock)


KEY = ("sw1", "link_down")


def state(engine: AlarmEngine) -> AlarmState:
    alarm = engine.get(KEY)
    return AlarmState.NORM if alarm is None else alarm.state


def test_raise_gives_unack_and_annunciates(engine: AlarmEngine) -> None:
    change = engine.ingest(ev())
    assert change is not None and change.kind is ChangeKind.NEW and change.annunciate
    assert state(engine) is AlarmState.UNACK
    c = engine.counts()
    assert (c.active, c.unacked, c.highest) == (1, 1, S.MAJOR)


def test_duplicate_increases_count_and_last_without_annunciating(engine: AlarmEngine, clock: ManualClock) -> None:
    engine.ingest(ev(time=10.0))
    change = engine.ingest(ev(time=20.0, text="again"))
    alarm = engine.get(KEY)
    assert alarm is not None and alarm.count == 2 and alarm.last == 20.0 and alarm.first == 10.0
    assert alarm.text == "again"
    assert change is not None and change.kind is ChangeKind.UPDATE and not change.annunciate
    assert len(engine) == 1


def test_ack_then_clear_returns_to_normal(engine: AlarmEngine) -> None:
    engine.ingest(ev())
    engine.ack(KEY)
    assert state(engine) is AlarmState.ACKED
    engine.ingest(ev(sev=S.CLEARED))
    assert state(engine) is AlarmState.NORM and len(engine) == 0
    assert engine.counts().active == 0


def test_clear_before_ack_gives_rtnun_with_ring_back(engine: AlarmEngine) -> None:
    engine.ingest(ev())
    change = engine.ingest(ev(sev=S.CLEARED))
    assert change is not None and change.ring_back
    assert state(engine) is AlarmState.RTNUN
    c = engine.counts()
    assert c.unacked == 1 and c.highest is None  # highest counts only standing alarms (UNACK, ACKED)


def test_ack_in_rtnun_gives_normal(engine: AlarmEngine) -> None:
    engine.ingest(ev())
    engine.ingest(ev(sev=S.CLEARED))
    engine.ack(KEY)
    assert state(engine) is AlarmState.NORM and engine.get(KEY) is None


def test_rtnun_back_into_alarm_is_unack_again(engine: AlarmEngine, clock: ManualClock) -> None:
    engine.ingest(ev())
    clock.advance(40)
    engine.ingest(ev(sev=S.CLEARED))
    clock.advance(40)  # three transitions, but not within one minute: not chattering
    change = engine.ingest(ev())
    assert change is not None and change.kind is ChangeKind.REALARM and change.annunciate
    assert state(engine) is AlarmState.UNACK


def test_realarm_when_acked_alarm_gets_more_severe(engine: AlarmEngine) -> None:
    engine.ingest(ev(sev=S.MINOR))
    engine.ack(KEY)
    change = engine.ingest(ev(sev=S.CRITICAL))
    assert change is not None and change.kind is ChangeKind.REALARM and change.annunciate
    assert state(engine) is AlarmState.UNACK
    assert engine.counts().highest is S.CRITICAL


def test_acked_alarm_getting_less_severe_stays_acked(engine: AlarmEngine) -> None:
    engine.ingest(ev(sev=S.CRITICAL))
    engine.ack(KEY)
    change = engine.ingest(ev(sev=S.MINOR))
    assert change is not None and not change.annunciate
    assert state(engine) is AlarmState.ACKED
    alarm = engine.get(KEY)
    assert alarm is not None and alarm.severity is S.MINOR and alarm.peak is S.CRITICAL
    assert engine.counts().by_severity == {"minor": 1}


def test_escalation_while_unacked_annunciates(engine: AlarmEngine) -> None:
    engine.ingest(ev(sev=S.MINOR))
    change = engine.ingest(ev(sev=S.MAJOR))
    assert change is not None and change.kind is ChangeKind.ESCALATE and change.annunciate


@pytest.mark.parametrize("prepare", ["unack", "acked", "rtnun"])
def test_shelve_from_any_state_and_unshelve_to_the_right_state(
    engine: AlarmEngine, clock: ManualClock, prepare: str
) -> None:
    engine.ingest(ev())
    if prepare == "acked":
        engine.ack(KEY)
    if prepare == "rtnun":
        engine.ingest(ev(sev=S.CLEARED))
    before = state(engine)
    engine.shelve(KEY, 60)
    assert state(engine) is AlarmState.SHLVD
    assert engine.counts().shelved == 1 and engine.counts().unacked == 0
    engine.unshelve(KEY)
    assert state(engine) is before


def test_unshelve_follows_the_condition_that_changed_while_shelved(engine: AlarmEngine) -> None:
    engine.ingest(ev())
    engine.shelve(KEY, 60)
    engine.ingest(ev(sev=S.CLEARED))  # cleared while shelved, never acknowledged
    assert state(engine) is AlarmState.SHLVD
    engine.unshelve(KEY)
    assert state(engine) is AlarmState.RTNUN


def test_shelve_timer_unshelves(engine: AlarmEngine, clock: ManualClock) -> None:
    engine.ingest(ev())
    engine.shelve(KEY, 120)
    clock.advance(119)
    engine.tick()
    assert state(engine) is AlarmState.SHLVD
    changes = []
    engine.changed.connect(changes.append)
    clock.advance(1)
    engine.tick()
    assert state(engine) is AlarmState.UNACK
    assert changes and changes[-1].kind is ChangeKind.UNSHELVE and changes[-1].annunciate


def test_shelve_limits(engine: AlarmEngine) -> None:
    engine.ingest(ev())
    with pytest.raises(OperatorError, match="out of range"):
        engine.shelve(KEY, 10 * 86400)
    with pytest.raises(OperatorError, match="no active alarm"):
        engine.shelve(("nope", "x"), 60)
    with pytest.raises(OperatorError, match="not shelved"):
        engine.unshelve(KEY)


def test_ack_errors(engine: AlarmEngine) -> None:
    with pytest.raises(OperatorError, match="no active alarm"):
        engine.ack(KEY)
    engine.ingest(ev())
    engine.ack(KEY)
    with pytest.raises(OperatorError, match="already acknowledged"):
        engine.ack(KEY)


def test_out_of_service_and_back(engine: AlarmEngine) -> None:
    engine.ingest(ev())
    engine.set_out_of_service(KEY, True)
    assert state(engine) is AlarmState.OOSRV and engine.counts().suppressed == 1
    engine.set_out_of_service(KEY, False)
    assert state(engine) is AlarmState.UNACK


def test_maintenance_window_suppresses_by_design_and_ends(engine: AlarmEngine, clock: ManualClock) -> None:
    from wallctl.core.alarms.engine import MaintenanceWindow

    now = clock.now()
    engine.add_maintenance(MaintenanceWindow(AlarmMatch(sources=("sw*",)), now, now + 300, "firmware"))
    engine.ingest(ev())
    assert state(engine) is AlarmState.DSUPR and engine.counts().suppressed == 1
    clock.advance(301)
    engine.tick()
    assert state(engine) is AlarmState.UNACK


def test_latching_alarm_stays_until_reset(clock: ManualClock) -> None:
    engine = AlarmEngine(clock, EnginePolicy(latching=(AlarmMatch(types=("fire_alarm",)),)))
    key = ("room1", "fire_alarm")
    engine.ingest(ev("room1", "fire_alarm", S.CRITICAL))
    engine.ack(key)
    engine.ingest(ev("room1", "fire_alarm", S.CLEARED))
    alarm = engine.get(key)
    assert alarm is not None and alarm.state is AlarmState.RTNUN and Flag.LATCHED in alarm.flags
    engine.ack(key)  # the reset
    assert engine.get(key) is None


def test_correlation_group_folds_raise_and_clear_types(clock: ManualClock) -> None:
    engine = AlarmEngine(
        clock, EnginePolicy(correlation=(CorrelationGroup("link", frozenset({"link_down"}), frozenset({"link_up"})),))
    )
    engine.ingest(ev("r1", "link_down", S.MAJOR))
    assert engine.get(("r1", "link")) is not None
    engine.ingest(ev("r1", "link_up", S.WARNING))  # any severity: a clear type clears
    assert engine.get(("r1", "link")).state is AlarmState.RTNUN  # type: ignore[union-attr]


def test_repeated_event_id_counts_once(engine: AlarmEngine) -> None:
    engine.ingest(ev(id="e1"))
    assert engine.ingest(ev(id="e1")) is None
    assert engine.get(KEY).count == 1  # type: ignore[union-attr]
    assert engine.duplicates_dropped == 1


def test_clear_for_unknown_alarm_changes_nothing(engine: AlarmEngine) -> None:
    assert engine.ingest(ev(sev=S.CLEARED)) is None
    assert len(engine) == 0


def test_retained_replay_never_annunciates_and_is_idempotent(engine: AlarmEngine) -> None:
    change = engine.ingest(ev(retained=True))
    assert change is not None and change.replay and not change.annunciate
    assert engine.get(KEY).audible is False  # type: ignore[union-attr]
    assert engine.ingest(ev(retained=True)) is None  # the same retained picture again
    assert engine.get(KEY).count == 1  # type: ignore[union-attr]
    change = engine.ingest(ev(sev=S.CRITICAL))  # a live escalation does sound
    assert change is not None and change.annunciate


def test_chattering_flag_after_three_transitions_in_a_minute(engine: AlarmEngine, clock: ManualClock) -> None:
    engine.ingest(ev())
    clock.advance(10)
    engine.ingest(ev(sev=S.CLEARED))
    clock.advance(10)
    change = engine.ingest(ev())
    alarm = engine.get(KEY)
    assert alarm is not None and Flag.CHATTERING in alarm.flags
    assert change is not None and not change.annunciate  # chattering: no new sound per transition
    clock.advance(61)
    engine.tick()
    assert Flag.CHATTERING not in alarm.flags


def test_stale_after_24_hours(engine: AlarmEngine, clock: ManualClock) -> None:
    engine.ingest(ev())
    clock.advance(86_399)
    engine.tick()
    assert Flag.STALE not in engine.get(KEY).flags  # type: ignore[union-attr]
    clock.advance(11)
    engine.tick()
    assert Flag.STALE in engine.get(KEY).flags  # type: ignore[union-attr]


def test_counts_by_state_and_severity(engine: AlarmEngine) -> None:
    engine.ingest(ev("a", "t", S.CRITICAL))
    engine.ingest(ev("b", "t", S.MAJOR))
    engine.ingest(ev("c", "t", S.MINOR))
    engine.ack(("b", "t"))
    engine.shelve(("c", "t"), 60)
    c = engine.counts()
    assert c.active == 3 and c.unacked == 1 and c.shelved == 1
    assert c.by_severity == {"critical": 1, "major": 1, "minor": 1}
    assert c.by_state == {"UNACK": 1, "ACKED": 1, "SHLVD": 1}


def test_transition_history_does_not_grow_without_bound(engine: AlarmEngine, clock: ManualClock) -> None:
    for i in range(1000):
        engine.ingest(ev(f"n{i}"))
        engine.ingest(ev(f"n{i}", sev=S.CLEARED))
        engine.ack((f"n{i}", "link_down"))
    assert len(engine) == 0
    clock.advance(120)
    engine.tick()
    assert engine._transitions == {}  # nothing kept for alarms long gone
