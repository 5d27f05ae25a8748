"""Shared by the profile tests: fixtures, and a converter that proves every produced event is a valid one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from wallctl.core.alarms.event import MAX_PAYLOAD_BYTES, Event, event_from_object
from wallctl.core.profiles import ProfileMaps, convert

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECEIVED = 1_715_000_000.0  # 2024-05-06, after every fixture's own time
DEFAULTS = ProfileMaps()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def lines(name: str) -> list[bytes]:
    """The messages of a one-message-per-line fixture, without its # comment lines."""
    return [line for line in fixture(name).split(b"\n") if line and not line.startswith(b"#")]


def valid(obj: dict[str, Any], received: float = RECEIVED) -> Event:
    """``obj`` passes the wall's own check, and fits the 64 KiB the wall takes as one MQTT event."""
    assert len(orjson.dumps(obj)) <= MAX_PAYLOAD_BYTES
    assert isinstance(obj.get("id"), str) and len(obj["id"]) <= 256
    return event_from_object("noc/events/test", dict(obj), received=received)


def run(profile: str, payload: bytes, maps: ProfileMaps = DEFAULTS, received: float = RECEIVED) -> list[dict[str, Any]]:
    """Convert and validate: the events a profile produces, each proven valid."""
    out = convert(profile, payload, maps, received)
    for obj in out:
        valid(obj, received)
        assert obj["attributes"]["profile"] == profile
    return out


def one(profile: str, payload: bytes, maps: ProfileMaps = DEFAULTS) -> dict[str, Any]:
    out = run(profile, payload, maps)
    assert len(out) == 1, out
    return out[0]
