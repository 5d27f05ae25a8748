"""The contract's event message, parsed into the core's own immutable :class:`Event`.

Adapters hand raw bytes and the topic here; nothing foreign (paho messages, dicts of unknown shape) travels
further into the core. Every rejection carries a machine-readable reason and a human-readable detail.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import orjson

from wallctl.core.severity import SEVERITY_NAMES, Severity

MAX_PAYLOAD_BYTES = 64 * 1024
# Text limits at the boundary: an alarm key is shown, journaled and published everywhere, so what cannot be
# stored or drawn is refused here, once, with its reason (a lone surrogate once poisoned every journal flush).
MAX_KEY_CHARS = {"source": 256, "type": 128, "category": 64, "id": 256}
MAX_TEXT_CHARS = 1000
MAX_ATTRIBUTE_DEPTH = 8
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # text may keep tabs and line breaks
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
    BAD_TEXT = "bad_text"
    TOO_DEEP = "too_deep"
    INTERNAL = "internal_error"  # anything else that went wrong with one message: it costs that message only


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
    stamped: bool = False  # the payload carried its own ``time``
    fingerprint: int | None = None  # of the payload: a reused id with another payload is not a redelivery
    site: str | None = None  # the branch site it came from (its topic prefix), for sites bridged to this broker
    backlog: bool = False  # queued at its site while the link was down: its state counts, it does not sound

    @property
    def live(self) -> bool:
        """Happening now, as far as sound goes: neither the retained picture nor a site's backlog."""
        return not (self.retained or self.backlog)

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


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far from the wall's clock an event's own ``time`` may be (retained events may be old: the picture)."""

    max_age_s: float = 7 * 86400.0
    max_future_s: float = 3600.0


def check_time(when: float, received: float, window: TimeWindow, *, retained: bool, raw: Any) -> float:
    if when > received + window.max_future_s:
        raise EventRejected(
            RejectReason.BAD_TIME,
            f"field 'time' {raw!r:.40} is {_span(when - received)} ahead of the wall's clock; at most "
            f"{_span(window.max_future_s)} is accepted (engine.max_event_future_s)",
        )
    if not retained and when < received - window.max_age_s:
        raise EventRejected(
            RejectReason.BAD_TIME,
            f"field 'time' {raw!r:.40} is {_span(received - when)} old; live events older than "
            f"{_span(window.max_age_s)} are rejected (engine.max_event_age_s)",
        )
    return when


def _span(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def parse_time(value: Any, received: float) -> float:
    if value is None:
        return received
    if isinstance(value, bool):
        raise EventRejected(
            RejectReason.WRONG_TYPE, f"field 'time' must be an RFC 3339 string or epoch seconds, got {value!r}"
        )
    if isinstance(value, int | float):
        if not (0 <= value < 10**11):  # also NaN and infinities
            raise EventRejected(RejectReason.BAD_TIME, f"field 'time' {value!r} is not plausible epoch seconds")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
            stamp = dt.timestamp() if dt.tzinfo is not None else None
        except (ValueError, OverflowError):
            raise EventRejected(RejectReason.BAD_TIME, f"field 'time' {value!r} is not an RFC 3339 timestamp") from None
        return stamp if stamp is not None else _no_offset(value)
    raise EventRejected(
        RejectReason.WRONG_TYPE, f"field 'time' must be an RFC 3339 string or epoch seconds, got {type(value).__name__}"
    )


def _no_offset(value: str) -> float:
    raise EventRejected(RejectReason.BAD_TIME, f"field 'time' {value!r} has no UTC offset (RFC 3339 requires one)")


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
    limit = MAX_KEY_CHARS.get(name)
    if limit is not None:
        if len(value) > limit:
            raise EventRejected(
                RejectReason.BAD_TEXT, f"field {name!r} is {len(value)} characters long; at most {limit} are accepted"
            )
        bad = _CONTROL.search(value)
        if bad is not None:
            raise EventRejected(
                RejectReason.BAD_TEXT,
                f"field {name!r} {value!r:.80} holds control character U+{ord(bad.group()):04X} at {bad.start()}",
            )
    return value


def _clean_text(value: str) -> str:
    """Free text is kept, not refused: control characters dropped, cut at MAX_TEXT_CHARS with an ellipsis."""
    if not value.isprintable():
        value = _TEXT_CONTROL.sub("", value)
    if len(value) > MAX_TEXT_CHARS:
        value = value[: MAX_TEXT_CHARS - 1] + "…"
    return value


def _depth(value: Any, limit: int) -> bool:
    """True when ``value`` nests deeper than ``limit`` (JSON encoders recurse: a deep tree must not reach them)."""
    if limit < 0:
        return True
    if isinstance(value, dict):
        return any(_depth(v, limit - 1) for v in value.values() if isinstance(v, dict | list))
    if isinstance(value, list):
        return any(_depth(v, limit - 1) for v in value if isinstance(v, dict | list))
    return False


def loads_bounded(payload: bytes | str) -> Any:
    """Strict JSON with bounded nesting (1,024 levels) and numbers (64-bit integers, finite floats).

    orjson refuses what the standard library accepts and then chokes on: NaN, 1e400, 5,000-digit integers
    (``ValueError`` in ``int()``), 3,000 nested arrays (``RecursionError``), lone surrogates. It is also 4x faster
    on an event (0.6 us against 2.4 us).
    """
    return orjson.loads(payload)


def parse_event(
    topic: str,
    payload: bytes,
    *,
    received: float,
    retained: bool = False,
    templates: tuple[TopicTemplate, ...] = (),
    max_bytes: int = MAX_PAYLOAD_BYTES,
    window: TimeWindow | None = None,
) -> Event:
    """Validate one MQTT message against the event contract; raises :class:`EventRejected`."""
    obj = decode_object(payload, max_bytes)
    return event_from_object(
        topic,
        obj,
        received=received,
        retained=retained,
        templates=templates,
        window=window,
        fingerprint=zlib.crc32(payload) if obj.get("id") is not None else None,
    )


def decode_object(payload: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """One JSON object from a message, bounded in size, nesting and numbers; raises :class:`EventRejected`."""
    if len(payload) > max_bytes:
        raise EventRejected(RejectReason.TOO_LARGE, f"payload is {len(payload)} bytes, the limit is {max_bytes}")
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as uexc:
            raise EventRejected(RejectReason.NOT_UTF8, f"payload is not UTF-8 (byte {uexc.start})") from None
        raise EventRejected(RejectReason.NOT_JSON, f"payload is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise EventRejected(RejectReason.NOT_OBJECT, f"payload must be a JSON object, got {type(obj).__name__}")
    return obj


def event_from_object(
    topic: str,
    obj: dict[str, Any],
    *,
    received: float,
    retained: bool = False,
    templates: tuple[TopicTemplate, ...] = (),
    window: TimeWindow | None = None,
    fingerprint: int | None = None,
) -> Event:
    """Validate one native event object (decoded from MQTT, or made by a payload profile from a foreign format)
    against the event contract; raises :class:`EventRejected`. ``obj`` may be filled in from ``topic``."""
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
    if attributes and _depth(attributes, MAX_ATTRIBUTE_DEPTH):
        raise EventRejected(RejectReason.TOO_DEEP, f"field 'attributes' nests deeper than {MAX_ATTRIBUTE_DEPTH} levels")
    event_id = obj.get("id")
    if (event_id is not None and not isinstance(event_id, str | int)) or isinstance(event_id, bool):
        raise EventRejected(RejectReason.WRONG_TYPE, f"field 'id' must be a string, got {type(event_id).__name__}")
    if isinstance(event_id, int):
        event_id = str(event_id)
        obj["id"] = event_id
    if event_id is not None:
        _text_field(obj, "id", required=False)
    raw_time = obj.get("time")
    when = parse_time(raw_time, received)
    if raw_time is not None and window is not None:
        when = check_time(when, received, window, retained=retained, raw=raw_time)
    return Event(
        source=source,
        type=etype,
        severity=severity,
        time=when,
        category=_text_field(obj, "category", required=False),
        id=event_id,
        text=_clean_text(_text_field(obj, "text", required=False) or ""),
        attributes=MappingProxyType(attributes) if attributes else _EMPTY,
        topic=topic,
        received=received,
        retained=retained,
        stamped=raw_time is not None,
        fingerprint=fingerprint if event_id is not None else None,
    )
