"""The durable outbox: everything the wall sends outside (tickets, e-mail, SMS) waits here until it has gone.

Rows live in the journal's SQLite file and are written in the journal's own commits (:meth:`Journal.attach`), so
an incident decided together with an alarm change is durable with it. Each item has an idempotency key: adding a
key the outbox already holds, or sent in the last ``KEEP_DONE_S``, does nothing, so a decision taken again after a
restart is not sent twice. Items of one lane (an incident) go one at a time in order, so an update never overtakes
its open; a failed item is retried with back-off, forever, and its lane waits.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    key TEXT PRIMARY KEY, seq INTEGER NOT NULL, lane TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
    created REAL NOT NULL, attempts INTEGER NOT NULL, next_at REAL NOT NULL, error TEXT, done REAL
);
CREATE TABLE IF NOT EXISTS incidents (key TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
KEEP_DONE_S = 7 * 86400.0  # sent keys remembered this long (a restart within it never sends them again)
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0  # a server down for an hour is tried every minute, and reached within a minute of its return


@dataclass
class Item:
    key: str
    lane: str
    kind: str  # incident, email, sms
    body: dict[str, Any]
    created: float
    seq: int = 0
    attempts: int = 0
    next_at: float = 0.0
    error: str | None = None

    def row(self, done: float | None = None) -> tuple[Any, ...]:
        return (self.key, self.seq, self.lane, self.kind, json.dumps(self.body), self.created, self.attempts,
                self.next_at, self.error, done)  # fmt: skip


def backoff(attempts: int) -> float:
    return float(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1)))


class Outbox:
    """The queue (in memory, mirrored to SQLite when attached to a journal) and the incidents' own records."""

    schema = SCHEMA

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.incidents: dict[str, dict[str, Any]] = {}  # incident key -> its record (wallctl.core.incidents)
        self._done: dict[str, float] = {}
        self._in_flight: set[str] = set()
        self._seq = 0
        self._ops: dict[tuple[str, str], tuple[Any, ...] | None] = {}  # (table, key) -> row, or None to delete
        self._writing: dict[tuple[str, str], tuple[Any, ...] | None] = {}

    # ---------------------------------------------------------------- the queue
    def add(self, key: str, lane: str, kind: str, body: dict[str, Any], now: float) -> bool:
        """Queue once: False when the key is queued or was sent recently."""
        if key in self.items or key in self._done:
            return False
        self._seq += 1
        item = Item(key, lane, kind, body, now, self._seq, next_at=now)
        self.items[key] = item
        self._ops[("outbox", key)] = item.row()
        return True

    def due(self, now: float) -> list[Item]:
        """The head of each lane, if it is time to try it and no attempt of its lane is under way."""
        heads: dict[str, Item] = {}
        for item in sorted(self.items.values(), key=lambda i: i.seq):
            heads.setdefault(item.lane, item)
        busy = {self.items[k].lane for k in self._in_flight if k in self.items}
        return [i for i in heads.values() if i.lane not in busy and i.next_at <= now]

    def started(self, item: Item) -> None:
        self._in_flight.add(item.key)

    def succeeded(self, item: Item, now: float) -> None:
        self._in_flight.discard(item.key)
        item.attempts += 1
        item.error = None
        if self.items.pop(item.key, None) is not None:
            self._done[item.key] = now
            self._ops[("outbox", item.key)] = item.row(done=now)

    def left_to_peer(self, key: str, now: float) -> None:
        """Queued by a hot-standby controller that is not the active one: the active one sends it. Kept as done, so
        that taking the wall over later never sends again what the other controller was responsible for."""
        item = self.items.pop(key, None)
        if item is not None:
            self._done[key] = now
            self._ops[("outbox", key)] = item.row(done=now)

    def failed(self, item: Item, now: float, error: str) -> float:
        """Back off; returns the delay before the next attempt."""
        self._in_flight.discard(item.key)
        item.attempts += 1
        item.error = error
        delay = backoff(item.attempts)
        item.next_at = now + delay
        if item.key in self.items:
            self._ops[("outbox", item.key)] = item.row()
        return delay

    @property
    def failing(self) -> list[Item]:
        return [i for i in self.items.values() if i.error is not None]

    def prune(self, now: float) -> None:
        for key in [k for k, t in self._done.items() if t < now - KEEP_DONE_S]:
            del self._done[key]
            self._ops[("outbox", key)] = None

    # ---------------------------------------------------------------- incidents' records
    def put_incident(self, key: str, record: dict[str, Any] | None) -> None:
        if record is None:
            self.incidents.pop(key, None)
            self._ops[("incidents", key)] = None
        else:
            self.incidents[key] = record
            self._ops[("incidents", key)] = (key, json.dumps(record))

    # ---------------------------------------------------------------- the journal's part (JournalPart)
    def pending(self) -> int:
        return len(self._ops)

    def load(self, db: sqlite3.Connection) -> None:
        for row in db.execute("SELECT key, seq, lane, kind, body, created, attempts, next_at, error, done FROM outbox"):
            key, seq, lane, kind, body, created, attempts, next_at, error, done = row
            self._seq = max(self._seq, int(seq))
            if done is not None:
                self._done[key] = float(done)
            elif key not in self.items:
                self.items[key] = Item(key, lane, kind, json.loads(body), created, seq, attempts, next_at, error)
        for key, data in db.execute("SELECT key, data FROM incidents"):
            self.incidents.setdefault(key, json.loads(data))

    def write(self, db: sqlite3.Connection) -> None:
        """Inside the journal's transaction; what failed to commit last time is written again with the rest."""
        self._writing.update(self._ops)
        self._ops = {}
        for (table, key), row in self._writing.items():
            if row is None:
                db.execute(f"DELETE FROM {table} WHERE key = ?", (key,))  # two fixed table names
            elif table == "outbox":
                db.execute("INSERT OR REPLACE INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            else:
                db.execute("INSERT OR REPLACE INTO incidents VALUES (?, ?)", row)

    def committed(self) -> None:
        self._writing = {}
