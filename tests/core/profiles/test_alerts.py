"""Alertmanager and Grafana: labels to keys, the severity map, resolved clears, the Watchdog heartbeat, stable ids."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from tests.core.profiles.helpers import fixture, one, run
from wallctl.core.profiles import ProfileError, ProfileMaps, convert
from wallctl.core.profiles.base import AlertmanagerMaps, GrafanaMaps
from wallctl.core.severity import Severity

PROBE = orjson.loads(fixture("alertmanager/probe_failure_firing.json"))
GRAFANA = orjson.loads(fixture("grafana/webhook_docs.json"))


def body(base: dict[str, Any] = PROBE, **labels: str | None) -> bytes:
    """The fixture with its (first) alert's labels changed; None removes a label."""
    doc = copy.deepcopy(base)
    for k, v in labels.items():
        if v is None:
            doc["alerts"][0]["labels"].pop(k, None)
        else:
            doc["alerts"][0]["labels"][k] = v
    return orjson.dumps(doc)


def resolved(base: dict[str, Any] = PROBE, ends: str = "2023-02-06T13:20:00Z") -> bytes:
    doc = copy.deepcopy(base)
    doc["status"] = "resolved"
    for alert in doc["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = ends
    return orjson.dumps(doc)


def test_the_documented_webhook_becomes_one_event_per_alert() -> None:
    e = one("alertmanager", fixture("alertmanager/probe_failure_firing.json"))
    assert (e["source"], e["type"], e["severity"]) == ("https://server.example.org", "ProbeFailure", "critical")
    assert e["time"] == datetime(2023, 2, 6, 13, 8, 45, 828000, tzinfo=UTC).timestamp()
    assert e["text"].startswith("BlackBox Probe Failure: https://server.example.org\nInstance https://")
    a = e["attributes"]
    assert a["labels"]["job"] == "http_checks" and a["annotations"]["summary"].startswith("BlackBox")
    assert a["generatorURL"].startswith("http://prometheus.example.org:9090/graph")
    assert (a["fingerprint"], a["receiver"], a["externalURL"]) == ("1a30ba71cca2921f", "sms", PROBE["externalURL"])
    assert e["id"].startswith("alertmanager:1a30ba71cca2921f:firing:")
    assert "category" not in e


@pytest.mark.parametrize(
    ("label", "expected"),
    [("critical", "critical"), ("warning", "warning"), ("info", "indeterminate"), ("Critical", "critical")],
)
def test_severity_label_default_map(label: str, expected: str) -> None:
    assert one("alertmanager", body(severity=label))["severity"] == expected


def test_unknown_or_missing_severity_label_takes_the_configured_default() -> None:
    assert one("alertmanager", body(severity="page"))["severity"] == "warning"
    assert one("alertmanager", body(severity=None))["severity"] == "warning"
    maps = ProfileMaps(alertmanager=AlertmanagerMaps(default_severity=Severity.MINOR))
    assert one("alertmanager", body(severity="page"), maps)["severity"] == "minor"


def test_a_configured_severity_map_is_merged_over_the_defaults() -> None:
    maps = ProfileMaps(alertmanager=AlertmanagerMaps(severities={"page": Severity.MAJOR, "info": Severity.MINOR}))
    assert one("alertmanager", body(severity="page"), maps)["severity"] == "major"
    assert one("alertmanager", body(severity="info"), maps)["severity"] == "minor"
    assert one("alertmanager", body(severity="critical"), maps)["severity"] == "critical"  # default kept
    other = ProfileMaps(alertmanager=AlertmanagerMaps(severity_label="priority"))
    assert one("alertmanager", body(priority="critical", severity="info"), other)["severity"] == "critical"


def test_resolved_alert_clears_with_its_end_time() -> None:
    e = one("alertmanager", resolved())
    assert e["severity"] == "cleared"
    assert e["time"] == datetime(2023, 2, 6, 13, 20, tzinfo=UTC).timestamp()
    assert (e["source"], e["type"]) == ("https://server.example.org", "ProbeFailure")


def test_ids_are_stable_for_a_retry_and_new_for_a_new_firing_or_resolution() -> None:
    payload = fixture("alertmanager/probe_failure_firing.json")
    first, retry = run("alertmanager", payload), run("alertmanager", payload, received=1_800_000_000.0)
    assert first[0]["id"] == retry[0]["id"]
    refired = copy.deepcopy(PROBE)
    refired["alerts"][0]["startsAt"] = "2023-02-07T08:00:00Z"
    assert one("alertmanager", orjson.dumps(refired))["id"] != first[0]["id"]
    assert one("alertmanager", resolved())["id"] != first[0]["id"]
    assert one("alertmanager", resolved())["id"] == one("alertmanager", resolved())["id"]


def test_source_falls_back_to_job_then_the_alert_is_rejected_naming_its_labels() -> None:
    assert one("alertmanager", body(instance=None))["source"] == "http_checks"
    with pytest.raises(ProfileError) as err:
        convert("alertmanager", body(instance=None, job=None), ProfileMaps(), 0.0)
    message = str(err.value)
    assert "alerts[0]" in message and "instance, job" in message and "alertname, monitor, severity" in message
    maps = ProfileMaps(alertmanager=AlertmanagerMaps(default_source="prometheus"))
    assert one("alertmanager", body(instance=None, job=None), maps)["source"] == "prometheus"


def test_configured_source_and_type_labels() -> None:
    maps = ProfileMaps(
        alertmanager=AlertmanagerMaps(source_labels=("dc", "instance"), type_labels=("check", "alertname"))
    )
    e = one("alertmanager", fixture("alertmanager/test_no_fingerprint.json"), maps)
    assert (e["source"], e["type"]) == ("eu-west-1", "Test")
    e = one("alertmanager", body(check="http_probe"), maps)
    assert (e["source"], e["type"]) == ("https://server.example.org", "http_probe")


def test_watchdog_is_a_heartbeat_not_an_alarm() -> None:
    e = one("alertmanager", body(alertname="Watchdog", severity="none"))
    assert (e["source"], e["type"], e["severity"]) == ("alertmanager", "watchdog", "cleared")
    assert "time" not in e  # the Watchdog fires since Prometheus started: its startsAt is no heartbeat time
    assert e["id"] == one("alertmanager", body(alertname="Watchdog", severity="none"))["id"]
    assert run("alertmanager", resolved(orjson.loads(body(alertname="Watchdog")))) == []  # let the feed go stale
    maps = ProfileMaps(alertmanager=AlertmanagerMaps(watchdog_alertname="DeadMansSwitch", watchdog_source="prom-dc1"))
    e = one("alertmanager", body(alertname="DeadMansSwitch"), maps)
    assert (e["source"], e["type"]) == ("prom-dc1", "watchdog")
    assert one("alertmanager", body(alertname="Watchdog"), maps)["type"] == "Watchdog"  # renamed: an ordinary alert
    off = ProfileMaps(alertmanager=AlertmanagerMaps(watchdog_alertname=None))
    assert one("alertmanager", body(alertname="Watchdog"), off)["severity"] == "critical"


def test_a_group_gives_one_event_per_alert_with_its_own_status() -> None:
    doc = copy.deepcopy(PROBE)
    second = copy.deepcopy(doc["alerts"][0])
    second.update(status="resolved", endsAt="2023-02-06T14:00:00Z", fingerprint="ffff")
    second["labels"]["instance"] = "https://other.example.org"
    doc["alerts"].append(second)
    out = run("alertmanager", orjson.dumps(doc))
    assert [(e["source"], e["severity"]) for e in out] == [
        ("https://server.example.org", "critical"),
        ("https://other.example.org", "cleared"),
    ]
    assert run("alertmanager", orjson.dumps({**doc, "alerts": []})) == []


def test_category_from_a_label_or_the_config() -> None:
    assert one("alertmanager", body(category="network"))["category"] == "network"
    maps = ProfileMaps(alertmanager=AlertmanagerMaps(category="application"))
    assert one("alertmanager", body(), maps)["category"] == "application"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({**PROBE, "version": "5"}, "version"),
        ({**PROBE, "alerts": {"a": 1}}, "'alerts' must be a list"),
        ({**PROBE, "alerts": [{"status": "pending", "labels": {"instance": "x", "alertname": "y"}}]}, "'firing'"),
        ({**PROBE, "alerts": [{"status": "firing", "labels": {"instance": 1}}]}, "labels.instance must be a string"),
        (
            {**PROBE, "alerts": [{"status": "firing", "labels": {"instance": "x", "alertname": "y"}, "startsAt": "x"}]},
            "startsAt",
        ),
    ],
)
def test_malformed_webhooks_are_refused_with_the_field_named(doc: dict[str, Any], expected: str) -> None:
    with pytest.raises(ProfileError, match="alertmanager") as err:
        convert("alertmanager", orjson.dumps(doc), ProfileMaps(), 0.0)
    assert expected in str(err.value)


