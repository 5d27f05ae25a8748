"""One output on a thread of its own: an asyncio loop that writes what its channels should show, flashes what the
device cannot flash by itself, and keeps at it when the device goes away.

Nothing here ever blocks the controller: :meth:`DeviceRunner.drive` and :meth:`~DeviceRunner.reassert` hand the
wish over and return. Writes are idempotent: a channel is written when what it should show differs from what was
last written, and everything again at (re)connect, on request and every ``refresh_s``. A write not answered in
``timeout_s`` fails the device: reported once, retried with back-off (``retry_min_s`` doubling to ``retry_max_s``).
Flashes are phase-locked to the runner's start on the monotonic clock (:mod:`wallctl.core.lights.flash`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from wallctl.core.lights.config import Drive, OutputSpec
from wallctl.core.lights.flash import level, next_edge

log = logging.getLogger("wallctl.outputs")
LAST_WORDS_S = 0.5  # at shutdown, the final pattern gets at most this long


class OutputError(Exception):
    """A device refused, did not answer or could not be reached; the message says which (it is the alarm's text)."""


class Driver(Protocol):
    """How one kind of device is reached. Called on the runner's loop only, one call at a time."""

    spec: OutputSpec

    def describe(self) -> str: ...

    async def open(self) -> None: ...

    async def write(self, channel: str, drive: Drive) -> None:
        """``drive`` is off or steady, or slow or fast where :meth:`OutputSpec.flashes_itself` says so."""

    async def probe(self) -> None:
        """Check that the device answers, changing nothing it shows."""

    async def close(self) -> None: ...


Report = Callable[[bool, str | None], None]  # (ok, error), called on the runner's thread


class DeviceRunner:
    """An :class:`~wallctl.controller.outputs.OutputPort` over a :class:`Driver`."""

    def __init__(self, driver: Driver, report: Report) -> None:
        self.driver = driver
        self.spec = driver.spec
        self.name = self.spec.name
        self.channels = tuple(self.spec.channels)
        self.report = report
        self.writes = 0  # successful writes (the lamp test and the tests count them)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"wallctl-output-{self.name}", daemon=True)
        self._want: dict[str, Drive] | None = None
        self._written: dict[str, Drive] = {}
        self._open = False
        self._ok: bool | None = None
        self._stopping = False
        self._last: dict[str, Drive] | None = None
        self._wake: asyncio.Event | None = None
        self._epoch = time.monotonic()
        self._refresh_at = math.inf

    # ---------------------------------------------------------------- the port (any thread)
    def start(self) -> DeviceRunner:
        self._thread.start()
        return self

    def drive(self, drives: Mapping[str, Drive] | None) -> None:
        want = dict(drives) if drives is not None else None
        self._post(lambda: self._set(want))

    def reassert(self) -> None:
        self._post(self._forget)

    def close(self, last: Mapping[str, Drive] | None = None) -> None:
        final = dict(last) if last is not None else None

        def stop() -> None:
            self._stopping, self._last = True, final
            self._nudge()

        self._post(stop)

    def wait_closed(self, timeout: float) -> None:
        self._thread.join(max(0.0, timeout))

    def _post(self, fn: Callable[[], None]) -> None:
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop is closed: the runner is gone, nothing to tell it
            pass

    # ---------------------------------------------------------------- the runner's loop
    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
            self._loop.run_until_complete(asyncio.sleep(0))  # a closed transport closes its socket on the next turn
        finally:
            self._loop.close()

    def _set(self, want: dict[str, Drive] | None) -> None:
        self._want = want
        self._nudge()

    def _forget(self) -> None:
        self._written.clear()
        self._nudge()

    def _nudge(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _main(self) -> None:
        self._wake = asyncio.Event()
        backoff = self.spec.retry_min_s
        again = False  # after a success, one failure is retried at once: a device may close an idle connection
        while not self._stopping:
            if self._want is None:  # not this controller's to drive: let go of the device too
                await self._drop()
                await self._sleep(None)
                continue
            try:
                await self._write_due(self._want)
            except Exception as exc:  # a bug in a driver must cost this output only: failed, shown, retried
                if not isinstance(exc, OutputError):
                    log.exception("output %s: unexpected error", self.name)
                await self._drop()
                if again:
                    again = False
                    continue
                self._state(False, str(exc) if isinstance(exc, OutputError) else f"internal error: {exc!r}")
                await self._pause(backoff)
                backoff = min(backoff * 2, self.spec.retry_max_s)
                continue
            backoff, again = self.spec.retry_min_s, True
            self._state(True, None)
            await self._sleep(self._next_wake())
        if self._last is not None:
            await self._last_words(self._last)
        await self._drop()

    async def _write_due(self, want: dict[str, Drive]) -> None:
        if not self._open:
            self._open = True  # before it succeeds: what a failed open left behind is closed by _drop
            self._written.clear()  # a (re)connected device gets everything: it may have been power-cycled
            await self._call(self.driver.open(), "connecting")
        now = time.monotonic()
        if now >= self._refresh_at:
            self._written.clear()
        if not self._written and self.spec.refresh_s > 0:
            self._refresh_at = now + self.spec.refresh_s
        for channel, drive in want.items():
            target = self._target(channel, drive, now)
            if self._written.get(channel) != target:
                await self._call(self.driver.write(channel, target), f"writing {channel}")
                self._written[channel] = target
                self.writes += 1

    def _target(self, channel: str, drive: Drive, now: float) -> Drive:
        if self.spec.flashes_itself(channel, drive):
            return drive
        return level(drive, now - self._epoch, self.spec.hz(drive))

    def _next_wake(self) -> float | None:
        """Seconds to the next flash edge of a channel wallctl flashes, or to the next refresh."""
        now = time.monotonic()
        t = now - self._epoch
        due = [
            next_edge(t, self.spec.hz(d)) - t
            for c, d in (self._want or {}).items()
            if d in ("slow", "fast") and not self.spec.flashes_itself(c, d)
        ]
        if self._refresh_at < math.inf:
            due.append(self._refresh_at - now)
        return max(0.0, min(due)) if due else None

    async def _call(self, work: Awaitable[None], doing: str) -> None:
        try:
            await asyncio.wait_for(work, self.spec.timeout_s)
        except TimeoutError:
            raise OutputError(
                f"{self.driver.describe()}: no answer within {self.spec.timeout_s:g} s ({doing})"
            ) from None
        except OSError as exc:
            raise OutputError(f"{self.driver.describe()}: {exc.strerror or exc} ({doing})") from None

    async def _sleep(self, seconds: float | None) -> None:
        """Until something is asked of the runner, or ``seconds`` pass."""
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def _pause(self, seconds: float) -> None:
        """Back-off after a failure: new wishes do not cut it short (they would hammer a dead device); stop does."""
        deadline = time.monotonic() + seconds
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            await self._sleep(left)

    async def _drop(self) -> None:
        if self._open:
            self._open = False
            try:
                await asyncio.wait_for(self.driver.close(), self.spec.timeout_s)
            except (TimeoutError, OSError, OutputError) as exc:
                log.info("output %s: closing: %s", self.name, exc)

    async def _last_words(self, last: dict[str, Drive]) -> None:
        """What the device shows once nobody drives it: a flash wallctl made would freeze, so it is steady."""
        final: dict[str, Drive] = {
            c: ("steady" if d in ("slow", "fast") and not self.spec.flashes_itself(c, d) else d)
            for c, d in last.items()
        }
        try:
            await asyncio.wait_for(self._write_due(final), LAST_WORDS_S)
        except (TimeoutError, OutputError) as exc:
            log.warning("output %s: its final pattern was not written: %s", self.name, exc)

    def _state(self, ok: bool, error: str | None) -> None:
        if ok != self._ok:
            self._ok = ok
            if not ok:
                log.warning("output %s failed: %s", self.name, error)
            self.report(ok, error)
        elif not ok:
            log.info("output %s still failing: %s", self.name, error)
