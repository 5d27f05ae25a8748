"""Live reload of the layouts directory: a valid save is on the wall within a second; an invalid one leaves the
last good layout up and puts every problem (file:line:col) on the diagnostics view."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from wallctl.core.presets import LayoutSet, layout_files
from wallctl.core.service import WallService
from wallctl.core.yamldoc import ConfigError

log = logging.getLogger("wallctl.reload")
DEBOUNCE_MS = 250  # editors write a file in several steps


class LayoutWatcher(QObject):
    def __init__(self, directory: Path, load: Callable[[], LayoutSet], service: WallService) -> None:
        super().__init__()
        self.directory = directory
        self.load = load
        self.service = service
        self.watcher = QFileSystemWatcher(self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.reload)
        self.watcher.fileChanged.connect(lambda _p: self.timer.start(DEBOUNCE_MS))
        self.watcher.directoryChanged.connect(lambda _p: self.timer.start(DEBOUNCE_MS))
        self.reloads = 0
        self.failures = 0
        self._watch()

    def _watch(self) -> None:
        paths = [str(p) for p in layout_files(self.directory) if p.exists()]
        paths += [str(self.directory), str(self.directory / "modes")]
        old = self.watcher.files() + self.watcher.directories()
        if old:
            self.watcher.removePaths(old)
        self.watcher.addPaths([p for p in paths if Path(p).exists()])

    def reload(self) -> None:
        self._watch()  # editors that save by rename replace the watched file
        try:
            layouts = self.load()
        except ConfigError as exc:
            self.failures += 1
            errors = [str(p) for p in exc.problems]
            log.error("layout reload failed; keeping the last good layout:\n  %s", "\n  ".join(errors))
            self.service.set_config_errors(errors)
            return
        self.reloads += 1
        log.info("layouts reloaded from %s (%d modes)", self.directory, len(layouts.modes))
        self.service.set_layouts(layouts)
