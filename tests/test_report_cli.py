"""``wallctl report`` from the command line (issue 19): JSON with the contract's fields, a self-contained HTML file,
a summary; and a clear message with exit 1 for every journal it cannot report on, exit 2 for a bad time."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from wallctl.cli import main
from wallctl.controller.journal import Journal
from wallctl.report.command import run_report

T0 = 1_800_000_000.0


def journal(path: Path, n: int = 30) -> Path:
    j = Journal(path)
    rows = []
    for i in range(n):
        t = T0 + 60 * i
        rows += [(t, f"s{i % 3}", "cpu", "raise", 3, "low", None), (t + 10, f"s{i % 3}", "cpu", "ack", 3, None, None)]
        rows.append((t + 30, f"s{i % 3}", "cpu", "clear", 0, None, None))
    j.record(rows)
    j.flush()
    j.close()
    return path


def test_json_html_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = journal(tmp_path / "j.sqlite3")
    before = path.read_bytes()
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    assert main(["report", "--journal", str(path), "--json", str(out), "--html", str(page)]) == 0
    data = json.loads(out.read_text())
    assert data["alarms"] == 30 and data["time_to_ack_s"]["median"] == 10.0 and data["never_acked"] == 0
    assert data["from"] == "2027-01-15T08:00:00Z"
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html and "NOT MET" in html and 'class="met' in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "src=" not in html and "<link" not in html  # nothing to fetch: one file
    assert path.read_bytes() == before  # read-only
    capsys.readouterr()
    assert (
        main(["report", "--journal", str(path), "--from", "2027-01-15T08:10:00Z", "--to", "2027-01-15T08:20:00Z"]) == 0
    )
    text = capsys.readouterr()
    assert "10 annunciated alarms" in text.out and "average alarm rate per 10 minutes" in text.out
    assert text.err == ""  # no progress bar when stderr is not a terminal


def test_from_a_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.wall import write_config

    cfg = write_config(tmp_path)
    journal(tmp_path / "journal.sqlite3")
    assert main(["report", "--config", str(cfg), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["alarms"] == 30


def _fails(capsys: pytest.CaptureFixture[str], *args: str, code: int = 1) -> str:
    assert main(["report", *args]) == code
    return capsys.readouterr().err


def test_a_missing_empty_or_foreign_file_is_refused_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.sqlite3"
    assert f"{missing}: no such file" in _fails(capsys, "--journal", str(missing))
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    assert "empty file" in _fails(capsys, "--journal", str(empty))
    text = tmp_path / "notes.txt"
    text.write_text("this is not a database, but it is long enough to look like one to a careless reader" * 20)
    assert "not an SQLite database" in _fails(capsys, "--journal", str(text))
    foreign = tmp_path / "foreign.sqlite3"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()
    before = foreign.read_bytes()
    err = _fails(capsys, "--journal", str(foreign))
    assert "not a wallctl journal (its tables: invoices)" in err and str(foreign) in err
    assert foreign.read_bytes() == before
    assert "folder" in _fails(capsys, "--journal", str(tmp_path))


def test_an_old_journal_and_an_empty_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.sqlite3"
    db = sqlite3.connect(old)
    for table in ("alarms", "seen_ids", "audit", "meta"):
        db.execute(f"CREATE TABLE {table} (x)")
    db.commit()
    db.close()
    assert "before alarm history was kept" in _fails(capsys, "--journal", str(old))
    fresh = tmp_path / "fresh.sqlite3"
    Journal(fresh).close()
    assert "holds no alarm history yet" in _fails(capsys, "--journal", str(fresh))
    path = journal(tmp_path / "j.sqlite3")
    err = _fails(capsys, "--journal", str(path), "--from", "2030-01-01T00:00:00Z", "--to", "2030-02-01T00:00:00Z")
    assert "no alarm history between 2030-01-01T00:00:00Z and 2030-02-01T00:00:00Z" in err
    assert "holds 90 transition(s) from 2027-01-15T08:00:00Z" in err


def test_a_locked_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = journal(tmp_path / "j.sqlite3")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # a rollback journal: an exclusive lock keeps readers out
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO meta VALUES ('x', '1')")
    try:
        code = run_report(
            config=Path("unused"), journal=path, start=None, end=None, html=None, json_path=None, timeout_s=0.1
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1
    err = capsys.readouterr().err
    assert f"journal {path}: is locked by another process" in err


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-01T00:00:00Z", "2025-01-01T00:00:00"])
def test_a_bad_time_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "--journal", str(tmp_path / "j.sqlite3"), "--from", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --from" in err and ("RFC 3339" in err or "no time zone" in err)
