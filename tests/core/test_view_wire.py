"""The display wire: what the controller encodes, a display decodes to the same rows, numbers and map states; the
rows a list sends are bounded whatever the number of alarms."""

from __future__ import annotations

import json

from tests.support.wall import ROOT
from wallctl.core.alarms.alarm import AlarmState, Flag
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity
from wallctl.core.topology.files import load_topology
from wallctl.core.topology.state import TopologyState
from wallctl.core.view.rows import list_ranking, list_rows
from wallctl.core.wire.view import (
    VIEW_ROWS,
    decode_map,
    decode_picture,
    decode_rows,
    encode_map,
    encode_picture,
    encode_rows,
    list_id,
)


def over_the_wire(body: dict[str, object]) -> dict[str, object]:
    return json.loads(json.dumps(body, allow_nan=False))  # type: ignore[no-any-return]


def engine_with_alarms(n: int) -> tuple[ManualClock, AlarmEngine]:
    clock = ManualClock(1.8e9)
    engine = AlarmEngine(clock)
    for i in range(n):
        clock.advance(0.01)
        sev = (Severity.MINOR, Severity.MAJOR, Severity.CRITICAL)[i % 3]
        engine.ingest(Event(f"n{i}", "t", sev, clock.now(), category=("system", "network")[i % 2], text=f"#{i}"))
    return clock, engine


def test_rows_arrive_as_they_were_listed_and_are_bounded() -> None:
    clock, engine = engine_with_alarms(500)
    engine.ack(("n3", "t"))
    engine.shelve(("n4", "t"), 60)
    ranking = list_ranking(engine, "priority", None, None)
    ranking.follow(lambda sig, slot: sig.connect(slot))
    listed = list_rows(ranking, engine, VIEW_ROWS)
    got = decode_rows(over_the_wire(encode_rows(listed, seq=7, now=clock.now(), list_name="x")))
    assert got.seq == 7 and got.total == 499 and got.hidden == {"shelved": 1, "suppressed": 0}
    assert len(got.rows) == VIEW_ROWS  # 100 rows, not 500
    assert sum(n for _, n in got.beyond) == 499 - VIEW_ROWS
    for (a, depth), (r, rdepth) in zip(listed.rows, got.rows, strict=True):
        assert (r.key, r.severity, r.peak, r.state, r.count, r.text, r.category, r.cause, rdepth) == (
            a.key,
            a.severity,
            a.peak,
            a.state,
            a.count,
            a.text,
            a.category,
            a.cause,
            depth,
        )
        assert abs(r.last - a.last) < 1e-3 and r.flags == frozenset(a.flags)
    assert got.rows[0][0].peak is Severity.CRITICAL and got.rows[0][0].state is AlarmState.UNACK


def test_the_picture_and_the_map_arrive_whole() -> None:
    topo = load_topology(ROOT / "topology" / "estate.yaml")
    clock = ManualClock(1.8e9)
    engine = AlarmEngine(clock)
    state = TopologyState(topo, engine)
    node = next(iter(topo.graph.nodes))
    engine.ingest(Event(node, "node_down", Severity.CRITICAL, clock.now(), category="network"))
    engine.ingest(Event("elsewhere", "cpu_high", Severity.MINOR, clock.now(), category="system"))
    engine.shelve(("elsewhere", "cpu_high"), 60)
    pic = decode_picture(
        over_the_wire(
            encode_picture(
                engine.counts(),
                dict(engine.set_aside_by_severity()),
                engine.oldest_unacked(),
                engine.flood.active,
                engine.flood.per_minute,
                seq=1,
                now=clock.now(),
            )
        )
    )
    assert pic.counts == engine.counts()
    assert pic.set_aside == {Severity.MINOR: 1} and pic.oldest_unacked == engine.oldest_unacked()
    assert sum(pic.per_minute.values()) == 2
    got = decode_map(over_the_wire(encode_map(state, seq=2, now=clock.now(), name="estate")))
    assert got.nodes == state.nodes and got.links == state.links
    assert got.nodes[node].severity is Severity.CRITICAL and got.nodes[node].unacked
    assert len(got.nodes) < len(topo.graph)  # normal nodes are not sent


def test_a_list_is_named_by_what_it_shows() -> None:
    assert list_id("priority", None, True) == list_id("priority", None, True)
    assert list_id("priority", None, True) != list_id("time", None, True)
    assert len({list_id(s, None, g) for s in ("priority", "time", "state") for g in (True, False)}) == 6
    assert Flag.FIRST_OUT.value == "first_out"  # the flag names are the contract's


def test_rows_carry_the_site_and_the_incident_and_old_rows_still_read() -> None:
    from wallctl.core.alarms.engine import AlarmEngine
    from wallctl.core.alarms.event import Event
    from wallctl.core.clock import ManualClock
    from wallctl.core.severity import Severity
    from wallctl.core.view.rows import RankedFeed, row_notes
    from wallctl.core.wire.view import decode_rows, encode_rows

    clock = ManualClock()
    engine = AlarmEngine(clock)
    feed = RankedFeed(engine)
    engine.ingest(Event("br05-rtr", "node_down", Severity.CRITICAL, clock.now(), site="chengdu"))
    ticket = {"id": "INC-7", "owner": "alice", "status": "open"}
    body = encode_rows(feed.rows(), seq=1, now=clock.now(), list_name="l", incident_of=lambda _a: ticket)
    ((row, _depth),) = decode_rows(body).listed().rows
    assert row.site == "chengdu" and row.incident == ticket  # type: ignore[attr-defined]
    assert row_notes(row) == "  · site chengdu  · INC-7 open (alice)"
    body["rows"] = [r[:13] for r in body["rows"]]  # a controller from before these fields
    ((old, _depth),) = decode_rows(body).listed().rows
    assert old.site is None and old.incident is None and row_notes(old) == ""  # type: ignore[attr-defined]
