"""The journal under faults, on real files: a full disk (tmpfs), a corrupt or empty file, a read-only folder, a
row that cannot be stored, a second writer. Nothing acknowledged may be lost, and the journal says how it is."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.support.tmpfs import fill, remount, tmpfs
from wallctl.controller.journal import AuditEntry, Journal, JournalStatus
from wallctl.controller.journal_files import JournalLocked
from wallctl.core.alarms.alarm import AlarmState
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity

S = Severity


def engine_on(j: Journal, clock: ManualClock) -> AlarmEngine:
    e = AlarmEngine(clock)
    e.changed.connect(lambda c: j.mark(c.key, e.get(c.key)))
    return e


def raise_n(e: AlarmEngine, n: int, prefix: str = "src", text: str = "") -> None:
    for i in range(n):
        e.ingest(Event(f"{prefix}{i:05d}", "t", S.MAJOR, 1.0, text=text))


def flush_until_ok(j: Journal, tries: int = 200) -> None:
    for _ in range(tries):  # the back-off skips flushes; the caller's cadence is 100 ms
        j.flush()
        if j.status is JournalStatus.OK and j.pending == 0:
            return
    raise AssertionError(f"journal still {j.status} ({j.reason}), {j.pending} pending")


def restored(path: Path) -> set[tuple[str, str]]:
    j = Journal(path)
    try:
        return {a.key for a in j.load_alarms()}
    finally:
        j.close()


def test_full_disk_keeps_the_batch_pending_and_loses_nothing_once_space_is_back(tmp_path: Path) -> None:
    clock = ManualClock()
    with tmpfs(tmp_path / "disk", 2048) as disk:
        j = Journal(disk / "journal.sqlite3")
        e = engine_on(j, clock)
        raise_n(e, 50, "before")
        flush_until_ok(j)
        filler = fill(disk, leave_kib=8)
        raise_n(e, 3000, "during", text="x" * 200)  # ~1 MB of rows: cannot fit
        j.flush()
        assert j.status is JournalStatus.FAILING
        assert "full" in (j.reason or "")
        assert j.pending >= 3000  # nothing dropped: the whole batch waits
        j.audit(AuditEntry(clock.now(), "mqtt", "op", "ack_all", {}, True, None))  # never raises, queued
        filler.unlink()
        flush_until_ok(j)
        j.close()
        keys = restored(disk / "journal.sqlite3")
        assert len(keys) == 3050
        j = Journal(disk / "journal.sqlite3")
        assert [a.action for a in j.audit_log()] == ["ack_all"]
        j.close()


def test_a_row_that_cannot_be_stored_costs_only_itself(tmp_path: Path) -> None:
    clock = ManualClock()
    j = Journal(tmp_path / "j.sqlite3")
    e = engine_on(j, clock)
    raise_n(e, 20, "good-a")
    e.ingest(Event("bad\ud800src", "t", S.CRITICAL, 1.0))  # a lone surrogate: SQLite cannot store it
    raise_n(e, 20, "good-b")
    j.seen("id-\udfff")
    j.seen("fine-id")
    j.flush()
    assert j.status is JournalStatus.OK
    assert j.pending == 0
    assert j.dropped_rows == 1  # the key; the bad id is skipped quietly
    raise_n(e, 1, "later")
    j.flush()  # and the journal stays writable
    j.close()
    keys = restored(tmp_path / "j.sqlite3")
    assert len(keys) == 41
    assert ("bad\ud800src", "t") not in keys


@pytest.mark.parametrize("damage", ["random", "truncated"])
def test_a_corrupt_journal_is_moved_aside_and_the_wall_starts(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "journal.sqlite3"
    j = Journal(path)
    e = engine_on(j, ManualClock())
    raise_n(e, 2000, text="y" * 100)
    j.flush()
    j.close()
    data = path.read_bytes()
    if damage == "random":
        path.write_bytes(os.urandom(len(data)))
    else:
        path.write_bytes(data[: len(data) // 3])
    damaged = path.read_bytes()
    j = Journal(path)
    assert j.status is JournalStatus.OK
    assert j.load_alarms() == []
    assert any("moved aside" in n for n in j.notices), j.notices
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1
    assert aside[0].read_bytes() == damaged  # kept as it was, for whoever investigates
    e = engine_on(j, ManualClock())
    raise_n(e, 3)
    j.flush()
    j.close()
    assert len(restored(path)) == 3


def test_an_empty_journal_file_is_said(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"")
    j = Journal(path)
    assert j.status is JournalStatus.OK
    assert any("empty file" in n for n in j.notices)
    j.close()


def test_an_unwritable_folder_runs_without_persistence_until_it_is_writable(tmp_path: Path) -> None:
    clock = ManualClock()
    with tmpfs(tmp_path / "ro", 1024, read_only=True) as folder:
        j = Journal(folder / "journal.sqlite3")
        assert j.status is JournalStatus.OFF
        assert "read-only" in (j.reason or "").lower() or "cannot" in (j.reason or "")
        e = engine_on(j, clock)
        raise_n(e, 30)
        e.ack(("src00003", "t"))
        j.flush()
        assert j.status is JournalStatus.OFF
        remount(folder, read_only=False)
        flush_until_ok(j, tries=2000)
        j.close()
        j2 = Journal(folder / "journal.sqlite3")
        alarms = {a.key: a for a in j2.load_alarms()}
        j2.close()
        assert len(alarms) == 30
        assert alarms[("src00003", "t")].state is AlarmState.ACKED


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    with pytest.raises(JournalLocked, match=rf"in use by process {os.getpid()}"):
        Journal(tmp_path / "j.sqlite3")
    j.close()
    Journal(tmp_path / "j.sqlite3").close()  # free again once the first is closed


def test_an_old_journal_without_fingerprints_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE seen_ids (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT INTO seen_ids VALUES ('old-1', 1);"
    )
    db.close()
    j = Journal(path)
    assert j.load_seen_ids() == [("old-1", None)]
    j.seen("new-1", 1234)
    j.flush()
    assert j.load_seen_ids() == [("old-1", None), ("new-1", 1234)]
    j.close()


def test_a_large_batch_is_committed_in_bounded_slices(tmp_path: Path) -> None:
    from wallctl.controller.journal import MAX_ROWS_PER_COMMIT

    j = Journal(tmp_path / "j.sqlite3")
    e = engine_on(j, ManualClock())
    n = int(MAX_ROWS_PER_COMMIT * 2.5)
    raise_n(e, n)
    assert j.flush() == MAX_ROWS_PER_COMMIT  # one slice: a flush never freezes the wall for the whole batch
    assert j.pending == n - MAX_ROWS_PER_COMMIT and j.status is JournalStatus.OK
    j.flush()
    j.flush()
    assert j.pending == 0
    j.close()
    assert len(restored(tmp_path / "j.sqlite3")) == n
