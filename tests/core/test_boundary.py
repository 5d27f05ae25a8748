"""What arrives from outside is refused at the edge with its reason, never half-accepted: poisoned events,
commands carrying NaN or absurd numbers, implausible times, reused ids, events older than what they would undo."""

from __future__ import annotations

import json
import math

import pytest

from wallctl.core.alarms.alarm import AlarmState
from wallctl.core.alarms.engine import AlarmEngine, EnginePolicy
from wallctl.core.alarms.event import MAX_TEXT_CHARS, EventRejected, RejectReason, TimeWindow, parse_event
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity
from wallctl.core.wire.commands import CommandError, parse_command
from wallctl.core.wire.strict import dumps_strict

NOW = 1_800_000_000.0
S = Severity


def ev(**fields: object) -> bytes:
    body = {"source": "r1", "type": "link_down", "severity": "major", **fields}
    return json.dumps(body).encode()


def rejected(payload: bytes, **kw: object) -> RejectReason:
    with pytest.raises(EventRejected) as info:
        parse_event("noc/events/x", payload, received=NOW, **kw)  # type: ignore[arg-type]
    return info.value.reason


# ------------------------------------------------------------------ events
@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" * 3000 + b"]" * 3000, RejectReason.NOT_JSON),  # was RecursionError, never acknowledged
        (b'{"source": "r1", "type": "t", "severity": "major", "time": ' + b"9" * 5000 + b"}", RejectReason.NOT_JSON),
        (b'{"source": "bad\\ud800src", "type": "t", "severity": "major"}', RejectReason.NOT_JSON),
        (b'{"source": "r1", "type": "t", "severity": "major", "time": NaN}', RejectReason.NOT_JSON),
        (b'{"source": "r1", "type": "t", "severity": "major", "time": 1e400}', RejectReason.NOT_JSON),
        (b'{"source": "\xed\xa0\x80", "type": "t", "severity": "major"}', RejectReason.NOT_UTF8),
        (ev(source="a\x00b"), RejectReason.BAD_TEXT),
        (ev(type="link\ndown"), RejectReason.BAD_TEXT),
        (ev(source="x" * 257), RejectReason.BAD_TEXT),
        (ev(id="i" * 300), RejectReason.BAD_TEXT),
        (ev(attributes={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": 1}}}}}}}}}}), RejectReason.TOO_DEEP),
    ],
)
def test_poisoned_events_are_refused_with_a_reason(payload: bytes, reason: RejectReason) -> None:
    assert rejected(payload) is reason


def test_free_text_is_kept_clean_and_bounded() -> None:
    e = parse_event("t", ev(text="line one\nline\x07 two" + "z" * 5000), received=NOW)
    assert "\x07" not in e.text and "\n" in e.text
    assert len(e.text) == MAX_TEXT_CHARS and e.text.endswith("…")


@pytest.mark.parametrize(
    ("time_value", "ok"),
    [
        ("1970-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59Z", False),
        (NOW + 7200, False),  # two hours ahead
        (NOW - 8 * 86400, False),  # older than a week
        (NOW - 3600, True),
        (NOW + 30, True),  # a little skew is fine
        ("2027-01-15T08:00:00+08:00", True),
    ],
)
def test_implausible_times_are_rejected(time_value: object, ok: bool) -> None:
    received = NOW if not isinstance(time_value, str) or "2027" not in time_value else 1_800_000_000.0
    payload = ev(time=time_value)
    if ok:
        assert parse_event("t", payload, received=received, window=TimeWindow()).stamped
    else:
        with pytest.raises(EventRejected) as info:
            parse_event("t", payload, received=received, window=TimeWindow())
        assert info.value.reason is RejectReason.BAD_TIME
        assert "engine.max_event" in info.value.detail


def test_a_retained_event_may_be_old_it_is_the_current_picture() -> None:
    e = parse_event("t", ev(time=NOW - 30 * 86400), received=NOW, retained=True)
    assert e.time == NOW - 30 * 86400


# ------------------------------------------------------------------ commands
@pytest.mark.parametrize(
    "text",
    [
        '{"action": "silence", "seconds": NaN}',
        '{"action": "silence", "seconds": Infinity}',
        '{"action": "silence", "seconds": 1e308}',
        '{"action": "silence", "seconds": 1e400}',
        '{"action": "silence", "seconds": -5}',
        '{"action": "silence", "seconds": 0}',
        '{"action": "silence", "seconds": 86401}',
        '{"action": "mode", "mode": "incident", "pin_s": 1e12}',
        '{"action": "shelve", "source": "a", "type": "t", "seconds": 9e99}',
        '{"action": "maintenance", "seconds": 60, "sources": [1, 2]}',
        '{"action": "ack_all", "request_id": {"nested": true}}',
        "[" * 3000 + "]" * 3000,
        '{"action": "ack_all", "request_id": ' + "7" * 5000 + "}",
        '{"action": "ack_all", "token": "\\ud800"}',
    ],
)
def test_commands_with_bad_numbers_or_shapes_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(text, token="s3cret" if "token" in text else None)
    assert str(info.value)


def test_a_refused_command_keeps_its_request_id_for_the_reply() -> None:
    with pytest.raises(CommandError) as info:
        parse_command('{"action": "silence", "seconds": 1e308, "request_id": "r-1"}')
    assert info.value.request_id == "r-1"
    assert "at most 86400" in str(info.value)


def test_commands_older_than_the_limit_are_refused_as_stale() -> None:
    fresh = parse_command(json.dumps({"action": "ack_all", "time": NOW - 5}), now=NOW, max_age_s=30)
    assert fresh.action == "ack_all"
    with pytest.raises(CommandError, match=r"^stale: .*sent 60 s ago"):
        parse_command(json.dumps({"action": "ack_all", "time": NOW - 60}), now=NOW, max_age_s=30)
    with pytest.raises(CommandError, match=r"^stale"):
        parse_command(json.dumps({"action": "ack_all", "time": "2020-01-01T00:00:00Z"}), now=NOW, max_age_s=30)


def test_published_json_is_strict() -> None:
    text = dumps_strict({"a": math.nan, "b": [math.inf, 1.5], "c": {"d": -math.inf}})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == {
        "a": None,
        "b": [None, 1.5],
        "c": {"d": None},
    }


# ------------------------------------------------------------------ time order and reused ids
def stamped(source: str, severity: Severity, when: float, **kw: object) -> object:
    payload = json.dumps({"source": source, "type": "t", "severity": severity.label, "time": when, **kw}).encode()
    return parse_event("t", payload, received=NOW)


def test_an_old_clear_does_not_clear_a_newer_raise() -> None:
    e = AlarmEngine(ManualClock(NOW))
    e.ingest(stamped("r1", S.CRITICAL, NOW - 10))  # type: ignore[arg-type]
    assert e.ingest(stamped("r1", S.CLEARED, NOW - 3600)) is None  # type: ignore[arg-type]
    assert e.get(("r1", "t")).state is AlarmState.UNACK  # type: ignore[union-attr]
    assert e.out_of_order == 1
    e.ingest(stamped("r1", S.CLEARED, NOW - 5))  # type: ignore[arg-type]  # a newer clear does
    assert e.get(("r1", "t")).state is AlarmState.RTNUN  # type: ignore[union-attr]


def test_an_old_raise_does_not_reraise_a_cleared_acknowledged_alarm() -> None:
    e = AlarmEngine(ManualClock(NOW))
    e.ingest(stamped("r1", S.MAJOR, NOW - 100))  # type: ignore[arg-type]
    e.ack(("r1", "t"))
    e.ingest(stamped("r1", S.CLEARED, NOW - 50))  # type: ignore[arg-type]
    assert e.get(("r1", "t")) is None  # acknowledged and cleared: gone
    assert e.ingest(stamped("r1", S.CRITICAL, NOW - 7200)) is None  # type: ignore[arg-type]
    assert e.get(("r1", "t")) is None
    e.ingest(stamped("r1", S.CRITICAL, NOW - 10))  # type: ignore[arg-type]  # a new one does
    assert e.get(("r1", "t")).state is AlarmState.UNACK  # type: ignore[union-attr]


def test_clock_skew_within_tolerance_is_accepted() -> None:
    e = AlarmEngine(ManualClock(NOW), EnginePolicy(clock_skew_s=60))
    e.ingest(stamped("r1", S.MAJOR, NOW - 10))  # type: ignore[arg-type]
    e.ingest(stamped("r1", S.CLEARED, NOW - 40))  # type: ignore[arg-type]  # 30 s "before": skew, not order
    assert e.get(("r1", "t")).state is AlarmState.RTNUN  # type: ignore[union-attr]


def test_a_reused_id_is_counted_and_a_different_payload_is_applied_and_reported() -> None:
    e = AlarmEngine(ManualClock(NOW))
    said: list[tuple[str, str]] = []
    e.anomaly.connect(lambda kind, detail: said.append((kind, detail)))
    e.ingest(stamped("r1", S.MINOR, NOW - 5, id="ev-1"))  # type: ignore[arg-type]
    assert e.ingest(stamped("r1", S.MINOR, NOW - 5, id="ev-1")) is None  # type: ignore[arg-type]  # redelivery
    assert e.duplicates == 1 and not said
    change = e.ingest(stamped("core", S.CRITICAL, NOW - 1, id="ev-1"))  # type: ignore[arg-type]
    assert change is not None  # a critical under a reused id is not hidden
    assert e.duplicates == 2
    assert said and said[0][0] == "duplicate_id" and "reused with a different payload" in said[0][1]
