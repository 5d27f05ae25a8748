"""The event contract: valid payloads become Event values; every bad one is rejected with its reason."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallctl.core.alarms.event import EventRejected, RejectReason, TopicTemplate, parse_event
from wallctl.core.severity import Severity

T = "noc/events/network/sw1"
TPL = (TopicTemplate("noc/events/{category}/{source}"),)


def parse(payload: bytes | str, topic: str = T, **kw: object) -> object:
    data = payload.encode() if isinstance(payload, str) else payload
    return parse_event(topic, data, received=1000.0, templates=TPL, **kw)  # type: ignore[arg-type]


def test_full_payload() -> None:
    e = parse(
        json.dumps(
            {
                "source": "sw1",
                "type": "link_down",
                "severity": "MAJOR",
                "category": "network",
                "id": "x1",
                "time": "2026-11-22T10:00:00Z",
                "text": "Gi0/1 down",
                "attributes": {"interface": "Gi0/1"},
            }
        )
    )
    assert e.source == "sw1" and e.type == "link_down" and e.severity is Severity.MAJOR  # type: ignore[attr-defined]
    assert e.time == 1795341600.0 and e.id == "x1" and e.attributes["interface"] == "Gi0/1"  # type: ignore[attr-defined]
    assert e.key == ("sw1", "link_down")  # type: ignore[attr-defined]


def test_topic_template_fills_missing_fields_and_payload_wins() -> None:
    e = parse('{"type": "cpu_high", "severity": "minor"}', topic="noc/events/system/db7")
    assert (e.source, e.category) == ("db7", "system")  # type: ignore[attr-defined]
    e = parse('{"source": "other", "type": "t", "severity": "minor"}', topic="noc/events/system/db7")
    assert e.source == "other"  # type: ignore[attr-defined]


def test_epoch_time_and_default_time() -> None:
    assert parse('{"source":"a","type":"t","severity":"warning","time":1700000000.5}').time == 1700000000.5  # type: ignore[attr-defined]
    assert parse('{"source":"a","type":"t","severity":"warning"}').time == 1000.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("payload", "reason", "fragment"),
    [
        (b"\xff\xfe{}", RejectReason.NOT_UTF8, "not UTF-8"),
        (b"{not json", RejectReason.NOT_JSON, "not JSON"),
        (b"[1, 2]", RejectReason.NOT_OBJECT, "JSON object"),
        (b'{"type": "t", "severity": "minor"}', RejectReason.MISSING_FIELD, "'source'"),
        (b'{"source": "a", "severity": "minor"}', RejectReason.MISSING_FIELD, "'type'"),
        (b'{"source": "a", "type": "t"}', RejectReason.MISSING_FIELD, "'severity'"),
        (b'{"source": 5, "type": "t", "severity": "minor"}', RejectReason.WRONG_TYPE, "'source' must be a string"),
        (b'{"source": "a", "type": "t", "severity": "bad"}', RejectReason.UNKNOWN_SEVERITY, "'bad'"),
        (b'{"source": "a", "type": "t", "severity": "minor", "time": "yesterday"}', RejectReason.BAD_TIME, "RFC 3339"),
        (
            b'{"source": "a", "type": "t", "severity": "minor", "time": "2026-01-01T00:00:00"}',
            RejectReason.BAD_TIME,
            "UTC offset",
        ),
        (
            b'{"source": "a", "type": "t", "severity": "minor", "attributes": [1]}',
            RejectReason.WRONG_TYPE,
            "attributes",
        ),
        (b'{"source": "a", "type": "t", "severity": "minor", "id": true}', RejectReason.WRONG_TYPE, "'id'"),
    ],
)
def test_rejections(payload: bytes, reason: RejectReason, fragment: str) -> None:
    with pytest.raises(EventRejected) as info:
        parse_event("x/y", payload, received=0.0)
    assert info.value.reason is reason
    assert fragment in info.value.detail


def test_too_large() -> None:
    big = json.dumps({"source": "a", "type": "t", "severity": "minor", "text": "x" * 70_000}).encode()
    with pytest.raises(EventRejected) as info:
        parse_event("x", big, received=0.0)
    assert info.value.reason is RejectReason.TOO_LARGE and "65536" in info.value.detail


def test_bad_template_is_refused() -> None:
    with pytest.raises(ValueError, match="not a field"):
        TopicTemplate("noc/{nonsense}")


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda kids: (
            st.lists(kids, max_size=4)
            | st.dictionaries(
                st.sampled_from(["source", "type", "severity", "time", "id", "attributes", "text", "x"]),
                kids,
                max_size=6,
            )
        ),
        max_leaves=12,
    ).map(lambda v: json.dumps(v).encode())
)
def test_fuzz_every_payload_is_an_event_or_a_reasoned_rejection(payload: bytes) -> None:
    try:
        e = parse_event("noc/events/x/y", payload, received=0.0, templates=TPL)
    except EventRejected as exc:
        assert isinstance(exc.reason, RejectReason) and exc.detail
    else:
        assert e.source and e.type and isinstance(e.severity, Severity)
