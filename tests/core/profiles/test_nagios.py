"""Nagios and Icinga: states to severities, RECOVERY clears, ACKNOWLEDGEMENT and downtimes change nothing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.core.profiles.helpers import fixture, one, run
from wallctl.core.profiles import ProfileError, ProfileMaps, convert
from wallctl.core.profiles.base import NagiosMaps
from wallctl.core.severity import Severity

PROBLEM = orjson.loads(fixture("nagios/service_problem.json"))


def body(**fields: Any) -> bytes:
    doc = {**PROBLEM, **fields}
    return orjson.dumps({k: v for k, v in doc.items() if v is not None})


@pytest.mark.parametrize("profile", ["nagios", "icinga"])
def test_service_problem_and_recovery_are_one_alarm(profile: str) -> None:
    problem = one(profile, fixture("nagios/service_problem.json"))
    recovery = one(profile, fixture("nagios/service_recovery.json"))
    assert (problem["source"], problem["type"], problem["severity"]) == ("webserver01", "HTTP", "critical")
    assert (recovery["source"], recovery["type"], recovery["severity"]) == ("webserver01", "HTTP", "cleared")
    assert problem["text"] == "CRITICAL - Socket timeout after 10 seconds"
    assert problem["time"] == 1714989600.0
    assert problem["attributes"]["host_address"] == "192.0.2.80"
    assert problem["id"].startswith(f"{profile}:PROBLEM:") and problem["id"] != recovery["id"]


def test_host_notification_is_typed_host_down() -> None:
    e = one("icinga", fixture("nagios/host_down_env.json"))
    assert (e["source"], e["type"], e["severity"]) == ("router-02", "host_down", "critical")
    maps = ProfileMaps(icinga=NagiosMaps(host_type="node_down"))
    assert one("icinga", fixture("nagios/host_down_env.json"), maps)["type"] == "node_down"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("CRITICAL", "critical"),
        ("DOWN", "critical"),
        ("UNREACHABLE", "major"),
        ("WARNING", "warning"),
        ("UNKNOWN", "indeterminate"),
        ("OK", "cleared"),
        ("UP", "cleared"),
        ("Warning", "warning"),
    ],
)
def test_states(state: str, expected: str) -> None:
    assert one("nagios", body(state=state))["severity"] == expected


def test_recovery_clears_whatever_the_state_says() -> None:
    assert one("nagios", body(notification_type="RECOVERY", state="WARNING"))["severity"] == "cleared"
    assert one("nagios", body(notification_type="RECOVERY", state=None))["severity"] == "cleared"


@pytest.mark.parametrize(
    "kind", ["ACKNOWLEDGEMENT", "DOWNTIMESTART", "DOWNTIMEEND", "DOWNTIMECANCELLED", "DOWNTIMEREMOVED", "CUSTOM"]
)
def test_notifications_that_change_nothing_produce_no_event(kind: str) -> None:
    assert run("nagios", body(notification_type=kind)) == []
    assert run("icinga", body(notification_type=kind.lower())) == []
    assert run("icinga", fixture("nagios/service_acknowledgement.json")) == []


def test_flapping_carries_the_state() -> None:
    assert one("icinga", body(notification_type="FLAPPINGSTART"))["severity"] == "critical"
    assert one("icinga", body(notification_type="FLAPPINGEND", state="OK"))["severity"] == "cleared"


def test_configured_states_and_ignored_types() -> None:
    maps = ProfileMaps(nagios=NagiosMaps(states={"UNKNOWN": Severity.MAJOR}, ignore_types=("FLAPPINGSTART",)))
    assert one("nagios", body(state="UNKNOWN"), maps)["severity"] == "major"
    assert one("nagios", body(state="CRITICAL"), maps)["severity"] == "critical"
    assert run("nagios", body(notification_type="FLAPPINGSTART"), maps) == []
    assert len(run("nagios", body(notification_type="ACKNOWLEDGEMENT"), maps)) == 1  # no longer ignored


def test_retry_keeps_the_id_a_later_notification_does_not() -> None:
    assert one("nagios", body())["id"] == one("nagios", body())["id"]
    assert one("nagios", body(timestamp="1714990000"))["id"] != one("nagios", body())["id"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"state": "BROKEN"}, "'state' is 'BROKEN'; expected one of CRITICAL"),
        ({"state": None}, "'state' is missing"),
        ({"host_name": None}, "'host_name'"),
        ({"notification_type": ""}, "'notification_type'"),
        ({"timestamp": "soon"}, "'timestamp'"),
        ({"host_name": ["a"]}, "'host_name' must be a string"),
    ],
)
def test_malformed_notifications_are_refused(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(ProfileError, match=r"^icinga: ") as err:
        convert("icinga", body(**fields), ProfileMaps(), 0.0)
    assert expected in str(err.value)
