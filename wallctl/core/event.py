"""The contract's event message, parsed into the core's own immutable :class:`Event`.

Adapters hand raw bytes and the topic here; nothing foreign (paho messages, dicts of unknown shape) travels
further into the core. Every rejection carries a machine-readable reason and a human-readable detail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from wallctl.core.severity import SEVERITY_NAMES, Severity

MAX_PAYLOAD_BYTES = 64 * 1024
_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})


class RejectReason(StrEnum):
    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_SEVERITY = "unknown_severity"
    BAD_TIME = "bad_time"


class EventRejected(ValueError):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


AlarmKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Event:
    source: str
    type: str
    severity: Severity
    time: float
    category: str | None = None
    id: str | None = None
    text: str = ""
    attributes: MappingProxyType[str, Any] = field(default_factory=lambda: _EMPTY, compare=False, hash=False)
    topic: str = ""
    received: float = 0.0
    retained: bool = False

    @property
    def key(self) -> AlarmKey:
        return (self.source, self.type)

    @property
    def is_clear(self) -> bool:
        return self.severity is Severity.CLEARED


class TopicTemplate:
    """Fills missing payload fields from topic levels, e.g. ``noc/events/{category}/{source}``.

    A literal level must match; ``{name}`` captures one level; a trailing ``#`` ignores the rest.
    """

    _FIELD = re.compile(r"^\{([a-z_]+)\}$")
    FILLABLE = frozenset({"source", "type", "severity", "category"})

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._levels: list[tuple[str, str]] = []
        for level in pattern.split("/"):
            m = self._FIELD.match(level)
            if m:
                if m.group(1) not in self.FILLABLE:
                    raise ValueError(
                        f"topic template {pattern!r}: {{{m.group(1)}}} is not a field that can come from the "
                        f"topic; expected one of {', '.join(sorted(self.FILLABLE))}"
                    )
                self._levels.append(("field", m.group(1)))
            elif level == "#":
                self._levels.append(("rest", ""))
            else:
                self._levels.append(("literal", level))

    def extract(self, topic: str) -> dict[str, str]:
        levels = topic.split("/")
        out: dict[str, str] = {}
        for i, (kind, value) in enumerate(self._levels):
            if kind == "rest":
                return out
            if i >= len(levels):
                return {}
            if kind == "literal" and value not in ("+", levels[i]):
                return {}
            if kind == "field" and levels[i]:
                out[value] = levels[i]
        return out if len(levels) == len(self._levels) else {}


def parse_time(value: Any, received: float) -> float:
    if value is None:
        return received
    if isinstance(value, bool):
        raise EventRejected(
            RejectReason.WRONG_TYPE, f"field 'time' must be an RFC 3339 string or epoch seconds, got {value!r}"
        )
    if isinstance(value, int | float):
        if not (0 <= value < 10**11):
            raise EventRejected(RejectReason.BAD_TIME, f"field 'time' {value!r} is not plausible epoch seconds")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise EventRejected(RejectReason.BAD_TIME, f"field 'time' {value!r} is not an RFC 3339 timestamp") from None
        if dt.tzinfo is None:
            raise EventRejected(
                RejectReason.BAD_TIME, f"field 'time' {value!r} has no UTC offset (RFC 3339 requires one)"
            )
        return dt.timestamp()
    raise EventRejected(
        RejectReason.WRONG_TYPE, f"field 'time' must be an RFC 3339 string or epoch seconds, got {type(value).__name__}"
    )


def _text_field(obj: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise EventRejected(RejectReason.MISSING_FIELD, f"required field {name!r} is missing")
        return None
    if not isinstance(value, str):
        raise EventRejected(
            RejectReason.WRONG_TYPE, f"field {name!r} must be a string, got {type(value).__name__} {value!r:.60}"
        )
    if required and not value.strip():
        raise EventRejected(RejectReason.MISSING_FIELD, f"required field {name!r} is empty")
    return value


def parse_event(
    topic: str,
    payload: bytes,
    *,
    received: float,
    retained: bool = False,
    templates: tuple[TopicTemplate, ...] = (),
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> Event:
    """Validate one MQTT message against the event contract; raises :class:`EventRejected`."""
    if len(payload) > max_bytes:
        raise EventRejected(RejectReason.TOO_LARGE, f"payload is {len(payload)} bytes, the limit is {max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventRejected(RejectReason.NOT_UTF8, f"payload is not UTF-8 (byte {exc.start})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventRejected(
            RejectReason.NOT_JSON, f"payload is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(obj, dict):
        raise EventRejected(RejectReason.NOT_OBJECT, f"payload must be a JSON object, got {type(obj).__name__}")
    if templates and not ("source" in obj and "type" in obj and "severity" in obj and "category" in obj):
        for template in templates:  # only when a field is missing: most feeds send complete payloads
            filled = template.extract(topic)
            if filled:
                for name, value in filled.items():
                    obj.setdefault(name, value)
                break
    source = _text_field(obj, "source", required=True)
    etype = _text_field(obj, "type", required=True)
    sev_name = _text_field(obj, "severity", required=True)
    assert source is not None and etype is not None and sev_name is not None
    try:
        severity = Severity.parse(sev_name)
    except ValueError:
        raise EventRejected(
            RejectReason.UNKNOWN_SEVERITY, f"severity {sev_name!r} is not one of {', '.join(SEVERITY_NAMES)}"
        ) from None
    attributes = obj.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise EventRejected(
            RejectReason.WRONG_TYPE, f"field 'attributes' must be an object, got {type(attributes).__name__}"
        )
    event_id = obj.get("id")
    if (event_id is not None and not isinstance(event_id, str | int)) or isinstance(event_id, bool):
        raise EventRejected(RejectReason.WRONG_TYPE, f"field 'id' must be a string, got {type(event_id).__name__}")
    return Event(
        source=source,
        type=etype,
        severity=severity,
        time=parse_time(obj.get("time"), received),
        category=_text_field(obj, "category", required=False),
        id=None if event_id is None else str(event_id),
        text=_text_field(obj, "text", required=False) or "",
        attributes=MappingProxyType(attributes) if attributes else _EMPTY,
        topic=topic,
        received=received,
        retained=retained,
    )
