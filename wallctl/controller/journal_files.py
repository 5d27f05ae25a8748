"""The journal's file on disk: one writer at a time, a corrupt file moved aside, an unwritable folder survived.

A wall must start whatever its journal looks like (a dark wall is worse than one that forgot its history), but it
must never silently share or silently lose that history: a second process on the same file is refused with the
holder's pid, a file SQLite cannot read is kept under a timestamped name for later inspection, and a folder that
cannot be written is reported so the wall runs without persistence and says so.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class JournalLocked(RuntimeError):
    """Another process writes this journal: two walls on one journal would overwrite each other's alarms."""


@dataclass
class JournalLock:
    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops the flock; the kernel does the same after kill -9
            self.fd = -1


def lock_journal(db_path: Path) -> JournalLock:
    """Take ``<journal>.lock`` (flock, released by the kernel when the process dies) and write our pid in it."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise JournalLocked(
            f"journal {db_path} is in use by process {holder} (lock file {lock_path}); "
            "two walls on one journal would overwrite each other's alarms: stop that process or give this "
            "wall its own journal"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return JournalLock(lock_path, fd)


def move_aside(db_path: Path, now: datetime | None = None) -> Path:
    """Rename a journal SQLite cannot read (and its -wal/-shm) to ``<name>.corrupt-<UTC stamp>``; returns the path."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = db_path.with_name(f"{db_path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = db_path.with_name(f"{db_path.name}.corrupt-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(db_path) + suffix)
        if src.exists():
            src.rename(Path(str(target) + suffix))
    return target


def check_readable(db: sqlite3.Connection) -> str | None:
    """SQLite's own quick check of every page; the problem it reports, or None when the file is sound."""
    try:
        rows = db.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
    return "; ".join(problems) or None
