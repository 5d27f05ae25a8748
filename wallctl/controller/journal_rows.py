"""The journal's rows: the SQLite schema and how alarms and audit entries become rows and come back.

Kept apart from :mod:`wallctl.controller.journal`, which decides when rows are written and what happens when they cannot
be: this module only knows their shape (a positional JSON list per alarm: compact and quick, it is written for every
changed alarm and read 200,000 times at a restart).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from wallctl.core.alarms.alarm import Alarm, Flag
from wallctl.core.severity import Severity

SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (source TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
                                   PRIMARY KEY (source, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_ids (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, fp INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, origin TEXT NOT NULL,
                                  actor TEXT, action TEXT NOT NULL, args TEXT NOT NULL, ok INTEGER NOT NULL,
                                  error TEXT);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS history (time REAL NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL,
                                    severity INTEGER NOT NULL, priority TEXT, site TEXT);
CREATE INDEX IF NOT EXISTS history_time ON history (time);
"""
# history (issue 19): one row per alarm transition, append-only, for ``wallctl report`` (wallctl.core.measures);
# an existing journal gains the table when it is opened (CREATE ... IF NOT EXISTS)
HISTORY_INSERT = "INSERT INTO history (time, source, type, kind, severity, priority, site) VALUES (?, ?, ?, ?, ?, ?, ?)"
HistoryTuple = tuple[float, str, str, str, int, str | None, str | None]


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
    """One journal row: a positional JSON list, written for every changed alarm. orjson: the standard library's
    encoder took 1 s of the 1.7 s that journaling an ``ack_all`` of 200,000 alarms cost."""
    row = [
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
        a.site,
    ]
    try:
        return orjson.dumps(row, default=str).decode()
    except orjson.JSONEncodeError:  # what orjson does not write (an integer beyond 64 bits): as before
        return json.dumps(row, separators=(",", ":"), default=str)


_SEVERITY = {int(s): s for s in Severity}
_FLAG = {f.value: f for f in Flag}


def alarm_from_json(source: str, type_: str, text: str) -> Alarm:
    """One journal row back (a restart reads 200,000 of them: orjson and table lookups, not enum calls).

    Fields added later sit at the end and are optional: a journal written before them still loads."""
    row = orjson.loads(text)
    site = row[18] if len(row) > 18 else None  # branch sites (issue 17)
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
    ) = row[:18]
    return Alarm(
        source,
        type_,
        category,
        _SEVERITY[sev],
        _SEVERITY[peak],
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
        (cause[0], cause[1]) if cause else None,
        {_FLAG[f] for f in flags} if flags else set(),
        attributes or {},
        site,
    )


def storable(text: str) -> bool:
    """SQLite stores UTF-8: a lone surrogate cannot be encoded, and must cost its own row only."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean(text: str | None) -> str | None:
    return text if text is None or storable(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


AUDIT_INSERT = "INSERT INTO audit (time, origin, actor, action, args, ok, error) VALUES (?, ?, ?, ?, ?, ?, ?)"


def audit_row(e: AuditEntry) -> tuple[Any, ...]:
    return (
        e.time,
        _clean(e.origin),
        _clean(e.actor),
        _clean(e.action),
        json.dumps(e.args, default=str),
        int(e.ok),
        _clean(e.error),
    )
