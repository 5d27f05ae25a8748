"""The hot-standby election on a manual clock: never two active that see each other, never none for longer than a
grace, a returning controller does not take the wall back, the sound follows the role."""

from __future__ import annotations

from pathlib import Path

from wallctl.controller.standby import CLAIM_GRACE_S, SETTLE_S, Election, GatedSink
from wallctl.core.clock import ManualClock
from wallctl.core.sound.annunciator import NullSink
from wallctl.core.sound.soundmap import Sound


def entry(role: str, status: str = "online", since: float = 0.0, preference: str = "primary") -> dict[str, object]:
    return {"role": role, "status": status, "since": since, "preference": preference}


def up(e: Election, clock: ManualClock) -> None:
    e.on_link(True)
    clock.advance(SETTLE_S + 0.01)
    e.decide()


def test_alone_it_claims_the_wall_once_the_retained_entries_had_time_to_arrive() -> None:
    clock = ManualClock()
    e = Election("a", "primary", clock)
    changes: list[bool] = []
    e.changed.connect(changes.append)
    e.on_link(True)
    e.decide()
    assert not e.active  # not before the others' retained entries can have arrived
    clock.advance(SETTLE_S + 0.01)
    e.decide()
    assert e.active and changes == [True]
    assert e.entry()["role"] == "active" and e.summary() == {"a": "active"}


def test_a_standby_leaves_a_vacant_wall_to_the_primary_but_not_for_ever() -> None:
    clock = ManualClock()
    b = Election("b", "standby", clock)
    b.on_peer("a", entry("standby", preference="primary"))  # the primary is up but has not claimed yet
    up(b, clock)
    assert not b.active
    clock.advance(CLAIM_GRACE_S / 2)
    b.on_peer("a", entry("active", since=clock.now()))  # it claims in time
    clock.advance(CLAIM_GRACE_S)
    b.decide()
    assert not b.active
    b.on_peer("a", entry("standby", status="offline"))  # killed: its will
    assert b.active  # no better candidate online: at once


def test_a_primary_that_never_claims_does_not_leave_the_wall_without_a_controller() -> None:
    clock = ManualClock()
    b = Election("b", "standby", clock)
    b.on_peer("a", entry("standby", preference="primary"))
    up(b, clock)
    assert not b.active
    clock.advance(CLAIM_GRACE_S + 0.01)
    b.decide()
    assert b.active


def test_a_controller_off_the_broker_is_never_active_and_comes_back_as_standby() -> None:
    clock = ManualClock()
    a = Election("a", "primary", clock)
    up(a, clock)
    assert a.active
    a.on_link(False)
    assert not a.active  # partitioned: it cannot publish and must not sound on its own
    clock.advance(5)
    a.on_peer("b", entry("active", since=clock.now(), preference="standby"))  # b took over meanwhile
    up(a, clock)
    clock.advance(10)
    a.decide()
    assert not a.active and a.summary() == {"a": "standby", "b": "active"}


def test_of_two_actives_that_see_each_other_the_one_active_longer_keeps_the_wall() -> None:
    clock = ManualClock()
    a = Election("a", "primary", clock)
    up(a, clock)
    assert a.active
    a.on_peer("b", entry("active", since=a.since + 5))  # b claimed later (a split brain that healed)
    assert a.active
    a.on_peer("b", entry("active", since=a.since - 5))  # b has been active longer
    assert not a.active


def test_the_horn_sounds_only_from_the_active_controller() -> None:
    clock = ManualClock()
    e = Election("a", "primary", clock)
    real = NullSink()
    sink = GatedSink(real, lambda: e.active)
    horn = Sound(name="critical", path=Path("critical.wav"), priority="high")
    sink.play(horn, 1.0)
    assert real.played == []
    up(e, clock)
    sink.play(horn, 1.0)
    assert real.played == ["critical"]


def test_after_a_cut_nothing_stale_decides_the_role() -> None:
    clock = ManualClock()
    a = Election("a", "primary", clock)
    a.on_peer("b", entry("standby", preference="standby"))  # what a knew before it was cut off
    up(a, clock)
    assert a.active
    a.on_link(False)
    clock.advance(5)  # meanwhile b took over; a's presence connection comes back
    a.forget_peers()
    a.on_link(True)
    assert not a.active  # it waits for the retained entries ...
    a.on_peer("b", entry("active", since=clock.now() - 4, preference="standby"))
    clock.advance(SETTLE_S + CLAIM_GRACE_S)
    a.decide()
    assert not a.active  # ... and finds b active: no fight
