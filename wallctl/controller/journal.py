"""The journal: alarm state, seen event ids, settings (pin, silence, flood, state seq) and the audit log in SQLite.

Alarm changes are written in batches (the caller flushes every ~100 ms and at shutdown); MQTT QoS 1 messages
are acknowledged to the broker only after the flush that holds their effect has committed, so a kill -9 loses
nothing: what was not committed is delivered again. A batch stays pending until its transaction commits: a full
disk or an I/O error makes the journal ``failing`` (shown, retried with back-off) and nothing is dropped; one row
that cannot be stored is dropped alone and reported, never the batch. The audit log is append-only and written
at once, or queued for the next good flush when the disk fails (a command's reply never waits for it).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from wallctl.controller.history import storable_rows
from wallctl.controller.journal_files import JournalLock, check_readable, lock_journal, move_aside
from wallctl.controller.journal_rows import (
    AUDIT_INSERT,
    HISTORY_INSERT,
    SCHEMA,
    AuditEntry,
    HistoryTuple,
    alarm_from_json,
    alarm_to_json,
    audit_row,
    storable,
)
from wallctl.core.alarms.alarm import Alarm
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.signal import Signal

log = logging.getLogger("wallctl.journal")


class JournalPart(Protocol):
    """Another module's rows in the journal's file, committed with the journal's batches (the outbox)."""

    schema: str  # CREATE TABLE IF NOT EXISTS ...: run at every opening

    def load(self, db: sqlite3.Connection) -> None: ...

    def pending(self) -> int: ...

    def write(self, db: sqlite3.Connection) -> None:
        """Inside the commit's transaction; called again with the rest if the commit fails."""
        ...

    def committed(self) -> None: ...


class CorruptJournal(sqlite3.DatabaseError):
    """SQLite's quick check found damaged pages."""


class JournalStatus(StrEnum):
    OK = "ok"
    FAILING = "failing"  # open, but commits fail (disk full, I/O error): retried with back-off, nothing dropped
    OFF = "off"  # cannot be opened (unwritable folder): the wall runs without persistence until it can


MAX_BACKOFF_FLUSHES = 50  # at the caller's 100 ms cadence: a failing disk is tried again at least every 5 s
MAX_QUEUED_AUDIT = 10_000
MAX_QUEUED_HISTORY = 500_000  # transitions kept while the disk fails (~60 MB); beyond, the oldest are dropped
MAX_ROWS_PER_COMMIT = 5_000  # ~30 ms of SQLite work: a flush and an ack_all slice stay under 100 ms together


