"""Qt fixtures: a whole wall built on the six offscreen screens, torn down without leaks."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from tests.support.wall import write_config
from wallctl.app import build_wall, hotkey_actions
from wallctl.controller.build import Core, build_core
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.sound.annunciator import NullSink
from wallctl.qt.screens import QtScreens, ScreenInfo

Sink = NullSink  # records what it was asked to play


class FakeScreens(QtScreens):
    """The real screens, minus the ones a test 'unplugs' (a physical monitor is what we cannot have here)."""

    def __init__(self) -> None:
        super().__init__()
        self.unplugged: set[str] = set()
        self._callbacks: list[Callable[[], None]] = []

    def screens(self) -> list[ScreenInfo]:
        return [s for s in super().screens() if s.name not in self.unplugged]

    def on_change(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def unplug(self, name: str) -> None:
        self.unplugged.add(name)
        for cb in self._callbacks:
            cb()

    def plug(self, name: str) -> None:
        self.unplugged.discard(name)
        for cb in self._callbacks:
            cb()


@dataclass
class Wall:
    core: Core
    scene: Any
    windows: Any
    screens: FakeScreens
    clock: ManualClock
    sink: Sink
    hotkeys: dict[str, Callable[[], None]]

    @property
    def service(self) -> Any:
        return self.core.service

    @property
    def source(self) -> Any:
        """What the views read (the service seen as a display node sees the controller)."""
        return self.scene.source


@pytest.fixture
def make_wall(qapp: QApplication, tmp_path: Path) -> Iterator[Callable[..., Wall]]:
    made: list[Wall] = []

    def factory(layouts: Path | None = None) -> Wall:
        clock = ManualClock(start=1_800_000_000.0)
        sink = Sink()
        cfg = load_config(write_config(tmp_path, layouts=layouts))
        core = build_core(cfg, clock=clock, sink=sink)
        core.service.set_link("connected")
        screens = FakeScreens()
        hotkeys = hotkey_actions(core, on_quit=lambda: None, on_diagnostics=lambda: None)
        scene, windows = build_wall(core, screens, hotkeys=hotkeys)
        wall = Wall(core, scene, windows, screens, clock, sink, hotkeys)
        made.append(wall)
        qapp.processEvents()
        return wall

    yield factory
    for w in made:
        w.windows.close()
        w.scene.dispose()
        if w.core.journal is not None:
            w.core.journal.close()
    made.clear()
    qapp.processEvents()
    gc.collect()
    leaked = [t for t in qapp.topLevelWidgets() if t.isVisible()]
    assert not leaked, f"windows left open: {leaked}"
