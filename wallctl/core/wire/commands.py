"""Commands on ``<prefix>/cmd`` (and the same actions from hotkeys), parsed and checked before anything runs."""

from __future__ import annotations

import hmac
import json
import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from wallctl.core.alarms.event import EventRejected, parse_time

ACTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "mode": {"mode": str},
    "release": {},
    "ack": {"source": str, "type": str},
    "ack_all": {},
    "silence": {"seconds": (int, float)},
    "unsilence": {},
    "shelve": {"source": str, "type": str, "seconds": (int, float)},
    "unshelve": {"source": str, "type": str},
    "out_of_service": {"source": str, "type": str},
    "in_service": {"source": str, "type": str},
    "maintenance": {"seconds": (int, float)},
    "audio_test": {},
}
OPTIONAL: dict[str, dict[str, type | tuple[type, ...]]] = {
    "mode": {"pin_s": (int, float), "focus": str},
    "maintenance": {"sources": list, "types": list, "categories": list, "groups": list, "reason": str},
}
COMMON = {"action", "request_id", "token", "actor", "time", "origin"}
DAY = 86400.0
# Documented ranges (docs/interfaces.md): a number outside is refused, never clamped, so the sender learns of it.
RANGES: dict[str, tuple[float, float]] = {
    "mode.pin_s": (0.0, 7 * DAY),
    "silence.seconds": (0.0, DAY),
    "shelve.seconds": (0.0, 30 * DAY),  # further capped by engine.max_shelve_s
    "maintenance.seconds": (0.0, 30 * DAY),
}
MAX_STRING = 1000


class CommandError(ValueError):
    def __init__(self, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class Command:
    action: str
    args: dict[str, Any] = field(default_factory=dict)
    request_id: Any = None
    actor: str | None = None
    origin: str | None = None  # where it was given, e.g. display/left (a display node's hotkey): audited


def parse_command(
    payload: bytes | str, *, token: str | None = None, now: float | None = None, max_age_s: float = 30.0
) -> Command:
    """Parse a command; raises :class:`CommandError` whose message is the reply's ``error``.

    The request id is recovered even from a refused command so the reply can carry it. Parsing is strict and
    bounded (no NaN, no 5,000-digit numbers, no 3,000-deep nesting), so whatever arrives gets a reply.
    With ``now``, a command whose ``time`` is older than ``max_age_s`` is refused as stale.
    """
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise CommandError(f"command is not JSON: {exc}", request_id_of(payload)) from None
    if not isinstance(obj, dict):
        raise CommandError("command must be a JSON object")
    rid = obj.get("request_id")
    if not (rid is None or isinstance(rid, str | int | float)) or isinstance(rid, bool):
        raise CommandError(f"request_id must be a string or a number, got {type(rid).__name__}")
    if isinstance(rid, str) and len(rid) > MAX_STRING:
        raise CommandError(f"request_id is {len(rid)} characters long; at most {MAX_STRING}")
    if token is not None:
        given = obj.get("token")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
            raise CommandError("refused: missing or wrong token", rid)
    action = obj.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise CommandError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}", rid)
    args: dict[str, Any] = {}
    for name, tp in ACTIONS[action].items():
        if name not in obj:
            raise CommandError(f"action {action!r} needs field {name!r}", rid)
        args[name] = _typed(action, name, obj[name], tp, rid)
    for name, tp in OPTIONAL.get(action, {}).items():
        if obj.get(name) is not None:
            args[name] = _typed(action, name, obj[name], tp, rid)
    unknown = set(obj) - COMMON - set(ACTIONS[action]) - set(OPTIONAL.get(action, {}))
    if unknown:
        raise CommandError(f"action {action!r} does not take {', '.join(sorted(unknown))}", rid)
    if now is not None and obj.get("time") is not None:
        _check_age(obj["time"], now, max_age_s, rid)
    actor = obj.get("actor")
    if isinstance(actor, str) and len(actor) > MAX_STRING:
        actor = actor[:MAX_STRING]
    origin = obj.get("origin")
    if origin is not None and (not isinstance(origin, str) or not origin.isprintable() or len(origin) > 100):
        raise CommandError("'origin' must be a printable string of at most 100 characters, e.g. display/left", rid)
    return Command(action, args, rid, actor if isinstance(actor, str) else None, origin)


def request_id_of(payload: bytes | str) -> Any:
    """The request id of a command refused before parsing, or not strict JSON (a bare NaN), for its reply."""
    try:
        obj = json.loads(payload, parse_constant=lambda _c: None)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    rid = obj.get("request_id") if isinstance(obj, dict) else None
    return rid if isinstance(rid, str) and len(rid) <= MAX_STRING else None


def _check_age(value: Any, now: float, max_age_s: float, rid: Any) -> None:
    try:
        sent = parse_time(value, now)
    except EventRejected as exc:
        raise CommandError(f"command {exc.detail}", rid) from None
    age = now - sent
    if age > max_age_s:
        raise CommandError(
            f"stale: the command was sent {age:.0f} s ago; commands older than {max_age_s:g} s are refused "
            "(operator.command_max_age_s): send it again if it still applies",
            rid,
        )


def _typed(action: str, name: str, value: Any, tp: type | tuple[type, ...], rid: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, tp):
        want = "a number" if tp == (int, float) else ("a string" if tp is str else "a list")
        raise CommandError(f"action {action!r}: field {name!r} must be {want}, got {value!r:.80}", rid)
    if isinstance(value, int | float):
        low, high = RANGES.get(f"{action}.{name}", (0.0, math.inf))
        if not (math.isfinite(value) and low < value <= high):
            raise CommandError(
                f"action {action!r}: field {name!r} must be a finite number above {low:.0f} and at most {high:.0f}, "
                f"got {value!r:.40}",
                rid,
            )
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise CommandError(f"action {action!r}: field {name!r} is longer than {MAX_STRING} characters", rid)
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise CommandError(f"action {action!r}: field {name!r} must be a list of strings", rid)
    return value
