"""The journal's history (issue 19): one row per transition, written with the alarm rows' batches, with the
priority the sound map annunciated it with; an old journal gains the table; a bad row never blocks the batch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.core.test_service import Sink, cmd
from tests.support.wall import write_config
from wallctl.controller import journal as journal_mod
from wallctl.controller.build import build_core
from wallctl.controller.journal import Journal
from wallctl.controller.service import WallService
from wallctl.core.alarms.engine import MaintenanceWindow
from wallctl.core.alarms.event import Event
from wallctl.core.alarms.match import AlarmMatch
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.severity import Severity

S = Severity


def make(tmp_path: Path) -> tuple[WallService, ManualClock, Journal]:
    clock = ManualClock()
    core = build_core(load_config(write_config(tmp_path)), clock=clock, sink=Sink())
    core.service.set_link("connected")
    assert core.journal is not None
    return core.service, clock, core.journal


def history(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT time, source, type, kind, severity, priority, site FROM history ORDER BY rowid"
        ).fetchall()
    finally:
        db.close()


def test_transitions_become_history_rows_with_their_priority(tmp_path: Path) -> None:
    s, clock, j = make(tmp_path)
    t0 = clock.now()
    s.ingest(Event("dc1-app-01", "cpu_high", S.CRITICAL, t0, category="system"))
    alarm = s.engine.get(("dc1-app-01", "cpu_high"))
    assert alarm is not None
    ann = s.annunciator.soundmap.resolve(alarm)
    assert ann is not None
    clock.advance(5)
    assert cmd(s, '{"action": "ack", "source": "dc1-app-01", "type": "cpu_high"}') is None
    clock.advance(5)
    cmd(s, '{"action": "shelve", "source": "dc1-app-01", "type": "cpu_high", "seconds": 60}')
    clock.advance(5)
    cmd(s, '{"action": "unshelve", "source": "dc1-app-01", "type": "cpu_high"}')
    clock.advance(5)
    s.ingest(Event("dc1-app-01", "cpu_high", S.CLEARED, clock.now(), category="system"))
    s.ingest(Event("dc1-app-01", "cpu_high", S.CRITICAL, clock.now(), category="system"))  # the same again: no row
    s.flush_journal()
    rows = history(j.path)
    kinds = [(r[0] - t0, r[3], r[5]) for r in rows if r[1] == "dc1-app-01"]
    assert kinds[:5] == [
        (0.0, "raise", ann.sound.priority),
        (5.0, "ack", None),
        (10.0, "shelve", None),
        (15.0, "unshelve", None),
        (20.0, "clear", None),
    ]
    assert rows[0][4] == int(S.CRITICAL)


def test_a_bulk_acknowledgement_is_one_row_per_alarm(tmp_path: Path) -> None:
    s, clock, j = make(tmp_path)
    for i in range(1200):
        s.ingest(Event(f"n{i}", "down", S.MINOR, clock.now()))
    s.flush_journal()
    clock.advance(1)
    done = s.engine.ack_many([(f"n{i}", "down") for i in range(1200)])
    assert len(done) == 1200
    while j.pending:
        s.flush_journal()
    acks = [r for r in history(j.path) if r[3] == "ack"]
    assert len(acks) == 1200 and {r[0] for r in acks} == {clock.now()}


def test_a_suppressed_new_alarm_says_so(tmp_path: Path) -> None:
    s, clock, j = make(tmp_path)
    s.engine.add_maintenance(MaintenanceWindow(AlarmMatch(sources=("m1",)), clock.now() - 1, clock.now() + 60))
    s.ingest(Event("m1", "disk", S.MAJOR, clock.now()))
    s.flush_journal()
    assert [(r[3], r[5]) for r in history(j.path) if r[1] == "m1"] == [("raise", None), ("suppress", None)]


def test_an_existing_journal_gains_the_history_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE alarms (source TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (source, type))"
        " WITHOUT ROWID; CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "INSERT INTO meta VALUES ('pin', 'null');"
    )
    db.close()
    j = Journal(path)
    j.record([(1.0, "a", "t", "raise", 3, "low", None)])
    j.flush()
    j.close()
    assert history(path) == [(1.0, "a", "t", "raise", 3, "low", None)]
    assert sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'pin'").fetchone() == ("null",)


def test_history_is_bounded_per_commit_and_a_bad_row_goes_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_mod, "MAX_ROWS_PER_COMMIT", 100)
    j = Journal(tmp_path / "j.sqlite3")
    j.record([(float(i), f"s{i}", "t", "raise", 3, None, None) for i in range(250)])
    j.record([(300.0, "bad\udcff", "t", "raise", 3, None, None)])
    j.flush()
    assert len(history(j.path)) == 100 and j.pending == 151
    j.flush()
    j.flush()
    assert len(history(j.path)) == 250 and j.pending == 0 and j.dropped_rows == 1


def test_history_is_pruned_with_the_audit_log(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3", retention_days=1)
    j.record([(0.0, "old", "t", "raise", 3, None, None), (100_000.0, "new", "t", "raise", 3, None, None)])
    j.flush()
    assert j.prune(100_000.0 + 3600) == 1
    assert [r[1] for r in history(j.path)] == ["new"]