def test_grafana_documented_webhook() -> None:
    out = run("grafana", fixture("grafana/webhook_docs.json"))
    assert [(e["source"], e["type"], e["severity"]) for e in out] == [
        ("grafana", "High memory usage", "warning"),
        ("grafana", "High CPU usage", "warning"),
    ]
    a = out[0]["attributes"]
    assert a["values"] == {"B": 44.23943737541908, "C": 1}
    assert a["silenceURL"].startswith("https://play.grafana.org/alerting/silence/new")
    assert "dashboardURL" not in a and (a["orgId"], a["title"]) == (1, "[FIRING:2] (blue)")
    assert out[0]["text"] == "This alert was triggered for zone us-1\nThe system has high memory usage"


def test_grafana_configured_labels_severity_and_resolution() -> None:
    maps = ProfileMaps(grafana=GrafanaMaps(source_labels=("zone",)))
    out = run("grafana", body(GRAFANA, severity="critical"), maps)
    assert [(e["source"], e["severity"]) for e in out] == [("us-1", "critical"), ("eu-1", "warning")]
    cleared = run("grafana", resolved(GRAFANA, "2021-10-12T10:30:00+02:00"), maps)
    assert [e["severity"] for e in cleared] == ["cleared", "cleared"]
    assert cleared[0]["time"] == datetime(2021, 10, 12, 8, 30, tzinfo=UTC).timestamp()
    no_default = ProfileMaps(grafana=GrafanaMaps(default_source=None))
    with pytest.raises(ProfileError, match="grafana: alerts\\[0\\]"):
        convert("grafana", fixture("grafana/webhook_docs.json"), no_default, 0.0)