class Journal:
    """The SQLite journal with its health: ``status`` is ok, failing or off, ``reason`` says why."""

    def __init__(
        self,
        path: str | Path,
        *,
        retention_days: float = 400.0,
        remembered_ids: int = 100_000,
        lock: bool = True,
    ) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.remembered_ids = remembered_ids
        self.status = JournalStatus.OK
        self.reason: str | None = None
        self.notices: list[str] = []  # said once at start: a corrupt file moved aside, an empty file, bad rows
        self.status_changed: Signal[[]] = Signal("journal status change")
        self.dropped_rows = 0  # rows that could not be stored (reported, never blocking the rest)
        self.flushes = 0
        self._memory = str(path) == ":memory:"
        self._want_lock = lock and not self._memory
        self._lock: JournalLock | None = None
        self._db: sqlite3.Connection | None = None
        self._dirty: dict[AlarmKey, Alarm | None] = {}
        self._new_ids: list[tuple[str, int | None]] = []
        self._meta: dict[str, str] = {}
        self._audit_queue: list[AuditEntry] = []
        self._history: list[HistoryTuple] = []  # transitions for wallctl report (wallctl.controller.history)
        self._wipe = False  # the next commit replaces the whole alarm table (after running without a journal)
        self._failures = 0
        self._skip = 0
        self._seq = 0
        self._closed = False
        self._closing = False  # the last flush writes everything, whatever its size
        self.parts: list[JournalPart] = []  # other modules' tables, written in the same commits (the outbox)
        self._open(first=True)

    def attach(self, part: JournalPart) -> None:
        """Give ``part`` its tables in this file now and at every reopening, its rows, and a place in each commit."""
        self.parts.append(part)
        if self._db is not None:
            self._db.executescript(part.schema)
            part.load(self._db)

    # ---------------------------------------------------------------- opening
    def _open(self, *, first: bool) -> None:
        try:
            if not self._memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if self._want_lock and self._lock is None:
                    self._lock = lock_journal(self.path)
                if first and self.path.exists() and self.path.stat().st_size == 0:
                    self.notices.append(f"journal {self.path} was an empty file: started with no alarms")
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            corrupt = isinstance(exc, CorruptJournal) or exc.sqlite_errorname in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
            if not first or not corrupt:
                self._go_off(exc)
                return
            self._db = None
            aside = move_aside(self.path)
            self.notices.append(
                f"journal {self.path} could not be read ({exc}); it was moved aside to {aside.name} and the wall "
                "started with no alarms"
            )
            log.error("%s", self.notices[-1])
            try:
                self._db = self._connect()
            except sqlite3.Error as exc2:
                self._go_off(exc2)
                return
        except OSError as exc:  # the folder or the lock file cannot be created
            self._go_off(exc)
            return
        self._seq = self._scalar("SELECT COALESCE(MAX(seq), 0) FROM seen_ids")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            problem = None if self._memory else check_readable(db)
            if problem is not None:
                raise CorruptJournal(problem)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process kill
            db.executescript(SCHEMA)
            if "fp" not in {r[1] for r in db.execute("PRAGMA table_info(seen_ids)")}:
                db.execute("ALTER TABLE seen_ids ADD COLUMN fp INTEGER")  # journals written before 0.2
            db.execute("CREATE INDEX IF NOT EXISTS seen_ids_seq ON seen_ids (seq)")
            for part in self.parts:
                db.executescript(part.schema)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _go_off(self, exc: BaseException) -> None:
        self._db = None
        self._set_status(JournalStatus.OFF, f"cannot open {self.path}: {exc}; running without persistence")
        self._failures += 1
        self._skip = min(2**self._failures, MAX_BACKOFF_FLUSHES * 6)

    def _set_status(self, status: JournalStatus, reason: str | None) -> None:
        if (status, reason) == (self.status, self.reason):
            return
        changed = status is not self.status
        self.status, self.reason = status, reason
        if status is JournalStatus.OK:
            log.warning("journal %s is writing again", self.path)
        else:
            log.error("journal %s: %s", status.value, reason)
        if changed:
            self.status_changed.emit()

    @property
    def persistent(self) -> bool:
        return self._db is not None

    def _scalar(self, sql: str, *args: Any) -> int:
        if self._db is None:
            return 0
        row = self._db.execute(sql, args).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # ---------------------------------------------------------------- alarms
    def mark(self, key: AlarmKey, alarm: Alarm | None) -> None:
        """Remember that ``key`` changed; ``None`` means it left the table (back to normal)."""
        self._dirty[key] = alarm

    def mark_many(self, keys: list[AlarmKey], get: Callable[[AlarmKey], Alarm | None]) -> None:
        """``mark`` for each of ``keys`` (a bulk change), as each is now."""
        self._dirty.update([(k, get(k)) for k in keys])

    def seen(self, event_id: str, fingerprint: int | None = None) -> None:
        self._new_ids.append((event_id, fingerprint))
        if len(self._new_ids) > 2 * self.remembered_ids:  # a journal down for long: keep the newest only
            del self._new_ids[: len(self._new_ids) - self.remembered_ids]

    @property
    def pending(self) -> int:
        return (
            len(self._dirty)
            + len(self._new_ids)
            + len(self._meta)
            + len(self._audit_queue)
            + len(self._history)
            + sum(p.pending() for p in self.parts)
        )

    def flush(self) -> int:
        """Commit every pending change in one transaction; returns how many alarm rows were written.

        Never raises: a failure keeps the batch pending, marks the journal failing and backs off; the caller
        acknowledges its messages only when ``status`` is ok after the call.
        """
        if self._closed or (not self.pending and not self._wipe and self._db is not None):
            return 0
        if self._skip > 0:
            self._skip -= 1
            return 0
        if self._db is None:
            if self._memory:
                return 0
            self._open(first=False)
            self._wipe = True  # whatever the file holds is older than the picture the wall kept meanwhile
        db = self._db
        if db is None:
            return 0
        try:
            written = self._commit(db)
        except sqlite3.Error as exc:
            self._failures += 1
            self._skip = min(2**self._failures, MAX_BACKOFF_FLUSHES)
            self._set_status(JournalStatus.FAILING, f"cannot write {self.path}: {exc}")
            return 0
        self._failures = self._skip = 0
        self._set_status(JournalStatus.OK, None)
        self.flushes += 1
        return written

    def _commit(self, db: sqlite3.Connection) -> int:
        dirty = self._dirty
        if len(dirty) > MAX_ROWS_PER_COMMIT and not self._wipe and not self._closing:
            # 200,000 rows (an ack_all) took 1.2 s in one commit, the main loop frozen: the rest waits for the
            # next flushes (and so do the acknowledgements of what they hold)
            dirty = dict(islice(dirty.items(), MAX_ROWS_PER_COMMIT))
        upserts: list[tuple[str, str, str]] = []
        deletes: list[AlarmKey] = []
        for k, a in dirty.items():
            if not (storable(k[0]) and storable(k[1])):
                self._drop_row(f"alarm key {k!r:.120} is not valid UTF-8")
                continue
            if a is None:
                deletes.append(k)
                continue
            try:
                upserts.append((k[0], k[1], alarm_to_json(a)))
            except (ValueError, TypeError, RecursionError) as exc:
                self._drop_row(f"alarm {k!r:.120} cannot be encoded: {exc}")
        id_rows = []
        seq = self._seq
        for i, fp in self._new_ids:
            if storable(i):
                seq += 1
                id_rows.append((i, seq, fp))
        audit_rows = [audit_row(e) for e in self._audit_queue]
        history = self._history
        if len(history) > MAX_ROWS_PER_COMMIT and not self._closing:  # the rest goes with the next flushes
            history = history[:MAX_ROWS_PER_COMMIT]
        taken = len(history)
        history = storable_rows(history, self._drop_row)
        db.execute("BEGIN")
        try:
            if self._wipe:
                db.execute("DELETE FROM alarms")
            if upserts:
                db.executemany("INSERT OR REPLACE INTO alarms (source, type, data) VALUES (?, ?, ?)", upserts)
            if deletes:
                db.executemany("DELETE FROM alarms WHERE source = ? AND type = ?", deletes)
            if id_rows:
                db.executemany("INSERT OR REPLACE INTO seen_ids (id, seq, fp) VALUES (?, ?, ?)", id_rows)
                db.execute("DELETE FROM seen_ids WHERE seq <= ?", (seq - self.remembered_ids,))
            if self._meta:
                db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(self._meta.items()))
            if audit_rows:
                db.executemany(AUDIT_INSERT, audit_rows)
            if history:
                db.executemany(HISTORY_INSERT, history)
            for part in self.parts:
                part.write(db)
            db.execute("COMMIT")
        except sqlite3.Error as first:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error as second:  # SQLite may already have rolled back: never hide the first error
                log.debug("rollback after %s: %s", first, second)
            raise
        self._seq = seq
        if dirty is self._dirty:
            self._dirty = {}
        else:
            for k in dirty:
                del self._dirty[k]
        self._new_ids, self._meta, self._audit_queue, self._wipe = [], {}, [], False
        del self._history[:taken]
        for part in self.parts:
            part.committed()
        return len(upserts)

    def _drop_row(self, why: str) -> None:
        self.dropped_rows += 1
        log.error("journal: row not stored: %s", why)

    def load_alarms(self) -> list[Alarm]:
        """The stored alarms; a row that cannot be read is skipped and said in ``notices``."""
        if self._db is None:
            return []
        out: list[Alarm] = []
        bad = 0
        for s, t, d in self._db.execute("SELECT source, type, data FROM alarms"):
            try:
                out.append(alarm_from_json(s, t, d))
            except (ValueError, TypeError, KeyError) as exc:
                bad += 1
                log.error("journal: alarm row %s/%s unreadable: %s", s, t, exc)
        if bad:
            self.notices.append(f"journal {self.path}: {bad} alarm row(s) could not be read and were skipped")
        return out

    def load_seen_ids(self) -> list[tuple[str, int | None]]:
        if self._db is None:
            return []
        return [(r[0], r[1]) for r in self._db.execute("SELECT id, fp FROM seen_ids ORDER BY seq")]

    # ---------------------------------------------------------------- history (issue 19)
    def annunciated_since(self, since: float) -> list[tuple[float, str, str]]:
        """(time, source, type) of what sounded since ``since`` (rows with a priority): the alarm-health tile's day
        survives a restart."""
        if self._db is None:
            return []
        try:
            cur = self._db.execute(
                "SELECT time, source, type FROM history WHERE time >= ? AND priority IS NOT NULL ORDER BY time",
                (since,),
            )
            return [(float(t), str(src), str(typ)) for t, src, typ in cur]
        except sqlite3.Error as exc:  # a history the journal cannot read costs the tile its past only
            log.warning("cannot read the alarm history: %s", exc)
            return []

    def record(self, rows: Iterable[HistoryTuple]) -> None:
        """Transitions for the report, written with the next flushes (wallctl.controller.history builds them)."""
        self._history += rows
        excess = len(self._history) - MAX_QUEUED_HISTORY
        if excess > 0:  # a journal failing for long: keep the newest, say how many went
            del self._history[:excess]
            self.dropped_rows += excess
            log.error("journal: %d history row(s) dropped: the journal has not been writable for long", excess)

    # ---------------------------------------------------------------- audit
    def audit(self, entry: AuditEntry) -> None:
        """Append at once; when the journal cannot take it now, queue it for the next good flush (never raises)."""
        if self._db is None or self.status is not JournalStatus.OK:
            self._queue_audit(entry)
            return
        try:
            self._db.execute(AUDIT_INSERT, audit_row(entry))
        except sqlite3.Error as exc:
            self._queue_audit(entry)
            self._set_status(JournalStatus.FAILING, f"cannot write the audit log to {self.path}: {exc}")

    def _queue_audit(self, entry: AuditEntry) -> None:
        self._audit_queue.append(entry)
        if len(self._audit_queue) > MAX_QUEUED_AUDIT:
            del self._audit_queue[0]
            self._drop_row("audit queue full while the journal fails: oldest entry dropped")

    def audit_log(self, *, since: float = 0.0, limit: int = 1000) -> list[AuditEntry]:
        if self._db is None:
            return [e for e in self._audit_queue if e.time >= since][-limit:]
        rows = self._db.execute(
            "SELECT time, origin, actor, action, args, ok, error FROM audit WHERE time >= ? ORDER BY id DESC LIMIT ?",
            (since, limit),
        )
        return [AuditEntry(t, o, a, act, json.loads(args), bool(ok), err) for t, o, a, act, args, ok, err in rows][::-1]

    def prune(self, now: float) -> int:
        if self._db is None:
            return 0
        horizon = now - self.retention_days * 86400.0
        try:
            pruned = self._db.execute("DELETE FROM history WHERE time < ?", (horizon,)).rowcount
            return pruned + self._db.execute("DELETE FROM audit WHERE time < ?", (horizon,)).rowcount
        except sqlite3.Error as exc:
            log.error("journal: pruning the audit log failed: %s", exc)
            return 0

    # ---------------------------------------------------------------- meta (pin, silence, flood, seq)
    def set_meta(self, key: str, value: Any) -> None:
        """Written with the next flush, in the same transaction as the alarms it belongs with."""
        self._meta[key] = json.dumps(value, allow_nan=False)

    def get_meta(self, key: str, default: Any = None) -> Any:
        if key in self._meta:
            return json.loads(self._meta[key])
        if self._db is None:
            return default
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def rows(self) -> Iterator[tuple[str, str]]:
        if self._db is not None:
            yield from self._db.execute("SELECT source, type FROM alarms")

    def close(self) -> None:
        if self._closed:
            return  # a second close must not reopen the file (that reopening wiped the alarm table)
        self._skip = 0
        self._closing = True
        self.flush()
        self._closed = True
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


__all__ = ["AuditEntry", "CorruptJournal", "Journal", "JournalStatus", "alarm_from_json", "alarm_to_json"]
