"""Nagios and Icinga host and service notifications, as the shipped ``wallctl-notify`` script sends them.

The alarm is (host, service description), or (host, ``host_down``) for host notifications. The state decides
the severity, not the notification type, so a FLAPPINGSTART of a CRITICAL service keeps it critical; RECOVERY
always clears. Notification types that do not change the object (ACKNOWLEDGEMENT, DOWNTIME*, CUSTOM) produce
nothing: the wall has its own acknowledgement and maintenance windows, and a re-raise there would undo them.
"""

from __future__ import annotations

from typing import Any

from wallctl.core.profiles.base import NagiosMaps, ProfileError, ProfileMaps
from wallctl.core.profiles.common import decode_object, epoch, finish, key_text, optional_str
from wallctl.core.severity import Severity

_KEPT = (
    "notification_type",
    "state",
    "host_address",
    "host_display_name",
    "service_display_name",
    "long_output",
    "author",
    "comment",
    "notification_number",
)


def nagios(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    return _notification("nagios", payload, maps.nagios)


def icinga(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    return _notification("icinga", payload, maps.icinga)


def _notification(profile: str, payload: bytes, m: NagiosMaps) -> list[dict[str, Any]]:
    doc = decode_object(payload, profile)
    where = profile
    kind = optional_str(doc, "notification_type", where)
    host = optional_str(doc, "host_name", where)
    if kind is None:
        raise ProfileError(f"{profile}: field 'notification_type' ($NOTIFICATIONTYPE$) is missing or empty")
    if host is None:
        raise ProfileError(f"{profile}: field 'host_name' ($HOSTNAME$) is missing or empty")
    kind = kind.strip().upper()
    if kind in {t.upper() for t in m.ignore_types}:
        return []
    service = optional_str(doc, "service_description", where)
    state = optional_str(doc, "state", where)
    if kind == "RECOVERY":
        severity = Severity.CLEARED
    elif state is None:
        raise ProfileError(f"{profile}: field 'state' is missing or empty in a {kind} notification")
    else:
        found = m.states.get(state.strip().casefold())
        if found is None:
            expected = ", ".join(s.upper() for s in m.states)
            raise ProfileError(f"{profile}: field 'state' is {state!r:.60}; expected one of {expected}")
        severity = found
    output = optional_str(doc, "output", where)
    event = {
        "source": key_text(host, "source", where),
        "type": key_text(service or m.host_type, "type", where),
        "severity": severity.label,
        "category": key_text(m.category, "category", where) if m.category else None,
        "time": epoch(doc.get("timestamp"), "timestamp", where),
        "text": output or f"{kind} {state or ''}".strip(),
        "attributes": {k: doc[k] for k in _KEPT if doc.get(k) not in (None, "")},
    }
    return [finish(profile, event, kind)]
