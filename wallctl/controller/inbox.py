"""One inbound MQTT message, routed: a command (with exactly one reply), a KPI sample, or an event.

Qt-free and adapter-free (the adapter hands topic, payload and flags), so the whole ingest path can be fuzzed
against a real journal without a broker. Whatever one message does, it costs that message only: it is applied or
rejected with its reason, exactly once, and the caller acknowledges it either way.
"""

from __future__ import annotations

import logging
import re
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
from wallctl.core.severity import Severity
from wallctl.core.wire.commands import CommandError, parse_command, request_id_of
from wallctl.core.wire.strict import dumps_strict

# a source name no JSON encoder escapes: found as it is in any message that names it
PLAIN_NAME = re.compile(r"[A-Za-z0-9._:-]{1,200}")
# the bytes an urgent event holds (its severity, as senders spell it): messages further on holding none are not read
URGENT_MARKERS = tuple(v.encode() for name in ("critical", "cleared") for v in (name, name.upper(), name.title()))

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
        self.taken_ahead = 0  # urgent events applied before the messages received ahead of them
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
            self._internal_error(topic, payload, exc)
        return None

    def _internal_error(self, topic: str, payload: bytes, exc: Exception) -> None:
        """A message whose handling raised: said on the wall and rejected with the reason (then acknowledged)."""
        self.service.report_exception(f"message on {topic!r}", exc)
        self.service.reject(topic, RejectReason.INTERNAL.value, f"{type(exc).__name__}: {exc}"[:300], payload)

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

    def take_ahead(self, topic: str, payload: bytes, *, received: float, earlier: Callable[[bytes], bool]) -> bool:
        """Apply an urgent event before the messages received ahead of it (the link is behind a flood); False
        leaves it to its turn. Urgent: critical, or the clear of an active critical or major alarm. Taken only
        when order cannot matter: a plain event (no site, profile or KPI topic, no command) whose source name is
        spelt out in its message and appears in none of the messages before it (``earlier``), so that no earlier
        event of its alarm, or about its source, is overtaken."""
        service, p = self.service, self.policy
        if topic == p.cmd_topic or not payload:
            return False
        if service.kpis.series and service.kpis.for_topic(topic):
            return False
        if (service.sites and service.sites.route(topic) is not None) or (p.profiles and p.profiles(topic)):
            return False
        try:
            event = parse_event(
                topic, payload, received=received, templates=p.templates, max_bytes=p.max_bytes, window=p.window
            )
        except EventRejected:
            return False  # rejected in its turn, with the others
        if not self._urgent(event):
            return False
        name = event.source.encode()
        if not PLAIN_NAME.fullmatch(event.source) or (name not in payload and name not in topic.encode()):
            return False
        if earlier(name):
            return False
        try:
            self._ingest(event, None, topic)
        except Exception as exc:  # as in its turn: rejected, counted, acknowledged (it is not handled twice)
            log.exception("Exception when handling a message on %r", topic)
            self._internal_error(topic, payload, exc)
        self.taken_ahead += 1
        return True

    def _urgent(self, event: Event) -> bool:
        if event.severity is Severity.CRITICAL:
            return True
        if not event.is_clear:
            return False
        alarm = self.service.engine.get(event.key)
        return alarm is not None and alarm.severity >= Severity.MAJOR

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
