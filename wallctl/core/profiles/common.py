"""Helpers every profile uses: bounded decoding, key fields that always validate, bounded attributes, stable ids.

Foreign data is untrusted twice over: it may be malformed, and it is republished as MQTT events the wall caps at
64 KiB. So key fields are cleaned to what :func:`~wallctl.core.alarms.event.event_from_object` accepts (a long
one is cut with a hash suffix, so two long keys stay two alarms) and attributes are copied within a budget.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import orjson

from wallctl.core.alarms.event import MAX_KEY_CHARS, MAX_TEXT_CHARS
from wallctl.core.profiles.base import ProfileError

MAX_PAYLOAD_BYTES = 1 << 20  # a gateway batch: Alertmanager groups, Grafana notifications
ATTRIBUTE_BUDGET = 16_000  # encoded bytes of attributes per event: events stay far below the wall's 64 KiB
MAX_ATTRIBUTE_STRING = 1000
MAX_ITEMS = 64  # per mapping or list in attributes
MAX_NESTING = 4  # attributes kept this deep (the contract allows 8)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_ID_PART = re.compile(r"[^A-Za-z0-9._@/-]+")


def show(value: Any) -> str:
    """A value in an error message: its repr, cut short."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_size(payload: bytes, profile: str) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProfileError(f"{profile}: payload is {len(payload):,} bytes; at most {MAX_PAYLOAD_BYTES:,} are accepted")


def decode_object(payload: bytes, profile: str) -> dict[str, Any]:
    """One JSON object, bounded in size (1 MiB), nesting and numbers (orjson refuses NaN, huge integers, 1,024
    levels of arrays), or :class:`ProfileError`."""
    check_size(payload, profile)
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ProfileError(f"{profile}: payload is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProfileError(f"{profile}: payload must be a JSON object, got {type(obj).__name__}")
    return obj


def decode_text(payload: bytes, profile: str) -> str:
    """Text payloads (syslog, traps) decoded leniently: a stray byte must not cost the whole message."""
    check_size(payload, profile)
    return payload.decode("utf-8", "replace").removeprefix("\ufeff")


def optional_str(obj: dict[str, Any], name: str, where: str) -> str | None:
    """A string field (numbers are taken as their text: shell scripts and templates send either); empty is None."""
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ProfileError(f"{where}: field {name!r} must be a string, got {show(value)}")
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None


def key_text(value: str, name: str, where: str) -> str:
    """``value`` made a valid alarm-key field: control characters become spaces, blanks are trimmed, and a value
    over the contract's limit is cut and suffixed with its hash (still unique, still stable)."""
    text = _CONTROL.sub(" ", value).strip()
    if not text:
        raise ProfileError(f"{where}: {name} {show(value)} is empty")
    limit = MAX_KEY_CHARS[name]
    if len(text) > limit:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        text = text[: limit - 13].rstrip() + "~" + digest
    return text


def clip_text(value: str) -> str:
    return value if len(value) <= MAX_TEXT_CHARS else value[: MAX_TEXT_CHARS - 1] + "…"


def epoch(value: Any, name: str, where: str) -> float | None:
    """Epoch seconds from an RFC 3339 string, epoch seconds, or their text; None for nothing or Go's zero time
    (``0001-01-01T00:00:00Z``, Alertmanager's "not ended"). Anything else is a :class:`ProfileError`."""
    if value is None or value == "":
        return None
    when: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        when = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            when = float(text)
        except ValueError:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            try:
                dt = datetime.fromisoformat(text)
            except ValueError:
                dt = None
            if dt is not None and dt.tzinfo is not None:
                if dt.year <= 1:
                    return None
                when = dt.timestamp()
    if when is None or not (0 <= when < 10**11):  # NaN fails both comparisons
        raise ProfileError(
            f"{where}: field {name!r} {show(value)} is not a time; expected RFC 3339 with an offset or epoch seconds"
        )
    return when


def str_map(value: Any, where: str) -> dict[str, str]:
    """A mapping of strings (labels, annotations); anything else is a :class:`ProfileError`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProfileError(f"{where} must be an object of strings, got {show(value)}")
    for k, v in value.items():
        if not isinstance(v, str):
            raise ProfileError(f"{where}.{k} must be a string, got {show(v)}")
    return value


class _Budget:
    def __init__(self, chars: int) -> None:
        self.left = chars
        self.cut = False


def bounded_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``attributes`` within the budget: strings cut at 1,000 characters, at most 64 items per mapping
    or list, 4 levels deep, about 16 kB encoded in all; ``truncated: true`` says something was left out."""
    budget = _Budget(ATTRIBUTE_BUDGET)
    out = _copy(attributes, budget, MAX_NESTING)
    if budget.cut:
        out["truncated"] = True
    return dict(out)


def _copy(value: Any, budget: _Budget, depth: int) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_ATTRIBUTE_STRING:
            budget.cut = True
            value = value[: MAX_ATTRIBUTE_STRING - 1] + "…"
        budget.left -= len(orjson.dumps(value))  # as encoded: an escaped control character costs 6 bytes
        return value
    if value is None or isinstance(value, bool | int | float):
        budget.left -= 8
        return value
    if isinstance(value, dict | list | tuple) and depth <= 0:
        budget.cut = True
        return None
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if len(out) >= MAX_ITEMS or budget.left <= 0:
                budget.cut = True
                break
            key = str(k)[:128]
            budget.left -= len(orjson.dumps(key)) + 1
            out[key] = _copy(v, budget, depth - 1)
        return out
    if isinstance(value, list | tuple):
        items: list[Any] = []
        for v in value:
            if len(items) >= MAX_ITEMS or budget.left <= 0:
                budget.cut = True
                break
            items.append(_copy(v, budget, depth - 1))
        return items
    budget.cut = True  # not JSON: never produced by orjson or the text parsers
    return str(value)[:MAX_ATTRIBUTE_STRING]


def finish(profile: str, event: dict[str, Any], *readable: str) -> dict[str, Any]:
    """The event with ``attributes.profile`` and a stable ``id``: ``<profile>:<readable parts>:<hash>``.

    The hash covers the whole event, so a sender's retry (the same body) has the same id and is counted once,
    while a new firing, a resolution or a changed text is a new id: the wall never meets one id with two
    payloads (which it would flag as a source reusing ids).
    """
    attributes = dict(event.get("attributes") or {})
    attributes["profile"] = profile
    event = {k: v for k, v in event.items() if v is not None}
    event["attributes"] = bounded_attributes(attributes)
    if "text" in event:
        event["text"] = clip_text(event["text"])
    digest = hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]
    parts = [profile, *(_ID_PART.sub("_", p)[:64] for p in readable if p), digest]
    event["id"] = ":".join(parts)[-MAX_KEY_CHARS["id"] :]
    return event
