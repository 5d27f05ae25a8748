"""The ranking that replaces a sort of every alarm per refresh must list exactly what a full sort would."""

from __future__ import annotations

import random

import pytest

from wallctl.core.alarms.alarm import AlarmState, list_order
from wallctl.core.alarms.engine import AlarmEngine, OperatorError
from wallctl.core.alarms.event import Event
from wallctl.core.alarms.ranking import CHUNK, Backlog, Ranking
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity

SEVERITIES = [Severity.WARNING, Severity.MINOR, Severity.MAJOR, Severity.CRITICAL, Severity.CLEARED]


@pytest.mark.parametrize("later", [False, True], ids=["placed at once", "placed later"])
def test_a_ranking_lists_what_a_full_sort_lists_through_random_changes(later: bool) -> None:
    """``later``: bulk changes wait on a backlog, caught up a chunk at a time between other changes (some of them
    to the very alarms still waiting), as the controller does after an ``ack_all`` has answered."""
    rnd = random.Random(7)
    backlog = Backlog() if later else None
    clock = ManualClock()
    engine = AlarmEngine(clock)

    def classify(a: object) -> str | bool | None:
        st = a.state  # type: ignore[attr-defined]
        if a.source.endswith("9"):  # type: ignore[attr-defined]
            return False  # not this ranking's
        return "shelved" if st is AlarmState.SHLVD else None

    ranking = Ranking(engine, list_order, classify, backlog=backlog)
    ranking.follow(lambda signal, slot: signal.connect(slot))
    for step in range(4000):
        if backlog is not None and rnd.random() < 0.3:
            backlog.step()
        clock.advance(rnd.random())
        key = (f"n{rnd.randrange(60):02d}", "t")
        op = rnd.random()
        try:
            if op < 0.55:
                engine.ingest(Event(key[0], key[1], rnd.choice(SEVERITIES), clock.now() - rnd.random() * 5))
            elif op < 0.58:  # a slice of ack_all: a run at the front of the order, cut out in one piece
                engine.ack_many(ranking.keys_before((True,))[: rnd.randrange(1, 8)])
            elif op < 0.6:  # keys from anywhere: removed one by one
                engine.ack_many([(f"n{rnd.randrange(60):02d}", "t") for _ in range(5)])
            elif op < 0.75:
                engine.ack(key)
            elif op < 0.85:
                engine.shelve(key, rnd.choice([1.0, 30.0]))
            elif op < 0.9:
                engine.unshelve(key)
            else:
                engine.tick()
        except OperatorError:
            pass
        if step % 50 == 0:
            while backlog is not None and backlog.step():
                pass
            assert ranking.behind == 0
            expected = sorted((a for a in engine if classify(a) is None), key=lambda a: (list_order(a), a.key))
            assert [a.key for a in ranking] == [a.key for a in expected]
            assert [a.key for a in ranking.first(5)] == [a.key for a in expected[:5]]
            assert ranking.set_aside["shelved"] == sum(1 for a in engine if classify(a) == "shelved")
            assert len(ranking) == len(expected)
            unacked = [a.key for a in expected if a.state in (AlarmState.UNACK, AlarmState.RTNUN)]
            assert ranking.keys_before((True,)) == unacked  # the block ack_all takes, read off the front
            states = engine.counts()  # the bulk path counts moves by kind, not per alarm: still every alarm
            assert states.unacked == sum(1 for a in engine if a.state in (AlarmState.UNACK, AlarmState.RTNUN))


def test_step_walks_the_rows_and_wraps() -> None:
    clock = ManualClock()
    engine = AlarmEngine(clock)
    ranking = Ranking(engine, list_order)
    engine.changed.connect(ranking.on_change)
    assert ranking.step(None, 1) is None
    for i, sev in enumerate([Severity.MINOR, Severity.CRITICAL, Severity.MAJOR]):
        engine.ingest(Event(f"n{i}", "t", sev, clock.now()))
    order = [a.key for a in ranking]
    assert order == [("n1", "t"), ("n2", "t"), ("n0", "t")]
    assert ranking.step(None, 1) == order[0] and ranking.step(None, -1) == order[-1]
    assert ranking.step(order[0], 1) == order[1]
    assert ranking.step(order[-1], 1) == order[0]  # wraps
    assert ranking.step(order[0], -1) == order[-1]


def test_the_oldest_unacknowledged_alarm_is_found_without_a_scan() -> None:
    rnd = random.Random(3)
    clock = ManualClock()
    engine = AlarmEngine(clock)
    for _ in range(3000):
        clock.advance(0.1)
        key = (f"n{rnd.randrange(80):02d}", "t")
        try:
            if rnd.random() < 0.7:
                engine.ingest(Event(key[0], key[1], rnd.choice(SEVERITIES), clock.now() - rnd.random() * 50))
            else:
                engine.ack(key)
        except OperatorError:
            pass
        expected = min((a.first for a in engine if a.state is AlarmState.UNACK), default=None)
        assert engine.oldest_unacked() == expected
    engine.ack_many([a.key for a in engine])
    assert engine.oldest_unacked() is None
    assert engine._unacked_heap == []  # emptied at once, not left for the next paint to pop


