"""The Qt main loop as the controller's runtime and the MQTT link see it (:class:`~wallctl.controller.link.LoopHooks`):
socket notifiers, timers and a thread-safe ``call_soon`` (the one place where another thread hands work to the main
thread: a queued Qt signal). The dispatcher itself is Qt-free: :mod:`wallctl.controller.runtime`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Qt, QTimer, Signal


class QtLoop(QObject):
    """The adapter's ``LoopHooks`` on the Qt event loop."""

    _call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._main = threading.get_ident()
        self._notifiers: dict[int, tuple[QSocketNotifier, QSocketNotifier]] = {}
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def _run(self, fn: Callable[[], None]) -> None:
        fn()

    def watch(self, sock: Any, on_read: Callable[[], None], on_write: Callable[[], None]) -> None:
        fd = sock.fileno()
        r = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
        r.activated.connect(lambda *_: on_read())
        w = QSocketNotifier(fd, QSocketNotifier.Type.Write, self)
        w.setEnabled(False)
        w.activated.connect(lambda *_: on_write())
        self._notifiers[id(sock)] = (r, w)

    def want_write(self, sock: Any, want: bool) -> None:
        pair = self._notifiers.get(id(sock))
        if pair is not None:
            pair[1].setEnabled(want)

    def unwatch(self, sock: Any) -> None:
        pair = self._notifiers.pop(id(sock), None)
        if pair is not None:
            for n in pair:
                n.setEnabled(False)
                n.deleteLater()

    def call_soon(self, fn: Callable[[], None]) -> None:
        self._call.emit(fn)

    def call_later(self, seconds: float, fn: Callable[[], None]) -> _QtHandle:
        timer = QTimer(self)
        timer.setSingleShot(True)
        handle = _QtHandle(timer)

        def fire() -> None:
            handle.cancel()
            fn()

        timer.timeout.connect(fire)
        timer.start(max(0, round(seconds * 1000)))
        return handle

    def is_main_thread(self) -> bool:
        return threading.get_ident() == self._main


class _QtHandle:
    """A pending ``call_later``: cancel() stops its timer and lets Qt delete it."""

    __slots__ = ("_timer",)

    def __init__(self, timer: QTimer) -> None:
        self._timer: QTimer | None = timer

    def cancel(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()
            timer.deleteLater()
