"""One inbound MQTT message, routed: a command (with exactly one reply), a KPI sample, or an event.

Qt-free and adapter-free (the adapter hands topic, payload and flags), so the whole ingest path can be fuzzed
against a real journal without a broker. Whatever one message does, it costs that message only: it is applied or
rejected with its reason, exactly once, and the caller acknowledges it either way.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from wallctl.controller.longwork import Pending
from wallctl.controller.service import WallService
from wallctl.core.alarms.event import (
    Event,
    EventRejected,
    RejectReason,
    TimeWindow,
    TopicTemplate,
    event_from_object,
    parse_event,
)
from wallctl.core.alarms.feeds import TopicRoutes
from wallctl.core.alarms.sites import Route
from wallctl.core.profiles import convert
from wallctl.core.profiles.base import ProfileError, ProfileMaps
from wallctl.core.wire.commands import CommandError, parse_command, request_id_of
from wallctl.core.wire.strict import dumps_strict

log = logging.getLogger("wallctl.inbox")


@dataclass(frozen=True, slots=True)
class InboxPolicy:
    cmd_topic: str
    templates: tuple[TopicTemplate, ...] = ()
    max_bytes: int = 64 * 1024
    window: TimeWindow | None = None
    token: str | None = None
    command_max_age_s: float = 30.0
    profiles: TopicRoutes[str] | None = None  # topic filters whose messages are a foreign format, by profile
    maps: ProfileMaps | None = None


class Inbox:
    def __init__(self, service: WallService, policy: InboxPolicy) -> None:
        self.service = service
        self.policy = policy
        self.ingested = 0
        # a standby controller catching up: a command queued for it while it was away was applied live by the
        # active controller, so it is applied here too (without the staleness checks), not refused as history
        self.mirroring: Callable[[], bool] = lambda: False

    def handle(
        self,
        topic: str,
        payload: bytes,
        *,
        received: float,
        retained: bool = False,
        queued: bool = False,
        late_reply: Callable[[str], None] | None = None,
    ) -> str | None:
        """Apply or reject one message; returns the reply to publish for a command, else None. Never raises.

        A command that runs in slices (``ack_all`` over many alarms) returns None here; its one reply goes to
        ``late_reply`` when it is done."""
        try:
            if topic == self.policy.cmd_topic:
                return self._command(payload, queued, retained, late_reply)
            self._event(topic, payload, received, retained)
        except Exception as exc:  # one poisoned message costs itself only: rejected, counted, acknowledged
            log.exception("Exception when handling a message on %r", topic)
            self.service.report_exception(f"message on {topic!r}", exc)
            self.service.reject(topic, RejectReason.INTERNAL.value, f"{type(exc).__name__}: {exc}"[:300], payload)
        return None

    def _event(self, topic: str, payload: bytes, received: float, retained: bool) -> None:
        service, p = self.service, self.policy
        if service.kpis.series and service.kpi_message(topic, payload):
            return
        route = service.sites.route(topic) if service.sites else None
        if route is not None and not self._at_site(route, payload):
            return  # the site's bridge saying whether it is connected
        fields = route.topic if route is not None else topic  # templates and profiles see it without the prefix
        profiled = p.profiles(fields) if p.profiles is not None else ()
        if profiled:
            self._profiled(profiled[0], topic, payload, received, retained, route)
            return
        try:
            event = parse_event(
                fields,
                payload,
                received=received,
                retained=retained,
                templates=p.templates,
                max_bytes=p.max_bytes,
                window=p.window,
            )
        except EventRejected as exc:
            service.reject(topic, exc.reason.value, exc.detail, payload)
            return
        self._ingest(event, route, topic)

    def _at_site(self, route: Route, payload: bytes) -> bool:
        """A message under a branch site's prefix: the site speaks. False for its bridge's state (not an event)."""
        sites = self.service.sites
        if route.state:
            sites.bridge_state(route.site, payload)
            return False
        sites.heard(route.site)
        return True

    def _ingest(self, event: Event, route: Route | None, topic: str) -> None:
        """Apply one event; a site's is tagged with it first (and, caught up after an outage, may be backlog)."""
        sites = self.service.sites
        if route is not None:
            event = sites.tag(event, route.site, topic)
        change = self.service.ingest(event)
        if event.backlog:
            sites.ingested(event, change)
        self.ingested += 1

    def _profiled(
        self, profile: str, topic: str, payload: bytes, received: float, retained: bool, route: Route | None = None
    ) -> None:
        """A foreign message (Grafana's MQTT contact point, say): its profile makes the native events, each
        checked and applied like any other; one bad event is rejected without costing its siblings."""
        service, p = self.service, self.policy
        if len(payload) > p.max_bytes:
            service.reject(topic, RejectReason.TOO_LARGE.value, f"{len(payload)} bytes, the limit is {p.max_bytes}")
            return
        try:
            objs = convert(profile, payload, p.maps or ProfileMaps(), received)
        except ProfileError as exc:
            service.reject(topic, "bad_payload", f"{profile}: {exc}", payload)
            return
        for obj in objs:
            try:
                event = event_from_object(
                    topic,
                    obj,
                    received=received,
                    retained=retained,
                    window=p.window,
                    fingerprint=zlib.crc32(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)),
                )
            except EventRejected as exc:
                service.reject(topic, exc.reason.value, f"{profile}: {exc.detail}", payload)
                continue
            self._ingest(event, route, topic)

    def _command(
        self, payload: bytes, queued: bool, retained: bool, late_reply: Callable[[str], None] | None
    ) -> str | None:
        """Exactly one reply and one audit entry per command, whatever it holds."""
        service, p = self.service, self.policy
        rid = None
        try:
            if retained:
                raise CommandError(
                    "stale: a retained command is history, not a request (publish commands without the retain flag, "
                    "and clear this one with an empty retained message)",
                    request_id_of(payload),
                )
            mirror = self.mirroring()
            if queued and not mirror:
                raise CommandError(
                    "stale: the command was queued while the wall was offline and is not executed; "
                    "send it again if it still applies",
                    request_id_of(payload),
                )
            now = None if mirror else service.clock.now()
            cmd = parse_command(payload, token=p.token, now=now, max_age_s=p.command_max_age_s)
            rid = cmd.request_id

            def done(error: str | None, rid: Any = rid) -> None:
                if late_reply is not None:
                    late_reply(_reply(rid, error))

            where = f"mqtt:{cmd.origin}" if cmd.origin else "mqtt"  # a display node's hotkey names its node
            outcome = service.execute(cmd, where, cmd.actor, on_done=done)
            if isinstance(outcome, Pending):
                return None
            error = outcome
        except CommandError as exc:
            rid = exc.request_id
            error = str(exc)
            service.audit("mqtt", None, "refused", {"payload": payload[:200].decode("utf-8", "replace")}, False, error)
        return _reply(rid, error)


def _reply(rid: Any, error: str | None) -> str:
    return dumps_strict({"request_id": rid, "ok": error is None, "error": error})
