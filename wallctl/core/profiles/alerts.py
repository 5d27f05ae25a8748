"""Alertmanager webhook v4 and Grafana alerting (webhook or MQTT contact point): one event per alert.

Both send a notification for a *group* of alerts, re-sending the group's older alerts with each new one; the
stable ids make those repeats redeliveries the wall drops. The Watchdog alert (always firing while the
Prometheus -> Alertmanager pipeline works) is not an alarm: it becomes a heartbeat a feed watch listens to, so
the wall raises "stale feed" when the pipeline, not a server, dies.
"""

from __future__ import annotations

from typing import Any

from wallctl.core.profiles.base import AlertmanagerMaps, ProfileError, ProfileMaps
from wallctl.core.profiles.common import decode_object, epoch, finish, key_text, show, str_map
from wallctl.core.severity import Severity

_STATUSES = ("firing", "resolved")
# notification-level fields kept with every event, and per-alert fields beyond the labels and annotations
_CONTEXT = ("receiver", "externalURL", "groupKey", "orgId", "title")
_ALERT_FIELDS = (
    "generatorURL",
    "fingerprint",
    "startsAt",
    "endsAt",
    "dashboardURL",
    "panelURL",
    "silenceURL",
    "valueString",
    "values",
)


def alertmanager(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    """Alertmanager webhook v4 (``webhook_config``): one event per alert."""
    doc = decode_object(payload, "alertmanager")
    version = doc.get("version")
    if version is not None and version != "4":
        raise ProfileError(f"alertmanager: field 'version' is {show(version)}; this profile reads webhook version '4'")
    return _alerts("alertmanager", doc, maps.alertmanager)


def grafana(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    """Grafana unified alerting: the webhook contact point's body, which the MQTT contact point publishes too."""
    return _alerts("grafana", decode_object(payload, "grafana"), maps.grafana)


def _alerts(profile: str, doc: dict[str, Any], m: AlertmanagerMaps) -> list[dict[str, Any]]:
    alerts = doc.get("alerts")
    if not isinstance(alerts, list):
        raise ProfileError(f"{profile}: field 'alerts' must be a list of alerts, got {show(alerts)}")
    context = {k: doc[k] for k in _CONTEXT if isinstance(doc.get(k), str | int) and doc.get(k) != ""}
    group_status = doc.get("status")
    out: list[dict[str, Any]] = []
    for i, alert in enumerate(alerts):
        where = f"{profile}: alerts[{i}]"
        if not isinstance(alert, dict):
            raise ProfileError(f"{where} must be an object, got {show(alert)}")
        event = _alert(profile, where, alert, group_status, context, m)
        if event is not None:
            out.append(event)
    return out


def _alert(
    profile: str,
    where: str,
    alert: dict[str, Any],
    group_status: Any,
    context: dict[str, Any],
    m: AlertmanagerMaps,
) -> dict[str, Any] | None:
    labels = str_map(alert.get("labels"), f"{where}.labels")
    annotations = str_map(alert.get("annotations"), f"{where}.annotations")
    status = alert.get("status", group_status)
    if status not in _STATUSES:
        raise ProfileError(f"{where}.status is {show(status)}; expected 'firing' or 'resolved'")
    fingerprint = alert.get("fingerprint") if isinstance(alert.get("fingerprint"), str) else None
    attributes: dict[str, Any] = {"status": status, **context, "labels": labels}
    if annotations:
        attributes["annotations"] = annotations
    attributes.update({k: alert[k] for k in _ALERT_FIELDS if alert.get(k) not in (None, "")})

    if m.watchdog_alertname is not None and labels.get("alertname") == m.watchdog_alertname:
        if status == "resolved":
            return None  # the pipeline says its heartbeat stopped: let the feed watch go stale
        heartbeat = {
            "source": key_text(m.watchdog_source, "source", where),
            "type": "watchdog",
            "severity": "cleared",
            "text": f"{profile} watchdog: the alerting pipeline is alive",
            "attributes": attributes,
        }
        return finish(profile, heartbeat, "watchdog", fingerprint or "")

    source = _first_label(labels, m.source_labels, "source", where, m.default_source)
    etype = _first_label(labels, m.type_labels, "type", where, None)
    if status == "resolved":
        severity = "cleared"
        when = epoch(alert.get("endsAt"), "endsAt", where)
    else:
        severity = _severity(labels.get(m.severity_label), m).label
        when = epoch(alert.get("startsAt"), "startsAt", where)
    category = labels.get(m.category_label) if m.category_label else None
    category = category or m.category
    text = "\n".join(t for t in (annotations.get("summary"), annotations.get("description")) if t) or etype
    event = {
        "source": key_text(source, "source", where),
        "type": key_text(etype, "type", where),
        "severity": severity,
        "category": key_text(category, "category", where) if category and category.strip() else None,
        "time": when,
        "text": text,
        "attributes": attributes,
    }
    return finish(profile, event, fingerprint or "", status)


def _first_label(labels: dict[str, str], names: tuple[str, ...], field: str, where: str, default: str | None) -> str:
    for name in names:
        value = labels.get(name)
        if value is not None and value.strip():
            return value
    if default:
        return default
    have = ", ".join(sorted(labels)) or "none"
    raise ProfileError(
        f"{where}: none of the {field} labels {', '.join(names) or '(none configured)'} is set (labels: {have}); "
        f"add one to the alert rule or list another label in profiles.yaml"
    )


def _severity(value: str | None, m: AlertmanagerMaps) -> Severity:
    if value is None:
        return m.default_severity
    return m.severities.get(value.casefold(), m.default_severity)
