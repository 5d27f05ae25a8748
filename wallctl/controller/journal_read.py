"""Reading a journal for ``wallctl report`` and the alarm-health tile: read-only, streamed, and loud when it is not one.

The file is opened with SQLite's ``mode=ro`` URI, so a report never changes a journal - the live one of a running
wall (WAL lets it read while the wall writes), a copy brought from another PC, or a file that is not a journal at
all. Every way a file can fail to be a readable journal is a :class:`JournalUnreadable` naming the path and what is
wrong; errors are told apart by SQLite's error code, never by their text.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from wallctl.core.measures.figures import Targets, figures
from wallctl.core.measures.fold import MeasureFold
from wallctl.core.measures.records import AuditRow, HistoryRow, MeasurePolicy, rfc3339

JOURNAL_TABLES = frozenset({"alarms", "seen_ids", "audit", "meta"})
PROGRESS_EVERY = 50_000  # rows between progress calls


class JournalUnreadable(Exception):
    """The file cannot be reported on: missing, unreadable, locked, not a journal, or nothing in the range."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


_BY_CODE = {
    "SQLITE_BUSY": "is locked by another process (an exclusive transaction); try again, or report on a copy",
    "SQLITE_LOCKED": "is locked by another process; try again, or report on a copy",
    "SQLITE_NOTADB": "is not an SQLite database, so not a wallctl journal",
    "SQLITE_CORRUPT": "is damaged (SQLite found corrupt pages)",
    "SQLITE_CANTOPEN": "cannot be opened (check its permissions and those of its folder)",
    "SQLITE_PERM": "cannot be read (permission denied)",
    "SQLITE_AUTH": "cannot be read (permission denied)",
    "SQLITE_IOERR": "cannot be read (I/O error)",
}


class JournalReader:
    def __init__(self, path: str | Path, *, timeout_s: float = 2.0) -> None:
        self.path = p = Path(path)
        if not p.exists():
            raise JournalUnreadable(p, "no such file")
        if p.is_dir():
            raise JournalUnreadable(p, "is a folder, not a journal file")
        try:
            size = p.stat().st_size
            with p.open("rb"):
                pass
        except OSError as exc:
            raise JournalUnreadable(p, f"cannot be read ({exc.strerror or exc})") from None
        if size == 0:
            raise JournalUnreadable(p, "is an empty file (0 bytes), not a wallctl journal")
        try:
            self.db = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s)
            tables = {r[0] for r in self._run("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        if not tables >= JOURNAL_TABLES:
            found = ", ".join(sorted(tables)) or "none"
            raise JournalUnreadable(p, f"is an SQLite database but not a wallctl journal (its tables: {found})")
        if "history" not in tables:
            raise JournalUnreadable(
                p,
                "is a wallctl journal written before alarm history was kept (issue 19): it has no transitions to "
                "measure; a wall of this version records them from its next start",
            )

    def _error(self, exc: sqlite3.Error) -> JournalUnreadable:
        code = getattr(exc, "sqlite_errorname", "") or ""  # extended codes too: SQLITE_IOERR_READ, SQLITE_BUSY_...
        problem = next((m for c, m in _BY_CODE.items() if code == c or code.startswith(c + "_")), None)
        return JournalUnreadable(self.path, problem or f"cannot be read ({exc})")

    def _run(self, sql: str, *args: Any) -> list[Any]:
        return self.db.execute(sql, args).fetchall()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- queries
    def span(self) -> tuple[float, float, int] | None:
        """First and last transition times and the number of rows, or None when there are none."""
        try:
            lo, hi, n = self._run("SELECT MIN(time), MAX(time), COUNT(*) FROM history")[0]
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        return None if n == 0 else (float(lo), float(hi), int(n))

    def count(self, start: float, end: float) -> int:
        try:
            return int(self._run("SELECT COUNT(*) FROM history WHERE time >= ? AND time < ?", start, end)[0][0])
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def history(self, end: float) -> Iterator[HistoryRow]:
        """Every transition before ``end``, oldest first (the rows before the range set the starting picture)."""
        sql = "SELECT time, source, type, kind, severity, priority, site FROM history WHERE time < ? ORDER BY time"
        try:
            cur = self.db.execute(sql, (end,))
            while rows := cur.fetchmany(4096):
                yield from cast(list[HistoryRow], rows)  # the columns are HistoryRow's, in its order
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def audit(self, start: float, end: float) -> Iterator[AuditRow]:
        sql = "SELECT time, origin, action, ok FROM audit WHERE time >= ? AND time < ? ORDER BY time"
        try:
            for t, origin, action, ok in self.db.execute(sql, (start, end)):
                yield AuditRow(t, origin, action, bool(ok))
        except sqlite3.Error as exc:
            raise self._error(exc) from None


def measure_journal(
    reader: JournalReader,
    start: float | None = None,
    end: float | None = None,
    *,
    policy: MeasurePolicy | None = None,
    targets: Targets | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """The report's figures for ``[start, end)`` (default: the whole history); raises :class:`JournalUnreadable`
    when the range holds no transition."""
    span = reader.span()
    if span is None:
        raise JournalUnreadable(reader.path, "holds no alarm history yet (no transition was recorded)")
    lo, hi, total = span
    start = math.floor(lo) if start is None else start
    end = math.floor(hi) + 1.0 if end is None else end
    if end <= start:
        raise JournalUnreadable(reader.path, f"the range {rfc3339(start)} .. {rfc3339(end)} is empty (--to <= --from)")
    if reader.count(start, end) == 0:
        raise JournalUnreadable(
            reader.path,
            f"no alarm history between {rfc3339(start)} and {rfc3339(end)}; the journal holds {total} transition(s) "
            f"from {rfc3339(lo)} to {rfc3339(hi)}",
        )
    fold = MeasureFold(start, end, policy)
    todo = reader.count(float("-inf"), end) or 1
    add = fold.add
    for i, row in enumerate(reader.history(end), 1):
        add(row)
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i / todo)
    for a in reader.audit(start, end):
        fold.add_audit(a)
    fold.finish()
    if progress is not None:
        progress(1.0)
    return figures(fold, targets or Targets())
