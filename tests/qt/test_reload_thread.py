"""Live reload parses off the GUI thread (issue 21, item 3): while a large save is parsed and validated the main
loop keeps ticking; the result is applied on the main thread; an invalid save keeps the last good layout; a save
made during a parse supersedes it, and the stale result is never applied."""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from tests.support.wall import ROOT, write_config
from wallctl.controller.build import Core, build_core, load_config_layouts
from wallctl.controller.reload import LayoutWatcher
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.wall.presets import LayoutSet
from wallctl.qt.loop import QtLoop

BRIEFING = "Shift briefing - ECC main wall"


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    """A real core on a private copy of the shipped layouts."""
    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    core = build_core(load_config(write_config(tmp_path, layouts=layouts)), clock=ManualClock())
    yield core
    if core.journal is not None:
        core.journal.close()


@pytest.fixture
def watch(core: Core) -> Iterator[Callable[[Callable[[], LayoutSet]], LayoutWatcher]]:
    made: list[LayoutWatcher] = []

    def make(load: Callable[[], LayoutSet]) -> LayoutWatcher:
        made.append(LayoutWatcher(core.config.resolve(core.config.model.layouts), load, core.service, QtLoop()))
        return made[-1]

    yield make
    for w in made:
        w.close()


def briefing_file(core: Core) -> Path:
    return core.config.resolve(core.config.model.layouts) / "modes" / "05-briefing.yaml"


def briefing_text(core: Core) -> str:
    return str(core.service.layouts.tile_options[("briefing", "note")].text)


def test_the_main_loop_keeps_ticking_while_a_large_save_is_parsed(core: Core, watch, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    parses: list[tuple[float, float, str]] = []

    def load() -> LayoutSet:
        start = time.perf_counter()
        layouts = load_config_layouts(core.config)
        parses.append((start, time.perf_counter(), threading.current_thread().name))
        return layouts

    watcher = watch(load)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    # a valid save of 0.8 MiB (95,000 values, near both limits): parsing and validating it takes most of a second
    sources = ",".join(f"dc-{i:05d}" for i in range(95_000))
    mode = briefing_file(core)
    text = mode.read_text().replace(BRIEFING, "Briefing at 08:00")
    mode.write_text(
        text.replace("{type: clock}", "{type: alarm_list, options: {filter: {sources: [" + sources + "]}}}")
    )
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=20_000)
    timer.stop()
    assert briefing_text(core) == "Briefing at 08:00"  # applied afterwards, on the main thread
    assert len(core.service.layouts.tile_options[("briefing", "clock")].filter.sources) == 95_000
    [(start, end, thread)] = parses
    assert thread != threading.main_thread().name
    assert end - start > 0.2, "the save parsed too fast to show anything"
    during = [t for t in ticks if start <= t <= end]
    around = [
        max((t for t in ticks if t < start), default=start),
        *during,
        min((t for t in ticks if t > end), default=end),
    ]
    gaps = [b - a for a, b in itertools.pairwise(around)]
    assert len(during) >= (end - start) / 0.1, f"{len(during)} ticks in a {end - start:.2f} s parse"
    # a parse on the main loop stalls it for the whole parse (0.6-1.2 s), the cycle collector's passes over the
    # parse's objects for 300 ms and more at a time; one gap of 110-135 ms in the parse's middle comes on some days
    # and in the full suite, its cause not yet found (not the collector, not one long C call): the bound leaves it room
    bound = 0.2
    assert max(gaps) < bound, f"the main loop stalled {max(gaps) * 1000:.0f} ms during a {end - start:.2f} s parse"


def test_an_invalid_save_keeps_the_last_good_layout_and_lists_its_problems(core: Core, watch, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    watcher = watch(lambda: load_config_layouts(core.config))
    good = core.service.layouts
    mode = briefing_file(core)
    mode.write_text(mode.read_text().replace("row: 1, column: 0, columns: 2", "row: 1, column: 0, columns: 9"))
    qtbot.waitUntil(lambda: watcher.failures == 1, timeout=5_000)
    assert core.service.layouts is good and watcher.reloads == 0
    line = next(i for i, t in enumerate(mode.read_text().splitlines(), 1) if "name: map" in t)
    errors = core.service.diagnostics.config_errors
    assert any(e.startswith(f"{mode}:{line}:5: region 'map'") and "off the 2x3 grid" in e for e in errors), errors
    mode.write_text(mode.read_text().replace("columns: 9", "columns: 2").replace(BRIEFING, "Fixed"))
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=5_000)
    assert briefing_text(core) == "Fixed" and core.service.diagnostics.config_errors == []


def test_a_save_during_a_parse_supersedes_it(core: Core, watch, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    """The first save's parse is held (it has read its files) until a second save has come in; its result must
    then be dropped and the second save parsed and applied: never the first one after, or instead of, it."""
    release = threading.Event()
    parsed: list[str] = []

    def load() -> LayoutSet:
        layouts = load_config_layouts(core.config)
        parsed.append(layouts.tile_options[("briefing", "note")].text)
        if len(parsed) == 1:
            assert release.wait(20), "the test never released the first parse"
        return layouts

    watcher = watch(load)
    applied: list[str] = []
    core.service.layouts_changed.connect(lambda ls: applied.append(ls.tile_options[("briefing", "note")].text))
    mode = briefing_file(core)
    original = mode.read_text()
    mode.write_text(original.replace(BRIEFING, "first save"))
    qtbot.waitUntil(lambda: parsed == ["first save"], timeout=5_000)
    mode.write_text(original.replace(BRIEFING, "second save"))
    qtbot.waitUntil(lambda: watcher.pending, timeout=5_000)
    release.set()
    qtbot.waitUntil(lambda: watcher.reloads == 1 and not watcher.busy, timeout=5_000)
    assert applied == ["second save"] and briefing_text(core) == "second save"
    assert parsed[-1] == "second save" and watcher.superseded >= 1
