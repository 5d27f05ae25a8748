"""Live reload of the layouts directory: a valid save is on the wall within a second; an invalid one leaves the
last good layout up and puts every problem (file:line:col) on the diagnostics view.

Parsing and validating a save can take a second (a file near the 1 MiB limit), so it runs on a worker thread and
the result comes back to the main thread through a queued signal: the wall keeps drawing, ticking and answering
meanwhile. One parse runs at a time; a save made while one runs supersedes it, so the running parse's result is
dropped and the newest files are parsed next: a stale layout is never applied after a newer one.

A thread alone is not enough: a large parse allocates some ten objects per YAML value, and Python's cycle collector,
triggered by those allocations, walks them all again and again while holding the GIL, stopping the main thread for
up to 120 ms at a time. Everything the parse builds is freed by reference counting, so the collector is paused
while it runs.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, Signal

from wallctl.controller.service import WallService
from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.wall.presets import LayoutSet, layout_files

log = logging.getLogger("wallctl.reload")
DEBOUNCE_MS = 250  # editors write a file in several steps


class LayoutWatcher(QObject):
    """Watches the layouts directory; ``load`` (the same pipeline as ``run`` and ``validate``) runs off the GUI
    thread, and only its outcome is applied on the main thread."""

    _parsed = Signal(int, object)  # (generation, Future[LayoutSet]) from the worker thread

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
        # the executor captures whatever the loader raises into the future; result() raises it on the main thread
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wallctl-layouts")
        self._parsed.connect(self._on_parsed, Qt.ConnectionType.QueuedConnection)
        self._wanted = 0  # generation of the newest save
        self._running: int | None = None  # generation being parsed
        self.reloads = 0
        self.failures = 0
        self.superseded = 0  # parses whose result was dropped because a newer save came in meanwhile
        self._closed = False
        self._watch()

    @property
    def busy(self) -> bool:
        """A save is being parsed."""
        return self._running is not None

    @property
    def pending(self) -> bool:
        """A newer save waits for the running parse to end (its result will be dropped)."""
        return self._running is not None and self._running != self._wanted

    def _watch(self) -> None:
        paths = [str(p) for p in layout_files(self.directory) if p.exists()]
        paths += [str(self.directory), str(self.directory / "modes")]
        old = self.watcher.files() + self.watcher.directories()
        if old:
            self.watcher.removePaths(old)
        self.watcher.addPaths([p for p in paths if Path(p).exists()])

    def reload(self) -> None:
        """A save happened: parse the directory off the main thread (or after the parse already running)."""
        if self._closed:
            return
        self._watch()  # editors that save by rename replace the watched file
        self._wanted += 1
        if self._running is None:
            self._start()

    def _start(self) -> None:
        generation = self._running = self._wanted
        future = self._pool.submit(self._load)
        future.add_done_callback(lambda f: self._parsed.emit(generation, f))  # on the worker thread

    def _load(self) -> LayoutSet:
        """On the worker thread."""
        with collector_paused():
            return self.load()

    def _on_parsed(self, generation: int, future: Future[LayoutSet]) -> None:
        """On the main thread: apply the outcome, unless a newer save came in while it was parsed."""
        self._running = None
        if self._closed:
            return
        if generation != self._wanted:
            self.superseded += 1
            log.info("layout save superseded by a newer one while it was parsed; parsing the newest")
            self._start()
            return
        try:
            layouts = future.result()  # a loader bug raises here, on the main thread, to the wall's notifier
        except ConfigError as exc:
            self.failures += 1
            errors = [str(p) for p in exc.problems]
            log.error("layout reload failed; keeping the last good layout:\n  %s", "\n  ".join(errors))
            self.service.set_config_errors(errors)
            return
        self.reloads += 1
        log.info("layouts reloaded from %s (%d modes)", self.directory, len(layouts.modes))
        self.service.set_layouts(layouts)

    def close(self) -> None:
        """Stop reloading; a parse still running finishes on its thread and its result is dropped."""
        self._closed = True
        self.timer.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector (process-wide) for a burst of acyclic allocations, then resume it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
