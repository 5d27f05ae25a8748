"""The journal: alarm state, seen event ids and the operator audit log in SQLite (WAL mode).

Alarm changes are written in batches (the caller flushes every ~100 ms and at shutdown); MQTT QoS 1 messages
are acknowledged to the broker only after the flush that holds their effect has committed, so a kill -9 loses
nothing: what was not committed is delivered again. The audit log is append-only and written at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallctl.core.alarm import Alarm, Flag
from wallctl.core.event import AlarmKey
from wallctl.core.severity import Severity

SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (source TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
                                   PRIMARY KEY (source, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_ids (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, origin TEXT NOT NULL,
                                  actor TEXT, action TEXT NOT NULL, args TEXT NOT NULL, ok INTEGER NOT NULL,
                                  error TEXT);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    time: float
    origin: str  # hotkey, mqtt, cli, timer, system
    actor: str | None  # MQTT client / request id, desk, user
    action: str
    args: dict[str, Any]
    ok: bool
    error: str | None


def alarm_to_json(a: Alarm) -> str:
    """One journal row: a positional JSON list (compact and quick: it is written for every changed alarm)."""
    return json.dumps(
        [
            a.category,
            int(a.severity),
            int(a.peak),
            a.first,
            a.last,
            a.text,
            a.count,
            a.in_alarm,
            a.acked,
            a.shelved_until,
            a.suppressed,
            a.out_of_service,
            a.latching,
            a.audible,
            a.raised_at,
            list(a.cause) if a.cause else None,
            sorted(f.value for f in a.flags) if a.flags else [],
            a.attributes or None,
        ],
        separators=(",", ":"),
        default=str,
    )


def alarm_from_json(source: str, type_: str, text: str) -> Alarm:
    (
        category,
        sev,
        peak,
        first,
        last,
        msg,
        count,
        in_alarm,
        acked,
        shelved_until,
        suppressed,
        oos,
        latching,
        audible,
        raised_at,
        cause,
        flags,
        attributes,
    ) = json.loads(text)
    return Alarm(
        source=source,
        type=type_,
        category=category,
        severity=Severity(sev),
        peak=Severity(peak),
        first=first,
        last=last,
        text=msg,
        count=count,
        in_alarm=in_alarm,
        acked=acked,
        shelved_until=shelved_until,
        suppressed=suppressed,
        out_of_service=oos,
        latching=latching,
        audible=audible,
        raised_at=raised_at,
        cause=(cause[0], cause[1]) if cause else None,
        flags={Flag(f) for f in flags},
        attributes=attributes or {},
    )


class Journal:
    def __init__(self, path: str | Path, *, retention_days: float = 400.0, remembered_ids: int = 100_000) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process kill
        self._db.executescript(SCHEMA)
        self.retention_days = retention_days
        self.remembered_ids = remembered_ids
        self._dirty: dict[AlarmKey, Alarm | None] = {}
        self._new_ids: list[str] = []
        self._seq = self._scalar("SELECT COALESCE(MAX(seq), 0) FROM seen_ids")
        self.flushes = 0

    def _scalar(self, sql: str, *args: Any) -> int:
        row = self._db.execute(sql, args).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # ---------------------------------------------------------------- alarms
    def mark(self, key: AlarmKey, alarm: Alarm | None) -> None:
        """Remember that ``key`` changed; ``None`` means it left the table (back to normal)."""
        self._dirty[key] = alarm

    def seen(self, event_id: str) -> None:
        self._new_ids.append(event_id)

    @property
    def pending(self) -> int:
        return len(self._dirty) + len(self._new_ids)

    def flush(self) -> int:
        """Commit every pending change in one transaction; returns how many alarm rows were written."""
        if not self._dirty and not self._new_ids:
            return 0
        dirty, self._dirty = self._dirty, {}
        ids, self._new_ids = self._new_ids, []
        db = self._db
        db.execute("BEGIN")
        try:
            upserts = [(k[0], k[1], alarm_to_json(a)) for k, a in dirty.items() if a is not None]
            deletes = [k for k, a in dirty.items() if a is None]
            if upserts:
                db.executemany("INSERT OR REPLACE INTO alarms (source, type, data) VALUES (?, ?, ?)", upserts)
            if deletes:
                db.executemany("DELETE FROM alarms WHERE source = ? AND type = ?", deletes)
            if ids:
                rows = []
                for i in ids:
                    self._seq += 1
                    rows.append((i, self._seq))
                db.executemany("INSERT OR REPLACE INTO seen_ids (id, seq) VALUES (?, ?)", rows)
                db.execute("DELETE FROM seen_ids WHERE seq <= ?", (self._seq - self.remembered_ids,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.flushes += 1
        return len(dirty)

    def load_alarms(self) -> list[Alarm]:
        return [alarm_from_json(s, t, d) for s, t, d in self._db.execute("SELECT source, type, data FROM alarms")]

    def load_seen_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM seen_ids ORDER BY seq")]

    # ---------------------------------------------------------------- audit
    def audit(self, entry: AuditEntry) -> None:
        self._db.execute(
            "INSERT INTO audit (time, origin, actor, action, args, ok, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry.time,
                entry.origin,
                entry.actor,
                entry.action,
                json.dumps(entry.args, default=str),
                int(entry.ok),
                entry.error,
            ),
        )

    def audit_log(self, *, since: float = 0.0, limit: int = 1000) -> list[AuditEntry]:
        rows = self._db.execute(
            "SELECT time, origin, actor, action, args, ok, error FROM audit WHERE time >= ? ORDER BY id DESC LIMIT ?",
            (since, limit),
        )
        return [AuditEntry(t, o, a, act, json.loads(args), bool(ok), err) for t, o, a, act, args, ok, err in rows][::-1]

    def prune(self, now: float) -> int:
        horizon = now - self.retention_days * 86400.0
        cur = self._db.execute("DELETE FROM audit WHERE time < ?", (horizon,))
        return cur.rowcount

    # ---------------------------------------------------------------- meta (pin, silence)
    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def rows(self) -> Iterator[tuple[str, str]]:
        yield from self._db.execute("SELECT source, type FROM alarms")

    def close(self) -> None:
        self.flush()
        self._db.close()
