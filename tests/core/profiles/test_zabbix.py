"""Zabbix: problem raises (host, trigger), recovery clears the same key, updates change nothing, severities map."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.core.profiles.helpers import fixture, one, run
from wallctl.core.profiles import ProfileError, ProfileMaps, convert
from wallctl.core.profiles.base import ZabbixMaps
from wallctl.core.severity import Severity

PROBLEM = orjson.loads(fixture("zabbix/problem.json"))


def body(**fields: Any) -> bytes:
    doc = {**PROBLEM, **fields}
    return orjson.dumps({k: v for k, v in doc.items() if v is not None})


def test_problem_then_recovery_raise_and_clear_one_alarm() -> None:
    problem = one("zabbix", fixture("zabbix/problem.json"))
    recovery = one("zabbix", fixture("zabbix/recovery.json"))
    alarm = ("web-01", "Linux: High CPU utilization")
    assert (problem["source"], problem["type"], problem["severity"]) == (*alarm, "minor")
    assert (recovery["source"], recovery["type"], recovery["severity"]) == (*alarm, "cleared")
    assert (problem["time"], recovery["time"]) == (1714989600.0, 1714990200.0)
    assert problem["text"] == "Linux: High CPU utilization (over 90% for 5m) (Current utilization: 97.3 %)"
    assert problem["category"] == "system"  # the event tag 'category'
    assert problem["id"].startswith("zabbix:4711:1:") and recovery["id"].startswith("zabbix:4711:0:")
    a = problem["attributes"]
    assert (a["trigger_id"], a["host_ip"], a["tags"][0]) == ("23456", "192.0.2.21", {"tag": "class", "value": "os"})


def test_an_update_changes_nothing() -> None:
    assert run("zabbix", fixture("zabbix/update.json")) == []


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("5", "critical"),
        ("4", "major"),
        ("3", "minor"),
        ("2", "warning"),
        ("1", "indeterminate"),
        ("0", "indeterminate"),
        (5, "critical"),
        ("Disaster", "critical"),
        ("High", "major"),
        ("average", "minor"),
        ("Warning", "warning"),
        ("Information", "indeterminate"),
        ("Not classified", "indeterminate"),
    ],
)
def test_zabbix_severities(severity: Any, expected: str) -> None:
    assert one("zabbix", body(severity=severity))["severity"] == expected


def test_configured_and_renamed_severities() -> None:
    maps = ProfileMaps(zabbix=ZabbixMaps(severities={"Average": Severity.MAJOR}, default_severity=Severity.CRITICAL))
    assert one("zabbix", body(severity="3"), maps)["severity"] == "major"
    assert one("zabbix", body(severity="4"), maps)["severity"] == "major"  # High: the default kept
    assert one("zabbix", body(severity="Urgent"), maps)["severity"] == "critical"  # a renamed severity
    assert one("zabbix", body(severity=None), maps)["severity"] == "critical"


def test_retry_keeps_the_id_and_a_new_problem_event_gets_a_new_one() -> None:
    assert one("zabbix", body())["id"] == one("zabbix", body())["id"]
    assert one("zabbix", body(event_id="4712"))["id"] != one("zabbix", body())["id"]


def test_unresolved_macros_and_clock_times_are_ignored() -> None:
    e = one("zabbix", body(opdata="{EVENT.OPDATA}", event_time="10:00:00", tags="{EVENT.TAGSJSON}"))
    assert e["text"] == "Linux: High CPU utilization (over 90% for 5m)"
    assert "time" not in e and "category" not in e and "tags" not in e["attributes"]
    e = one("zabbix", body(event_time="2024-05-06T10:00:00Z", tags={"category": "network"}))
    assert (e["time"], e["category"]) == (1714989600.0, "network")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"event_id": "{EVENT.ID}"}, "'event_id'"),
        ({"event_id": None}, "'event_id'"),
        ({"event_value": "2"}, "'event_value'"),
        ({"host": ""}, "'host'"),
        ({"trigger": None, "event_name": None}, "'trigger'"),
        ({"severity": "9"}, "'severity'"),
        ({"severity": [1]}, "'severity'"),
        ({"event_time": "yesterday"}, "'event_time'"),
    ],
)
def test_malformed_notifications_are_refused(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(ProfileError, match=r"^zabbix: ") as err:
        convert("zabbix", body(**fields), ProfileMaps(), 0.0)
    assert expected in str(err.value)
