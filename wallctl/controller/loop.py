"""The headless controller's main loop: asyncio's, behind the :class:`~wallctl.controller.link.LoopHooks` that the
broker link and the runtime use (the wall's Qt loop implements the same)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from typing import Any

from wallctl.controller.link import Handle


class AsyncioLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._main = threading.get_ident()
        self._watched: dict[int, Any] = {}

    def watch(self, sock: Any, on_read: Callable[[], None], on_write: Callable[[], None]) -> None:
        self._watched[id(sock)] = (sock, on_write)
        self.loop.add_reader(sock, on_read)

    def want_write(self, sock: Any, want: bool) -> None:
        entry = self._watched.get(id(sock))
        if entry is None:
            return
        if want:
            self.loop.add_writer(entry[0], entry[1])
        else:
            self.loop.remove_writer(entry[0])

    def unwatch(self, sock: Any) -> None:
        entry = self._watched.pop(id(sock), None)
        if entry is not None:
            self.loop.remove_reader(entry[0])
            self.loop.remove_writer(entry[0])

    def call_soon(self, fn: Callable[[], None]) -> None:
        if self.is_main_thread():
            self.loop.call_soon(fn)
        else:
            self.loop.call_soon_threadsafe(fn)

    def call_later(self, seconds: float, fn: Callable[[], None]) -> Handle:
        return self.loop.call_later(seconds, fn)

    def is_main_thread(self) -> bool:
        return threading.get_ident() == self._main

    def on_signals(self, fn: Callable[[int], None], *signums: int) -> None:
        for signum in signums or (signal.SIGINT, signal.SIGTERM):
            self.loop.add_signal_handler(signum, fn, signum)

    def run(self) -> None:
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.stop()

    def close(self) -> None:
        self.loop.close()
