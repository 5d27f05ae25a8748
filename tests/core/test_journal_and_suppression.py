"""Journal round trips, the audit log, topology-aware suppression on the shipped estate, flood and first-out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from wallctl.controller.journal import AuditEntry, Journal
from wallctl.core.alarms.alarm import AlarmState, Flag
from wallctl.core.alarms.dominance import DominatorIndex
from wallctl.core.alarms.engine import AlarmEngine, EnginePolicy
from wallctl.core.alarms.event import Event
from wallctl.core.alarms.flood import FloodPolicy
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity
from wallctl.core.topology.files import load_topology

ROOT = Path(__file__).resolve().parents[2]
S = Severity


def journaled(tmp_path: Path, clock: ManualClock) -> tuple[AlarmEngine, Journal]:
    j = Journal(tmp_path / "j.sqlite3")
    e = AlarmEngine(clock)
    e.changed.connect(lambda c: j.mark(c.key, e.get(c.key)))
    return e, j


def test_journal_restores_the_picture_with_acks(tmp_path: Path) -> None:
    clock = ManualClock()
    e, j = journaled(tmp_path, clock)
    e.ingest(Event("a", "t", S.CRITICAL, 1.0, category="network", text="x", id="i1"))
    j.seen("i1")
    e.ingest(Event("b", "t", S.MAJOR, 2.0))
    e.ack(("b", "t"))
    e.ingest(Event("c", "t", S.MINOR, 3.0))
    e.shelve(("c", "t"), 600)
    e.ingest(Event("d", "t", S.MINOR, 3.0))
    e.ingest(Event("d", "t", S.CLEARED, 4.0))
    e.ingest(Event("b2", "t", S.MAJOR, 2.0))
    e.ack(("b2", "t"))
    e.ingest(Event("b2", "t", S.CLEARED, 5.0))  # acked + cleared = gone
    j.flush()
    j.close()
    j2 = Journal(tmp_path / "j.sqlite3")
    e2 = AlarmEngine(clock)
    e2.restore(j2.load_alarms(), j2.load_seen_ids())
    assert {a.key: a.state for a in e2} == {
        ("a", "t"): AlarmState.UNACK,
        ("b", "t"): AlarmState.ACKED,
        ("c", "t"): AlarmState.SHLVD,
        ("d", "t"): AlarmState.RTNUN,
    }
    assert e2.counts() == e.counts()
    assert e2.ingest(Event("a", "t", S.CRITICAL, 9.0, id="i1")) is None  # redelivery after restart: dropped
    clock.advance(601)
    e2.tick()
    assert e2.get(("c", "t")).state is AlarmState.UNACK  # type: ignore[union-attr]  # the shelf timer survived


def test_a_row_orjson_cannot_write_is_written_as_before(tmp_path: Path) -> None:
    """Rows are encoded with orjson; an attribute it refuses (an integer beyond 64 bits) falls back to the
    standard library instead of losing the alarm."""
    from types import MappingProxyType

    clock = ManualClock()
    e, j = journaled(tmp_path, clock)
    attrs = MappingProxyType({"big": 2**70, "note": "ünïcode ✓", "nested": {"list": [1, 2.5, None]}})
    e.ingest(Event("a", "t", S.MAJOR, 1.0, text="x", attributes=attrs))
    e.ingest(Event("b", "t", S.MINOR, 2.0, attributes=MappingProxyType({"k": 1.5e300})))
    j.flush()
    assert j.dropped_rows == 0
    j.close()
    j2 = Journal(tmp_path / "j.sqlite3")
    restored = {a.key: dict(a.attributes) for a in j2.load_alarms()}
    assert restored == {("a", "t"): dict(attrs), ("b", "t"): {"k": 1.5e300}}


def test_journal_is_sqlite_wal(tmp_path: Path) -> None:
    Journal(tmp_path / "j.sqlite3")
    mode = sqlite3.connect(tmp_path / "j.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_audit_log_is_append_only_and_pruned(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3", retention_days=1)
    j.audit(AuditEntry(0.0, "hotkey", "desk1", "ack", {"source": "a"}, True, None))
    j.audit(AuditEntry(100_000.0, "mqtt", "nms", "shelve", {"source": "b"}, False, "no active alarm b/t"))
    log = j.audit_log()
    assert [(a.origin, a.action, a.ok) for a in log] == [("hotkey", "ack", True), ("mqtt", "shelve", False)]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        j._db.execute("UPDATE audit SET ok = 1")
    assert j.prune(100_000.0 + 3600) == 1
    assert [a.action for a in j.audit_log()] == ["shelve"]


@pytest.fixture(scope="module")
def estate_index() -> DominatorIndex:
    topo = load_topology(ROOT / "topology" / "estate.yaml")
    return DominatorIndex(topo.graph, "dc1-core-1")


def test_dominated_nodes_on_the_estate(estate_index: DominatorIndex) -> None:
    assert estate_index.dominated("br05-rtr") == {"br05-fw", "br05-sw", "br05-srv", "br05-ups"}
    assert estate_index.dominated("dc1-core-2") == set()  # redundant cores: nothing depends on one alone
    assert "br05-rtr" in estate_index.dominated("mpls")


def test_children_of_a_failed_node_are_consequences_and_come_back(estate_index: DominatorIndex) -> None:
    clock = ManualClock()
    e = AlarmEngine(clock, dominators=estate_index)
    e.ingest(Event("br05-sw", "unreachable", S.MAJOR, 0))  # before the cause: a problem of its own, for now
    assert e.get(("br05-sw", "unreachable")).cause is None  # type: ignore[union-attr]
    e.ingest(Event("br05-rtr", "node_down", S.CRITICAL, 0))
    e.ingest(Event("br05-srv", "service_down", S.MAJOR, 0))
    sw, srv = e.get(("br05-sw", "unreachable")), e.get(("br05-srv", "service_down"))
    assert sw is not None and srv is not None
    assert sw.cause == ("br05-rtr", "node_down") and srv.cause == ("br05-rtr", "node_down")
    assert Flag.CONSEQUENCE.value in sw.to_contract()["flags"]
    assert sw.to_contract()["cause"] == ["br05-rtr", "node_down"]
    assert {a.source for a in e.consequences_of(("br05-rtr", "node_down"))} == {"br05-sw", "br05-srv"}
    e.ingest(Event("dc1-app-01", "down", S.MAJOR, 0))  # elsewhere: not a consequence
    assert e.get(("dc1-app-01", "down")).cause is None  # type: ignore[union-attr]
    changes = []
    e.changed.connect(changes.append)
    e.ingest(Event("br05-rtr", "node_down", S.CLEARED, 0))
    assert sw.cause is None  # back as itself
    assert srv.cause == ("br05-sw", "unreachable")  # the switch is still unreachable: now it is the cause
    back = [c for c in changes if c.key == ("br05-sw", "unreachable")]
    assert back and back[-1].annunciate  # still unacknowledged: now a problem to chase


def test_top_most_down_node_is_the_cause(estate_index: DominatorIndex) -> None:
    e = AlarmEngine(ManualClock(), dominators=estate_index)
    e.ingest(Event("mpls", "node_down", S.CRITICAL, 0))
    e.ingest(Event("br05-rtr", "node_down", S.CRITICAL, 0))
    e.ingest(Event("br05-sw", "unreachable", S.MAJOR, 0))
    assert e.get(("br05-sw", "unreachable")).cause == ("mpls", "node_down")  # type: ignore[union-attr]
    assert e.get(("br05-rtr", "node_down")).cause == ("mpls", "node_down")  # type: ignore[union-attr]


def test_flood_starts_above_10_ends_below_5_and_marks_first_out() -> None:
    clock = ManualClock()
    e = AlarmEngine(clock, EnginePolicy(flood=FloodPolicy()))
    edges: list[bool] = []
    e.flood_changed.connect(edges.append)
    for i in range(10):
        e.ingest(Event(f"n{i}", "t", S.MINOR, 0))
        clock.advance(30)
    assert not e.flood.active  # 10 in 10 minutes is not above 10
    e.ingest(Event("n10", "t", S.MINOR, 0))
    assert e.flood.active and edges == [True]
    assert Flag.FIRST_OUT in e.get(("n0", "t")).flags  # type: ignore[union-attr]
    assert Flag.FIRST_OUT not in e.get(("n1", "t")).flags  # type: ignore[union-attr]
    clock.advance(511)  # the last 10 minutes now hold only the alarms of t=240, 270 and 300: fewer than 5
    e.tick()
    assert e.flood.rate(clock.now()) < 5 and not e.flood.active and edges == [True, False]


def test_lone_alarm_is_not_first_out() -> None:
    clock = ManualClock()
    e = AlarmEngine(clock)
    e.ingest(Event("a", "t", S.MINOR, 0))
    clock.advance(120)
    e.ingest(Event("b", "t", S.MINOR, 0))
    assert not any(Flag.FIRST_OUT in a.flags for a in e)


def test_rate_series_counts_new_alarms_per_window() -> None:
    clock = ManualClock(start=6000.0)
    e = AlarmEngine(clock)
    for i in range(4):
        e.ingest(Event(f"n{i}", "t", S.MINOR, 0))
    clock.advance(60)
    xs, ys = e.flood.rate_series(clock.now(), 0.5)
    assert ys[-1] == 4 and ys[0] == 0 and len(xs) == 31


def test_a_non_down_alarm_on_a_node_says_why_it_groups_nothing(estate_index: DominatorIndex) -> None:
    e = AlarmEngine(ManualClock(), dominators=estate_index)
    e.ingest(Event("br03-rtr", "link_down", S.CRITICAL, 0))
    e.ingest(Event("br03-fw", "unreachable", S.MAJOR, 0))
    fw, rtr = e.get(("br03-fw", "unreachable")), e.get(("br03-rtr", "link_down"))
    assert fw is not None and rtr is not None and fw.cause is None
    note = rtr.to_contract()["note"]
    assert note is not None and note.startswith("not grouped: link_down is not a down type")
    assert "engine.down_types" in note
    e.ingest(Event("br03-sw", "node_down", S.CRITICAL, 0))  # a down type: it leads, no note needed
    assert e.get(("br03-sw", "node_down")).to_contract()["note"] is None  # type: ignore[union-attr]
    e.ingest(Event("br03-srv", "cpu_high", S.CRITICAL, 0))  # a leaf: nothing behind it to group
    assert e.get(("br03-srv", "cpu_high")).to_contract()["note"] is None  # type: ignore[union-attr]
