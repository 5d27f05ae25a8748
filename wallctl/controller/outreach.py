"""Incidents and escalation in the controller: decisions from the alarm engine into the outbox, the outbox out
through the connectors, replies back onto the alarms.

The decisions are :mod:`wallctl.core.incidents`' (pure); the connectors are whatever the composition root plugs in
as a :class:`Sender` (``wallctl.adapters.outbound``): they run off the main loop and report back on it, so a
slow ticket system or mail server never holds up ingest or sound. Every attempt is audited; a failing one is shown
on the diagnostics view and retried with back-off (:mod:`wallctl.controller.outbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wallctl.controller.link import LoopHooks, Timer
from wallctl.controller.outbox import Item, Outbox
from wallctl.controller.service import WallService
from wallctl.core.alarms.alarm import Alarm
from wallctl.core.alarms.engine import AlarmChange, ChangeKind
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.incidents.config import EscalationConfig, IncidentsConfig
from wallctl.core.incidents.escalation import Escalator, Notice
from wallctl.core.incidents.tracker import Incident, IncidentAction, IncidentTracker

log = logging.getLogger("wallctl.outreach")
STEP_S = 0.5
REPORT_EVERY = 10  # a failing item is shown on the diagnostics view at its first failure and every 10th


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    ref: dict[str, Any] | None = None  # the ticket's {"id", "owner", "status"}, when the reply tells it


class Sender(Protocol):
    """The connectors as the controller sees them. ``done`` is called on the main loop, exactly once."""

    can_poll: bool  # the ticket system can be read back (owner, status)

    def send(self, kind: str, body: dict[str, Any], done: Callable[[Outcome], None]) -> None: ...

    def poll(self, incident: dict[str, Any], done: Callable[[Outcome], None]) -> None: ...

    def close(self) -> None: ...


class Outreach:
    def __init__(
        self,
        service: WallService,
        outbox: Outbox,
        sender: Sender,
        loop: LoopHooks,
        *,
        incidents: IncidentsConfig | None,
        escalation: EscalationConfig | None,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        """``active``: false on a hot-standby controller that is not the active one (it decides, never sends)."""
        self.service = service
        self.outbox = outbox
        self.sender = sender
        self.active = active
        self.poll_s = incidents.poll_s if incidents is not None else 30.0
        engine = service.engine
        wall = service.parts.wall_id
        self.tracker = (
            IncidentTracker(incidents, wall, engine.get, engine.consequences_of) if incidents is not None else None
        )
        flood = engine.flood
        self.escalator = (
            Escalator(escalation, wall, engine.get, lambda: flood.started_at if flood.active else None)
            if escalation is not None
            else None
        )
        if self.tracker is not None:
            self.tracker.restore([Incident.from_json(d) for d in outbox.incidents.values()])
        for alarm in engine:
            self._observe(alarm.key, alarm)
        engine.changed.connect(self._on_change)
        engine.bulk_changed.connect(self._on_bulk)
        service.incident_of = self.incident_of
        service.incident_statuses = self.incident_statuses
        self._timer = Timer(loop, self.step)
        self._polling: set[str] = set()
        self._last_poll = float("-inf")

    def start(self) -> None:
        self._timer.start(0)

    def stop(self) -> None:
        self._timer.stop()
        self.sender.close()

    # ---------------------------------------------------------------- inputs
    def _observe(self, key: AlarmKey, alarm: Alarm | None) -> None:
        if self.tracker is not None:
            self.tracker.observe(key, alarm)
        if self.escalator is not None:
            self.escalator.observe(key, alarm)

    def _on_change(self, change: AlarmChange) -> None:
        self._observe(change.key, self.service.engine.get(change.key))

    def _on_bulk(self, _kind: ChangeKind, keys: list[AlarmKey]) -> None:
        get = self.service.engine.get
        for key in keys:
            self._observe(key, get(key))

    def incident_statuses(self) -> frozenset[str]:
        """What the ticket system says of the open incidents (``major``, ``open``...): the rules may follow it."""
        if self.tracker is None:
            return frozenset()
        return frozenset(
            str(inc.ref["status"]).lower()
            for inc in self.tracker.open.values()
            if inc.ref is not None and inc.ref.get("status")
        )

    def incident_of(self, alarm: Alarm) -> dict[str, Any] | None:
        return self.tracker.ref_of(alarm) if self.tracker is not None else None

    # ---------------------------------------------------------------- the step: decide, queue, send
    def step(self) -> None:
        self._timer.start(STEP_S)
        now = self.service.clock.now()
        if self.tracker is not None:
            for action in self.tracker.step(now):
                self._queue_incident(action, now)
        if self.escalator is not None:
            for notice in self.escalator.step(now):
                self._queue_notice(notice, now)
        if not self.active():
            return
        for item in self.outbox.due(now):
            self._send(item)
        if self.sender.can_poll and now - self._last_poll >= self.poll_s:
            self._last_poll = now
            self._poll_all()

    def _queue_incident(self, action: IncidentAction, now: float) -> None:
        inc = action.incident
        suffix = f"update:{inc.updates}" if action.action == "update" else action.action
        key = f"{inc.key}:{suffix}"
        self.outbox.add(key, inc.key, "incident", action.payload, now)
        if not self.active():
            self.outbox.left_to_peer(key, now)  # decided here too (the same key), sent by the active controller
        self.outbox.put_incident(inc.key, None if action.action == "resolve" else inc.to_json())

    def _queue_notice(self, n: Notice, now: float) -> None:
        body: dict[str, Any] = {"subject": n.subject, "text": n.text, "alarms": [list(k) for k in n.alarms]}
        if n.kind == "email":
            body["to"] = list(n.to)
            body["message_id"] = n.key
        else:
            body["number"] = n.to[0]
        if not self.outbox.add(n.key, n.key, n.kind, body, now):
            return
        if not self.active():
            self.outbox.left_to_peer(n.key, now)
            return
        self.service.audit("system", None, f"escalate_{n.kind}", {"key": n.key, "to": list(n.to)}, True)

    def _send(self, item: Item) -> None:
        self.outbox.started(item)
        self.sender.send(item.kind, item.body, lambda outcome: self._sent(item, outcome))

    def _sent(self, item: Item, outcome: Outcome) -> None:
        now = self.service.clock.now()
        what = _describe(item)
        args = {"key": item.key, "attempt": item.attempts + 1, **what}
        action = f"send_{item.kind}"
        if outcome.ok:
            self.outbox.succeeded(item, now)
            self.service.audit("outbox", None, action, args, True)
            if outcome.ref is not None:
                self._set_ref(item.lane, outcome.ref)
            return
        delay = self.outbox.failed(item, now, outcome.error or "failed")
        self.service.audit("outbox", None, action, args, False, outcome.error)
        if item.attempts == 1 or item.attempts % REPORT_EVERY == 0:
            self.service.report_device_error(
                f"{item.kind} {what.get('action', '')} not sent (attempt {item.attempts}, retried in {delay:.0f} s): "
                f"{outcome.error}"
            )

    # ---------------------------------------------------------------- the ticket's owner and status
    def _set_ref(self, incident_key: str, ref: dict[str, Any]) -> None:
        if self.tracker is None:
            return
        for inc in self.tracker.open.values():
            if inc.key == incident_key:
                if inc.ref != ref:
                    inc.ref = ref
                    self.outbox.put_incident(inc.key, inc.to_json())
                    self.service.state_changed.emit()  # the alarms topic shows it
                    self.service.evaluate(force=True)  # a rule may follow the process (incident_status)
                return

    def _poll_all(self) -> None:
        if self.tracker is None:
            return
        for inc in list(self.tracker.open.values()):
            if inc.ref is None or inc.key in self._polling:
                continue
            self._polling.add(inc.key)

            def done(outcome: Outcome, key: str = inc.key) -> None:
                self._polling.discard(key)
                if outcome.ok and outcome.ref is not None:
                    self._set_ref(key, outcome.ref)
                elif not outcome.ok:
                    log.warning("reading incident %s back failed: %s", key, outcome.error)

            self.sender.poll(inc.to_json(), done)


def _describe(item: Item) -> dict[str, Any]:
    b = item.body
    if item.kind == "incident":
        alarm = b.get("alarm", {})
        return {"action": b.get("action"), "alarm": [alarm.get("source"), alarm.get("type")]}
    if item.kind == "email":
        return {"to": b.get("to")}
    return {"to": b.get("number")}
