"""Live reload of the layouts directory: a valid save is applied within a second; an invalid one leaves the last
good layout up and puts every problem (file:line:col) on the diagnostics.

Qt-free, on the process's loop (:class:`~wallctl.controller.link.LoopHooks`): the files are polled (a stat of a
dozen files twice a second), so the headless controller and the single-process wall reload the same way.

Parsing and validating a save can take a second (a file near the 1 MiB limit), so it runs on a worker thread and
the result comes back to the main loop through ``call_soon``: the wall keeps drawing, ticking and answering
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
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from wallctl.controller.link import LoopHooks, Timer
from wallctl.controller.service import WallService
from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.wall.presets import LayoutSet, layout_files

log = logging.getLogger("wallctl.reload")
POLL_S = 0.3
DEBOUNCE_S = 0.25  # editors write a file in several steps

Stamp = tuple[tuple[str, int, int], ...]


class LayoutWatcher:
    """Watches the layouts directory; ``load`` (the same pipeline as ``run`` and ``validate``) runs off the main
    loop, and only its outcome is applied on it."""

    def __init__(self, directory: Path, load: Callable[[], LayoutSet], service: WallService, loop: LoopHooks) -> None:
        self.directory = directory
        self.load = load
        self.service = service
        self.loop = loop
        # the executor captures whatever the loader raises into the future; result() raises it on the main loop
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wallctl-layouts")
        self._wanted = 0  # generation of the newest save
        self._running: int | None = None  # generation being parsed
        self.reloads = 0
        self.failures = 0
        self.superseded = 0  # parses whose result was dropped because a newer save came in meanwhile
        self._closed = False
        self._stamp = self._files()
        self._poll = Timer(loop, self._check)
        self._debounce = Timer(loop, self.reload)
        self._poll.start(POLL_S)

    @property
    def busy(self) -> bool:
        """A save is being parsed."""
        return self._running is not None

    @property
    def pending(self) -> bool:
        """A newer save waits for the running parse to end (its result will be dropped)."""
        return self._running is not None and self._running != self._wanted

    def _files(self) -> Stamp:
        out = []
        for p in [*layout_files(self.directory), self.directory, self.directory / "modes"]:
            try:
                st = os.stat(p)
            except OSError:
                continue
            out.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def _check(self) -> None:
        if self._closed:
            return
        stamp = self._files()
        if stamp != self._stamp:
            self._stamp = stamp
            self._debounce.start(DEBOUNCE_S)
        self._poll.start(POLL_S)

    def reload(self) -> None:
        """A save happened: parse the directory off the main loop (or after the parse already running)."""
        if self._closed:
            return
        self._wanted += 1
        if self._running is None:
            self._start()

    def _start(self) -> None:
        generation = self._running = self._wanted
        future = self._pool.submit(self._load)
        # on the worker thread: hand the outcome to the main loop
        future.add_done_callback(lambda f: self.loop.call_soon(lambda: self._on_parsed(generation, f)))

    def _load(self) -> LayoutSet:
        """On the worker thread."""
        with collector_paused():
            return self.load()

    def _on_parsed(self, generation: int, future: Future[LayoutSet]) -> None:
        """On the main loop: apply the outcome, unless a newer save came in while it was parsed."""
        self._running = None
        if self._closed:
            return
        if generation != self._wanted:
            self.superseded += 1
            log.info("layout save superseded by a newer one while it was parsed; parsing the newest")
            self._start()
            return
        try:
            layouts = future.result()  # a loader bug raises here, on the main loop, to the process's notifier
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
        self._poll.stop()
        self._debounce.stop()
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