def test_compaction_after_a_bulk_ack_keeps_the_oldest_unacknowledged() -> None:
    """An ``ack_all`` while alarms keep arriving leaves the heap mostly stale; its closing slice compacts it."""
    clock = ManualClock()
    engine = AlarmEngine(clock)
    for i in range(3000):
        clock.advance(0.01)
        engine.ingest(Event(f"n{i}", "t", Severity.MINOR, clock.now()))
    keys = [a.key for a in engine]
    clock.advance(1)
    engine.ingest(Event("late", "t", Severity.MAJOR, clock.now()))  # raised while the action runs
    engine.ack_many(keys)
    assert len(engine._unacked_heap) > 3000  # stale entries left: one alarm is still unacknowledged
    engine.compact_unacked()
    assert len(engine._unacked_heap) == 1
    assert engine.oldest_unacked() == engine.get(("late", "t")).first  # type: ignore[union-attr]


def test_a_bulk_change_on_a_backlog_keeps_rows_current_in_their_old_place_until_caught_up() -> None:
    """What the wall shows between an ``ack_all``'s reply and the end of the re-ranking: every row in its former
    place, drawn as its alarm is now; then, a chunk at a time, the order a full sort gives."""
    clock = ManualClock()
    engine = AlarmEngine(clock)
    backlog = Backlog()
    ranking = Ranking(engine, list_order, backlog=backlog)
    ranking.follow(lambda signal, slot: signal.connect(slot))
    for i in range(3 * CHUNK):
        clock.advance(0.01)
        engine.ingest(Event(f"n{i:04d}", "t", Severity.MAJOR, clock.now()))
    clock.advance(1)
    engine.ingest(Event("acked-before", "t", Severity.CRITICAL, clock.now()))
    engine.ack(("acked-before", "t"))
    before = [a.key for a in ranking]
    assert before[-1] == ("acked-before", "t")  # acknowledged: after every unacknowledged alarm
    engine.ack_many(ranking.keys_before((True,)))
    assert ranking.behind == 3 * CHUNK and len(backlog) == 3 * CHUNK and backlog
    assert [a.key for a in ranking] == before  # the former places...
    assert all(a.state is AlarmState.ACKED for a in ranking)  # ...with what each alarm is now
    assert backlog.step() and ranking.behind == 2 * CHUNK  # one chunk per step
    while backlog.step():
        pass
    assert ranking.behind == 0 and not backlog
    assert ranking.first(1)[0].key == ("acked-before", "t")  # critical first, once all are acknowledged
    assert [a.key for a in ranking] == [a.key for a in sorted(engine, key=lambda a: (list_order(a), a.key))]


def test_a_closed_ranking_leaves_the_backlog() -> None:
    clock = ManualClock()
    engine = AlarmEngine(clock)
    backlog = Backlog()
    ranking = Ranking(engine, list_order, backlog=backlog)
    ranking.follow(lambda signal, slot: signal.connect(slot))
    engine.ingest(Event("n", "t", Severity.MAJOR, clock.now()))
    engine.ack_many([("n", "t")])
    assert backlog
    ranking.close()
    assert not backlog and ranking.behind == 0


def test_without_a_backlog_a_bulk_change_is_placed_at_once() -> None:
    """A ranking that no one catches up after (a tool's, a test's) stays in order by itself."""
    clock = ManualClock()
    engine = AlarmEngine(clock)
    ranking = Ranking(engine, list_order)
    ranking.follow(lambda signal, slot: signal.connect(slot))
    engine.ingest(Event("a", "t", Severity.MINOR, clock.now()))
    clock.advance(1)
    engine.ingest(Event("b", "t", Severity.MINOR, clock.now()))
    engine.ack_many([("b", "t")])
    assert ranking.behind == 0 and [a.key for a in ranking] == [("a", "t"), ("b", "t")]


def test_changes_are_placed_at_the_next_read_once_each() -> None:
    """During a flood an alarm changes several times between two reads of a list: it is placed once, as it is at
    the read (placing every change at once was a fifth of the controller's time)."""
    clock = ManualClock()
    engine = AlarmEngine(clock)
    ranked: list[tuple[str, str]] = []

    def key(a: object) -> tuple[object, ...]:
        ranked.append(a.key)  # type: ignore[attr-defined]
        return list_order(a)  # type: ignore[arg-type]

    ranking = Ranking(engine, key, tally=lambda a: a.source)
    ranking.follow(lambda signal, slot: signal.connect(slot))
    for sev in (Severity.MINOR, Severity.MAJOR, Severity.WARNING, Severity.CRITICAL):
        clock.advance(1)
        engine.ingest(Event("n1", "t", sev, clock.now()))
    engine.ingest(Event("n2", "t", Severity.MINOR, clock.now()))
    assert ranked == []  # nothing placed yet
    assert [a.key for a in ranking] == [("n1", "t"), ("n2", "t")]  # critical first: as it is now
    assert sorted(ranked) == [("n1", "t"), ("n2", "t")]  # once each
    engine.ingest(Event("n1", "t", Severity.CLEARED, clock.now()))
    engine.ack(("n1", "t"))  # acknowledged after it returned: it leaves the table
    assert ranking.tallies["n1"] == 0  # reading the tallies places it too
    assert ("n1", "t") not in ranking and len(ranking) == 1
