"""What the controller needs from its broker link and its main loop, in its own terms.

The MQTT adapter (``wallctl.adapters.mqtt``) converts paho's messages into :class:`Inbound` at the edge and drives
paho from whichever loop runs the process: asyncio in the headless controller, Qt in the single-process wall. Both
loops implement :class:`LoopHooks`; the controller's runtime uses only these two protocols.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Inbound:
    """One received message, already free of paho types."""

    topic: str
    payload: bytes
    retained: bool
    qos: int
    mid: int
    received: float
    response_topic: str | None = None
    correlation: bytes | None = None
    queued: bool = False  # delivered on (re)connect from what the broker held while we were away


@dataclass(frozen=True, slots=True)
class LinkEvent:
    state: str  # connected, disconnected, connecting
    detail: str = ""
    session_present: bool = False


class Handle(Protocol):
    def cancel(self) -> None: ...


class LoopHooks(Protocol):
    """The main loop, as the link and the runtime use it (Qt's in the wall, asyncio's in the controller)."""

    def watch(self, sock: Any, on_read: Callable[[], None], on_write: Callable[[], None]) -> None: ...

    def want_write(self, sock: Any, want: bool) -> None: ...

    def unwatch(self, sock: Any) -> None: ...

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the main loop; callable from any thread."""
        ...

    def call_later(self, seconds: float, fn: Callable[[], None]) -> Handle: ...

    def is_main_thread(self) -> bool: ...


class Link(Protocol):
    """The broker link as the runtime drives it."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 1.5) -> None: ...

    def publish(self, topic: str, payload: str | bytes, *, qos: int = 0, retain: bool = False) -> None: ...

    def reply(self, topic: str | None, correlation: bytes | None, payload: str) -> None: ...

    def ack(self, mids: list[tuple[int, int]]) -> None: ...

    def send_now(self) -> None:
        """Write what is queued now, not when the loop next finds the socket writable."""
        ...


class Timer:
    """A single-shot timer on the loop: ``start`` (re)arms it; ``active`` while armed (QTimer's semantics)."""

    def __init__(self, loop: LoopHooks, fn: Callable[[], None]) -> None:
        self._loop = loop
        self._fn = fn
        self._handle: Handle | None = None

    def start(self, seconds: float) -> None:
        self.stop()
        self._handle = self._loop.call_later(seconds, self._fire)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    @property
    def active(self) -> bool:
        return self._handle is not None

    def _fire(self) -> None:
        self._handle = None
        self._fn()
