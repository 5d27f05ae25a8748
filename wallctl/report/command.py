"""``wallctl report``: find the journal, fold it, write JSON / HTML or print a summary. Exit 0 with a report, 1 with a
message naming the file and what is wrong (missing, unreadable, locked, not a journal, nothing in the range)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from wallctl.controller.journal_read import JournalReader, JournalUnreadable, measure_journal
from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.measures.records import MeasurePolicy
from wallctl.report.html import render
from wallctl.report.text import summary


class Progress:
    """A percentage on stderr, rewritten in place, only when stderr is a terminal (logs and tests stay quiet)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.on = stream.isatty()
        self._shown = -1

    def __call__(self, fraction: float) -> None:
        pct = int(fraction * 100)
        if self.on and pct != self._shown:
            self._shown = pct
            bar = "#" * (pct // 4)
            self.stream.write(f"\rwallctl report: [{bar:<25}] {pct:3d} %")
            if pct >= 100:
                self.stream.write("\n")
            self.stream.flush()


def _from_config(config: Path) -> tuple[Path, MeasurePolicy]:
    from wallctl.core.config.settings import load_config

    cfg = load_config(config)
    e = cfg.model.engine
    policy = MeasurePolicy(
        chatter_transitions=e.chatter_transitions,
        chatter_window_s=e.chatter_window_s,
        stale_after_s=e.stale_after_s,
        flood_window_s=e.flood_window_s,
        flood_start_above=e.flood_start_above,
        flood_end_below=e.flood_end_below,
    )
    return cfg.resolve(cfg.model.journal), policy


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _write(path: Path, text: str) -> None:
    if str(path) == "-":
        sys.stdout.write(text + "\n")
    else:
        path.write_text(text + "\n", encoding="utf-8")


def run_report(
    *,
    config: Path,
    journal: Path | None,
    start: float | None,
    end: float | None,
    html: Path | None,
    json_path: Path | None,
    timeout_s: float = 2.0,
) -> int:
    policy = MeasurePolicy()
    if journal is None:
        try:
            journal, policy = _from_config(config)
        except ConfigError as exc:
            for p in exc.problems:
                _err(str(p))
            _err("wallctl report: the configuration above names the journal: fix it, or give --journal")
            return 1
    progress = Progress(sys.stderr)
    try:
        with JournalReader(journal, timeout_s=timeout_s) as reader:
            figures: dict[str, Any] = measure_journal(reader, start, end, policy=policy, progress=progress)
    except JournalUnreadable as exc:
        _err(f"wallctl report: journal {exc}")
        return 1
    try:
        if json_path is not None:
            _write(json_path, json.dumps(figures, indent=1, ensure_ascii=False))
        if html is not None:
            _write(html, render(figures, journal=str(journal)))
    except OSError as exc:
        _err(f"wallctl report: cannot write the report: {exc}")
        return 1
    if json_path is None and html is None:
        sys.stdout.write(summary(figures, journal=str(journal)) + "\n")
    return 0
