"""Commands on ``<prefix>/cmd`` (and the same actions from hotkeys), parsed and checked before anything runs."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any

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
COMMON = {"action", "request_id", "token", "actor"}


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


def parse_command(payload: bytes | str, *, token: str | None = None) -> Command:
    """Parse a command; raises :class:`CommandError` whose message is the reply's ``error``.

    The request id is recovered even from a refused command so the reply can carry it.
    """
    try:
        obj = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommandError(f"command is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise CommandError("command must be a JSON object")
    rid = obj.get("request_id")
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
    actor = obj.get("actor")
    return Command(action, args, rid, actor if isinstance(actor, str) else None)


def request_id_of(payload: bytes | str) -> Any:
    try:
        obj = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return obj.get("request_id") if isinstance(obj, dict) else None


def _typed(action: str, name: str, value: Any, tp: type | tuple[type, ...], rid: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, tp):
        want = "a number" if tp == (int, float) else ("a string" if tp is str else "a list")
        raise CommandError(f"action {action!r}: field {name!r} must be {want}, got {value!r}", rid)
    if isinstance(value, int | float) and value <= 0:
        raise CommandError(f"action {action!r}: field {name!r} must be positive, got {value!r}", rid)
    return value
