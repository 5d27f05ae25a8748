"""What the gateway does with one request or datagram: convert, check, publish, count.

A foreign payload becomes native events through the same payload profiles the wall applies to a profiled MQTT
subscription; each is checked against the event contract *before* it is published, so a sender learns at once
(HTTP 400 with the reason) that its body is wrong, instead of the wall rejecting it later where the sender never
looks. Every event carries a stable ``id``: a sender's retry of the same notification is counted once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from wallctl.core.alarms.event import EventRejected, RejectReason, decode_object, event_from_object
from wallctl.core.clock import Clock
from wallctl.core.profiles import convert
from wallctl.core.profiles.base import ProfileError, ProfileMaps
from wallctl.core.profiles.syslog import syslog_message

log = logging.getLogger("wallctl.gateway")

NATIVE = "events"
_TOPIC_UNSAFE = re.compile(r"[/+#\x00]")
MAX_BATCH = 1000  # native events in one request; Alertmanager's groups are far smaller


class Rejected(ValueError):
    """A body that cannot become events: the sender gets 400 with this text; counted by ``reason``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    payload: bytes


def stable_id(obj: dict[str, Any]) -> str:
    """An id for a native event that came without one: the same body gives the same id, so a retried POST is
    counted once (an event that must count again needs its own ``id`` or ``time``)."""
    return "gw-" + hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


class Intake:
    def __init__(self, maps: ProfileMaps, topic_base: str, clock: Clock) -> None:
        self.maps = maps
        self.topic_base = topic_base.rstrip("/")
        self.clock = clock
        self.accepted = 0
        self.rejected: Counter[str] = Counter()
        self.last_error: str | None = None
        self.on_count: Callable[[], None] = lambda: None

    def convert(self, route: str, body: bytes, *, peer: str | None = None) -> list[Outgoing]:
        """The native events a request or datagram carries, ready to publish; raises :class:`Rejected`."""
        received = self.clock.now()
        try:
            if route == NATIVE:
                objs = self._native(body)
            elif route == "syslog":
                objs = syslog_message(body.decode("utf-8", "replace"), self.maps, received, peer)
            else:
                objs = convert(route, body, self.maps, received)
        except ProfileError as exc:
            raise self._reject("bad_payload", f"{route}: {exc}") from None
        except EventRejected as exc:
            raise self._reject(exc.reason.value, f"{route}: {exc.detail}") from None
        out = []
        for i, obj in enumerate(objs):
            where = f"{route}: event {i + 1} of {len(objs)}" if len(objs) > 1 else route
            if obj.get("id") is None:
                obj["id"] = stable_id(obj)
            try:
                event_from_object("", obj, received=received)  # the wall's own check, before the broker sees it
            except EventRejected as exc:
                raise self._reject(exc.reason.value, f"{where}: {exc.detail}") from None
            out.append(Outgoing(self._topic(route, str(obj["source"])), orjson.dumps(obj)))
        return out

    def _native(self, body: bytes) -> list[dict[str, Any]]:
        stripped = body.lstrip()
        if stripped.startswith(b"["):
            try:
                items = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise EventRejected(RejectReason.NOT_JSON, f"body is not JSON: {exc}") from None
            if len(items) > MAX_BATCH:
                raise EventRejected(RejectReason.TOO_LARGE, f"{len(items)} events in one request; at most {MAX_BATCH}")
            bad = next((i for i, o in enumerate(items) if not isinstance(o, dict)), None)
            if bad is not None:
                raise EventRejected(RejectReason.NOT_OBJECT, f"item {bad + 1} of the list is not a JSON object")
            return list(items)
        return [decode_object(body, max_bytes=len(body) + 1)]

    def _topic(self, route: str, source: str) -> str:
        level = _TOPIC_UNSAFE.sub("_", source)[:128] or "_"
        return f"{self.topic_base}/{route}/{level}"

    def _reject(self, reason: str, detail: str) -> Rejected:
        self.rejected[reason] += 1
        self.last_error = detail[:300]
        log.warning("rejected: %s", detail)
        self.on_count()
        return Rejected(reason, detail)

    def published(self, n: int) -> None:
        self.accepted += n
        self.on_count()

    def status(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(self.rejected),
            "last_error": self.last_error,
        }
