"""The gateway's convert-check-count step, without a network: what a request becomes before anything is published."""

from __future__ import annotations

import json

import pytest

from wallctl.core.clock import ManualClock
from wallctl.core.profiles.base import ProfileMaps
from wallctl.gateway.intake import MAX_BATCH, Intake, Rejected


@pytest.fixture
def intake() -> Intake:
    return Intake(ProfileMaps(), "noc/events/", ManualClock(1_796_000_000.0))


def test_a_native_event_gets_a_stable_id_and_a_safe_topic(intake: Intake) -> None:
    body = json.dumps({"source": "rack/7+a#b", "type": "door_open", "severity": "minor"}).encode()
    (first,) = intake.convert("events", body)
    (again,) = intake.convert("events", body)
    assert first.topic == "noc/events/events/rack_7_a_b"  # the source keeps its slashes; the topic level cannot
    assert json.loads(first.payload)["id"] == json.loads(again.payload)["id"]  # a retry: the same id
    assert json.loads(first.payload)["id"].startswith("gw-")
    other = json.dumps({"source": "rack/7+a#b", "type": "door_open", "severity": "major"}).encode()
    assert json.loads(intake.convert("events", other)[0].payload)["id"] != json.loads(first.payload)["id"]
    assert json.loads(first.payload)["source"] == "rack/7+a#b"


def test_one_bad_event_refuses_the_whole_list_and_names_it(intake: Intake) -> None:
    good = {"source": "a", "type": "t", "severity": "minor"}
    with pytest.raises(Rejected) as err:
        intake.convert("events", json.dumps([good, {"source": "b", "type": "t", "severity": "awful"}]).encode())
    assert "event 2 of 2" in err.value.detail and "awful" in err.value.detail
    assert err.value.reason == "unknown_severity"
    assert intake.rejected["unknown_severity"] == 1 and intake.accepted == 0


@pytest.mark.parametrize(
    ("body", "reason", "fragment"),
    [
        (b"{nope", "not_json", "not JSON"),
        (b"[1, 2]", "not_object", "item 1"),
        (json.dumps([{}] * (MAX_BATCH + 1)).encode(), "too_large", f"at most {MAX_BATCH}"),
        (b'{"source": "a", "type": "t"}', "missing_field", "severity"),
    ],
)
def test_bad_native_bodies_are_refused_with_their_reason(
    intake: Intake, body: bytes, reason: str, fragment: str
) -> None:
    with pytest.raises(Rejected) as err:
        intake.convert("events", body)
    assert err.value.reason == reason and fragment in err.value.detail
    assert intake.status()["rejected_by_reason"] == {reason: 1}


def test_a_foreign_body_goes_through_its_profile(intake: Intake) -> None:
    body = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
                "annotations": {},
                "startsAt": "2026-11-30T10:00:00Z",
                "fingerprint": "abc",
            }
        ],
    }
    (out,) = intake.convert("alertmanager", json.dumps(body).encode())
    event = json.loads(out.payload)
    assert out.topic == "noc/events/alertmanager/db-1"
    assert (event["source"], event["type"], event["severity"]) == ("db-1", "DiskFull", "critical")
    with pytest.raises(Rejected) as err:
        intake.convert("alertmanager", b'{"alerts": 5}')
    assert err.value.reason == "bad_payload" and "alertmanager" in err.value.detail


def test_syslog_names_the_sender_when_the_message_does_not(intake: Intake) -> None:
    (out,) = intake.convert("syslog", b"<10>Nov 30 10:00:00 : disk failed", peer="10.0.0.9")
    event = json.loads(out.payload)
    assert event["severity"] == "critical"
    assert event["source"] == "10.0.0.9"
