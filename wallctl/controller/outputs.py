"""Beacons, stack lights and relays in the controller: the light policy (:mod:`wallctl.core.lights`) fed from the
alarm engine, the annunciator and the link, and each output told its channels' patterns when they change.

The outputs are whatever the composition root plugs in as :class:`OutputPort` (``wallctl.adapters.outputs``): each
runs off the main loop and reports back on it, so a device that is slow or gone never holds up ingest, sound or
painting. Every output is written in full at start, when the broker link comes back, on a layout reload and when
a controller takes the wall over. A failing output is an alarm of the wall's own (``output/<name>``,
``output_failed``) and a line on the diagnostics view; state shows each output's status and channels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from wallctl.controller.link import LoopHooks
from wallctl.controller.service import WallService
from wallctl.core.alarms.alarm import Alarm
from wallctl.core.alarms.engine import AlarmChange, ChangeKind
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.lights.config import Drive
from wallctl.core.lights.policy import LightBoard, Situation, channels_of
from wallctl.core.severity import Severity
from wallctl.core.sound.soundmap import SoundMap

log = logging.getLogger("wallctl.outputs")
FAILED_TYPE = "output_failed"
STOP_S = 0.8  # shutdown must end within 2 s (the contract): the outputs get this much of it


def priority_of(soundmap: SoundMap) -> Callable[[Alarm], str | None]:
    """An alarm's priority is its sound's: the lights follow the annunciator, not the raw events."""

    def priority(alarm: Alarm) -> str | None:
        ann = soundmap.resolve(alarm)
        return ann.sound.priority if ann is not None else None

    return priority


class OutputPort(Protocol):
    """One output as the controller sees it; every call returns at once (the device works on its own thread)."""

    name: str
    channels: tuple[str, ...]

    def drive(self, drives: Mapping[str, Drive] | None) -> None:
        """Show these patterns from now on (the latest call wins); None: write nothing (not this one's wall)."""

    def reassert(self) -> None:
        """Write every channel again, changed or not."""

    def close(self, last: Mapping[str, Drive] | None = None) -> None:
        """Stop, after writing ``last`` (what the device shows once nobody drives it) if given."""

    def wait_closed(self, timeout: float) -> None:
        """Wait at most ``timeout`` for :meth:`close` to be done."""


class Outputs:
    def __init__(
        self,
        service: WallService,
        board: LightBoard,
        ports: Sequence[OutputPort],
        loop: LoopHooks,
        *,
        active: Callable[[], bool] = lambda: True,
        controller_ok: Callable[[], bool] = lambda: True,
    ) -> None:
        """``active``: this controller holds the wall (hot standby); ``controller_ok``: some controller does. A
        controller that knows the wall is held by nobody drives the outputs too: they say it cannot be trusted."""
        self.service = service
        self.board = board
        self.ports = tuple(ports)
        self.loop = loop
        self.active = active
        self.controller_ok = controller_ok
        self.status = {p.name: "ok" for p in self.ports}
        self.shown: dict[str, dict[str, Drive]] = {}
        self._driving: bool | None = None
        self._broker = False
        self._due = False
        engine = service.engine
        board.rebuild(engine)
        engine.changed.connect(self._on_change)
        engine.bulk_changed.connect(self._on_bulk)
        service.state_changed.connect(self._schedule)
        service.layouts_changed.connect(lambda _layouts: self.reassert())
        service.outputs = self.state

    # ---------------------------------------------------------------- inputs
    def _on_change(self, change: AlarmChange) -> None:
        self.board.observe(change.key, self.service.engine.get(change.key))
        self._schedule()

    def _on_bulk(self, _kind: ChangeKind, keys: list[AlarmKey]) -> None:
        get = self.service.engine.get
        for key in keys:
            self.board.observe(key, get(key))
        self._schedule()

    def _schedule(self) -> None:
        """Decide once per turn of the loop, however many changes arrived in it."""
        if not self._due:
            self._due = True
            self.loop.call_soon(self.apply)

    def situation(self) -> Situation:
        audible = self.service.annunciator.audible
        return Situation(
            horn=audible.sound is not None,
            broker=self.service.link.state == "connected",
            controller=self.controller_ok(),
        )

    # ---------------------------------------------------------------- the decision, out to the devices
    def start(self) -> None:
        """The first decision; each runner writes every channel when it first reaches its device."""
        self.apply()

    def apply(self) -> None:
        self._due = False
        situation = self.situation()
        drives = self.board.resolve(situation)
        driving = self.active() or not situation.controller
        took_over = driving and self._driving is False
        changed = False
        for port in self.ports:
            mine = channels_of(drives, port.channels)
            if mine != self.shown.get(port.name) or driving != self._driving:
                port.drive(mine if driving else None)
                changed |= mine != self.shown.get(port.name)
                self.shown[port.name] = mine
        self._driving = driving
        if (situation.broker and not self._broker) or took_over:
            self.reassert()  # the broker is back, or this controller just took the wall: everything, once more
        self._broker = situation.broker
        if changed:
            self.service.state_changed.emit()

    def reassert(self) -> None:
        if self._driving:
            for port in self.ports:
                port.reassert()

    def on_status(self, name: str, ok: bool, error: str | None = None) -> None:
        """An output answered again, or failed (called on the main loop by the adapter)."""
        status = "ok" if ok else "failed"
        if self.status.get(name) == status:
            return
        self.status[name] = status
        service = self.service
        if ok:
            log.warning("output %s is answering again", name)
            service.raise_internal(f"output/{name}", FAILED_TYPE, Severity.CLEARED, f"output {name} answering again")
        else:
            log.warning("output %s failed: %s", name, error)
            service.report_device_error(f"output {name} failed: {error}")
            service.raise_internal(
                f"output/{name}", FAILED_TYPE, Severity.MAJOR, f"Output {name} does not answer: {error}; retrying"
            )
        service.state_changed.emit()

    def state(self) -> dict[str, Any]:
        """The state topic's ``outputs``: each output's status and what its channels show."""
        return {
            p.name: {"status": self.status[p.name], "channels": dict(self.shown.get(p.name, {}))} for p in self.ports
        }

    def stop(self, timeout: float = STOP_S) -> None:
        """Close every output, together; the one holding the wall leaves them saying it cannot be trusted (nobody
        follows the alarms now). Bounded: a device that does not answer is left behind, not waited for."""
        last = self.board.resolve(Situation(horn=False, broker=self.situation().broker, controller=False))
        for port in self.ports:
            port.close(channels_of(last, port.channels) if self._driving else None)
        deadline = time.monotonic() + timeout
        for port in self.ports:
            port.wait_closed(deadline - time.monotonic())
