"""``wallctl report`` on a journal of 1,000,000 transitions (issue 19), next to a plain SQLite scan of the same rows
in the same run: the fold must stay within a small factor of reading the rows at all, and its memory must be the
per-alarm state, not the rows."""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from wallctl.bench.result import Result
from wallctl.controller.journal import Journal
from wallctl.controller.journal_read import JournalReader, measure_journal

KEYS = 20_000  # alarm keys in the synthetic estate
T0 = 1_800_000_000.0


def write_history(path: Path, n: int, *, seed: int = 19) -> None:
    """``n`` transitions over 30 days through the journal's own API: raises (a quarter annunciated), acks, clears,
    a flood every few days and some chatter, as a real wall would have written them."""
    rnd = random.Random(seed)
    j = Journal(path, lock=False)
    span = 30 * 86_400.0
    step = span / n
    t = T0
    chunk: list[tuple[float, str, str, str, int, str | None, str | None]] = []
    phase = [0] * KEYS
    kinds = ("raise", "ack", "clear")
    prios = ("low", "low", "low", "medium", "high", None, None, None)
    for i in range(n):
        k = rnd.randrange(KEYS) if i % 5000 > 60 else 7  # 60 rows of one key in a row now and then: a chatterer
        t += step * (0.2 if i % 200_000 < 400 else 1.0)  # bursts: floods
        kind = kinds[phase[k]]
        phase[k] = (phase[k] + 1) % 3
        prio = rnd.choice(prios) if kind == "raise" else None
        chunk.append((t, f"node{k // 4}", f"type{k % 4}", kind, 3, prio, None))
        if len(chunk) >= 100_000:
            j.record(chunk)
            chunk = []
            while j.pending:
                j.flush()
    j.record(chunk)
    j.close()


def _scan(path: Path) -> int:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    n = 0
    for _row in db.execute("SELECT time, source, type, kind, severity, priority, site FROM history ORDER BY time"):
        n += 1
    db.close()
    return n


def _report(path: Path) -> int:
    with JournalReader(path) as reader:
        figures = measure_journal(reader)
    return int(figures["history_rows"])


def _timed(fn: Callable[[Path], int], path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    rows = fn(path)
    return time.perf_counter() - t0, rows


def _peak_mb(fn: Callable[[Path], int], path: Path) -> float:
    """Separate from the timed run: tracemalloc slows Python down."""
    tracemalloc.start()
    try:
        fn(path)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def bench_report(*, quick: bool) -> list[Result]:
    n = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="wallctl-bench-report-") as d:
        path = Path(d) / "journal.sqlite3"
        write_history(path, n)
        scan_s, scanned = _timed(_scan, path)
        report_s, folded = _timed(_report, path)
        if scanned != n or folded != n:
            raise RuntimeError(f"expected {n} rows, the scan read {scanned} and the report folded {folded}")
        scan_mb, report_mb = _peak_mb(_scan, path), _peak_mb(_report, path)
    label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"
    return [
        Result(
            f"report: {label} journal transitions, time",
            report_s,
            "s",
            scan_s,
            "a plain SQLite scan of the same rows",
            "< 60 s" if not quick else "< 10 s",
            max_goal=60.0 if not quick else 10.0,
        ),
        Result(
            f"report: {label} journal transitions, peak Python memory",
            report_mb,
            "MB",
            scan_mb,
            "the same scan (tracemalloc peak)",
            f"< 100 MB ({KEYS} alarm keys)",
            max_goal=100.0,
        ),
    ]
